"""``POST /v1/comments``, ``GET /v1/comments?block_id=``, ``GET /v1/comments/{id}``.

A comment starts a discussion on a page (or block), or replies in one (``discussion_id``).
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from environments.tools.notion.api.context import Ctx, listing, require_object
from environments.tools.notion.errors import archived, body_invalid, not_found, validation
from environments.tools.notion.ids import normalise_id
from environments.tools.notion.markdown import inline_markdown
from environments.tools.notion.model import Repo, partial_user
from environments.tools.notion.richtext import parse_rich_text, plain


def render_comment(repo: Repo, row: sqlite3.Row) -> dict[str, Any]:
    author = repo.user(row["created_by"])
    return {
        "object": "comment",
        "id": row["id"],
        "parent": {"type": row["parent_type"], row["parent_type"]: row["parent_id"]},
        "discussion_id": row["discussion_id"],
        "created_time": row["created_time"],
        "last_edited_time": row["created_time"],
        "created_by": partial_user(row["created_by"]),
        "rich_text": json.loads(row["rich_text"]),
        "display_name": {
            "type": "integration" if author and author["type"] == "bot" else "user",
            "resolved_name": author["name"] if author else "",
        },
    }


def create_comment(ctx: Ctx) -> dict[str, Any]:
    repo, body = ctx.repo, ctx.body
    has_parent = body.get("parent") is not None
    has_discussion = body.get("discussion_id") is not None
    if has_parent == has_discussion:
        raise validation(
            "body failed validation: exactly one of body.parent or body.discussion_id should "
            "be defined."
        )
    if body.get("rich_text") is not None:
        rich_text = parse_rich_text(body["rich_text"], "rich_text", repo)
    elif isinstance(body.get("markdown"), str) and len(body["markdown"]) <= 20_000:
        rich_text = inline_markdown(body["markdown"])
    else:
        raise body_invalid("rich_text", "defined", body.get("rich_text"))
    if not plain(rich_text).strip():
        raise validation("body failed validation: a comment needs some text.")
    if has_parent:
        parent = require_object(body["parent"], "parent")
        kind = parent.get("type") or ("page_id" if "page_id" in parent else "block_id")
        if kind not in ("page_id", "block_id") or kind not in parent:
            raise body_invalid("parent", "an object with `page_id` or `block_id`", dict(parent))
        target = normalise_id(parent[kind])
        if target is None:
            raise body_invalid(f"parent.{kind}", "a valid uuid", parent[kind])
        node = repo.page(target) if kind == "page_id" else repo.block(target)
        if node["kind"] == "page":
            kind = "page_id"
        discussion_id = repo.new_id()
    else:
        discussion_id = normalise_id(body["discussion_id"])
        first = (
            repo.db.execute(
                "SELECT * FROM comments WHERE discussion_id = ? ORDER BY seq LIMIT 1",
                (discussion_id,),
            ).fetchone()
            if discussion_id
            else None
        )
        if first is None:
            raise not_found("discussion", str(body["discussion_id"])[:100])
        kind, target = first["parent_type"], first["parent_id"]
        node = repo.block(target)
    if node["in_trash"]:
        raise archived("page" if node["kind"] == "page" else "block")
    comment_id = repo.new_id()
    seq = repo.db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM comments").fetchone()[0]
    repo.db.execute(
        "INSERT INTO comments(id, seq, discussion_id, parent_type, parent_id, rich_text, "
        "created_time, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            comment_id,
            seq,
            discussion_id,
            kind,
            target,
            json.dumps(rich_text, ensure_ascii=False),
            ctx.when,
            ctx.me,
        ),
    )
    page = repo.containing_page(node)
    ctx.record(
        "comment.created",
        comment_id,
        {
            "comment_id": comment_id,
            "discussion_id": discussion_id,
            "parent": {"type": kind, kind: target},
            "page_id": page["id"] if page else None,
            "page_title": repo.title_of(page) if page else None,
            "text": plain(rich_text),
        },
    )
    row = repo.db.execute("SELECT * FROM comments WHERE id = ?", (comment_id,)).fetchone()
    return render_comment(repo, row)


def list_comments(ctx: Ctx) -> dict[str, Any]:
    repo = ctx.repo
    raw = ctx.arg("block_id")
    if raw is None:
        raise validation(
            "query failed validation: query.block_id should be defined, instead was `undefined`."
        )
    block_id = normalise_id(raw)
    if block_id is None:
        raise validation(
            f"query failed validation: query.block_id should be a valid uuid, instead was "
            f"`{raw[:100]!r}`."
        )
    repo.block(block_id)
    rows = repo.db.execute(
        "SELECT * FROM comments WHERE parent_id = ? ORDER BY created_time, seq", (block_id,)
    ).fetchall()
    page, cursor, more = ctx.paginate(rows, [r["id"] for r in rows], from_body=False)
    return listing([render_comment(repo, r) for r in page], cursor, more, "comment")


def get_comment(ctx: Ctx) -> dict[str, Any]:
    comment_id = ctx.path_id("comment_id")
    row = ctx.repo.db.execute("SELECT * FROM comments WHERE id = ?", (comment_id,)).fetchone()
    if row is None:
        raise not_found("comment", comment_id)
    return render_comment(ctx.repo, row)
