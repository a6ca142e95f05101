"""Issue search: Sentry's query syntax (a useful subset) compiled to a SQL WHERE clause.

Supported terms: ``is:unresolved|resolved|ignored|archived|assigned|unassigned|for_review|new|
ongoing|regressed|escalating``, ``assigned:`` / ``assigned_or_suggested:`` (``me``, ``none``,
``my_teams``, ``#team``, an email, username, employee key or user id; ``[a, b]`` lists),
``bookmarks:me``, ``level:``, ``release:`` (``latest`` too), ``firstRelease:``,
``environment:``, ``project:``, ``issue:``/``issue.id:``, ``issue.category:``/``issue.type:``,
``error.type:``, ``error.value:``, ``message:``, ``priority:``, ``timesSeen:>N``,
``age|firstSeen|lastSeen:-24h|+7d|>2026-10-01``, ``has:<tag>``; any other ``key:value`` filters
on the issue's tag values. ``!key:value`` negates. Everything else is free text matched against
title and culprit.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from environments.tools.sentry.serialize import parse_short_id

_TOKEN = re.compile(
    r'\s*(!?)(?:([A-Za-z_][\w.\-]*):("(?:[^"\\]|\\.)*"|\[[^\]]*\]|\S*)|("(?:[^"\\]|\\.)*")|(\S+))'
)
_RELATIVE = re.compile(r"^([+-])(\d{1,6})([smhdw])$")
_EVENT_ID = re.compile(
    r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$"
)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_COMPARE = re.compile(r"^(>=|<=|>|<|=)?(.+)$")
IS_VALUES = {
    "unresolved": ("i.status = 'unresolved'", ()),
    "resolved": ("i.status = 'resolved'", ()),
    "ignored": ("i.status = 'ignored'", ()),
    "archived": ("i.status = 'ignored'", ()),
    "muted": ("i.status = 'ignored'", ()),
    "assigned": ("i.assignee IS NOT NULL", ()),
    "unassigned": ("i.assignee IS NULL", ()),
    "for_review": (
        "i.status = 'unresolved' AND i.substatus IN ('new', 'regressed', 'escalating')",
        (),
    ),
    "new": ("i.substatus = 'new'", ()),
    "ongoing": ("i.substatus = 'ongoing'", ()),
    "regressed": ("i.substatus = 'regressed'", ()),
    "escalating": ("i.substatus = 'escalating'", ()),
    "linked": ("0", ()),
    "unlinked": ("1", ()),
}
_EMPTY_OK = frozenset({"message", "title", "error.value"})


class SearchError(ValueError):
    """The query cannot be parsed; the message is Sentry's ``detail``."""


@dataclass
class Compiled:
    where: list[str] = field(default_factory=list)
    args: list[Any] = field(default_factory=list)

    def add(self, sql: str, *args: Any, negate: bool = False) -> None:
        self.where.append(f"NOT ({sql})" if negate else f"({sql})")
        self.args.extend(args)


def tokenize(query: str) -> list[tuple[bool, str | None, str]]:
    """``[(negated, key or None, value)]``; quotes removed, lists kept as ``[a, b]``."""
    tokens = []
    pos = 0
    query = query.strip()
    while pos < len(query):
        match = _TOKEN.match(query, pos)
        if match is None or match.end() == pos:
            raise SearchError(f"Error parsing search query: unexpected input at {pos}")
        pos = match.end()
        negated, key, value, quoted, word = match.groups()
        if key is not None:
            tokens.append((bool(negated), key, _unquote(value)))
        elif quoted is not None:
            tokens.append((bool(negated), None, _unquote(quoted)))
        elif word:
            tokens.append((False, None, (negated or "") + word))
    return tokens


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        return value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return value


def _values(value: str) -> list[str]:
    if value.startswith("[") and value.endswith("]"):
        return [_unquote(v.strip()) for v in value[1:-1].split(",") if v.strip()]
    return [value]


def _time_bound(value: str, now: float, key: str) -> tuple[str, float]:
    """``-24h`` (newer than), ``+7d`` (older than), ``>2026-10-01`` -> (operator, seconds)."""
    match = _RELATIVE.match(value)
    if match:
        sign, amount, unit = match.groups()
        when = now - int(amount) * _UNITS[unit]
        return (">=" if sign == "-" else "<="), when
    compare = _COMPARE.match(value)
    if compare is None:
        raise SearchError(f"Error parsing search query: invalid date for {key}: {value!r}")
    op, rest = compare.groups()
    try:
        moment = dt.datetime.fromisoformat(rest)
    except ValueError:
        raise SearchError(
            f"Error parsing search query: invalid date for {key}: {value!r}"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return (op or ">="), moment.timestamp()


def compile_query(
    db: sqlite3.Connection, query: str, *, now: float, user: sqlite3.Row | None
) -> Compiled:
    """SQL conditions over ``issues i`` for a Sentry search query."""
    out = Compiled()
    free: list[str] = []
    for negated, key, value in tokenize(query):
        if key is None:
            free.append(value)
            continue
        _term(db, out, negated, key, value, now=now, user=user)
    event_ids = [w.replace("-", "").lower() for w in free if _EVENT_ID.match(w)]
    free = [w for w in free if not _EVENT_ID.match(w)]
    if event_ids:  # an event id finds the issue it belongs to, as in Sentry's search box
        marks = ",".join("?" * len(event_ids))
        out.add(
            f"i.id IN (SELECT issue_id FROM error_events WHERE event_id IN ({marks}))", *event_ids
        )
    text = " ".join(free).strip()
    if text:
        like = f"%{text.lower()}%"
        out.add("lower(i.title) LIKE ? OR lower(i.culprit) LIKE ?", like, like)
    return out


def _term(
    db: sqlite3.Connection,
    out: Compiled,
    negated: bool,
    key: str,
    value: str,
    *,
    now: float,
    user: sqlite3.Row | None,
) -> None:
    values = _values(value)
    if not values or any(v == "" for v in values) and key.lower() not in _EMPTY_OK:
        raise SearchError(f"Error parsing search query: {key}: needs a value")
    lowered = key.lower()
    if lowered == "is":
        parts = []
        for item in values:
            if item.lower() not in IS_VALUES:
                valid = ", ".join(sorted(IS_VALUES))
                raise SearchError(
                    f'Error parsing search query: Invalid value for "is" search, valid values are {{{valid}}}'
                )
            parts.append(IS_VALUES[item.lower()][0])
        out.add(" OR ".join(parts), negate=negated)
    elif lowered in ("assigned", "assigned_or_suggested"):
        assignee_args: list[Any] = []
        parts = _assignee_sql(db, value, user, assignee_args)
        out.add(" OR ".join(parts) or "0", *assignee_args, negate=negated)
    elif lowered == "bookmarks":
        ids = [_user_id(db, v, user) for v in values]
        marks = ",".join("?" * len(ids))
        out.add(
            f"i.id IN (SELECT issue_id FROM issue_user_state WHERE bookmarked = 1 AND user_id IN ({marks}))",
            *ids,
            negate=negated,
        )
    elif lowered in ("level", "priority", "substatus"):
        column = {"level": "i.level", "priority": "i.priority", "substatus": "i.substatus"}[lowered]
        marks = ",".join("?" * len(values))
        out.add(f"{column} IN ({marks})", *[v.lower() for v in values], negate=negated)
    elif lowered in ("release", "firstrelease", "first_release", "release.version"):
        versions = [_release(db, v) for v in values]
        marks = ",".join("?" * len(versions))
        if lowered in ("firstrelease", "first_release"):
            out.add(f"i.first_release IN ({marks})", *versions, negate=negated)
        else:
            out.add(
                f"i.id IN (SELECT issue_id FROM issue_tags WHERE key = 'release' AND value IN ({marks}))",
                *versions,
                negate=negated,
            )
    elif lowered in ("project", "project.id"):
        ids = []
        for item in values:
            row = db.execute(
                "SELECT id FROM projects WHERE slug = ? OR CAST(id AS TEXT) = ?", (item, item)
            ).fetchone()
            ids.append(row[0] if row else -1)
        marks = ",".join("?" * len(ids))
        out.add(f"i.project_id IN ({marks})", *ids, negate=negated)
    elif lowered in ("issue", "issue.id", "id"):
        ids = [_issue_id(db, v) for v in values]
        marks = ",".join("?" * len(ids))
        out.add(f"i.id IN ({marks})", *ids, negate=negated)
    elif lowered in ("issue.category", "issue.type", "event.type"):
        wanted = {v.lower() for v in values}
        ok = bool(wanted & {"error", "default"}) or not wanted
        out.add("1" if ok else "0", negate=negated)
    elif lowered in ("error.type", "error.value", "message", "title"):
        parts, args = [], []
        for item in values:
            pattern = "%" + item.replace("*", "%").lower() + "%"
            if lowered == "error.type":
                parts.append("lower(json_extract(i.metadata, '$.type')) LIKE ?")
            elif lowered == "error.value":
                parts.append("lower(json_extract(i.metadata, '$.value')) LIKE ?")
            else:
                parts.append("lower(i.title) LIKE ?")
            args.append(pattern)
        out.add(" OR ".join(parts), *args, negate=negated)
    elif lowered in ("timesseen", "times_seen", "event.count"):
        match = _COMPARE.match(value)
        op, number = match.groups() if match else ("", "")
        if not (number.isdecimal() and len(number) <= 18):
            raise SearchError(f"Error parsing search query: invalid number for {key}: {value!r}")
        out.add(f"i.times_seen {op or '='} ?", int(number), negate=negated)
    elif lowered in ("age", "firstseen", "first_seen", "lastseen", "last_seen"):
        column = "i.last_seen" if lowered.startswith("last") else "i.first_seen"
        op, when = _time_bound(value, now, key)
        out.add(f"{column} {op} ?", when, negate=negated)
    elif lowered == "has":
        out.add("i.id IN (SELECT issue_id FROM issue_tags WHERE key = ?)", value, negate=negated)
    else:
        tag = lowered if lowered in ("environment", "user", "url", "transaction") else key
        if tag.startswith("tags[") and tag.endswith("]"):
            tag = tag[5:-1]
        parts, args = [], []
        for item in values:
            if "*" in item:
                parts.append("value LIKE ?")
                args.append(item.replace("%", r"\%").replace("*", "%"))
            else:
                parts.append("value = ?")
                args.append(item)
        out.add(
            f"i.id IN (SELECT issue_id FROM issue_tags WHERE key = ? AND ({' OR '.join(parts)}))",
            tag,
            *args,
            negate=negated,
        )


def _user_id(db: sqlite3.Connection, ref: str, user: sqlite3.Row | None) -> int:
    if ref.lower() == "me":
        return user["id"] if user is not None else -1
    row = db.execute(
        "SELECT id FROM users WHERE email = ? OR key = ? OR CAST(id AS TEXT) = ?",
        (ref, ref, ref.removeprefix("user:")),
    ).fetchone()
    return row[0] if row else -1


def _assignee_sql(
    db: sqlite3.Connection, value: str, user: sqlite3.Row | None, args: list[Any]
) -> list[str]:
    parts = []
    for ref in _values(value):
        low = ref.lower()
        if low == "none":
            parts.append("i.assignee IS NULL")
        elif low == "my_teams":
            slugs = _teams_of(user)
            marks = ",".join("?" * len(slugs)) or "NULL"
            parts.append(f"i.assignee IN (SELECT 'team:' || id FROM teams WHERE slug IN ({marks}))")
            args.extend(slugs)
        elif ref.startswith("#") or low.startswith("team:"):
            slug = ref.removeprefix("#").removeprefix("team:")
            parts.append(
                "i.assignee IN (SELECT 'team:' || id FROM teams WHERE slug = ? OR CAST(id AS TEXT) = ?)"
            )
            args.extend([slug, slug])
        else:
            parts.append("i.assignee = ?")
            args.append(f"user:{_user_id(db, ref, user)}")
    return parts


def _teams_of(user: sqlite3.Row | None) -> list[str]:
    return json.loads(user["teams"]) if user is not None else []


def _release(db: sqlite3.Connection, version: str) -> str:
    if version != "latest":
        return version
    row = db.execute(
        "SELECT version FROM releases ORDER BY date_created DESC, id DESC LIMIT 1"
    ).fetchone()
    return row[0] if row else ""


def _issue_id(db: sqlite3.Connection, ref: str) -> int:
    if ref.isdecimal() and len(ref) <= 18:
        return int(ref)
    parsed = parse_short_id(ref)
    if parsed is None:
        return -1
    row = db.execute(
        "SELECT i.id FROM issues i JOIN projects p ON p.id = i.project_id "
        "WHERE p.slug = ? AND i.short_seq = ?",
        parsed,
    ).fetchone()
    return row[0] if row else -1


def parse_period(value: str) -> float:
    """Seconds in a ``statsPeriod`` like ``14d``, ``24h``, ``90m``, ``2w``."""
    match = re.fullmatch(r"(\d{1,6})([smhdw])", value.strip())
    if not match:
        raise SearchError(f"Invalid statsPeriod: {value!r}")
    return int(match[1]) * _UNITS[match[2]]
