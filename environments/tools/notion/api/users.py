"""``GET /v1/users``, ``/v1/users/{id}``, ``/v1/users/me``."""

from __future__ import annotations

from typing import Any

from environments.tools.notion.api.context import Ctx, listing
from environments.tools.notion.errors import not_found


def list_users(ctx: Ctx) -> dict[str, Any]:
    rows = ctx.repo.db.execute("SELECT * FROM users ORDER BY seq, id").fetchall()
    page, cursor, more = ctx.paginate(rows, [r["id"] for r in rows], from_body=False)
    return listing([ctx.repo.render_user(r) for r in page], cursor, more, "user")


def get_user(ctx: Ctx) -> dict[str, Any]:
    user_id = ctx.path_id("user_id")
    user = ctx.repo.user(user_id)
    if user is None:
        raise not_found("user", user_id)
    return user


def me(ctx: Ctx) -> dict[str, Any]:
    user = ctx.repo.user(ctx.me)
    assert user is not None  # tokens reference users (foreign key)
    return user
