"""Rich text: what requests may send (``{"text": {"content": "hi"}}`` is enough) and the full
item Notion answers with (``type``, ``annotations``, ``plain_text``, ``href`` filled in).

Items are stored in their output form, so reading a page never re-derives them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Protocol

from environments.tools.notion.errors import body_invalid, validation
from environments.tools.notion.ids import compact, normalise_id

MAX_TEXT = 2000
MAX_ITEMS = 100
BASE_COLORS = (
    "default",
    "gray",
    "brown",
    "orange",
    "yellow",
    "green",
    "blue",
    "purple",
    "pink",
    "red",
)
COLORS = frozenset(BASE_COLORS + tuple(f"{c}_background" for c in BASE_COLORS[1:]))
_FLAGS = ("bold", "italic", "strikethrough", "underline", "code")


class Resolver(Protocol):
    """Looks up what a mention shows: a user's name, a page's or database's title."""

    def user_name(self, user_id: str) -> str | None: ...

    def page_title(self, page_id: str) -> str | None: ...

    def database_title(self, database_id: str) -> str | None: ...


def annotations(**flags: Any) -> dict[str, Any]:
    out: dict[str, Any] = {name: bool(flags.get(name, False)) for name in _FLAGS}
    out["color"] = flags.get("color", "default")
    return out


def text_item(content: str, *, link: str | None = None, **flags: Any) -> dict[str, Any]:
    """One ``text`` item in output form."""
    return {
        "type": "text",
        "text": {"content": content, "link": {"url": link} if link else None},
        "annotations": annotations(**flags),
        "plain_text": content,
        "href": link,
    }


def mention_user(user_id: str, name: str, **flags: Any) -> dict[str, Any]:
    return {
        "type": "mention",
        "mention": {"type": "user", "user": {"object": "user", "id": user_id}},
        "annotations": annotations(**flags),
        "plain_text": f"@{name}",
        "href": None,
    }


def mention_page(page_id: str, title: str, **flags: Any) -> dict[str, Any]:
    return {
        "type": "mention",
        "mention": {"type": "page", "page": {"id": page_id}},
        "annotations": annotations(**flags),
        "plain_text": title or "Untitled",
        "href": f"https://www.notion.so/{compact(page_id)}",
    }


def plain(items: list[dict[str, Any]] | None) -> str:
    return "".join(item.get("plain_text", "") for item in items or ())


def split_text(content: str, **flags: Any) -> list[dict[str, Any]]:
    """``content`` as text items of at most 2000 characters (Notion's limit per item)."""
    if not content:
        return []
    return [text_item(content[i : i + MAX_TEXT], **flags) for i in range(0, len(content), MAX_TEXT)]


def parse_rich_text(value: Any, path: str, resolver: Resolver) -> list[dict[str, Any]]:
    """A request's rich text array, validated, in output form."""
    if not isinstance(value, list):
        raise body_invalid(path, "an array", value)
    if len(value) > MAX_ITEMS:
        raise validation(
            f"body failed validation: body.{path}.length should be ≤ `{MAX_ITEMS}`, "
            f"instead was `{len(value)}`."
        )
    return [_parse_item(item, f"{path}[{i}]", resolver) for i, item in enumerate(value)]


def _parse_item(item: Any, path: str, resolver: Resolver) -> dict[str, Any]:
    if not isinstance(item, Mapping):
        raise body_invalid(path, "an object", item)
    kind = item.get("type")
    if kind is None:
        kind = next((k for k in ("text", "mention", "equation") if k in item), None)
    if kind is None:
        raise body_invalid(f"{path}.text", "defined")
    if kind not in ("text", "mention", "equation"):
        raise body_invalid(f"{path}.type", '`"text"`, `"mention"`, or `"equation"`', kind)
    flags = _parse_annotations(item.get("annotations"), f"{path}.annotations")
    if kind == "text":
        text = item.get("text")
        if not isinstance(text, Mapping):
            raise body_invalid(f"{path}.text", "an object", text)
        content = text.get("content")
        if not isinstance(content, str):
            raise body_invalid(f"{path}.text.content", "a string", content)
        if len(content) > MAX_TEXT:
            raise validation(
                f"body failed validation: body.{path}.text.content.length should be "
                f"≤ `{MAX_TEXT}`, instead was `{len(content)}`."
            )
        link = text.get("link")
        url = None
        if link is not None:
            if not isinstance(link, Mapping) or not isinstance(link.get("url"), str):
                raise body_invalid(f"{path}.text.link.url", "a string", link)
            url = link["url"].strip()
            if not url or len(url) > MAX_TEXT:
                raise validation(f"Invalid URL for link in {path}.")
        return text_item(content, link=url, **flags)
    if kind == "equation":
        equation = item.get("equation")
        expression = equation.get("expression") if isinstance(equation, Mapping) else None
        if not isinstance(expression, str) or len(expression) > MAX_TEXT:
            raise body_invalid(f"{path}.equation.expression", "a string", expression)
        return {
            "type": "equation",
            "equation": {"expression": expression},
            "annotations": annotations(**flags),
            "plain_text": expression,
            "href": None,
        }
    return _parse_mention(item.get("mention"), f"{path}.mention", resolver, flags)


def _parse_annotations(value: Any, path: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise body_invalid(path, "an object", value)
    flags: dict[str, Any] = {}
    for name in _FLAGS:
        if name in value:
            if not isinstance(value[name], bool):
                raise body_invalid(f"{path}.{name}", "a boolean", value[name])
            flags[name] = value[name]
    if "color" in value:
        if value["color"] not in COLORS:
            raise body_invalid(f"{path}.color", "a valid color", value["color"])
        flags["color"] = value["color"]
    return flags


def _parse_mention(
    mention: Any, path: str, resolver: Resolver, flags: dict[str, Any]
) -> dict[str, Any]:
    if not isinstance(mention, Mapping):
        raise body_invalid(path, "an object", mention)
    kind = mention.get("type") or next(
        (k for k in ("user", "page", "database", "date") if k in mention), None
    )
    target = mention.get(kind) if isinstance(kind, str) else None
    if kind == "date":
        start = target.get("start") if isinstance(target, Mapping) else None
        if not isinstance(start, str) or not _is_date(start):
            raise body_invalid(f"{path}.date.start", "an ISO 8601 date", start)
        end = target.get("end") if isinstance(target, Mapping) else None
        if end is not None and (not isinstance(end, str) or not _is_date(end)):
            raise body_invalid(f"{path}.date.end", "an ISO 8601 date or null", end)
        return {
            "type": "mention",
            "mention": {"type": "date", "date": {"start": start, "end": end, "time_zone": None}},
            "annotations": annotations(**flags),
            "plain_text": start if end is None else f"{start} → {end}",
            "href": None,
        }
    if kind not in ("user", "page", "database") or not isinstance(target, Mapping):
        raise body_invalid(f"{path}.type", '`"user"`, `"page"`, `"database"` or `"date"`', kind)
    object_id = normalise_id(target.get("id"))
    if object_id is None:
        raise body_invalid(f"{path}.{kind}.id", "a valid uuid", target.get("id"))
    if kind == "user":
        name = resolver.user_name(object_id)
        if name is None:
            raise validation(f"Could not find user with ID: {object_id}.")
        return mention_user(object_id, name, **flags)
    if kind == "page":
        title = resolver.page_title(object_id)
        if title is None:
            raise validation(f"Could not find page with ID: {object_id}.")
        return mention_page(object_id, title, **flags)
    title = resolver.database_title(object_id)
    if title is None:
        raise validation(f"Could not find database with ID: {object_id}.")
    return {
        "type": "mention",
        "mention": {"type": "database", "database": {"id": object_id}},
        "annotations": annotations(**flags),
        "plain_text": title or "Untitled",
        "href": f"https://www.notion.so/{compact(object_id)}",
    }


def _is_date(text: str) -> bool:
    if len(text) > 40:
        return False
    try:
        if len(text) == 10:
            dt.date.fromisoformat(text)
        else:
            dt.datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def parse_date_value(value: Any, path: str) -> dict[str, Any] | None:
    """A date property value ``{"start", "end"?, "time_zone"?}`` (or null)."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise body_invalid(path, "an object or `null`", value)
    start, end, tz = value.get("start"), value.get("end"), value.get("time_zone")
    if not isinstance(start, str) or not _is_date(start):
        raise body_invalid(f"{path}.start", "an ISO 8601 date", start)
    if end is not None and (not isinstance(end, str) or not _is_date(end)):
        raise body_invalid(f"{path}.end", "an ISO 8601 date or `null`", end)
    if tz is not None and (not isinstance(tz, str) or len(tz) > 64):
        raise body_invalid(f"{path}.time_zone", "a string or `null`", tz)
    return {"start": start, "end": end, "time_zone": tz}


def date_key(text: str) -> str:
    """A date or date-time as a sortable UTC string (dates sort as midnight UTC)."""
    try:
        if len(text) == 10:
            return text + "T00:00:00"
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return text
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="seconds")
