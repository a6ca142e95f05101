"""Slack over MCP: the tools of `@modelcontextprotocol/server-slack`, with compact results.

Tool names and parameters follow the reference server (slack_list_channels,
slack_get_channel_history, ...), plus message search as in korotovsky/slack-mcp-server. Unlike
the reference server, results are not raw Slack JSON: messages come back as time, author name,
text and thread/reaction counts, with user and channel mentions resolved to names. Channels may
be given by id (`C0123ABCD`) or by name (`#deploys`, `deploys`).

All calls go through `slack_sdk.WebClient` against `{base_url}/api/`, as any Slack integration
would; pointing it at slack.com is a matter of the base URL and token.
"""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.error import URLError

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

INSTRUCTIONS = (
    "Acme's Slack workspace, as the agent's bot user. Channels can be named by id or '#name'. "
    "Messages are listed newest first; `ts` identifies a message (use it as thread_ts to read "
    "or reply to its thread). Mention people as <@USER_ID> (ids from slack_get_users)."
)

ChannelRef = Annotated[
    str,
    Field(
        min_length=1,
        max_length=100,
        description="Channel id (e.g. C0123ABCD) or name (e.g. #deploys)",
    ),
]
Ts = Annotated[
    str,
    Field(
        pattern=r"^\d{1,12}\.\d{1,6}$",
        description="A message timestamp `ts`, e.g. 1712345678.123456",
    ),
]
Cursor = Annotated[
    str | None, Field(default=None, max_length=500, description="next_cursor of the previous page")
]
MessageText = Annotated[
    str, Field(min_length=1, max_length=40000, description="Message text (Slack mrkdwn)")
]

_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{6,}$")
_USER_ID = re.compile(r"^[UWB][A-Z0-9]{6,}$")
_USER_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_CHANNEL_MENTION = re.compile(r"<#([CG][A-Z0-9]+)(?:\|([^>]*))?>")

# Slack error codes, and what the agent should do about them.
_HINTS = {
    "channel_not_found": "no such channel: slack_list_channels lists them",
    "not_in_channel": "the bot is not a member of this channel; post in a channel it is in "
    "(is_member in slack_list_channels)",
    "is_archived": "the channel is archived; it can be read but not posted to",
    "thread_not_found": "no thread with that thread_ts in this channel; take `ts` of a "
    "message from slack_get_channel_history",
    "message_not_found": "no message with that timestamp in this channel; take `ts` from "
    "slack_get_channel_history",
    "already_reacted": "the bot has already added this reaction to the message",
    "invalid_name": "unknown emoji name; give a name such as eyes or white_check_mark, "
    "without colons",
    "too_many_reactions": "the message has too many reactions already",
    "user_not_found": "no such user: slack_get_users lists them",
    "users_not_found": "no such user: slack_get_users lists them",
    "no_text": "the message text is empty",
    "msg_too_long": "the message is too long (Slack allows 40,000 characters)",
    "invalid_cursor": "the cursor is not valid here; start again without one",
    "invalid_auth": "the Slack token was rejected",
    "not_authed": "no Slack token was sent",
    "account_inactive": "the Slack token belongs to a deactivated user or app",
    "not_allowed_token_type": "this method needs a Slack user token (xoxp-), and this "
    "server has a bot token",
    "ratelimited": "Slack is rate limiting these calls; wait a little and try again",
    "restricted_action": "the workspace does not allow the bot to do this",
}


def create_server(base_url: str, token: str, *, user_token: str | None = None) -> MCPServer:
    """An MCP server for the Slack workspace at `base_url`, acting with `token` (a bot token).

    `slack_search_messages` needs a user token (Slack refuses bots): `token` itself when it is
    one (xoxp-), else `user_token` when given, else the tool explains that search is
    unavailable.
    """
    api = f"{base_url.rstrip('/')}/api/"
    client = WebClient(token=token, base_url=api, timeout=20)
    search_token = token if token.startswith("xoxp-") else user_token
    searcher = WebClient(token=search_token, base_url=api, timeout=20) if search_token else None
    directory = _Directory(client)
    srv = MCPServer("slack", instructions=INSTRUCTIONS)

    @srv.tool()
    def slack_list_channels(
        limit: Annotated[int, Field(ge=1, le=200, description="Channels per page")] = 100,
        cursor: Cursor = None,
    ) -> dict[str, Any]:
        """List the workspace's channels (public, and private ones the bot is in): id, name,
        topic, member count and whether the bot is a member. Paginated with `cursor`."""
        data = _call(
            client.conversations_list,
            limit=limit,
            cursor=cursor or None,
            exclude_archived=True,
            types="public_channel,private_channel",
        )
        channels = [_channel_row(c) for c in data.get("channels", [])]
        directory.remember_channels(data.get("channels", []))
        return _page({"channels": channels}, data)

    @srv.tool()
    def slack_get_channel_history(
        channel_id: ChannelRef,
        limit: Annotated[int, Field(ge=1, le=200, description="Messages per page")] = 20,
        cursor: Cursor = None,
    ) -> dict[str, Any]:
        """Recent messages of a channel, newest first: ts, time, author, text, and for thread
        parents the reply count (read replies with slack_get_thread_replies). Paginated."""
        channel = directory.channel_id(channel_id)
        data = _call(
            client.conversations_history, channel=channel, limit=limit, cursor=cursor or None
        )
        messages = [directory.message(m) for m in data.get("messages", [])]
        return _page({"channel": directory.channel_label(channel), "messages": messages}, data)

    @srv.tool()
    def slack_get_thread_replies(
        channel_id: ChannelRef,
        thread_ts: Ts,
        limit: Annotated[int, Field(ge=1, le=200, description="Messages per page")] = 50,
        cursor: Cursor = None,
    ) -> dict[str, Any]:
        """A thread: its parent message first, then the replies oldest to newest."""
        channel = directory.channel_id(channel_id)
        data = _call(
            client.conversations_replies,
            channel=channel,
            ts=thread_ts,
            limit=limit,
            cursor=cursor or None,
        )
        messages = [directory.message(m, in_thread=True) for m in data.get("messages", [])]
        return _page({"channel": directory.channel_label(channel), "messages": messages}, data)

    @srv.tool()
    def slack_post_message(channel_id: ChannelRef, text: MessageText) -> dict[str, Any]:
        """Post a new message to a channel. Returns its `ts` (use it to reply in its thread)."""
        channel = directory.channel_id(channel_id)
        data = _call(client.chat_postMessage, channel=channel, text=text)
        return {"ok": True, "channel": directory.channel_label(channel), "ts": data.get("ts")}

    @srv.tool()
    def slack_reply_to_thread(
        channel_id: ChannelRef,
        thread_ts: Ts,
        text: MessageText,
        broadcast: Annotated[
            bool, Field(description="Also show the reply in the channel itself")
        ] = False,
    ) -> dict[str, Any]:
        """Reply in the thread of the message `thread_ts` (a message's `ts`)."""
        channel = directory.channel_id(channel_id)
        data = _call(
            client.chat_postMessage,
            channel=channel,
            text=text,
            thread_ts=thread_ts,
            reply_broadcast=broadcast or None,
        )
        return {
            "ok": True,
            "channel": directory.channel_label(channel),
            "ts": data.get("ts"),
            "thread_ts": thread_ts,
        }

    @srv.tool()
    def slack_add_reaction(
        channel_id: ChannelRef,
        timestamp: Ts,
        reaction: Annotated[
            str,
            Field(
                min_length=1,
                max_length=100,
                description="Emoji name without colons, e.g. eyes or white_check_mark",
            ),
        ],
    ) -> dict[str, Any]:
        """Add an emoji reaction to a message (e.g. :eyes: to say you are looking at it)."""
        channel = directory.channel_id(channel_id)
        name = reaction.strip().strip(":")
        _call(client.reactions_add, channel=channel, timestamp=timestamp, name=name)
        return {"ok": True, "channel": directory.channel_label(channel), "reaction": name}

    @srv.tool()
    def slack_get_users(
        limit: Annotated[int, Field(ge=1, le=200, description="Users per page")] = 100,
        cursor: Cursor = None,
    ) -> dict[str, Any]:
        """List the workspace's people and bots: id (for <@ID> mentions), handle, name, title."""
        data = _call(client.users_list, limit=limit, cursor=cursor or None)
        members = data.get("members", [])
        directory.remember_users(members)
        return _page({"users": [_user_row(u) for u in members]}, data)

    @srv.tool()
    def slack_get_user_profile(
        user_id: Annotated[
            str,
            Field(
                min_length=1,
                max_length=100,
                description="User id (e.g. U0123ABCD) or handle (e.g. @maya)",
            ),
        ],
    ) -> dict[str, Any]:
        """A person's profile: name, title, email, time zone and status."""
        uid = directory.user_id(user_id)
        user = _call(client.users_info, user=uid).get("user") or {}
        profile = user.get("profile") or {}
        row = _user_row(user)
        row.update(
            email=profile.get("email") or None,
            phone=profile.get("phone") or None,
            tz=user.get("tz") or None,
            status=" ".join(
                s for s in (profile.get("status_emoji"), profile.get("status_text")) if s
            )
            or None,
        )
        return _compact(row)

    @srv.tool()
    def slack_search_messages(
        query: Annotated[
            str,
            Field(
                min_length=1,
                max_length=500,
                description='Words or "phrases"; modifiers in:#channel, from:@handle, '
                "before:/after:/on:YYYY-MM-DD, is:thread, has:reaction",
            ),
        ],
        count: Annotated[int, Field(ge=1, le=100, description="Matches per page")] = 20,
        page: Annotated[int, Field(ge=1, le=100, description="Page number, from 1")] = 1,
    ) -> dict[str, Any]:
        """Search messages across channels (needs a Slack user token; bots cannot search)."""
        if searcher is None:
            raise ToolError(
                "slack_search_messages needs a Slack user token (xoxp-) and this server has "
                "only a bot token (Slack does not let bots search). Read channels with "
                "slack_get_channel_history instead."
            )
        data = _call(
            searcher.search_messages, query=query, count=count, page=page, sort="timestamp"
        )
        found = data.get("messages") or {}
        paging = found.get("paging") or {}
        matches = []
        for m in found.get("matches", []):
            row = directory.message(m)
            chan = m.get("channel") or {}
            row = {"channel": f"#{chan['name']}" if chan.get("name") else chan.get("id"), **row}
            matches.append(row)
        return {
            "total": found.get("total", len(matches)),
            "page": paging.get("page", page),
            "pages": paging.get("pages", 1),
            "matches": matches,
        }

    return srv


# ---- helpers ---------------------------------------------------------------------------------


def _call(method, **params: Any) -> dict[str, Any]:
    """Call a WebClient method; Slack's errors become one-line tool errors."""
    params = {k: v for k, v in params.items() if v is not None}
    name = getattr(method, "__name__", "slack").replace("_", ".", 1)
    try:
        return method(**params).data
    except SlackApiError as exc:
        code = exc.response.get("error", "unknown_error") if exc.response else "unknown_error"
        hint = _HINTS.get(code)
        raise ToolError(f"Slack {name} failed: {code}" + (f" ({hint})" if hint else "")) from None
    except (SlackClientError, URLError, OSError) as exc:
        raise ToolError(f"Slack is unreachable ({name}): {exc}; try again shortly") from None


def _page(body: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    cursor = (data.get("response_metadata") or {}).get("next_cursor") or None
    if cursor:
        body["next_cursor"] = cursor
    return body


def _compact(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if v not in (None, "", [], {})}


def _channel_row(c: dict[str, Any]) -> dict[str, Any]:
    return _compact(
        {
            "id": c.get("id"),
            "name": f"#{c.get('name')}",
            "topic": (c.get("topic") or {}).get("value"),
            "members": c.get("num_members"),
            "is_member": bool(c.get("is_member")),
            "private": True if c.get("is_private") else None,
        }
    )


def _user_row(u: dict[str, Any]) -> dict[str, Any]:
    profile = u.get("profile") or {}
    return _compact(
        {
            "id": u.get("id"),
            "handle": f"@{u['name']}" if u.get("name") else None,
            "name": u.get("real_name") or profile.get("real_name"),
            "display_name": profile.get("display_name") or None,
            "title": profile.get("title") or None,
            "bot": True if u.get("is_bot") else None,
            "deleted": True if u.get("deleted") else None,
        }
    )


def _when(ts: str | None) -> str | None:
    try:
        moment = datetime.fromtimestamp(float(ts or ""), UTC)
    except (ValueError, OverflowError, OSError):
        return None
    return moment.strftime("%Y-%m-%d %H:%M:%SZ")


class _Directory:
    """Names for ids (channels, users), looked up through the API and kept for the server's life.

    Lookups happen on first need and again on a miss, so channels or people added during a run
    are found. Shared by the tool calls of one server, which may run in parallel threads.
    """

    def __init__(self, client: WebClient):
        self.client = client
        self._lock = threading.Lock()
        self._channel_ids: dict[str, str] = {}  # name -> id
        self._channel_names: dict[str, str] = {}  # id -> name
        self._users: dict[str, str] = {}  # id -> display name
        self._handles: dict[str, str] = {}  # handle -> id
        self._users_loaded = False

    # channels
    def remember_channels(self, channels: list[dict[str, Any]]) -> None:
        with self._lock:
            for c in channels:
                if c.get("id") and c.get("name"):
                    self._channel_ids[c["name"]] = c["id"]
                    self._channel_names[c["id"]] = c["name"]

    def _load_channels(self) -> None:
        cursor = None
        while True:
            data = _call(
                self.client.conversations_list,
                limit=1000,
                cursor=cursor,
                types="public_channel,private_channel",
            )
            self.remember_channels(data.get("channels", []))
            cursor = (data.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return

    def channel_id(self, ref: str) -> str:
        ref = ref.strip()
        if _CHANNEL_ID.match(ref):
            return ref
        name = ref.lstrip("#").lower()
        if name not in self._channel_ids:
            self._load_channels()
        if name not in self._channel_ids:
            raise ToolError(
                f"no channel named #{name}: slack_list_channels lists the channels "
                "(give the id or the name)"
            )
        return self._channel_ids[name]

    def channel_label(self, channel_id: str) -> str:
        name = self._channel_names.get(channel_id)
        if name is None:
            try:
                info = _call(self.client.conversations_info, channel=channel_id)
                self.remember_channels([info.get("channel") or {}])
            except ToolError:
                pass
            name = self._channel_names.get(channel_id)
        return f"#{name}" if name else channel_id

    # users
    def remember_users(self, members: list[dict[str, Any]]) -> None:
        with self._lock:
            for u in members:
                if not u.get("id"):
                    continue
                profile = u.get("profile") or {}
                self._users[u["id"]] = (
                    profile.get("display_name") or u.get("real_name") or u.get("name") or u["id"]
                )
                if u.get("name"):
                    self._handles[u["name"].lower()] = u["id"]

    def _load_users(self) -> None:
        cursor = None
        while True:
            data = _call(self.client.users_list, limit=200, cursor=cursor)
            self.remember_users(data.get("members", []))
            cursor = (data.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break
        self._users_loaded = True

    def user_name(self, user_id: str) -> str:
        if user_id not in self._users and not self._users_loaded:
            try:
                self._load_users()
            except ToolError:
                return user_id
        return self._users.get(user_id, user_id)

    def user_id(self, ref: str) -> str:
        ref = ref.strip()
        if _USER_ID.match(ref):
            return ref
        handle = ref.lstrip("@").lower()
        if handle not in self._handles:
            self._load_users()
        if handle not in self._handles:
            raise ToolError(f"no user with handle @{handle}: slack_get_users lists the people")
        return self._handles[handle]

    # messages
    def text(self, text: str) -> str:
        text = _USER_MENTION.sub(lambda m: "@" + self.user_name(m.group(1)), text)
        return _CHANNEL_MENTION.sub(
            lambda m: "#" + (m.group(2) or self.channel_label(m.group(1)).lstrip("#")), text
        )

    def message(self, m: dict[str, Any], in_thread: bool = False) -> dict[str, Any]:
        if m.get("user"):
            author = self.user_name(m["user"])
        else:
            author = m.get("username") or (m.get("bot_profile") or {}).get("name") or "bot"
        row: dict[str, Any] = {
            "ts": m.get("ts"),
            "time": _when(m.get("ts")),
            "user": author,
            "text": self.text(m.get("text") or ""),
        }
        thread_ts = m.get("thread_ts")
        if m.get("reply_count"):
            row["replies"] = m["reply_count"]
        elif thread_ts and thread_ts != m.get("ts") and not in_thread:
            row["thread_ts"] = thread_ts  # a reply shown outside its thread (broadcast, search)
        reactions = {r["name"]: r.get("count", 1) for r in m.get("reactions") or [] if "name" in r}
        if reactions:
            row["reactions"] = reactions
        if m.get("files"):
            row["files"] = [f.get("name") or f.get("title") for f in m["files"]]
        return _compact(row)
