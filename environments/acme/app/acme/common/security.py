"""Password hashing, opaque tokens and HMAC webhook signatures (stdlib only)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import time
from concurrent.futures import ThreadPoolExecutor

# scrypt parameters: N=2**14 is ~50 ms per hash on a server core with 16 MiB of memory.
# The cost is stored in each hash, so it can be raised later without invalidating old ones.
DEFAULT_HASH_COST = 14
_SCRYPT_R = 8
_SCRYPT_P = 1
_SCRYPT_DKLEN = 32


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str, *, salt: bytes | None = None, cost: int = DEFAULT_HASH_COST) -> str:
    """Return a self-describing ``scrypt$n$r$p$salt$hash`` string (N = 2**cost)."""
    if not 10 <= cost <= 20:
        raise ValueError("scrypt cost must be between 10 and 20")
    salt = salt if salt is not None else secrets.token_bytes(16)
    n = 2**cost
    digest = hashlib.scrypt(
        password.encode("utf-8"),
        salt=salt,
        n=n,
        r=_SCRYPT_R,
        p=_SCRYPT_P,
        dklen=_SCRYPT_DKLEN,
        maxmem=64 * 1024 * 1024,
    )
    return f"scrypt${n}${_SCRYPT_R}${_SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, encoded: str) -> bool:
    """Constant-time check of ``password`` against a stored hash; False on malformed hashes."""
    try:
        scheme, n, r, p, salt, digest = encoded.split("$")
        if scheme != "scrypt":
            return False
        expected = _unb64(digest)
        actual = hashlib.scrypt(
            password.encode("utf-8"),
            salt=_unb64(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
            maxmem=64 * 1024 * 1024,
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


class PasswordHasher:
    """Runs scrypt on a small dedicated thread pool.

    Each scrypt call allocates ~16 MiB. Run from dozens of request threads,
    glibc hands those threads separate malloc arenas and the process RSS grows
    by hundreds of MiB; a couple of long-lived hashing threads keep it flat and
    also bound how much CPU login storms can take from other requests.
    """

    def __init__(self, cost: int = DEFAULT_HASH_COST, workers: int | None = None) -> None:
        self.cost = cost
        self._pool = ThreadPoolExecutor(
            max_workers=workers or min(4, os.cpu_count() or 1), thread_name_prefix="pwhash"
        )

    def hash(self, password: str) -> str:
        return self._pool.submit(hash_password, password, cost=self.cost).result()

    def verify(self, password: str, encoded: str) -> bool:
        return self._pool.submit(verify_password, password, encoded).result()

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def new_token() -> str:
    """An opaque bearer token; only its SHA-256 is stored server side."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


SIGNATURE_HEADER = "X-Acme-Signature"


def sign_payload(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """``t=<unix>,v1=<hex hmac-sha256 of "t.body">`` — the scheme Stripe popularised."""
    ts = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode("utf-8"), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={ts},v1={mac}"


def verify_signature(
    secret: str, body: bytes, header: str | None, *, tolerance_seconds: int = 300, now: float | None = None
) -> bool:
    """Check a webhook signature header, rejecting stale timestamps to stop replays."""
    if not header:
        return False
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        ts = int(parts["t"])
        given = parts["v1"]
    except (ValueError, KeyError):
        return False
    current = time.time() if now is None else now
    if abs(current - ts) > tolerance_seconds:
        return False
    expected = sign_payload(secret, body, ts).split("v1=", 1)[1]
    return hmac.compare_digest(expected, given)
