"""What every endpoint handler gets: the caller, the API version, the parsed request, the
repository, and helpers for ids, pagination and events."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from environments.tools.notion.errors import body_invalid, show, validation
from environments.tools.notion.ids import normalise_id
from environments.tools.notion.model import Repo, iso

MAX_PAGE_SIZE = 100
T = TypeVar("T")


@dataclass(frozen=True)
class Caller:
    """The integration (bot user) a token belongs to."""

    user_id: str
    key: str
    name: str


@dataclass
class Ctx:
    repo: Repo
    caller: Caller
    version: str
    path: Mapping[str, str]
    query: Mapping[str, list[str]]
    body: dict[str, Any]
    now: float
    events: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    @property
    def new(self) -> bool:
        """True for Notion-Version 2025-09-03 and later (data sources)."""
        return self.repo.new

    @property
    def when(self) -> str:
        return iso(self.now)

    @property
    def me(self) -> str:
        return self.caller.user_id

    def record(self, kind: str, object_id: str, payload: dict[str, Any]) -> None:
        """An event to append once the request succeeds (same transaction)."""
        self.events.append((kind, object_id, {"by": self.caller.key, **payload}))

    # -- arguments ---------------------------------------------------------------------------

    def path_id(self, name: str) -> str:
        raw = self.path[name]
        object_id = normalise_id(raw)
        if object_id is None:
            raise validation(
                f"path failed validation: path.{name} should be a valid uuid, "
                f"instead was `{show(raw)}`."
            )
        return object_id

    def arg(self, name: str) -> str | None:
        """A query-string argument (the last one when repeated)."""
        values = self.query.get(name)
        return values[-1] if values else None

    def page_size(self, *, from_body: bool) -> int:
        where = "body" if from_body else "query"
        value: Any = self.body.get("page_size") if from_body else self.arg("page_size")
        if value is None:
            return MAX_PAGE_SIZE
        if not from_body and isinstance(value, str):
            text = value.strip()
            if not text.lstrip("-").isdigit() or len(text) > 12:
                raise validation(
                    f"{where} failed validation: {where}.page_size should be a number, "
                    f"instead was `{show(value)}`."
                )
            value = int(text)
        if isinstance(value, bool) or not isinstance(value, int):
            raise validation(
                f"{where} failed validation: {where}.page_size should be a number or "
                f"`undefined`, instead was `{show(value)}`."
            )
        if value < 1:
            raise validation(
                f"{where} failed validation: {where}.page_size should be ≥ `1`, instead was "
                f"`{value}`."
            )
        if value > MAX_PAGE_SIZE:
            raise validation(
                f"{where} failed validation: {where}.page_size should be ≤ `{MAX_PAGE_SIZE}`, "
                f"instead was `{value}`."
            )
        return value

    def start_cursor(self, *, from_body: bool) -> str | None:
        value: Any = self.body.get("start_cursor") if from_body else self.arg("start_cursor")
        if value is None or (value == "" and not from_body):
            return None
        if not isinstance(value, str) or len(value) > 200:
            raise body_invalid("start_cursor", "a string or `undefined`", value)
        return value

    def paginate(
        self, items: Sequence[T], cursors: Sequence[str], *, from_body: bool
    ) -> tuple[Sequence[T], str | None, bool]:
        """One page of ``items`` (whose cursors are ``cursors``): cursor = next item's id."""
        size = self.page_size(from_body=from_body)
        cursor = self.start_cursor(from_body=from_body)
        start = 0
        if cursor is not None:
            wanted = normalise_id(cursor) or cursor
            try:
                start = list(cursors).index(wanted)
            except ValueError:
                raise validation(f"start_cursor provided is invalid: {show(cursor)}") from None
        end = start + size
        has_more = end < len(items)
        return items[start:end], (cursors[end] if has_more else None), has_more


def listing(
    results: list[dict[str, Any]], next_cursor: str | None, has_more: bool, kind: str
) -> dict[str, Any]:
    """Notion's list envelope."""
    return {
        "object": "list",
        "results": results,
        "next_cursor": next_cursor,
        "has_more": has_more,
        "type": kind,
        kind: {},
    }


def require_object(value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise body_invalid(path, "an object", value)
    return value


def optional_bool(body: Mapping[str, Any], name: str) -> bool | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise body_invalid(name, "a boolean", value)
    return value
