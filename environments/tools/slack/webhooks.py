"""Incoming webhooks: ``POST /services/T…/B…/<secret>``, as Alertmanager and CI tools use them.

Accepts a JSON body (``text``, ``attachments``, ``blocks``, ``username``, ``icon_emoji``,
``icon_url``, ``thread_ts``; ``channel`` is ignored as modern Slack apps' webhooks do: a webhook
posts to the channel it was made for) or a form with a ``payload`` field holding that JSON.
Answers like Slack: ``200 ok`` as text, or a text error code (``invalid_payload``, ``no_text``,
``no_service``, ``channel_is_archived``).
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from environments.tools.common import ParamError
from environments.tools.common.params import clean_text, parse_body, read_body
from environments.tools.slack.fixtures import message_extra
from environments.tools.slack.methods.base import MAX_ATTACHMENTS, MAX_BLOCKS, MAX_TEXT
from environments.tools.slack.model import canonical_ts

if TYPE_CHECKING:
    from environments.tools.slack.service import SlackService


def _text(status: int, body: str) -> Response:
    return PlainTextResponse(body, status_code=status)


def _payload(content_type: str, body: bytes) -> dict[str, Any] | None:
    try:
        values = parse_body(content_type, body)
    except ParamError:
        return None
    if "payload" in values and isinstance(values["payload"], str):  # form-encoded legacy style
        try:
            values = json.loads(values["payload"])
        except (ValueError, RecursionError):
            return None
    return values if isinstance(values, dict) else None


def _clean(value: Any, depth: int = 0) -> Any:
    """Attachments/blocks as stored: strings cleaned, nesting bounded."""
    if depth > 20:
        return None
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list):
        return [_clean(v, depth + 1) for v in value]
    if isinstance(value, dict):
        return {clean_text(str(k)): _clean(v, depth + 1) for k, v in value.items()}
    if isinstance(value, float) and not math.isfinite(value):  # NaN/inf are not JSON
        return None
    return value


async def incoming_webhook(service: SlackService, request: Request) -> Response:
    path = request.path_params["path"].strip("/")
    with service.store.read() as db:
        hook = db.execute(
            "SELECT w.*, c.name AS channel_name, c.is_archived FROM webhooks w "
            "JOIN channels c ON c.id = w.channel_id WHERE w.path = ?",
            (path,),
        ).fetchone()
    if hook is None:
        return _text(404, "no_service")
    try:
        body = await read_body(request, service.settings.max_body_bytes)
    except ParamError:
        return _text(413, "request_too_large")
    payload = _payload(request.headers.get("content-type", ""), body)
    if payload is None:
        return _text(400, "invalid_payload")
    text = payload.get("text")
    attachments = payload.get("attachments")
    blocks = payload.get("blocks")
    if text is not None and not isinstance(text, str):
        return _text(400, "invalid_payload")
    if attachments is not None and not (
        isinstance(attachments, list) and all(isinstance(a, dict) for a in attachments)
    ):
        return _text(400, "invalid_attachments")
    if blocks is not None and not (
        isinstance(blocks, list) and all(isinstance(b, dict) for b in blocks)
    ):
        return _text(400, "invalid_blocks")
    if len(attachments or []) > MAX_ATTACHMENTS or len(blocks or []) > MAX_BLOCKS:
        return _text(400, "invalid_payload")
    text = clean_text(text or "")
    if len(text) > MAX_TEXT:
        return _text(400, "msg_too_long")
    if not text.strip() and not attachments and not blocks:
        return _text(400, "no_text")
    if hook["is_archived"]:
        return _text(410, "channel_is_archived")

    def opt(key: str, default: str | None) -> str | None:
        value = payload.get(key)
        return clean_text(value)[:200] if isinstance(value, str) and value else default

    icons: dict[str, str] = {}
    if emoji := opt("icon_emoji", hook["icon_emoji"]):
        icons["emoji"] = emoji
    if url := opt("icon_url", hook["icon_url"]):
        icons["image_48"] = url
    username = opt("username", hook["username"])
    with service.store.write() as db:
        thread_ts = (
            canonical_ts(payload.get("thread_ts"))
            if isinstance(payload.get("thread_ts"), str)
            else None
        )
        if thread_ts is not None:
            parent = db.execute(
                "SELECT ts, thread_ts FROM messages WHERE channel_id = ? AND ts = ?",
                (hook["channel_id"], thread_ts),
            ).fetchone()
            thread_ts = (parent["thread_ts"] or parent["ts"]) if parent else None
        ts = service.next_ts(db)
        db.execute(
            "INSERT INTO messages(channel_id, ts, user_id, bot_id, subtype, text, thread_ts, extra) "
            "VALUES (?, ?, NULL, ?, 'bot_message', ?, ?, ?)",
            (
                hook["channel_id"],
                ts,
                hook["bot_id"],
                text,
                thread_ts,
                message_extra(_clean(attachments), _clean(blocks), username=username, icons=icons),
            ),
        )
        titles = [a.get("title") for a in attachments or [] if isinstance(a.get("title"), str)]
        service.record(
            f"webhook:{hook['key']}",
            "message.posted",
            f"{hook['channel_id']}/{ts}",
            {
                "channel": hook["channel_id"],
                "channel_name": hook["channel_name"],
                "ts": ts,
                "thread_ts": thread_ts,
                "user": None,
                "bot_id": hook["bot_id"],
                "username": username,
                "text": text,
                "attachment_titles": [clean_text(t) for t in titles],
                "via": "webhook",
            },
        )
    return _text(200, "ok")
