"""Slack's vocabulary: errors, timestamps, and the JSON objects the Web API returns.

Rows come from :mod:`.schema`; a :class:`Renderer` turns them into the user, channel and message
objects real Slack sends (docs.slack.dev/reference/objects), looking related rows up once per
request.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
import sqlite3
import zoneinfo
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

MAX_TS = "9999999999.999999"
MIN_TS = "0000000000.000000"
_TS = re.compile(r"^(\d{1,10})(?:\.(\d{1,6}))?$")
_COLORS = ("9f69e7", "4bbe2e", "e7392d", "3c989f", "674b1b", "e0a729", "db3150", "5b89d5")


class SlackError(Exception):
    """Answered as HTTP 200 ``{"ok": false, "error": code, **extra}``, as Slack does."""

    def __init__(self, code: str, **extra: Any):
        super().__init__(code)
        self.code = code
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"ok": False, "error": self.code, **self.extra}


# -- timestamps ------------------------------------------------------------------------------


def ts_from_micro(micro: int) -> str:
    return f"{micro // 1_000_000:010d}.{micro % 1_000_000:06d}"


def ts_to_micro(ts: str) -> int:
    whole, _, frac = ts.partition(".")
    return int(whole) * 1_000_000 + int((frac or "0").ljust(6, "0"))


def canonical_ts(value: str | None) -> str | None:
    """A message ts in its stored form ("1757000000.120000"), or None if it is not one."""
    if not value:
        return None
    match = _TS.match(value.strip())
    if not match:
        return None
    whole, frac = match.group(1), match.group(2) or ""
    return f"{int(whole):010d}.{frac.ljust(6, '0')}"


def bound_ts(value: str | None, default: str) -> str | None:
    """A time bound (oldest/latest) as a comparable ts string; None if unparseable."""
    if value is None or value.strip() == "":
        return default
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        return None
    if not number.is_finite():
        return None
    if number <= 0:
        return MIN_TS
    if number >= Decimal(MAX_TS):
        return MAX_TS
    return ts_from_micro(int(number * 1_000_000))


def ts_seconds(ts: str) -> int:
    return int(ts.partition(".")[0])


# -- cursors ---------------------------------------------------------------------------------


def encode_cursor(kind: str, key: str) -> str:
    """An opaque cursor, shaped like Slack's (``bmV4dF90czox...`` = base64 of ``next_ts:1...``)."""
    return base64.urlsafe_b64encode(f"{kind}:{key}".encode()).decode("ascii")


def decode_cursor(cursor: str | None, kind: str) -> str | None:
    """The key in a cursor of this kind; None when there is no cursor; ``invalid_cursor`` else."""
    if not cursor:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor.encode("ascii") + b"==").decode("utf-8")
    except (ValueError, UnicodeError):
        raise SlackError("invalid_cursor") from None
    prefix, sep, key = text.partition(":")
    if not sep or prefix != kind or not key:
        raise SlackError("invalid_cursor")
    return key


def page_metadata(next_key: str | None, kind: str) -> dict[str, Any]:
    return {"next_cursor": encode_cursor(kind, next_key) if next_key else ""}


# -- rendering -------------------------------------------------------------------------------


def _tz_fields(tz: str) -> tuple[str, int]:
    try:
        now = dt.datetime.now(zoneinfo.ZoneInfo(tz))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        now = dt.datetime.now(dt.UTC)
    offset = now.utcoffset()
    return now.tzname() or tz, int(offset.total_seconds()) if offset else 0


def _avatar(seed: str, size: int) -> str:
    digest = hashlib.md5(seed.encode()).hexdigest()
    return f"https://secure.gravatar.com/avatar/{digest}?s={size}&d=identicon"


class Renderer:
    """Turns rows into API objects for one request, caching the lookups it needs."""

    def __init__(self, db: sqlite3.Connection, team: sqlite3.Row):
        self.db = db
        self.team_id: str = team["id"]
        self.domain: str = team["domain"]
        self._bots: dict[str, dict[str, Any] | None] = {}

    # users -------------------------------------------------------------------------------

    def user(self, row: sqlite3.Row) -> dict[str, Any]:
        tz_label, tz_offset = _tz_fields(row["tz"])
        first, _, last = row["real_name"].partition(" ")
        avatar_seed = row["email"] or row["id"]
        profile: dict[str, Any] = {
            "title": row["title"],
            "phone": "",
            "skype": "",
            "real_name": row["real_name"],
            "real_name_normalized": row["real_name"],
            "display_name": row["display_name"],
            "display_name_normalized": row["display_name"],
            "fields": None,
            "status_text": "",
            "status_emoji": "",
            "status_expiration": 0,
            "avatar_hash": hashlib.sha1(avatar_seed.encode()).hexdigest()[:12],
            "first_name": first,
            "last_name": last,
            "team": self.team_id,
            **{f"image_{n}": _avatar(avatar_seed, n) for n in (24, 32, 48, 72, 192, 512)},
        }
        if row["email"]:
            profile["email"] = row["email"]
        if row["is_bot"]:
            profile.update(bot_id=row["bot_id"], api_app_id=row["app_id"], always_active=True)
        color = _COLORS[int(hashlib.sha1(row["id"].encode()).hexdigest(), 16) % len(_COLORS)]
        return {
            "id": row["id"],
            "team_id": self.team_id,
            "name": row["name"],
            "deleted": bool(row["deleted"]),
            "color": color,
            "real_name": row["real_name"],
            "tz": row["tz"],
            "tz_label": tz_label,
            "tz_offset": tz_offset,
            "profile": profile,
            "is_admin": bool(row["is_admin"]),
            "is_owner": bool(row["is_owner"]),
            "is_primary_owner": bool(row["is_owner"]),
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": bool(row["is_bot"]),
            "is_app_user": False,
            "updated": row["updated"],
            "is_email_confirmed": bool(row["email"]),
            "who_can_share_contact_card": "EVERYONE",
        }

    # channels ----------------------------------------------------------------------------

    def channel(
        self, row: sqlite3.Row, caller_id: str, *, with_num_members: bool = True
    ) -> dict[str, Any]:
        member = self.db.execute(
            "SELECT 1 FROM members WHERE channel_id = ? AND user_id = ?", (row["id"], caller_id)
        ).fetchone()
        out: dict[str, Any] = {
            "id": row["id"],
            "name": row["name"],
            "is_channel": True,
            "is_group": False,
            "is_im": False,
            "is_mpim": False,
            "is_private": bool(row["is_private"]),
            "created": row["created"],
            "is_archived": bool(row["is_archived"]),
            "is_general": bool(row["is_general"]),
            "unlinked": 0,
            "name_normalized": row["name"],
            "is_shared": False,
            "is_org_shared": False,
            "is_ext_shared": False,
            "is_pending_ext_shared": False,
            "pending_shared": [],
            "context_team_id": self.team_id,
            "updated": row["created"] * 1000,
            "parent_conversation": None,
            "creator": row["creator"],
            "is_member": member is not None,
            "shared_team_ids": [self.team_id],
            "topic": {
                "value": row["topic"],
                "creator": row["topic_creator"],
                "last_set": row["topic_last_set"],
            },
            "purpose": {
                "value": row["purpose"],
                "creator": row["purpose_creator"],
                "last_set": row["purpose_last_set"],
            },
            "previous_names": [],
        }
        if with_num_members:
            out["num_members"] = self.db.execute(
                "SELECT COUNT(*) FROM members m JOIN users u ON u.id = m.user_id "
                "WHERE m.channel_id = ? AND u.deleted = 0",
                (row["id"],),
            ).fetchone()[0]
        return out

    # messages ----------------------------------------------------------------------------

    def bot_profile(self, bot_id: str) -> dict[str, Any] | None:
        if bot_id not in self._bots:
            row = self.db.execute(
                "SELECT id, bot_id, app_id, real_name AS name, deleted, updated FROM users "
                "WHERE bot_id = ? UNION ALL SELECT '', bot_id, app_id, username, 0, 0 "
                "FROM webhooks WHERE bot_id = ? LIMIT 1",
                (bot_id, bot_id),
            ).fetchone()
            self._bots[bot_id] = (
                None
                if row is None
                else {
                    "id": row["bot_id"],
                    "app_id": row["app_id"],
                    "user_id": row["id"] or None,
                    "name": row["name"],
                    "icons": {"image_48": _avatar(row["bot_id"], 48)},
                    "deleted": bool(row["deleted"]),
                    "updated": row["updated"],
                    "team_id": self.team_id,
                }
            )
        return self._bots[bot_id]

    def permalink(self, channel_id: str, ts: str, thread_ts: str | None = None) -> str:
        link = f"https://{self.domain}.slack.com/archives/{channel_id}/p{ts.replace('.', '')}"
        if thread_ts and thread_ts != ts:
            link += f"?thread_ts={thread_ts}&cid={channel_id}"
        return link

    def messages(self, channel_id: str, rows: Sequence[sqlite3.Row]) -> list[dict[str, Any]]:
        """Message objects with thread summaries, reactions and pins filled in."""
        if not rows:
            return []
        stamps = [r["ts"] for r in rows]
        threads = self._thread_summaries(channel_id, stamps)
        reactions = self._reactions(channel_id, stamps)
        pinned = self._pinned(channel_id, stamps)
        parents = self._reply_parents(channel_id, rows)
        out = []
        for row in rows:
            msg = self.message(row)
            ts = row["ts"]
            if ts in threads:
                count, latest, users = threads[ts]
                msg.update(
                    thread_ts=ts,
                    reply_count=count,
                    reply_users_count=len(users),
                    latest_reply=latest,
                    reply_users=users[:5],
                    is_locked=False,
                    subscribed=False,
                )
            if row["thread_ts"]:
                msg["parent_user_id"] = parents.get(row["thread_ts"])
            if ts in reactions:
                msg["reactions"] = reactions[ts]
            if ts in pinned:
                msg["pinned_to"] = [channel_id]
            out.append(msg)
        return out

    def message(self, row: sqlite3.Row) -> dict[str, Any]:
        msg: dict[str, Any] = {"type": "message"}
        if row["subtype"]:
            msg["subtype"] = row["subtype"]
        msg["text"] = row["text"]
        if row["user_id"]:
            msg["user"] = row["user_id"]
        if row["bot_id"]:
            msg["bot_id"] = row["bot_id"]
            profile = self.bot_profile(row["bot_id"])
            if profile:
                msg["app_id"] = profile["app_id"]
                msg["bot_profile"] = profile
        msg["ts"] = row["ts"]
        if row["user_id"] and row["subtype"] != "tombstone":
            msg["team"] = self.team_id
        if row["thread_ts"]:
            msg["thread_ts"] = row["thread_ts"]
        if row["extra"]:
            msg.update(json.loads(row["extra"]))
        if row["edited_ts"]:
            msg["edited"] = {"user": row["edited_by"], "ts": row["edited_ts"]}
        return msg

    def _thread_summaries(
        self, channel_id: str, stamps: Sequence[str]
    ) -> dict[str, tuple[int, str, list[str]]]:
        marks = ",".join("?" * len(stamps))
        rows = self.db.execute(
            # INDEXED BY: with one parent SQLite prefers scanning the channel's primary key.
            f"SELECT thread_ts, ts, COALESCE(user_id, bot_id, '') AS who FROM messages "
            f"INDEXED BY messages_by_thread "
            f"WHERE channel_id = ? AND thread_ts IN ({marks}) ORDER BY thread_ts, ts",
            (channel_id, *stamps),
        ).fetchall()
        summary: dict[str, tuple[int, str, list[str]]] = {}
        for row in rows:
            count, _, users = summary.get(row["thread_ts"], (0, "", []))
            if row["who"] and row["who"] not in users:
                users = [*users, row["who"]]
            summary[row["thread_ts"]] = (count + 1, row["ts"], users)
        return summary

    def _reactions(self, channel_id: str, stamps: Sequence[str]) -> dict[str, list[dict]]:
        marks = ",".join("?" * len(stamps))
        rows = self.db.execute(
            f"SELECT ts, name, user_id FROM reactions WHERE channel_id = ? AND ts IN ({marks}) "
            "ORDER BY seq",
            (channel_id, *stamps),
        ).fetchall()
        out: dict[str, dict[str, dict[str, Any]]] = {}
        for row in rows:
            entry = out.setdefault(row["ts"], {}).setdefault(
                row["name"], {"name": row["name"], "users": [], "count": 0}
            )
            entry["users"].append(row["user_id"])
            entry["count"] += 1
        return {ts: list(by_name.values()) for ts, by_name in out.items()}

    def _pinned(self, channel_id: str, stamps: Sequence[str]) -> set[str]:
        marks = ",".join("?" * len(stamps))
        return {
            r[0]
            for r in self.db.execute(
                f"SELECT ts FROM pins WHERE channel_id = ? AND ts IN ({marks})",
                (channel_id, *stamps),
            )
        }

    def _reply_parents(self, channel_id: str, rows: Iterable[sqlite3.Row]) -> dict[str, str]:
        wanted = sorted({r["thread_ts"] for r in rows if r["thread_ts"]})
        if not wanted:
            return {}
        marks = ",".join("?" * len(wanted))
        return {
            r["ts"]: r["who"]
            for r in self.db.execute(
                f"SELECT ts, COALESCE(user_id, bot_id) AS who FROM messages "
                f"WHERE channel_id = ? AND ts IN ({marks})",
                (channel_id, *wanted),
            )
        }
