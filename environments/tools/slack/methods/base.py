"""What every Web API method gets (a :class:`Call`) and the table of methods.

A method is a plain function ``(call) -> dict`` registered with :func:`method`; it reads
arguments through ``call.params`` (bounded, typed), raises :class:`SlackError` for Slack's
logical errors, and returns the fields to send after ``"ok": true``. The dispatcher runs it
inside one database transaction (``writes=True``) or under the read lock.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from environments.tools.common import ParamError, Params
from environments.tools.slack.model import Renderer, SlackError, canonical_ts

if TYPE_CHECKING:
    from environments.tools.slack.service import SlackService

MAX_TEXT = 40_000
MAX_ATTACHMENTS = 100
MAX_BLOCKS = 50
_EMOJI = re.compile(r"^[a-z0-9_+'\-]{1,100}(?:::skin-tone-[2-6])?$")


@dataclass(frozen=True)
class Caller:
    """Who a token acts as."""

    user_id: str
    name: str
    kind: str  # "bot" | "user"
    bot_id: str | None
    token: str

    @property
    def is_bot(self) -> bool:
        return self.kind == "bot"


@dataclass
class Call:
    service: SlackService
    db: sqlite3.Connection
    params: Params
    caller: Caller | None
    render: Renderer
    now: float
    events: list[tuple[str, str, str, dict[str, Any]]] = field(default_factory=list)

    @property
    def me(self) -> Caller:
        assert self.caller is not None, "method registered with auth=False used the caller"
        return self.caller

    def record(self, kind: str, object_id: str, payload: dict[str, Any]) -> None:
        """An event to append once the method succeeds (same transaction)."""
        actor = self.caller.user_id if self.caller else "anonymous"
        self.events.append((actor, kind, object_id, payload))


MethodFn = Callable[[Call], dict[str, Any]]


@dataclass(frozen=True)
class Method:
    name: str
    fn: MethodFn
    writes: bool
    auth: bool
    user_token_only: bool


METHODS: dict[str, Method] = {}


def method(
    name: str, *, writes: bool = False, auth: bool = True, user_token_only: bool = False
) -> Callable[[MethodFn], MethodFn]:
    def register(fn: MethodFn) -> MethodFn:
        METHODS[name] = Method(name, fn, writes, auth, user_token_only)
        return fn

    return register


# -- lookups shared by methods ---------------------------------------------------------------


def is_member(db: sqlite3.Connection, channel_id: str, user_id: str) -> bool:
    return (
        db.execute(
            "SELECT 1 FROM members WHERE channel_id = ? AND user_id = ?", (channel_id, user_id)
        ).fetchone()
        is not None
    )


def find_channel(call: Call, name: str = "channel", *, by_name: bool = False) -> sqlite3.Row:
    """The channel an argument names (by id; by name too where Slack allows it).

    Private channels the caller is not in do not exist for it: ``channel_not_found``.
    """
    ref = call.params.text(name, max_len=200)
    if not ref:
        raise SlackError("channel_not_found")
    row = call.db.execute("SELECT * FROM channels WHERE id = ?", (ref,)).fetchone()
    if row is None and by_name:
        row = call.db.execute(
            "SELECT * FROM channels WHERE name = ?", (ref.lstrip("#").lower(),)
        ).fetchone()
    if row is None or (row["is_private"] and not is_member(call.db, row["id"], call.me.user_id)):
        raise SlackError("channel_not_found")
    return row


def require_reader(call: Call, channel: sqlite3.Row) -> None:
    """Bots read only the channels they are in (users may read any public channel)."""
    if call.me.is_bot and not is_member(call.db, channel["id"], call.me.user_id):
        raise SlackError("not_in_channel")


def find_message(call: Call, channel_id: str, name: str = "ts") -> sqlite3.Row:
    ts = canonical_ts(call.params.text(name, max_len=64))
    row = None
    if ts is not None:
        row = call.db.execute(
            "SELECT * FROM messages WHERE channel_id = ? AND ts = ?", (channel_id, ts)
        ).fetchone()
    if row is None or row["subtype"] == "tombstone":
        raise SlackError("message_not_found")
    return row


def emoji_name(call: Call) -> str:
    name = (call.params.text("name", max_len=200) or "").strip(":").lower()
    if not _EMOJI.match(name):
        raise SlackError("invalid_name")
    return name


def message_content(call: Call, *, required: bool = True) -> dict[str, Any]:
    """text / blocks / attachments of chat.postMessage and chat.update, validated."""
    text = call.params.text("text", max_len=MAX_TEXT * 4, strip=False)
    if text is not None and len(text) > MAX_TEXT:
        raise SlackError("msg_too_long")
    try:
        blocks = call.params.structured("blocks")
    except ParamError:
        raise SlackError("invalid_blocks") from None
    try:
        attachments = call.params.structured("attachments")
    except ParamError:
        raise SlackError("invalid_attachments") from None
    if blocks is not None and (
        not isinstance(blocks, list)
        or len(blocks) > MAX_BLOCKS
        or not all(isinstance(b, dict) and isinstance(b.get("type"), str) for b in blocks)
    ):
        raise SlackError("invalid_blocks")
    if attachments is not None:
        if not isinstance(attachments, list) or not all(isinstance(a, dict) for a in attachments):
            raise SlackError("invalid_attachments")
        if len(attachments) > MAX_ATTACHMENTS:
            raise SlackError("too_many_attachments")
    if required and not (text and text.strip()) and not blocks and not attachments:
        raise SlackError("no_text")
    return {"text": text, "blocks": blocks or None, "attachments": attachments or None}


def username_of(db: sqlite3.Connection, user_id: str | None) -> str | None:
    if not user_id:
        return None
    row = db.execute("SELECT name FROM users WHERE id = ?", (user_id,)).fetchone()
    return row[0] if row else None
