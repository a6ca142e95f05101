"""Filters and sorts of ``POST /v1/data_sources/{id}/query`` (and the old database query).

Supported: property filters on text-like properties (``equals``, ``does_not_equal``,
``contains``, ``does_not_contain``, ``starts_with``, ``ends_with``, ``is_empty``,
``is_not_empty``), numbers, checkboxes, select/status, multi-select, dates (including the
relative ``past_week``-style conditions), people; ``timestamp`` filters on created/last-edited
time; ``and``/``or`` compounds nested two levels deep, as Notion allows. Sorts by property or
timestamp; empty values sort last either way. Text comparisons ignore case, like Notion's.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping
from typing import Any

from environments.tools.notion.errors import body_invalid, validation
from environments.tools.notion.ids import normalise_id
from environments.tools.notion.properties import find
from environments.tools.notion.richtext import date_key, plain

Row = tuple[Mapping[str, Any], Mapping[str, Any]]  # (values by property id, page meta)
Predicate = Callable[[Row], bool]

TEXT = frozenset({"title", "rich_text", "url", "email", "phone_number"})
TEXT_CONDITIONS = frozenset(
    {"equals", "does_not_equal", "contains", "does_not_contain", "starts_with", "ends_with"}
)
NUMBER_CONDITIONS = {
    "equals": lambda a, b: a == b,
    "does_not_equal": lambda a, b: a != b,
    "greater_than": lambda a, b: a > b,
    "less_than": lambda a, b: a < b,
    "greater_than_or_equal_to": lambda a, b: a >= b,
    "less_than_or_equal_to": lambda a, b: a <= b,
}
DATE_CONDITIONS = frozenset({"equals", "before", "after", "on_or_before", "on_or_after"})
RELATIVE = {
    "past_week": (-7, 0),
    "past_month": (-30, 0),
    "past_year": (-365, 0),
    "next_week": (0, 7),
    "next_month": (0, 30),
    "next_year": (0, 365),
    "this_week": (None, None),
}
MAX_COMPOUND_DEPTH = 2


def compile_filter(
    flt: Any, schema: list[dict[str, Any]], now: float, path: str = "filter", depth: int = 0
) -> Predicate:
    if not isinstance(flt, Mapping):
        raise body_invalid(path, "an object", flt)
    for joiner in ("and", "or"):
        if joiner in flt:
            if depth >= MAX_COMPOUND_DEPTH:
                raise validation(
                    f"body failed validation: {path}.{joiner} nests compound filters more than "
                    f"{MAX_COMPOUND_DEPTH} levels deep."
                )
            parts = flt[joiner]
            if not isinstance(parts, list) or len(parts) > 100:
                raise body_invalid(f"{path}.{joiner}", "an array", parts)
            tests = [
                compile_filter(p, schema, now, f"{path}.{joiner}[{i}]", depth + 1)
                for i, p in enumerate(parts)
            ]
            if joiner == "and":
                return lambda row: all(t(row) for t in tests)
            return lambda row: any(t(row) for t in tests)
    if "timestamp" in flt:
        stamp = flt["timestamp"]
        if stamp not in ("created_time", "last_edited_time"):
            raise body_invalid(
                f"{path}.timestamp", '`"created_time"` or `"last_edited_time"`', stamp
            )
        cond = flt.get(stamp)
        test = _date_test(cond, f"{path}.{stamp}", now)
        return lambda row: test(row[1][stamp])
    key = flt.get("property")
    if not isinstance(key, str):
        raise body_invalid(f"{path}.property", "a string", key)
    prop = find(schema, key)
    if prop is None:
        raise validation(f"Could not find property with name or id: {key}")
    kind = prop["type"]
    accepted = {kind}
    if kind in TEXT:
        accepted |= {"rich_text", "title"} if kind in ("title", "rich_text") else set()
    if kind in ("created_by", "last_edited_by"):
        accepted |= {"people"}
    if kind in ("created_time", "last_edited_time"):
        accepted |= {"date"}
    sent = [k for k in flt if k not in ("property", "type")]
    if len(sent) != 1 or sent[0] not in accepted:
        raise validation(
            f"body failed validation: {path} must have exactly one condition object for the "
            f"{kind} property {prop['name']!r} (under `{kind}`), got {sorted(sent)}."
        )
    cond = flt[sent[0]]
    where = f"{path}.{sent[0]}"
    pid = prop["id"]
    if kind in TEXT:
        test_text = _text_test(cond, where)
        return lambda row: test_text(_text(row[0].get(pid), kind))
    if kind == "number":
        test_num = _number_test(cond, where)
        return lambda row: test_num(row[0].get(pid))
    if kind == "checkbox":
        test_bool = _checkbox_test(cond, where)
        return lambda row: test_bool(bool(row[0].get(pid)))
    names = {o["id"]: o["name"] for o in prop.get("options", [])}
    if kind in ("select", "status"):
        test_opt = _select_test(cond, where)
        return lambda row: test_opt(names.get(row[0].get(pid)))
    if kind == "multi_select":
        test_multi = _contains_test(cond, where, lambda v: v)
        return lambda row: test_multi([names.get(i, "").casefold() for i in row[0].get(pid) or []])
    if kind == "date":
        test_date = _date_test(cond, where, now)
        return lambda row: test_date((row[0].get(pid) or {}).get("start"))
    if kind in ("created_time", "last_edited_time"):
        test_stamp = _date_test(cond, where, now)
        return lambda row: test_stamp(row[1][kind])
    if kind == "people":
        test_people = _contains_test(cond, where, _user_id)
        return lambda row: test_people(list(row[0].get(pid) or []))
    if kind in ("created_by", "last_edited_by"):
        test_by = _contains_test(cond, where, _user_id)
        return lambda row: test_by([row[1][kind]])
    raise validation(f"Filtering on {kind} properties is not supported.")


def _text(stored: Any, kind: str) -> str:
    """Text of a stored value: plain already (compact rows) or rich text items."""
    if isinstance(stored, list):
        return plain(stored)
    return stored or ""


def _one(cond: Any, where: str) -> tuple[str, Any]:
    if not isinstance(cond, Mapping) or len(cond) != 1:
        raise body_invalid(where, "an object with exactly one condition", cond)
    return next(iter(cond.items()))


def _emptiness(name: str, value: Any, where: str) -> bool:
    if value is not True:
        raise body_invalid(f"{where}.{name}", "`true`", value)
    return name == "is_empty"


def _text_test(cond: Any, where: str) -> Callable[[str], bool]:
    name, value = _one(cond, where)
    if name in ("is_empty", "is_not_empty"):
        empty = _emptiness(name, value, where)
        return lambda text: (text == "") == empty
    if name not in TEXT_CONDITIONS:
        raise body_invalid(f"{where}", "a text condition", name)
    if not isinstance(value, str) or len(value) > 2000:
        raise body_invalid(f"{where}.{name}", "a string", value)
    needle = value.casefold()
    tests: dict[str, Callable[[str], bool]] = {
        "equals": lambda t: t == needle,
        "does_not_equal": lambda t: t != needle,
        "contains": lambda t: needle in t,
        "does_not_contain": lambda t: needle not in t,
        "starts_with": lambda t: t.startswith(needle),
        "ends_with": lambda t: t.endswith(needle),
    }
    test = tests[name]
    return lambda text: test(text.casefold())


def _number_test(cond: Any, where: str) -> Callable[[Any], bool]:
    name, value = _one(cond, where)
    if name in ("is_empty", "is_not_empty"):
        empty = _emptiness(name, value, where)
        return lambda n: (n is None) == empty
    if name not in NUMBER_CONDITIONS:
        raise body_invalid(where, "a number condition", name)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise body_invalid(f"{where}.{name}", "a number", value)
    compare = NUMBER_CONDITIONS[name]
    return lambda n: n is not None and compare(n, value)


def _checkbox_test(cond: Any, where: str) -> Callable[[bool], bool]:
    name, value = _one(cond, where)
    if name not in ("equals", "does_not_equal"):
        raise body_invalid(where, "`equals` or `does_not_equal`", name)
    if not isinstance(value, bool):
        raise body_invalid(f"{where}.{name}", "a boolean", value)
    return (lambda b: b == value) if name == "equals" else (lambda b: b != value)


def _select_test(cond: Any, where: str) -> Callable[[str | None], bool]:
    name, value = _one(cond, where)
    if name in ("is_empty", "is_not_empty"):
        empty = _emptiness(name, value, where)
        return lambda option: (option is None) == empty
    if name not in ("equals", "does_not_equal"):
        raise body_invalid(where, "`equals`, `does_not_equal`, `is_empty` or `is_not_empty`", name)
    if not isinstance(value, str):
        raise body_invalid(f"{where}.{name}", "a string", value)
    wanted = value.casefold()
    if name == "equals":
        return lambda option: option is not None and option.casefold() == wanted
    return lambda option: option is None or option.casefold() != wanted


def _user_id(value: Any) -> str | None:
    return normalise_id(value)


def _contains_test(
    cond: Any, where: str, convert: Callable[[Any], Any]
) -> Callable[[list[Any]], bool]:
    name, value = _one(cond, where)
    if name in ("is_empty", "is_not_empty"):
        empty = _emptiness(name, value, where)
        return lambda items: (not items) == empty
    if name not in ("contains", "does_not_contain"):
        raise body_invalid(
            where, "`contains`, `does_not_contain`, `is_empty` or `is_not_empty`", name
        )
    if not isinstance(value, str):
        raise body_invalid(f"{where}.{name}", "a string", value)
    wanted = convert(value.casefold() if convert is not _user_id else value)
    if wanted is None:
        raise body_invalid(f"{where}.{name}", "a valid uuid", value)
    if name == "contains":
        return lambda items: wanted in items
    return lambda items: wanted not in items


def _date_test(cond: Any, where: str, now: float) -> Callable[[str | None], bool]:
    name, value = _one(cond, where)
    if name in ("is_empty", "is_not_empty"):
        empty = _emptiness(name, value, where)
        return lambda d: (d is None) == empty
    if name in RELATIVE:
        if value != {} and value is not None:
            raise body_invalid(f"{where}.{name}", "an empty object", value)
        today = dt.datetime.fromtimestamp(now, dt.UTC).date()
        lo_days, hi_days = RELATIVE[name]
        if lo_days is None:
            lo = today - dt.timedelta(days=today.weekday())
            hi = lo + dt.timedelta(days=6)
        else:
            lo, hi = today + dt.timedelta(days=lo_days), today + dt.timedelta(days=hi_days)
        lo_key, hi_key = lo.isoformat(), hi.isoformat()
        return lambda d: d is not None and lo_key <= date_key(d)[:10] <= hi_key
    if name not in DATE_CONDITIONS:
        raise body_invalid(where, "a date condition", name)
    if not isinstance(value, str) or not _valid_date(value):
        raise body_invalid(f"{where}.{name}", "an ISO 8601 date", value)
    day_only = len(value) == 10
    wanted = value if day_only else date_key(value)

    def key(d: str) -> str:
        return date_key(d)[:10] if day_only else date_key(d)

    compare = {
        "equals": lambda a: a == wanted,
        "before": lambda a: a < wanted,
        "after": lambda a: a > wanted,
        "on_or_before": lambda a: a <= wanted,
        "on_or_after": lambda a: a >= wanted,
    }[name]
    return lambda d: d is not None and compare(key(d))


def _valid_date(text: str) -> bool:
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


# -- sorts -----------------------------------------------------------------------------------


def sort_rows(
    rows: list[Any],
    sorts: Any,
    schema: list[dict[str, Any]],
    row_of: Callable[[Any], Row],
    user_name: Callable[[str], str | None],
) -> list[Any]:
    """``rows`` ordered by ``sorts`` (validated); created_time descending when none given."""
    if sorts is None:
        sorts = [{"timestamp": "created_time", "direction": "descending"}]
    if not isinstance(sorts, list) or len(sorts) > 100:
        raise body_invalid("sorts", "an array", sorts)
    keys = [_sort_key(s, f"sorts[{i}]", schema, user_name) for i, s in enumerate(sorts)]
    ordered = list(rows)
    for key, descending in reversed(keys):
        values = [(key(row_of(r)), r) for r in ordered]
        full = [(v, r) for v, r in values if v is not None]
        full.sort(key=lambda pair: pair[0], reverse=descending)
        ordered = [r for _, r in full] + [r for v, r in values if v is None]
    return ordered


def _sort_key(
    sort: Any,
    path: str,
    schema: list[dict[str, Any]],
    user_name: Callable[[str], str | None],
) -> tuple[Callable[[Row], Any], bool]:
    if not isinstance(sort, Mapping):
        raise body_invalid(path, "an object", sort)
    direction = sort.get("direction", "ascending")
    if direction not in ("ascending", "descending"):
        raise body_invalid(f"{path}.direction", '`"ascending"` or `"descending"`', direction)
    descending = direction == "descending"
    if "timestamp" in sort:
        stamp = sort["timestamp"]
        if stamp not in ("created_time", "last_edited_time"):
            raise body_invalid(
                f"{path}.timestamp", '`"created_time"` or `"last_edited_time"`', stamp
            )
        return (lambda row: row[1][stamp]), descending
    key = sort.get("property")
    if not isinstance(key, str):
        raise body_invalid(f"{path}.property", "a string", key)
    prop = find(schema, key)
    if prop is None:
        raise validation(f"Could not find sort property with name or id: {key}")
    kind, pid = prop["type"], prop["id"]
    order = {o["id"]: i for i, o in enumerate(prop.get("options", []))}

    def value(row: Row) -> Any:
        stored = row[0].get(pid)
        if kind in TEXT:
            text = _text(stored, kind)
            return text.casefold() if text else None
        if kind in ("select", "status"):
            return order.get(stored)
        if kind == "multi_select":
            return order.get(stored[0]) if stored else None
        if kind == "date":
            return date_key(stored["start"]) if stored else None
        if kind == "checkbox":
            return bool(stored)
        if kind == "people":
            return (user_name(stored[0]) or "").casefold() if stored else None
        if kind in ("created_time", "last_edited_time"):
            return row[1][kind]
        if kind in ("created_by", "last_edited_by"):
            return (user_name(row[1][kind]) or "").casefold()
        return stored

    return value, descending
