"""search.messages — Slack's (legacy, user-token-only) message search with page-based paging.

Query syntax understood: words and "quoted phrases" (all must match, case-insensitive,
``deploy*`` as a prefix), ``-word`` to exclude, ``in:#channel`` / ``in:<#C123|name>``,
``from:@handle`` / ``from:<@U123>`` / ``from:me``, ``before:`` / ``after:`` / ``on:`` / ``during:``
with ``YYYY-MM-DD`` (``during:`` also ``YYYY-MM`` or ``YYYY``), ``is:thread``, ``has:reaction``,
``has:pin``, ``has:link``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from environments.tools.common import stable_uuid
from environments.tools.slack.methods.base import Call, method
from environments.tools.slack.model import SlackError

_TOKEN = re.compile(r'(-?)(?:(\w+):)?("[^"]*"|\S+)')
_MAX_CANDIDATES = 20_000


@dataclass
class Query:
    words: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    users: list[str] = field(default_factory=list)
    after: str | None = None  # exclusive ts bounds
    before: str | None = None
    is_thread: bool = False
    has: set[str] = field(default_factory=set)


def _day(text: str) -> dt.datetime | None:
    try:
        return dt.datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=dt.UTC)
    except ValueError:
        return None


def _ts(moment: dt.datetime) -> str:
    return f"{int(moment.timestamp()):010d}.000000"


def _period(text: str) -> tuple[dt.datetime, dt.datetime] | None:
    for fmt, unit in (("%Y-%m-%d", "day"), ("%Y-%m", "month"), ("%Y", "year")):
        try:
            start = dt.datetime.strptime(text, fmt).replace(tzinfo=dt.UTC)
        except ValueError:
            continue
        if unit == "day":
            return start, start + dt.timedelta(days=1)
        if unit == "month":
            nxt = start.replace(year=start.year + (start.month == 12), month=start.month % 12 + 1)
            return start, nxt
        return start, start.replace(year=start.year + 1)
    return None


def parse_query(call: Call, text: str) -> Query:
    q = Query()
    for negate, key, raw in _TOKEN.findall(text):
        value = raw.strip('"')
        key = key.lower()
        if key == "in":
            q.channels.append(_channel_ref(call, value))
        elif key == "from":
            q.users.append(_user_ref(call, value))
        elif key in ("before", "after", "on", "during"):
            period = (
                _period(value)
                if key == "during"
                else ((d, d + dt.timedelta(days=1)) if (d := _day(value)) else None)
            )
            if period is None:
                q.words.append(f"{key}:{value}")
                continue
            start, end = period
            if key == "before":
                q.before = _ts(start)
            elif key == "after":
                q.after = _ts(end - dt.timedelta(microseconds=1))
            else:
                q.after, q.before = _ts(start - dt.timedelta(seconds=1)), _ts(end)
        elif key == "is" and value.lower() == "thread":
            q.is_thread = True
        elif key == "has" and value.lower() in ("reaction", "pin", "link"):
            q.has.add(value.lower())
        else:
            word = f"{key}:{value}" if key else value
            word = word.rstrip("*").lower()
            if word:
                (q.excluded if negate else q.words).append(word)
    return q


def _channel_ref(call: Call, value: str) -> str:
    match = re.match(r"^<#(C[A-Z0-9]+)(?:\|[^>]*)?>$", value)
    if match:
        return match.group(1)
    row = call.db.execute(
        "SELECT id FROM channels WHERE id = ? OR name = ?", (value, value.lstrip("#").lower())
    ).fetchone()
    return row[0] if row else "-"


def _user_ref(call: Call, value: str) -> str:
    if value.lower() == "me":
        return call.me.user_id
    match = re.match(r"^<@(U[A-Z0-9]+)(?:\|[^>]*)?>$", value)
    if match:
        return match.group(1)
    handle = value.lstrip("@").lower()
    row = call.db.execute(
        "SELECT id FROM users WHERE id = ? OR name = ? OR lower(display_name) = ? "
        "OR lower(real_name) = ? ORDER BY id LIMIT 1",
        (value, handle, handle, handle),
    ).fetchone()
    return row[0] if row else "-"


def _searchable(row) -> str:
    parts = [row["text"]]
    if row["extra"]:
        extra = json.loads(row["extra"])
        for att in extra.get("attachments") or []:
            if isinstance(att, dict):
                parts += [str(att.get(k, "")) for k in ("pretext", "title", "text", "fallback")]
    return "\n".join(parts).lower()


def _like(word: str) -> str:
    return "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


@method("search.messages", user_token_only=True)
def search_messages(call: Call) -> dict[str, Any]:
    p = call.params
    text = p.text("query", max_len=1000)
    if not text:
        raise SlackError(
            "invalid_arguments",
            response_metadata={"messages": ["[ERROR] missing required field: query"]},
        )
    count = p.integer("count", 20, lo=1, hi=100)
    page = p.integer("page", 1, lo=1, hi=100)
    sort = (p.text("sort", "score", max_len=20) or "score").lower()
    descending = (p.text("sort_dir", "desc", max_len=10) or "desc").lower() != "asc"
    q = parse_query(call, text)

    sql = [
        "SELECT m.*, c.name AS channel_name, c.is_private AS channel_private",
        "FROM messages m JOIN channels c ON c.id = m.channel_id",
        "WHERE (m.subtype IS NULL OR m.subtype != 'tombstone')",
        "AND (c.is_private = 0 OR EXISTS (SELECT 1 FROM members x",
        "     WHERE x.channel_id = c.id AND x.user_id = :me))",
    ]
    args: dict[str, Any] = {"me": call.me.user_id, "cap": _MAX_CANDIDATES}
    for i, word in enumerate(q.words):
        sql.append(f"AND (m.text || ' ' || COALESCE(m.extra, '')) LIKE :w{i} ESCAPE '\\'")
        args[f"w{i}"] = _like(word)
    if q.channels:
        sql.append(f"AND m.channel_id IN ({','.join(f':c{i}' for i in range(len(q.channels)))})")
        args.update({f"c{i}": c for i, c in enumerate(q.channels)})
    if q.users:
        marks = ",".join(f":u{i}" for i in range(len(q.users)))
        sql.append(f"AND m.user_id IN ({marks})")
        args.update({f"u{i}": u for i, u in enumerate(q.users)})
    if q.after:
        sql.append("AND m.ts > :after")
        args["after"] = q.after
    if q.before:
        sql.append("AND m.ts < :before")
        args["before"] = q.before
    if q.is_thread:
        sql.append("AND (m.thread_ts IS NOT NULL OR EXISTS (SELECT 1 FROM messages r")
        sql.append("     WHERE r.channel_id = m.channel_id AND r.thread_ts = m.ts))")
    if "reaction" in q.has:
        sql.append("AND EXISTS (SELECT 1 FROM reactions r WHERE r.channel_id = m.channel_id")
        sql.append("     AND r.ts = m.ts)")
    if "pin" in q.has:
        sql.append("AND EXISTS (SELECT 1 FROM pins r WHERE r.channel_id = m.channel_id")
        sql.append("     AND r.ts = m.ts)")
    if "link" in q.has:
        sql.append("AND m.text LIKE '%http%'")
    sql.append("ORDER BY m.ts DESC LIMIT :cap")
    rows = call.db.execute("\n".join(sql), args).fetchall()

    scored = []
    for row in rows:
        haystack = _searchable(row)
        if any(w not in haystack for w in q.words) or any(w in haystack for w in q.excluded):
            continue
        score = sum(haystack.count(w) for w in q.words) / (1 + len(haystack) / 500)
        scored.append((score, row))
    if sort == "timestamp":
        scored.sort(key=lambda pair: pair[1]["ts"], reverse=descending)
    else:
        scored.sort(key=lambda pair: (pair[0], pair[1]["ts"]), reverse=descending)

    total = len(scored)
    pages = max(1, math.ceil(total / count))
    chosen = scored[(page - 1) * count : page * count]
    names = {r["id"]: r["name"] for r in call.db.execute("SELECT id, name FROM users")}
    matches = []
    for score, row in chosen:
        message = call.render.message(row)
        username = names.get(row["user_id"]) or message.get("username") or ""
        matches.append(
            {
                "iid": stable_uuid(0, "search", row["channel_id"], row["ts"]),
                "team": call.render.team_id,
                "score": round(score, 4),
                "channel": {
                    "id": row["channel_id"],
                    "is_channel": True,
                    "is_group": False,
                    "is_im": False,
                    "is_mpim": False,
                    "is_shared": False,
                    "is_org_shared": False,
                    "is_ext_shared": False,
                    "is_private": bool(row["channel_private"]),
                    "is_pending_ext_shared": False,
                    "pending_shared": [],
                    "name": row["channel_name"],
                },
                "type": "message",
                "user": row["user_id"],
                "username": username,
                "ts": row["ts"],
                "text": row["text"],
                "permalink": call.render.permalink(row["channel_id"], row["ts"], row["thread_ts"]),
                **{
                    k: message[k]
                    for k in ("attachments", "blocks", "bot_id", "thread_ts")
                    if k in message
                },
            }
        )
    first = (page - 1) * count + 1 if chosen else 0
    return {
        "query": text,
        "messages": {
            "total": total,
            "matches": matches,
            "paging": {"count": count, "total": total, "page": page, "pages": pages},
            "pagination": {
                "total_count": total,
                "page": page,
                "per_page": count,
                "page_count": pages,
                "first": first,
                "last": first + len(chosen) - 1 if chosen else 0,
            },
        },
    }
