"""Slack fixture documents: the typed format and how one is applied to the state.

A document (YAML or JSON; every key optional, later documents add to earlier ones)::

    team: {name: Acme Commerce Inc., domain: acme-commerce}
    company: ../company.yaml          # every employee becomes a user (key = employee id)
    users:                            # more people, beyond the company file
      - {key: jane.doe, name: jane, real_name: Jane Doe, email: jane@example.com}
    bots:                             # bot users; tokens and messages refer to them as bot:<key>
      - {key: agent, name: acme-agent, real_name: Acme Agent}
    tokens:
      - {token: xoxb-..., user: bot:agent}       # xoxb- must belong to a bot
      - {token: xoxp-..., user: maya.chen}       # xoxp- acts as that person
    channels:
      - name: eng
        topic: ...
        purpose: ...
        created: 2021-05-03T16:00:00Z
        creator: daniel.okafor
        private: false
        members: ["*", bot:agent]      # "*" everyone, "team:<id>", "<user key>", "bot:<key>"
    webhooks:
      - {key: alertmanager, path: T.../B.../secret, channel: alerts, username: Alertmanager,
         icon_emoji: ":rotating_light:"}
    messages:
      eng:                            # channel name -> messages, any order
        - at: 2026-09-14T16:05:00Z    # or "+5m": after the previous message of the list
          user: maya.chen             # or bot:<key>, or webhook:<key>
          text: "..."                 # <@maya.chen> and <#deploys> become <@U…> / <#C…|deploys>
          reactions: {eyes: [tomasz.nowak]}
          pinned_by: maya.chen
          replies:                    # a thread; "at" defaults to "+2m", may be "+Nm"
            - {user: tomasz.nowak, text: "...", at: +4m}
            - {user: maya.chen, text: "...", broadcast: true}

Ids are derived from the seed and a stable key (``channel:eng``, ``user:maya.chen``); a message's
ts is its ``at`` second plus a fraction hashed from its content (or an explicit ``ts``), so the
same document always yields the same state.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import Field

from environments.tools.common import FixtureError, resolve_time, stable_id, stable_int, to_epoch
from environments.tools.common.fixtures import (
    FixtureModel,
    errors_name_source,
    fixture_source,
    load_company_ref,
    suggest,
    validate_document,
)
from environments.tools.slack.model import canonical_ts, ts_from_micro, ts_seconds

CHANNEL_NAME = r"^[a-z0-9][a-z0-9_-]{0,79}$"
_USER_MENTION = re.compile(r"<@([a-z0-9][a-z0-9._:-]*)>")
_CHANNEL_MENTION = re.compile(r"<#([a-z0-9][a-z0-9_-]*)>")
DEFAULT_REPLY_GAP = "+2m"


class TeamFx(FixtureModel):
    id: str | None = Field(default=None, pattern=r"^T[A-Z0-9]{6,12}$")
    name: str | None = None
    domain: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9-]{0,20}$")


class UserFx(FixtureModel):
    key: str = Field(min_length=1, max_length=100)
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,79}$")
    real_name: str = Field(min_length=1)
    display_name: str = ""
    email: str | None = None
    title: str = ""
    tz: str = "UTC"
    team: str | None = None
    is_admin: bool = False
    is_owner: bool = False
    deleted: bool = False


class BotFx(FixtureModel):
    key: str = Field(min_length=1, max_length=100)
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,79}$")
    real_name: str = Field(min_length=1)


class TokenFx(FixtureModel):
    token: str = Field(pattern=r"^xox[bp]-[A-Za-z0-9-]{8,200}$")
    user: str


class ChannelFx(FixtureModel):
    name: str = Field(pattern=CHANNEL_NAME)
    topic: str | None = None
    purpose: str | None = None
    created: Any = None
    creator: str | None = None
    private: bool | None = None
    archived: bool | None = None
    general: bool | None = None
    members: list[str] = Field(default_factory=list)


class WebhookFx(FixtureModel):
    key: str = Field(min_length=1, max_length=100)
    path: str = Field(pattern=r"^T[A-Z0-9]{6,12}/B[A-Z0-9]{6,12}/[A-Za-z0-9]{8,64}$")
    channel: str = Field(pattern=CHANNEL_NAME)
    username: str = Field(min_length=1)
    icon_emoji: str | None = None
    icon_url: str | None = None


class MessageFx(FixtureModel):
    user: str
    text: str = ""
    at: Any = None
    ts: str | None = None
    attachments: list[dict[str, Any]] = Field(default_factory=list)
    blocks: list[dict[str, Any]] = Field(default_factory=list)
    reactions: dict[str, list[str]] = Field(default_factory=dict)
    pinned_by: str | None = None
    broadcast: bool = False
    edited: Any = None
    replies: list[MessageFx] = Field(default_factory=list)


class SlackFixtures(FixtureModel):
    team: TeamFx | None = None
    company: str | None = None
    users: list[UserFx] = Field(default_factory=list)
    bots: list[BotFx] = Field(default_factory=list)
    tokens: list[TokenFx] = Field(default_factory=list)
    channels: list[ChannelFx] = Field(default_factory=list)
    webhooks: list[WebhookFx] = Field(default_factory=list)
    messages: dict[str, list[MessageFx]] = Field(default_factory=dict)


def message_extra(
    attachments: list[dict] | None = None,
    blocks: list[dict] | None = None,
    **more: Any,
) -> str | None:
    """The JSON ``extra`` column: attachments (numbered like Slack does), blocks, bot details."""
    extra: dict[str, Any] = {k: v for k, v in more.items() if v not in (None, "", {}, [])}
    if attachments:
        extra["attachments"] = [{**a, "id": i} for i, a in enumerate(attachments, start=1)]
    if blocks:
        extra["blocks"] = blocks
    return json.dumps(extra, sort_keys=True, ensure_ascii=False) if extra else None


class FixtureApplier:
    """Applies one validated document to the database, resolving names to ids."""

    def __init__(self, db: sqlite3.Connection, seed: int, origin: Path | None):
        self.db = db
        self.seed = seed
        self.origin = origin
        self.counts: dict[str, int] = {}

    def _count(self, what: str, n: int = 1) -> None:
        self.counts[what] = self.counts.get(what, 0) + n

    # -- references ------------------------------------------------------------------------

    def user_id(self, ref: str, *, where: str) -> str:
        """The user id for ``maya.chen`` or ``bot:agent``."""
        row = self.db.execute("SELECT id FROM users WHERE key = ?", (ref,)).fetchone()
        if row is None:
            known = [r[0] for r in self.db.execute("SELECT key FROM users ORDER BY key")]
            hint = suggest(ref, known)
            raise FixtureError(f"{where}: unknown user {ref!r}{hint}")
        return row[0]

    def channel_id(self, name: str, *, where: str) -> str:
        row = self.db.execute("SELECT id FROM channels WHERE name = ?", (name,)).fetchone()
        if row is None:
            known = [r[0] for r in self.db.execute("SELECT name FROM channels ORDER BY name")]
            raise FixtureError(f"{where}: unknown channel {name!r}{suggest(name, known)}")
        return row[0]

    def mentions(self, text: str) -> str:
        """``<@maya.chen>`` -> ``<@U…>`` and ``<#eng>`` -> ``<#C…|eng>``; unknown ones stay."""

        def user(match: re.Match) -> str:
            row = self.db.execute("SELECT id FROM users WHERE key = ?", (match[1],)).fetchone()
            return f"<@{row[0]}>" if row else match[0]

        def channel(match: re.Match) -> str:
            row = self.db.execute("SELECT id FROM channels WHERE name = ?", (match[1],)).fetchone()
            return f"<#{row[0]}|{match[1]}>" if row else match[0]

        if "<" not in text:
            return text
        return _CHANNEL_MENTION.sub(channel, _USER_MENTION.sub(user, text))

    # -- sections --------------------------------------------------------------------------

    def apply(self, doc: SlackFixtures) -> dict[str, int]:
        self.team(doc)
        if doc.company:
            self.company(doc.company)
        for user in doc.users:
            self.upsert_user(user.key, user.model_dump(exclude={"key"}), is_bot=False)
        for bot in doc.bots:
            self.bot(bot)
        for token in doc.tokens:
            self.token(token)
        for channel in doc.channels:
            self.channel(channel)
        for hook in doc.webhooks:
            self.webhook(hook)
        for name, messages in doc.messages.items():
            self.channel_messages(name, messages)
        return dict(sorted(self.counts.items()))

    def team(self, doc: SlackFixtures) -> None:
        current = self.db.execute("SELECT id, name, domain FROM team").fetchone()
        given = doc.team or TeamFx()
        if current is not None and doc.team is None:
            return
        name = given.name or (current["name"] if current else "Acme")
        domain = given.domain or (current["domain"] if current else "acme")
        team_id = given.id or (current["id"] if current else stable_id("T", self.seed, "team"))
        self.db.execute("DELETE FROM team")
        self.db.execute(
            "INSERT INTO team(id, name, domain) VALUES (?, ?, ?)", (team_id, name, domain)
        )
        self._count("team")

    def company(self, ref: str) -> None:
        company = load_company_ref(ref, self.origin)
        if self.db.execute("SELECT COUNT(*) FROM team").fetchone()[0] == 0:
            self.db.execute(
                "INSERT INTO team(id, name, domain) VALUES (?, ?, ?)",
                (stable_id("T", self.seed, "team"), company.name, company.slack_workspace),
            )
        for emp in company.employees:
            self.upsert_user(
                emp.id,
                {
                    "name": emp.slack,
                    "real_name": emp.name,
                    "display_name": emp.display_name,
                    "email": emp.email,
                    "title": emp.title,
                    "tz": emp.timezone,
                    "team": emp.team,
                    "is_admin": emp.role in ("executive", "manager"),
                    "is_owner": emp.role == "executive" and emp.manager is None,
                    "deleted": False,
                },
                is_bot=False,
            )

    def upsert_user(self, key: str, fields: Mapping[str, Any], *, is_bot: bool) -> str:
        user_id = stable_id("U", self.seed, "user", key)
        bot_key = key.removeprefix("bot:")
        self.db.execute(
            "INSERT INTO users(id, key, name, real_name, display_name, email, title, tz, "
            "team_key, is_bot, bot_id, app_id, is_admin, is_owner, deleted, updated) "
            "VALUES (:id, :key, :name, :real_name, :display_name, :email, :title, :tz, :team, "
            ":is_bot, :bot_id, :app_id, :is_admin, :is_owner, :deleted, 0) "
            "ON CONFLICT(id) DO UPDATE SET name=excluded.name, real_name=excluded.real_name, "
            "display_name=excluded.display_name, email=excluded.email, title=excluded.title, "
            "tz=excluded.tz, team_key=excluded.team_key, is_admin=excluded.is_admin, "
            "is_owner=excluded.is_owner, deleted=excluded.deleted",
            {
                "display_name": "",
                "email": None,
                "title": "",
                "tz": "UTC",
                "team": None,
                "is_admin": False,
                "is_owner": False,
                "deleted": False,
                **fields,
                "id": user_id,
                "key": key,
                "is_bot": is_bot,
                "bot_id": stable_id("B", self.seed, "bot", bot_key) if is_bot else None,
                "app_id": stable_id("A", self.seed, "app", bot_key) if is_bot else None,
            },
        )
        self._count("users")
        return user_id

    def bot(self, bot: BotFx) -> None:
        self.upsert_user(
            f"bot:{bot.key}", {"name": bot.name, "real_name": bot.real_name}, is_bot=True
        )

    def token(self, token: TokenFx) -> None:
        user_id = self.user_id(token.user, where=f"tokens[{token.token[:9]}…]")
        is_bot = token.user.startswith("bot:")
        kind = "bot" if token.token.startswith("xoxb-") else "user"
        if (kind == "bot") != is_bot:
            raise FixtureError(
                f"tokens: {token.token[:9]}… is a {kind} token but {token.user!r} is "
                f"{'a bot' if is_bot else 'a person'}; xoxb- tokens belong to bots, xoxp- to people"
            )
        self.db.execute(
            "INSERT INTO tokens(token, user_id, kind) VALUES (?, ?, ?) "
            "ON CONFLICT(token) DO UPDATE SET user_id = excluded.user_id, kind = excluded.kind",
            (token.token, user_id, kind),
        )
        self._count("tokens")

    def channel(self, ch: ChannelFx) -> None:
        where = f"channels[{ch.name}]"
        row = self.db.execute("SELECT * FROM channels WHERE name = ?", (ch.name,)).fetchone()
        creator = self.user_id(ch.creator, where=where) if ch.creator else None
        created = int(to_epoch(ch.created, what=f"{where}.created")) if ch.created else None
        if row is None:
            channel_id = stable_id("C", self.seed, "channel", ch.name)
            self.db.execute(
                "INSERT INTO channels(id, name, created, creator) VALUES (?, ?, ?, ?)",
                (channel_id, ch.name, created or 0, creator or ""),
            )
            row = self.db.execute("SELECT * FROM channels WHERE id = ?", (channel_id,)).fetchone()
        channel_id = row["id"]
        created = created if created is not None else row["created"]
        creator = creator or row["creator"]
        updates: dict[str, Any] = {"created": created, "creator": creator}
        for flag, column in (
            ("private", "is_private"),
            ("archived", "is_archived"),
            ("general", "is_general"),
        ):
            value = getattr(ch, flag)
            if value is not None:
                updates[column] = int(value)
        for field in ("topic", "purpose"):
            value = getattr(ch, field)
            if value is not None:
                updates[field] = value
                updates[f"{field}_creator"] = creator
                updates[f"{field}_last_set"] = created
        sets = ", ".join(f"{col} = :{col}" for col in updates)
        self.db.execute(f"UPDATE channels SET {sets} WHERE id = :id", {**updates, "id": channel_id})
        for user_id in self.member_ids(ch.members, where=f"{where}.members"):
            self.db.execute(
                "INSERT OR IGNORE INTO members(channel_id, user_id) VALUES (?, ?)",
                (channel_id, user_id),
            )
        self._count("channels")

    def member_ids(self, refs: list[str], *, where: str) -> list[str]:
        ids: list[str] = []
        for ref in refs:
            if ref == "*":
                rows = self.db.execute(
                    "SELECT id FROM users WHERE is_bot = 0 AND deleted = 0 ORDER BY id"
                ).fetchall()
            elif ref.startswith("team:"):
                rows = self.db.execute(
                    "SELECT id FROM users WHERE team_key = ? AND deleted = 0 ORDER BY id",
                    (ref.removeprefix("team:"),),
                ).fetchall()
                if not rows:
                    raise FixtureError(f"{where}: no users in {ref!r}")
            else:
                rows = [(self.user_id(ref, where=where),)]
            ids.extend(r[0] for r in rows)
        return ids

    def webhook(self, hook: WebhookFx) -> None:
        channel_id = self.channel_id(hook.channel, where=f"webhooks[{hook.key}]")
        self.db.execute(
            "INSERT INTO webhooks(path, key, channel_id, bot_id, app_id, username, icon_emoji, "
            "icon_url) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(path) DO UPDATE SET "
            "key = excluded.key, channel_id = excluded.channel_id, username = excluded.username, "
            "icon_emoji = excluded.icon_emoji, icon_url = excluded.icon_url",
            (
                hook.path,
                hook.key,
                channel_id,
                stable_id("B", self.seed, "webhook", hook.key),
                stable_id("A", self.seed, "webhook-app", hook.key),
                hook.username,
                hook.icon_emoji,
                hook.icon_url,
            ),
        )
        self._count("webhooks")

    # -- messages --------------------------------------------------------------------------

    def channel_messages(self, channel: str, messages: list[MessageFx]) -> None:
        where = f"messages[{channel}]"
        channel_id = self.channel_id(channel, where=where)
        taken: set[str] = set()
        previous: float | None = None
        for i, msg in enumerate(messages):
            at = self._time(msg, previous, f"{where}[{i}]", default_gap=None)
            ts = self.insert_message(channel_id, msg, at, None, taken, f"{where}[{i}]", channel)
            previous = at
            reply_prev = at
            for j, reply in enumerate(msg.replies):
                rwhere = f"{where}[{i}].replies[{j}]"
                if reply.replies:
                    raise FixtureError(f"{rwhere}: replies cannot have replies of their own")
                reply_at = self._time(reply, reply_prev, rwhere, default_gap=DEFAULT_REPLY_GAP)
                self.insert_message(channel_id, reply, reply_at, ts, taken, rwhere, channel)
                reply_prev = reply_at

    def _time(
        self, msg: MessageFx, previous: float | None, where: str, *, default_gap: str | None
    ) -> float:
        if msg.ts is not None:
            ts = canonical_ts(msg.ts)
            if ts is None:
                raise FixtureError(
                    f"{where}.ts: {msg.ts!r} is not a Slack ts like 1757000000.123456"
                )
            return float(ts_seconds(ts))
        value = msg.at if msg.at is not None else default_gap
        if value is None:
            raise FixtureError(f"{where}: give 'at' (a time, or +offset after the previous one)")
        return resolve_time(value, previous, what=f"{where}.at")

    def insert_message(
        self,
        channel_id: str,
        msg: MessageFx,
        at: float,
        thread_ts: str | None,
        taken: set[str],
        where: str,
        channel_name: str,
    ) -> str:
        if msg.ts is not None:
            ts = canonical_ts(msg.ts)
            assert ts is not None
        else:
            second = int(at)
            # From the channel's name, not its id: the history is the same whatever the seed.
            frac = stable_int(0, "ts", channel_name, second, msg.user, msg.text, modulo=1_000_000)
            ts = ts_from_micro(second * 1_000_000 + frac)
            while ts in taken:
                ts = ts_from_micro(second * 1_000_000 + (int(ts[-6:]) + 1) % 1_000_000)
        if thread_ts is not None and ts <= thread_ts:
            raise FixtureError(f"{where}: a reply must come after its parent")
        taken.add(ts)
        author = self.author(msg.user, where)
        subtype = author.pop("subtype", None)
        if thread_ts and msg.broadcast:
            subtype = "thread_broadcast"
        edited_ts = None
        if msg.edited is not None:
            edited_at = resolve_time(msg.edited, at, what=f"{where}.edited")
            edited_ts = ts_from_micro(int(edited_at) * 1_000_000)
        self.db.execute(
            "INSERT OR REPLACE INTO messages(channel_id, ts, user_id, bot_id, subtype, text, "
            "thread_ts, broadcast, extra, edited_by, edited_ts) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                channel_id,
                ts,
                author["user_id"],
                author["bot_id"],
                subtype,
                self.mentions(msg.text),
                thread_ts,
                int(bool(thread_ts and msg.broadcast)),
                message_extra(msg.attachments, msg.blocks, **author["extra"]),
                author["user_id"] if edited_ts else None,
                edited_ts,
            ),
        )
        self.db.execute("DELETE FROM reactions WHERE channel_id = ? AND ts = ?", (channel_id, ts))
        for name, users in msg.reactions.items():
            for ref in users:
                self.db.execute(
                    "INSERT OR IGNORE INTO reactions(channel_id, ts, name, user_id) "
                    "VALUES (?, ?, ?, ?)",
                    (
                        channel_id,
                        ts,
                        name.strip(":"),
                        self.user_id(ref, where=f"{where}.reactions"),
                    ),
                )
                self._count("reactions")
        if msg.pinned_by:
            self.db.execute(
                "INSERT OR REPLACE INTO pins(channel_id, ts, pinned_by, created) VALUES (?, ?, ?, ?)",
                (channel_id, ts, self.user_id(msg.pinned_by, where=f"{where}.pinned_by"), int(at)),
            )
            self._count("pins")
        self._count("messages")
        return ts

    def author(self, ref: str, where: str) -> dict[str, Any]:
        if ref.startswith("webhook:"):
            row = self.db.execute(
                "SELECT bot_id, username, icon_emoji, icon_url FROM webhooks WHERE key = ?",
                (ref.removeprefix("webhook:"),),
            ).fetchone()
            if row is None:
                raise FixtureError(f"{where}.user: unknown webhook {ref!r}")
            icons = {"emoji": row["icon_emoji"]} if row["icon_emoji"] else {}
            if row["icon_url"]:
                icons["image_48"] = row["icon_url"]
            return {
                "user_id": None,
                "bot_id": row["bot_id"],
                "subtype": "bot_message",
                "extra": {"username": row["username"], "icons": icons},
            }
        user_id = self.user_id(ref, where=f"{where}.user")
        bot = self.db.execute("SELECT bot_id FROM users WHERE id = ?", (user_id,)).fetchone()
        return {"user_id": user_id, "bot_id": bot["bot_id"], "extra": {}}


def apply_document(
    db: sqlite3.Connection, doc: Mapping[str, Any], *, seed: int, origin: Path | None
) -> dict[str, int]:
    """Validate and apply a document; FixtureError (naming the file) on any problem."""
    parsed = validate_document(SlackFixtures, doc, origin)
    with errors_name_source(fixture_source(origin)):
        return FixtureApplier(db, seed, origin).apply(parsed)


__all__ = ["SlackFixtures", "apply_document", "message_extra"]
