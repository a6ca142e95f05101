"""Notion ids: dashed UUIDs out; dashed, dashless or a page URL / slug ending in one, in."""

from __future__ import annotations

import re

_DASHED = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
_TRAILING_HEX = re.compile(r"(?:^|[^0-9a-fA-F])([0-9a-fA-F]{32})(?:[?#].*)?$")
_DASHED_ANYWHERE = re.compile(
    r"([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})(?:[?#].*)?$"
)


def dashed(hex32: str) -> str:
    h = hex32.lower()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def normalise_id(raw: object) -> str | None:
    """The dashed lower-case UUID in ``raw`` or None when it holds none.

    Accepts ``1f2e…`` (32 hex), ``1f2e…-…`` (dashed, any case) and what people paste:
    ``https://www.notion.so/acme/Runbook-High-error-rate-1f2e…?pvs=4`` or ``Title-1f2e…``.
    """
    if not isinstance(raw, str):
        return None
    text = raw.strip()
    if len(text) > 2000:
        return None
    if _DASHED.match(text):
        return text.lower()
    compact = text.replace("-", "")
    if len(compact) == 32 and all(c in "0123456789abcdefABCDEF" for c in compact):
        return dashed(compact)
    match = _TRAILING_HEX.search(text) or _DASHED_ANYWHERE.search(text)
    if match:
        return dashed(match.group(1).replace("-", ""))
    return None


def compact(object_id: str) -> str:
    return object_id.replace("-", "")
