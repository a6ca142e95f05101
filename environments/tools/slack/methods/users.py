"""auth.test, api.test, users.* and bots.info — who is who."""

from __future__ import annotations

from typing import Any

from environments.tools.slack.methods.base import Call, method
from environments.tools.slack.model import SlackError, decode_cursor, page_metadata


@method("api.test", auth=False)
def api_test(call: Call) -> dict[str, Any]:
    args = {k: v for k, v in call.params.items() if k != "token" and isinstance(v, str)}
    if "error" in args:
        raise SlackError(args["error"][:100] or "unknown_error", args=args)
    return {"args": args} if args else {}


@method("auth.test")
def auth_test(call: Call) -> dict[str, Any]:
    team = call.db.execute("SELECT * FROM team").fetchone()
    out: dict[str, Any] = {
        "url": f"https://{team['domain']}.slack.com/",
        "team": team["name"],
        "user": call.me.name,
        "team_id": team["id"],
        "user_id": call.me.user_id,
    }
    if call.me.bot_id:
        out["bot_id"] = call.me.bot_id
    out["is_enterprise_install"] = False
    return out


def _user_row(call: Call, user_id: str | None):
    row = None
    if user_id:
        row = call.db.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()
    if row is None:
        raise SlackError("user_not_found")
    return row


@method("users.list")
def users_list(call: Call) -> dict[str, Any]:
    limit = call.params.integer("limit", 200, lo=1, hi=1000)
    after = decode_cursor(call.params.text("cursor", max_len=500), "users") or ""
    rows = call.db.execute(
        "SELECT * FROM users WHERE name > ? ORDER BY name LIMIT ?", (after, limit + 1)
    ).fetchall()
    page = rows[:limit]
    more = len(rows) > limit
    members = [call.render.user(r) for r in page]
    if call.params.flag("include_locale"):
        for member in members:
            member["locale"] = "en-US"
    return {
        "members": members,
        "cache_ts": int(call.now),
        "response_metadata": page_metadata(page[-1]["name"] if more else None, "users"),
    }


@method("users.info")
def users_info(call: Call) -> dict[str, Any]:
    user = call.render.user(_user_row(call, call.params.text("user", max_len=100)))
    if call.params.flag("include_locale"):
        user["locale"] = "en-US"
    return {"user": user}


@method("users.lookupByEmail")
def users_lookup_by_email(call: Call) -> dict[str, Any]:
    email = (call.params.text("email", max_len=320) or "").lower()
    row = call.db.execute("SELECT * FROM users WHERE lower(email) = ?", (email,)).fetchone()
    if row is None or not email:
        raise SlackError("users_not_found")
    return {"user": call.render.user(row)}


@method("users.profile.get")
def users_profile_get(call: Call) -> dict[str, Any]:
    user_id = call.params.text("user", max_len=100) or call.me.user_id
    return {"profile": call.render.user(_user_row(call, user_id))["profile"]}


@method("bots.info")
def bots_info(call: Call) -> dict[str, Any]:
    bot_id = call.params.text("bot", max_len=100)
    profile = call.render.bot_profile(bot_id) if bot_id else None
    if profile is None:
        raise SlackError("bot_not_found")
    return {"bot": profile}
