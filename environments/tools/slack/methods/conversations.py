"""conversations.* — channels, their members, history and threads."""

from __future__ import annotations

import re
from typing import Any

from environments.tools.common import stable_id
from environments.tools.slack.methods.base import (
    Call,
    find_channel,
    is_member,
    method,
    require_reader,
)
from environments.tools.slack.model import (
    MAX_TS,
    MIN_TS,
    SlackError,
    bound_ts,
    canonical_ts,
    decode_cursor,
    page_metadata,
)

_TYPES = {"public_channel", "private_channel", "mpim", "im"}
_NAME_OK = re.compile(r"^[a-z0-9_-]+$", re.UNICODE)


@method("conversations.list")
def conversations_list(call: Call) -> dict[str, Any]:
    p = call.params
    types = set(p.names("types") or ["public_channel"])
    if not types <= _TYPES:
        raise SlackError("invalid_types")
    limit = p.integer("limit", 100, lo=1, hi=1000)
    after = decode_cursor(p.text("cursor", max_len=500), "team") or ""
    rows = call.db.execute(
        "SELECT c.* FROM channels c WHERE c.name > :after AND (:all = 1 OR c.is_archived = 0) "
        "AND ((c.is_private = 0 AND :pub = 1) OR (c.is_private = 1 AND :priv = 1 AND EXISTS "
        "(SELECT 1 FROM members m WHERE m.channel_id = c.id AND m.user_id = :me))) "
        "ORDER BY c.name LIMIT :n",
        {
            "after": after,
            "all": 0 if p.flag("exclude_archived") else 1,
            "pub": int("public_channel" in types),
            "priv": int("private_channel" in types),
            "me": call.me.user_id,
            "n": limit + 1,
        },
    ).fetchall()
    page = rows[:limit]
    more = len(rows) > limit
    return {
        "channels": [call.render.channel(r, call.me.user_id) for r in page],
        "response_metadata": page_metadata(page[-1]["name"] if more else None, "team"),
    }


@method("conversations.info")
def conversations_info(call: Call) -> dict[str, Any]:
    row = find_channel(call)
    with_members = call.params.flag("include_num_members")
    return {"channel": call.render.channel(row, call.me.user_id, with_num_members=with_members)}


def _bounds(call: Call) -> tuple[str, str, bool]:
    latest = bound_ts(call.params.text("latest", max_len=64), MAX_TS)
    if latest is None:
        raise SlackError("invalid_ts_latest")
    oldest = bound_ts(call.params.text("oldest", max_len=64), MIN_TS)
    if oldest is None:
        raise SlackError("invalid_ts_oldest")
    return oldest, latest, call.params.flag("inclusive")


@method("conversations.history")
def conversations_history(call: Call) -> dict[str, Any]:
    channel = find_channel(call)
    require_reader(call, channel)
    limit = call.params.integer("limit", 100, lo=1, hi=999)
    oldest, latest, inclusive = _bounds(call)
    after = decode_cursor(call.params.text("cursor", max_len=500), "next_ts")
    upper_op = "<=" if inclusive else "<"
    args: list[Any] = [channel["id"], latest, oldest]
    sql = (
        "SELECT * FROM messages WHERE channel_id = ? AND (thread_ts IS NULL OR broadcast = 1) "
        f"AND ts {upper_op} ? AND ts {'>=' if inclusive else '>'} ?"
    )
    if after is not None:
        sql += " AND ts < ?"
        args.append(after)
    sql += " ORDER BY ts DESC LIMIT ?"
    args.append(limit + 1)
    rows = call.db.execute(sql, args).fetchall()
    page = rows[:limit]
    more = len(rows) > limit
    pins = call.db.execute("SELECT COUNT(*) FROM pins WHERE channel_id = ?", (channel["id"],))
    return {
        "messages": call.render.messages(channel["id"], page),
        "has_more": more,
        "pin_count": pins.fetchone()[0],
        "channel_actions_ts": None,
        "channel_actions_count": 0,
        "response_metadata": page_metadata(page[-1]["ts"] if more else None, "next_ts"),
    }


@method("conversations.replies")
def conversations_replies(call: Call) -> dict[str, Any]:
    channel = find_channel(call)
    require_reader(call, channel)
    ts = canonical_ts(call.params.text("ts", max_len=64))
    row = None
    if ts is not None:
        row = call.db.execute(
            "SELECT * FROM messages WHERE channel_id = ? AND ts = ?", (channel["id"], ts)
        ).fetchone()
    if row is None:
        raise SlackError("thread_not_found")
    if row["thread_ts"]:  # a reply's ts stands for its whole thread
        parent_ts = row["thread_ts"]
        row = call.db.execute(
            "SELECT * FROM messages WHERE channel_id = ? AND ts = ?", (channel["id"], parent_ts)
        ).fetchone()
        if row is None:
            raise SlackError("thread_not_found")
    limit = call.params.integer("limit", 1000, lo=1, hi=1000)
    oldest, latest, inclusive = _bounds(call)
    after = decode_cursor(call.params.text("cursor", max_len=500), "next_reply")
    sql = (
        "SELECT * FROM messages INDEXED BY messages_by_thread WHERE channel_id = ? AND thread_ts = ? "
        f"AND ts {'<=' if inclusive else '<'} ? AND ts {'>=' if inclusive else '>'} ?"
    )
    args: list[Any] = [channel["id"], row["ts"], latest, oldest]
    if after is not None:
        sql += " AND ts > ?"
        args.append(after)
    sql += " ORDER BY ts LIMIT ?"
    args.append(limit + 1)
    replies = call.db.execute(sql, args).fetchall()
    page = replies[:limit]
    more = len(replies) > limit
    rows = ([row] if after is None else []) + list(page)
    return {
        "messages": call.render.messages(channel["id"], rows),
        "has_more": more,
        "response_metadata": page_metadata(page[-1]["ts"] if more else None, "next_reply"),
    }


@method("conversations.create", writes=True)
def conversations_create(call: Call) -> dict[str, Any]:
    name = (call.params.text("name", max_len=1000) or "").lower()
    if not name:
        raise SlackError("invalid_name_required")
    if len(name) > 80:
        raise SlackError("invalid_name_maxlength")
    if not _NAME_OK.match(name) or name.strip("-_") == "":
        raise SlackError("invalid_name_specials")
    if call.db.execute("SELECT 1 FROM channels WHERE name = ?", (name,)).fetchone():
        raise SlackError("name_taken")
    private = call.params.flag("is_private")
    channel_id = stable_id("C", call.service.seed, "channel", name)
    if call.db.execute("SELECT 1 FROM channels WHERE id = ?", (channel_id,)).fetchone():
        channel_id = stable_id("C", call.service.seed, "channel", name, call.now)
    created = int(call.now)
    call.db.execute(
        "INSERT INTO channels(id, name, is_private, created, creator) VALUES (?, ?, ?, ?, ?)",
        (channel_id, name, int(private), created, call.me.user_id),
    )
    call.db.execute(
        "INSERT INTO members(channel_id, user_id) VALUES (?, ?)", (channel_id, call.me.user_id)
    )
    call.record(
        "channel.created", channel_id, {"channel": channel_id, "name": name, "is_private": private}
    )
    row = call.db.execute("SELECT * FROM channels WHERE id = ?", (channel_id,)).fetchone()
    return {"channel": call.render.channel(row, call.me.user_id)}


@method("conversations.join", writes=True)
def conversations_join(call: Call) -> dict[str, Any]:
    row = find_channel(call)
    if row["is_private"]:
        raise SlackError("method_not_supported_for_channel_type")
    if row["is_archived"]:
        raise SlackError("is_archived")
    extra: dict[str, Any] = {}
    if is_member(call.db, row["id"], call.me.user_id):
        extra = {
            "warning": "already_in_channel",
            "response_metadata": {"warnings": ["already_in_channel"]},
        }
    else:
        call.db.execute(
            "INSERT INTO members(channel_id, user_id) VALUES (?, ?)", (row["id"], call.me.user_id)
        )
        call.record(
            "channel.joined",
            row["id"],
            {"channel": row["id"], "name": row["name"], "user": call.me.user_id},
        )
    return {"channel": call.render.channel(row, call.me.user_id), **extra}


@method("conversations.invite", writes=True)
def conversations_invite(call: Call) -> dict[str, Any]:
    row = find_channel(call)
    if row["is_archived"]:
        raise SlackError("is_archived")
    if not is_member(call.db, row["id"], call.me.user_id):
        raise SlackError("not_in_channel")
    users = call.params.names("users", max_items=1000)
    if not users:
        raise SlackError("no_user")
    for user_id in users:
        found = call.db.execute("SELECT deleted FROM users WHERE id = ?", (user_id,)).fetchone()
        if found is None:
            raise SlackError("user_not_found")
        if found["deleted"]:
            raise SlackError("user_is_deleted")
        if user_id == call.me.user_id:
            raise SlackError("cant_invite_self")
    for user_id in users:
        call.db.execute(
            "INSERT OR IGNORE INTO members(channel_id, user_id) VALUES (?, ?)", (row["id"], user_id)
        )
    call.record(
        "channel.invited", row["id"], {"channel": row["id"], "name": row["name"], "users": users}
    )
    return {"channel": call.render.channel(row, call.me.user_id)}


@method("conversations.members")
def conversations_members(call: Call) -> dict[str, Any]:
    row = find_channel(call)
    limit = call.params.integer("limit", 100, lo=1, hi=1000)
    after = decode_cursor(call.params.text("cursor", max_len=500), "user") or ""
    ids = [
        r[0]
        for r in call.db.execute(
            "SELECT m.user_id FROM members m JOIN users u ON u.id = m.user_id "
            "WHERE m.channel_id = ? AND u.deleted = 0 AND m.user_id > ? "
            "ORDER BY m.user_id LIMIT ?",
            (row["id"], after, limit + 1),
        )
    ]
    more = len(ids) > limit
    page = ids[:limit]
    return {"members": page, "response_metadata": page_metadata(page[-1] if more else None, "user")}


def _set_text(call: Call, field: str) -> dict[str, Any]:
    row = find_channel(call)
    if row["is_archived"]:
        raise SlackError("is_archived")
    if not is_member(call.db, row["id"], call.me.user_id):
        raise SlackError("not_in_channel")
    value = call.params.text(field, "", max_len=4000 if field == "topic" else 250) or ""
    call.db.execute(
        f"UPDATE channels SET {field} = ?, {field}_creator = ?, {field}_last_set = ? WHERE id = ?",
        (value, call.me.user_id, int(call.now), row["id"]),
    )
    call.record(
        f"channel.{field}_set", row["id"], {"channel": row["id"], "name": row["name"], field: value}
    )
    fresh = call.db.execute("SELECT * FROM channels WHERE id = ?", (row["id"],)).fetchone()
    return {"channel": call.render.channel(fresh, call.me.user_id)}


@method("conversations.setTopic", writes=True)
def conversations_set_topic(call: Call) -> dict[str, Any]:
    return _set_text(call, "topic")


@method("conversations.setPurpose", writes=True)
def conversations_set_purpose(call: Call) -> dict[str, Any]:
    return _set_text(call, "purpose")
