"""reactions.* and pins.* — emoji on messages and pinned messages."""

from __future__ import annotations

from typing import Any

from environments.tools.slack.methods.base import (
    Call,
    emoji_name,
    find_channel,
    find_message,
    is_member,
    method,
)
from environments.tools.slack.model import SlackError


def _target(call: Call):
    channel = find_channel(call)
    return channel, find_message(call, channel["id"], "timestamp")


def _payload(channel, row, **more: Any) -> dict[str, Any]:
    return {"channel": channel["id"], "channel_name": channel["name"], "ts": row["ts"], **more}


@method("reactions.add", writes=True)
def reactions_add(call: Call) -> dict[str, Any]:
    name = emoji_name(call)
    channel, row = _target(call)
    key = (channel["id"], row["ts"], name, call.me.user_id)
    if call.db.execute(
        "SELECT 1 FROM reactions WHERE channel_id = ? AND ts = ? AND name = ? AND user_id = ?", key
    ).fetchone():
        raise SlackError("already_reacted")
    distinct = call.db.execute(
        "SELECT COUNT(DISTINCT name) FROM reactions WHERE channel_id = ? AND ts = ?", key[:2]
    ).fetchone()[0]
    if distinct >= 50:
        raise SlackError("too_many_emoji")
    call.db.execute("INSERT INTO reactions(channel_id, ts, name, user_id) VALUES (?, ?, ?, ?)", key)
    call.record("reaction.added", f"{channel['id']}/{row['ts']}", _payload(channel, row, name=name))
    return {}


@method("reactions.remove", writes=True)
def reactions_remove(call: Call) -> dict[str, Any]:
    name = emoji_name(call)
    channel, row = _target(call)
    gone = call.db.execute(
        "DELETE FROM reactions WHERE channel_id = ? AND ts = ? AND name = ? AND user_id = ?",
        (channel["id"], row["ts"], name, call.me.user_id),
    ).rowcount
    if not gone:
        raise SlackError("no_reaction")
    call.record(
        "reaction.removed", f"{channel['id']}/{row['ts']}", _payload(channel, row, name=name)
    )
    return {}


@method("reactions.get")
def reactions_get(call: Call) -> dict[str, Any]:
    channel, row = _target(call)
    message = call.render.messages(channel["id"], [row])[0]
    message["permalink"] = call.render.permalink(channel["id"], row["ts"], row["thread_ts"])
    return {"type": "message", "channel": channel["id"], "message": message}


@method("pins.add", writes=True)
def pins_add(call: Call) -> dict[str, Any]:
    channel, row = _target(call)
    if not is_member(call.db, channel["id"], call.me.user_id):
        raise SlackError("not_in_channel")
    if call.db.execute(
        "SELECT 1 FROM pins WHERE channel_id = ? AND ts = ?", (channel["id"], row["ts"])
    ).fetchone():
        raise SlackError("already_pinned")
    call.db.execute(
        "INSERT INTO pins(channel_id, ts, pinned_by, created) VALUES (?, ?, ?, ?)",
        (channel["id"], row["ts"], call.me.user_id, int(call.now)),
    )
    call.record("pin.added", f"{channel['id']}/{row['ts']}", _payload(channel, row))
    return {}


@method("pins.remove", writes=True)
def pins_remove(call: Call) -> dict[str, Any]:
    channel, row = _target(call)
    gone = call.db.execute(
        "DELETE FROM pins WHERE channel_id = ? AND ts = ?", (channel["id"], row["ts"])
    ).rowcount
    if not gone:
        raise SlackError("no_pin")
    call.record("pin.removed", f"{channel['id']}/{row['ts']}", _payload(channel, row))
    return {}


@method("pins.list")
def pins_list(call: Call) -> dict[str, Any]:
    channel = find_channel(call)
    pins = call.db.execute(
        "SELECT p.created, p.pinned_by, m.* FROM pins p JOIN messages m "
        "ON m.channel_id = p.channel_id AND m.ts = p.ts WHERE p.channel_id = ? "
        "ORDER BY p.created DESC, p.ts DESC",
        (channel["id"],),
    ).fetchall()
    messages = call.render.messages(channel["id"], pins)
    items = []
    for pin, message in zip(pins, messages, strict=True):
        message["permalink"] = call.render.permalink(channel["id"], pin["ts"], pin["thread_ts"])
        items.append(
            {
                "type": "message",
                "created": pin["created"],
                "created_by": pin["pinned_by"],
                "channel": channel["id"],
                "message": message,
            }
        )
    return {"items": items}
