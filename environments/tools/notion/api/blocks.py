"""``GET|PATCH|DELETE /v1/blocks/{id}`` and ``GET|PATCH /v1/blocks/{id}/children``.

Children pagination is read from the query string (as notion-client sends it); the cursor is
the id of the next block, as in Notion. Appending answers with the appended blocks only.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from environments.tools.notion.api.context import Ctx, listing, optional_bool
from environments.tools.notion.blocks import (
    ALL_TYPES,
    HEADINGS,
    NESTABLE,
    block_plain,
    parse_children,
    parse_payload,
)
from environments.tools.notion.errors import archived, body_invalid, validation
from environments.tools.notion.ids import normalise_id
from environments.tools.notion.model import page_plain
from environments.tools.notion.properties import title_prop
from environments.tools.notion.richtext import split_text


def get_block(ctx: Ctx) -> dict[str, Any]:
    row = ctx.repo.block(ctx.path_id("block_id"))
    return ctx.repo.render_blocks([row])[0]


def list_children(ctx: Ctx) -> dict[str, Any]:
    repo = ctx.repo
    parent = repo.block(ctx.path_id("block_id"))
    ids = [] if parent["kind"] == "database" else repo.child_ids(parent["id"])
    page, cursor, more = ctx.paginate(ids, ids, from_body=False)
    return listing(repo.render_blocks(repo.nodes(list(page))), cursor, more, "block")


def append_children(ctx: Ctx) -> dict[str, Any]:
    repo, body = ctx.repo, ctx.body
    parent = repo.block(ctx.path_id("block_id"))
    if parent["kind"] == "database":
        raise validation("Can't append blocks to a database; create pages in it instead.")
    if parent["in_trash"]:
        raise archived()
    if parent["kind"] == "block":
        payload = json.loads(parent["data"])
        nestable = parent["type"] in NESTABLE or (
            parent["type"] in HEADINGS and payload.get("is_toggleable")
        )
        if not nestable:
            raise validation(f"Block type {parent['type']} does not support children.")
    if "children" not in body:
        raise body_invalid("children", "defined")
    children = parse_children(body["children"], "children", repo, parent_type=parent["type"])
    if parent["type"] == "table":
        width = json.loads(parent["data"])["table_width"]
        if any(len(row.payload["cells"]) != width for row in children):
            raise validation(
                "Number of cells in table row must match the table width of the parent."
            )
    seq = _insert_position(ctx, parent["id"], len(children))
    ids = repo.insert_blocks(
        "page_id" if parent["kind"] == "page" else "block_id",
        parent["id"],
        children,
        seq=seq,
        when=ctx.when,
        by=ctx.me,
        make_id=repo.new_id,
    )
    page = _touch(ctx, parent)
    rows = [repo.block(i) for i in ids]
    ctx.record(
        "blocks.appended",
        parent["id"],
        {
            "parent_id": parent["id"],
            "page_id": page["id"] if page else None,
            "page_title": repo.title_of(page) if page else None,
            "block_ids": ids,
            "types": [r["type"] for r in rows],
            "text": _text_below(repo, ids),
        },
    )
    return listing(repo.render_blocks(rows), None, False, "block")


def _insert_position(ctx: Ctx, parent_id: str, width: int) -> int:
    """Where appended blocks go: the end, the start, or after a sibling (``after`` or
    ``position``); makes room among the siblings when needed."""
    repo, body = ctx.repo, ctx.body
    after = body.get("after")
    position = body.get("position")
    if after is not None and position is not None:
        raise validation("body failed validation: send either `after` or `position`, not both.")
    if position is not None:
        if not isinstance(position, dict):
            raise body_invalid("position", "an object", position)
        kind = position.get("type")
        if kind == "start":
            repo.open_gap(parent_id, 0, width)
            return 0
        if kind == "end":
            return repo.next_seq(parent_id)
        if kind != "after_block":
            raise body_invalid("position.type", '`"after_block"`, `"start"` or `"end"`', kind)
        target = position.get("after_block")
        after = target.get("id") if isinstance(target, dict) else None
        if after is None:
            raise body_invalid("position.after_block.id", "defined", target)
    if after is None:
        return repo.next_seq(parent_id)
    sibling_id = normalise_id(after)
    if sibling_id is None:
        raise body_invalid("after", "a valid uuid", after)
    sibling = repo.node(sibling_id)
    if sibling is None or sibling["parent_id"] != parent_id or sibling["in_trash"]:
        raise validation(f"Block {sibling_id} is not a child of block {parent_id}.")
    repo.open_gap(parent_id, sibling["seq"] + 1, width)
    return int(sibling["seq"]) + 1


def _touch(ctx: Ctx, row: sqlite3.Row) -> sqlite3.Row | None:
    """Mark a block and the page holding it as edited now by the caller; that page."""
    repo = ctx.repo
    repo.touch(row["id"], ctx.when, ctx.me)
    page = repo.containing_page(row)
    if page is not None and page["id"] != row["id"]:
        repo.touch(page["id"], ctx.when, ctx.me)
    return page


def _holder(repo, row: sqlite3.Row) -> sqlite3.Row | None:
    """The page a block sits in; for a page or database, the page above it."""
    if row["kind"] == "block":
        return repo.containing_page(row)
    if row["parent_type"] not in ("page_id", "block_id"):
        return None
    parent = repo.node(row["parent_id"])
    return repo.containing_page(parent) if parent is not None else None


def _text_below(repo, ids: list[str]) -> str:
    lines: list[str] = []

    def walk(block_ids: list[str]) -> None:
        for block_id in block_ids:
            row = repo.node(block_id)
            text = (
                block_plain(row["type"], json.loads(row["data"])) if row["kind"] == "block" else ""
            )
            if text:
                lines.append(text)
            walk([r["id"] for r in repo.children(block_id)])

    walk(ids)
    return "\n".join(lines)[:20_000]


def update_block(ctx: Ctx) -> dict[str, Any]:
    repo, body = ctx.repo, ctx.body
    row = repo.block(ctx.path_id("block_id"))
    trash = optional_bool(body, "in_trash")
    if trash is None:
        trash = optional_bool(body, "archived")
    sent = [k for k in body if k in ALL_TYPES]
    declared = body.get("type")
    if declared is not None and declared != row["type"]:
        raise validation(
            f"The block is a {row['type']} block; its type cannot be changed to {declared!s:.40}."
        )
    for key in sent:
        if key != row["type"]:
            raise validation(
                f"The block is a {row['type']} block; send its content under "
                f"`{row['type']}`, not `{key}`."
            )
    if row["in_trash"] and trash is not False and sent:
        raise archived()
    changed_text = None
    if sent:
        raw = body[row["type"]]
        if not isinstance(raw, dict):
            raise body_invalid(row["type"], "an object", raw)
        if row["kind"] == "database":
            raise validation("Update a database's title with the database APIs.")
        if row["kind"] == "page":
            payload = parse_payload(
                "child_page", raw, "child_page", repo, base={"title": repo.title_of(row)}
            )
            data = json.loads(row["data"])
            schema = repo.page_schema(row)
            values = data.setdefault("properties", {})
            values[title_prop(schema)["id"]] = split_text(payload["title"])
            repo.set_data(row["id"], data, page_plain(schema, values))
            changed_text = payload["title"]
        else:
            payload = parse_payload(
                row["type"], raw, row["type"], repo, base=json.loads(row["data"])
            )
            changed_text = block_plain(row["type"], payload)
            repo.set_data(row["id"], payload, changed_text)
    if trash is not None:
        repo.db.execute("UPDATE nodes SET in_trash = ? WHERE id = ?", (int(trash), row["id"]))
    page = _touch(ctx, row)
    row = repo.block(row["id"])
    event: dict[str, Any] = {
        "block_id": row["id"],
        "type": row["type"],
        "page_id": page["id"] if page else None,
        "page_title": repo.title_of(page) if page else None,
    }
    if changed_text is not None:
        event["text"] = changed_text
    if trash is not None:
        event["in_trash"] = trash
    ctx.record("block.updated", row["id"], event)
    return repo.render_blocks([row])[0]


def delete_block(ctx: Ctx) -> dict[str, Any]:
    repo = ctx.repo
    row = repo.block(ctx.path_id("block_id"))
    if row["in_trash"]:
        raise archived()
    repo.db.execute("UPDATE nodes SET in_trash = 1 WHERE id = ?", (row["id"],))
    _touch(ctx, row)
    row = repo.block(row["id"])
    holder = _holder(repo, row)
    ctx.record(
        "block.deleted",
        row["id"],
        {
            "block_id": row["id"],
            "type": row["type"],
            "page_id": holder["id"] if holder else None,
            "page_title": repo.title_of(holder) if holder else None,
            "text": repo.title_of(row),
        },
    )
    return repo.render_blocks([row])[0]
