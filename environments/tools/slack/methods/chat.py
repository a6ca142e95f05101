"""chat.* — posting, editing, deleting messages and linking to them."""

from __future__ import annotations

import json
from typing import Any

from environments.tools.common import dumps
from environments.tools.slack.fixtures import message_extra
from environments.tools.slack.methods.base import (
    Call,
    find_channel,
    find_message,
    is_member,
    message_content,
    method,
)
from environments.tools.slack.model import SlackError, canonical_ts

TOMBSTONE_TEXT = "This message was deleted."


def _event_payload(call: Call, channel, row) -> dict[str, Any]:
    return {
        "channel": channel["id"],
        "channel_name": channel["name"],
        "ts": row["ts"],
        "thread_ts": row["thread_ts"],
        "user": row["user_id"],
        "bot_id": row["bot_id"],
        "text": row["text"],
    }


def _reload(call: Call, channel_id: str, ts: str):
    return call.db.execute(
        "SELECT * FROM messages WHERE channel_id = ? AND ts = ?", (channel_id, ts)
    ).fetchone()


def thread_parent(call: Call, channel_id: str, value: str | None) -> str | None:
    """The parent ts a ``thread_ts`` argument designates (a reply's ts means its thread)."""
    if value is None:
        return None
    ts = canonical_ts(value)
    if ts is None:
        raise SlackError("invalid_thread_ts")
    row = call.db.execute(
        "SELECT ts, thread_ts FROM messages WHERE channel_id = ? AND ts = ?", (channel_id, ts)
    ).fetchone()
    if row is None:
        raise SlackError("thread_not_found")
    return row["thread_ts"] or row["ts"]


@method("chat.postMessage", writes=True)
def chat_post_message(call: Call) -> dict[str, Any]:
    p = call.params
    channel = find_channel(call, by_name=True)
    if channel["is_archived"]:
        raise SlackError("is_archived")
    if not is_member(call.db, channel["id"], call.me.user_id):
        raise SlackError("not_in_channel")
    content = message_content(call)
    parent = thread_parent(call, channel["id"], p.text("thread_ts", max_len=64))
    broadcast = bool(parent) and p.flag("reply_broadcast")
    metadata = p.structured("metadata") if p.present("metadata") else None
    if metadata is not None and not isinstance(metadata, dict):
        raise SlackError("invalid_metadata_format")
    extra: dict[str, Any] = {}
    if call.me.is_bot:
        icons = {}
        if emoji := p.text("icon_emoji", max_len=100):
            icons["emoji"] = emoji
        if url := p.text("icon_url", max_len=2000):
            icons["image_48"] = url
        extra = {"username": p.text("username", max_len=80), "icons": icons}
    ts = call.service.next_ts(call.db)
    call.db.execute(
        "INSERT INTO messages(channel_id, ts, user_id, bot_id, subtype, text, thread_ts, "
        "broadcast, extra) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            channel["id"],
            ts,
            call.me.user_id,
            call.me.bot_id,
            "thread_broadcast" if broadcast else None,
            content["text"] or "",
            parent,
            int(broadcast),
            message_extra(content["attachments"], content["blocks"], metadata=metadata, **extra),
        ),
    )
    row = _reload(call, channel["id"], ts)
    call.record("message.posted", f"{channel['id']}/{ts}", _event_payload(call, channel, row))
    message = call.render.messages(channel["id"], [row])[0]
    message.pop("team", None)
    return {"channel": channel["id"], "ts": ts, "message": message}


@method("chat.update", writes=True)
def chat_update(call: Call) -> dict[str, Any]:
    channel = find_channel(call)
    row = find_message(call, channel["id"], "ts")
    if row["user_id"] != call.me.user_id:
        raise SlackError("cant_update_message")
    if channel["is_archived"]:
        raise SlackError("is_archived")
    content = message_content(call)
    extra: dict[str, Any] = {}
    if row["extra"]:
        extra = json.loads(row["extra"])
    if content["attachments"] is not None:
        extra["attachments"] = [
            {**a, "id": i} for i, a in enumerate(content["attachments"], start=1)
        ]
    if content["blocks"] is not None:
        extra["blocks"] = content["blocks"]
    text = content["text"] if content["text"] is not None else row["text"]
    edited_ts = call.service.next_ts(call.db)
    call.db.execute(
        "UPDATE messages SET text = ?, extra = ?, edited_by = ?, edited_ts = ? "
        "WHERE channel_id = ? AND ts = ?",
        (
            text,
            dumps(extra) if extra else None,
            call.me.user_id,
            edited_ts,
            channel["id"],
            row["ts"],
        ),
    )
    fresh = _reload(call, channel["id"], row["ts"])
    payload = _event_payload(call, channel, fresh) | {"previous_text": row["text"]}
    call.record("message.updated", f"{channel['id']}/{row['ts']}", payload)
    message = call.render.messages(channel["id"], [fresh])[0]
    return {"channel": channel["id"], "ts": row["ts"], "text": text, "message": message}


@method("chat.delete", writes=True)
def chat_delete(call: Call) -> dict[str, Any]:
    channel = find_channel(call)
    row = find_message(call, channel["id"], "ts")
    if row["user_id"] != call.me.user_id:
        raise SlackError("cant_delete_message")
    key = (channel["id"], row["ts"])
    has_replies = call.db.execute(
        "SELECT 1 FROM messages WHERE channel_id = ? AND thread_ts = ? LIMIT 1", key
    ).fetchone()
    if has_replies:  # the thread stays; its parent becomes a tombstone, as in Slack
        call.db.execute(
            "UPDATE messages SET subtype = 'tombstone', text = ?, user_id = 'USLACKBOT', "
            "bot_id = NULL, extra = '{\"hidden\":true}', edited_by = NULL, edited_ts = NULL "
            "WHERE channel_id = ? AND ts = ?",
            (TOMBSTONE_TEXT, *key),
        )
    else:
        call.db.execute("DELETE FROM messages WHERE channel_id = ? AND ts = ?", key)
    call.db.execute("DELETE FROM reactions WHERE channel_id = ? AND ts = ?", key)
    call.db.execute("DELETE FROM pins WHERE channel_id = ? AND ts = ?", key)
    call.record(
        "message.deleted", f"{channel['id']}/{row['ts']}", _event_payload(call, channel, row)
    )
    return {"channel": channel["id"], "ts": row["ts"]}


@method("chat.getPermalink")
def chat_get_permalink(call: Call) -> dict[str, Any]:
    channel = find_channel(call)
    row = find_message(call, channel["id"], "message_ts")
    return {
        "channel": channel["id"],
        "permalink": call.render.permalink(channel["id"], row["ts"], row["thread_ts"]),
    }
