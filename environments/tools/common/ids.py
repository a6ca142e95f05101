"""Deterministic identifiers: the same seed and key always give the same id.

Ids are derived by hashing a stable key (``"channel:eng"``, ``"user:maya.chen"``) with the run's
seed, never drawn at random, so two fresh states seeded from the same fixtures are identical
and a fixture can refer to things by name.
"""

from __future__ import annotations

import base64
import hashlib
import uuid


def digest(seed: int, *parts: object) -> bytes:
    text = "\x1f".join([str(seed), *(str(p) for p in parts)])
    return hashlib.sha256(text.encode("utf-8")).digest()


def stable_id(prefix: str, seed: int, *parts: object, length: int = 10) -> str:
    """``prefix`` + ``length`` upper-case base32 characters, e.g. ``C4QK7T2MZBA``."""
    body = base64.b32encode(digest(seed, prefix, *parts)).decode("ascii")
    return prefix + body[:length]


def stable_uuid(seed: int, *parts: object) -> str:
    """A version-4-shaped UUID derived from the key (for tools whose ids are UUIDs)."""
    return str(uuid.UUID(bytes=digest(seed, *parts)[:16], version=4))


def stable_int(seed: int, *parts: object, modulo: int) -> int:
    """A number in ``range(modulo)`` derived from the key."""
    return int.from_bytes(digest(seed, *parts)[:8], "big") % modulo


__all__ = ["digest", "stable_id", "stable_int", "stable_uuid"]
