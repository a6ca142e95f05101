"""Database properties: the schema of a data source and the values pages hold for it.

A schema is an ordered list of definitions (``{"id", "name", "type", "options"?...}``). A page
stores its values keyed by property id in a compact form (option ids, user ids, rich text in
output form) and this module renders them the way Notion answers. Plain pages have exactly one
property, ``title``.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Mapping
from typing import Any

from environments.tools.notion.errors import body_invalid, validation
from environments.tools.notion.ids import normalise_id
from environments.tools.notion.richtext import (
    BASE_COLORS,
    Resolver,
    parse_date_value,
    parse_rich_text,
    plain,
)

WRITABLE = frozenset(
    {
        "title",
        "rich_text",
        "number",
        "select",
        "multi_select",
        "status",
        "date",
        "people",
        "checkbox",
        "url",
        "email",
        "phone_number",
    }
)
COMPUTED = frozenset({"created_time", "last_edited_time", "created_by", "last_edited_by"})
TYPES = WRITABLE | COMPUTED
PAGINATED = frozenset({"title", "rich_text", "people"})
STATUS_GROUPS = ("To-do", "In progress", "Complete")
GROUP_COLORS = {"To-do": "gray", "In progress": "blue", "Complete": "green"}
NUMBER_FORMATS = frozenset({"number", "number_with_commas", "percent", "dollar", "euro", "pound"})

TITLE_SCHEMA: list[dict[str, Any]] = [{"id": "title", "name": "title", "type": "title"}]

# Looks up a person or bot by id: the full user object, or None when unknown.
UserLookup = Callable[[str], dict[str, Any] | None]


def short_id(*parts: object) -> str:
    """A 4-character property id like Notion's (``"tK%3F"`` style, kept URL-safe here)."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    number = int.from_bytes(hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()[:8])
    out = []
    for _ in range(4):
        number, digit = divmod(number, len(alphabet))
        out.append(alphabet[digit])
    return "".join(out)


def option_id(*parts: object) -> str:
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


def find(schema: list[dict[str, Any]], key: str) -> dict[str, Any] | None:
    """A property by name, else by id (ids may arrive URL-decoded or not)."""
    for prop in schema:
        if prop["name"] == key:
            return prop
    for prop in schema:
        if prop["id"] == key:
            return prop
    return None


def title_prop(schema: list[dict[str, Any]]) -> dict[str, Any]:
    return next(p for p in schema if p["type"] == "title")


# -- schema output ---------------------------------------------------------------------------


def render_schema(schema: list[dict[str, Any]]) -> dict[str, Any]:
    return {prop["name"]: render_definition(prop) for prop in schema}


def render_definition(prop: Mapping[str, Any]) -> dict[str, Any]:
    kind = prop["type"]
    config: dict[str, Any] = {}
    if kind in ("select", "multi_select", "status"):
        config["options"] = [dict(o) for o in prop.get("options", [])]
    if kind == "status":
        config["groups"] = [dict(g) for g in prop.get("groups", [])]
    if kind == "number":
        config["format"] = prop.get("format", "number")
    return {"id": prop["id"], "name": prop["name"], "type": kind, kind: config}


# -- values ----------------------------------------------------------------------------------


def parse_value(
    prop: dict[str, Any],
    raw: Any,
    path: str,
    resolver: Resolver,
    users: UserLookup,
    new_option: Callable[[dict[str, Any], str, str | None], dict[str, Any]],
) -> Any:
    """The stored value of ``prop`` from a request's property value.

    ``new_option(prop, name, color)`` adds a select/multi-select option the schema does not have yet
    (Notion creates those on the fly); unknown status options are refused as Notion does.
    """
    kind = prop["type"]
    if kind in COMPUTED:
        raise validation(f"{prop['name']} is a {kind} property, which cannot be updated.")
    if kind in ("title", "rich_text") and isinstance(raw, list):
        raw = {kind: raw}  # the short form clients use for titles
    if not isinstance(raw, Mapping):
        raise body_invalid(path, "an object", raw)
    if kind not in raw:
        declared = raw.get("type")
        if isinstance(declared, str) and declared != kind:
            raise validation(f"{prop['name']} is expected to be {kind}. Got {declared} instead.")
        raise body_invalid(f"{path}.{kind}", "defined")
    value = raw[kind]
    where = f"{path}.{kind}"
    if kind in ("title", "rich_text"):
        return parse_rich_text(value, where, resolver)
    if kind == "number":
        if value is None:
            return None
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise body_invalid(where, "a number or `null`", value)
        return value
    if kind == "checkbox":
        if not isinstance(value, bool):
            raise body_invalid(where, "a boolean", value)
        return value
    if kind in ("url", "email", "phone_number"):
        if value is None:
            return None
        if not isinstance(value, str) or len(value) > 2000:
            raise body_invalid(where, "a string or `null`", value)
        return value.strip() or None
    if kind == "date":
        return parse_date_value(value, where)
    if kind in ("select", "status"):
        if value is None:
            return None
        return _option(prop, value, where, new_option)
    if kind == "multi_select":
        if not isinstance(value, list) or len(value) > 100:
            raise body_invalid(where, "an array", value)
        ids = [_option(prop, v, f"{where}[{i}]", new_option) for i, v in enumerate(value)]
        return list(dict.fromkeys(ids))
    if kind == "people":
        if not isinstance(value, list) or len(value) > 100:
            raise body_invalid(where, "an array", value)
        out = []
        for i, item in enumerate(value):
            user_id = normalise_id(item.get("id")) if isinstance(item, Mapping) else None
            if user_id is None:
                raise body_invalid(f"{where}[{i}].id", "a valid uuid", item)
            if users(user_id) is None:
                raise validation(f"Could not find user with ID: {user_id}.")
            out.append(user_id)
        return list(dict.fromkeys(out))
    raise validation(f"{prop['name']}: property type {kind} is not supported here.")


def _option(
    prop: dict[str, Any],
    value: Any,
    path: str,
    new_option: Callable[[dict[str, Any], str, str | None], dict[str, Any]],
) -> str:
    if not isinstance(value, Mapping):
        raise body_invalid(path, "an object", value)
    options = prop.get("options", [])
    if value.get("id") is not None:
        for option in options:
            if option["id"] == value["id"]:
                return option["id"]
        raise validation(f"Invalid option id for {prop['name']}: {value['id']!s:.60}.")
    name = value.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 100 or "," in name:
        raise body_invalid(f"{path}.name", "a non-empty string without commas", name)
    name = name.strip()
    for option in options:
        if option["name"] == name:
            return option["id"]
    if prop["type"] == "status":
        names = ", ".join(o["name"] for o in options)
        raise validation(
            f'Invalid status option. Status option "{name}" does not exist. Options: {names}.'
        )
    color = value.get("color")
    if color is not None and color not in BASE_COLORS:
        raise body_invalid(f"{path}.color", "a valid color", color)
    return new_option(prop, name, color)["id"]


def add_option(
    prop: dict[str, Any], name: str, option_key: str, color: str | None = None
) -> dict[str, Any]:
    """Append an option (deterministic id from ``option_key``) and return it."""
    options = prop.setdefault("options", [])
    color = color or BASE_COLORS[1 + len(options) % (len(BASE_COLORS) - 1)]
    option = {"id": option_id(option_key, name), "name": name, "color": color, "description": None}
    options.append(option)
    return option


def render_value(
    prop: Mapping[str, Any], stored: Any, meta: Mapping[str, Any], users: UserLookup
) -> dict[str, Any]:
    """A page property value as Notion answers it (``{"id", "type", <type>: ...}``)."""
    kind = prop["type"]
    return {"id": prop["id"], "type": kind, kind: render_raw(prop, stored, meta, users)}


def render_raw(
    prop: Mapping[str, Any], stored: Any, meta: Mapping[str, Any], users: UserLookup
) -> Any:
    kind = prop["type"]
    if kind in ("title", "rich_text"):
        return list(stored or [])
    if kind in ("select", "status"):
        return _render_option(prop, stored)
    if kind == "multi_select":
        return [o for o in (_render_option(prop, i) for i in stored or []) if o is not None]
    if kind == "people":
        return [u for u in (users(i) for i in stored or []) if u is not None]
    if kind == "checkbox":
        return bool(stored)
    if kind in ("created_time", "last_edited_time"):
        return meta[kind]
    if kind in ("created_by", "last_edited_by"):
        return {"object": "user", "id": meta[kind]}
    return stored


def _render_option(prop: Mapping[str, Any], option_id_: Any) -> dict[str, Any] | None:
    for option in prop.get("options", []):
        if option["id"] == option_id_:
            return {"id": option["id"], "name": option["name"], "color": option["color"]}
    return None


def option_name(prop: Mapping[str, Any], option_id_: Any) -> str | None:
    option = _render_option(prop, option_id_)
    return option["name"] if option else None


def plain_value(
    prop: Mapping[str, Any], stored: Any, meta: Mapping[str, Any], users: UserLookup
) -> Any:
    """A value as graders and search want it: text, a name, a list of names, a date."""
    kind = prop["type"]
    if kind in ("title", "rich_text"):
        return plain(stored)
    if kind in ("select", "status"):
        return option_name(prop, stored)
    if kind == "multi_select":
        return [n for n in (option_name(prop, i) for i in stored or []) if n]
    if kind == "people":
        return [u["name"] for u in (users(i) for i in stored or []) if u]
    if kind == "date":
        return (
            None if not stored else stored["start"] + (f"/{stored['end']}" if stored["end"] else "")
        )
    return render_raw(prop, stored, meta, users)


def property_items(
    prop: Mapping[str, Any], stored: Any, meta: Mapping[str, Any], users: UserLookup
) -> list[dict[str, Any]]:
    """The ``property_item`` objects of a paginated property (one per rich text / person)."""
    kind = prop["type"]
    values = render_raw(prop, stored, meta, users)
    return [{"object": "property_item", "id": prop["id"], "type": kind, kind: v} for v in values]


# -- fixture helpers --------------------------------------------------------------------------


def status_groups(options: list[dict[str, Any]], group_of: dict[str, str], key: str) -> list[dict]:
    """Notion's three status groups, holding the options assigned to each."""
    groups = []
    for name in STATUS_GROUPS:
        groups.append(
            {
                "id": option_id(key, "group", name),
                "name": name,
                "color": GROUP_COLORS[name],
                "option_ids": [o["id"] for o in options if group_of.get(o["name"]) == name],
            }
        )
    return groups
