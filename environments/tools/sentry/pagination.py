"""Sentry's cursor pagination: ``cursor=<value>:<offset>:<is_prev>`` and the ``Link`` header.

Both links are always present; ``results="true|false"`` says whether that page has rows
(docs.sentry.io/api/pagination). Here every cursor is an offset cursor (value 0), so
``0:100:0`` is the page starting at row 100 and ``0:0:1`` the one before the first page.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from starlette.requests import Request

MAX_OFFSET = 10_000_000


class CursorError(ValueError):
    pass


@dataclass(frozen=True)
class Page:
    offset: int
    limit: int

    def link(self, request: Request, total_or_more: int | bool) -> str:
        """The Link header; ``total_or_more`` is the row count or whether rows remain."""
        has_next = (
            total_or_more
            if isinstance(total_or_more, bool)
            else self.offset + self.limit < total_or_more
        )
        prev_offset = max(0, self.offset - self.limit)
        base = str(request.url.replace(query="", fragment=""))
        kept = [(k, v) for k, v in request.query_params.multi_items() if k != "cursor"]
        prefix = f"{base}?{urlencode(kept)}" if kept else f"{base}?"
        prev_cursor = f"0:{prev_offset}:1"
        next_cursor = f"0:{self.offset + self.limit}:0"
        return (
            f'<{prefix}&cursor={prev_cursor}>; rel="previous"; '
            f'results="{"true" if self.offset > 0 else "false"}"; cursor="{prev_cursor}", '
            f'<{prefix}&cursor={next_cursor}>; rel="next"; '
            f'results="{"true" if has_next else "false"}"; cursor="{next_cursor}"'
        )


def parse_cursor(raw: str | None) -> int:
    """The row offset a cursor points at (0 for none)."""
    if raw is None or raw.strip() == "":
        return 0
    parts = raw.strip().split(":")
    if len(parts) != 3 or not all(p.lstrip("-").isdecimal() and len(p) <= 20 for p in parts):
        raise CursorError("Invalid cursor parameter.")
    offset = int(parts[1])
    if offset < 0 or offset > MAX_OFFSET:
        raise CursorError("Invalid cursor parameter.")
    return offset


def page_from(
    request: Request, *, default: int = 100, maximum: int = 100, name: str = "per_page"
) -> Page:
    """Offset from ``cursor`` and size from ``per_page`` (or ``limit`` for issue lists)."""
    raw = request.query_params.get(name)
    if raw is None and name != "limit":
        raw = request.query_params.get("limit")
    limit = default
    if raw not in (None, ""):
        text = raw.strip()
        if not (text.isdecimal() and len(text) <= 9):
            raise CursorError(f"Invalid {name} parameter.")
        limit = int(text)
        if limit < 1:
            raise CursorError(f"Invalid {name} parameter.")
        limit = min(limit, maximum)
    return Page(parse_cursor(request.query_params.get("cursor")), limit)
