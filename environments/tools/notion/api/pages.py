"""``POST /v1/pages``, ``GET|PATCH /v1/pages/{id}``, ``GET /v1/pages/{id}/properties/{prop}``."""

from __future__ import annotations

import json
import sqlite3
from typing import Any
from urllib.parse import unquote

from environments.tools.notion.api.context import Ctx, listing, optional_bool, require_object
from environments.tools.notion.blocks import (
    NewBlock,
    block_plain,
    parse_children,
    parse_cover,
    parse_icon,
)
from environments.tools.notion.errors import (
    NotionError,
    archived,
    body_invalid,
    not_found,
    validation,
)
from environments.tools.notion.ids import normalise_id
from environments.tools.notion.markdown import markdown_blocks
from environments.tools.notion.model import page_plain
from environments.tools.notion.properties import (
    PAGINATED,
    TITLE_SCHEMA,
    add_option,
    find,
    parse_value,
    property_items,
    render_value,
)
from environments.tools.notion.render_markdown import page_markdown

PARENT_KEYS = ("page_id", "database_id", "data_source_id", "workspace", "block_id")


def create_page(ctx: Ctx) -> dict[str, Any]:
    repo, body = ctx.repo, ctx.body
    if "parent" not in body:
        raise body_invalid("parent", "defined")
    parent_type, parent_id, ds_id = _parent(ctx, require_object(body["parent"], "parent"))
    schema = repo.schema(ds_id) if ds_id else TITLE_SCHEMA
    values, _ = _apply_properties(ctx, schema, ds_id, body.get("properties", {}), {})
    children = _children_of(ctx, body)
    page_id = repo.new_id()
    data: dict[str, Any] = {"properties": values}
    if "icon" in body:
        data["icon"] = parse_icon(body["icon"], "icon")
    if "cover" in body:
        data["cover"] = parse_cover(body["cover"], "cover")
    repo.insert_node(
        node_id=page_id,
        kind="page",
        type_="child_page",
        parent_type=parent_type,
        parent_id=parent_id,
        seq=repo.next_seq(parent_id),
        data=data,
        plain_text=page_plain(schema, values),
        when=ctx.when,
        by=ctx.me,
    )
    repo.insert_blocks(
        "page_id", page_id, children, seq=0, when=ctx.when, by=ctx.me, make_id=repo.new_id
    )
    if parent_type in ("page_id", "block_id"):
        holder = repo.containing_page(repo.block(parent_id))
        if holder is not None:
            repo.touch(holder["id"], ctx.when, ctx.me)
    row = repo.page(page_id)
    page = repo.render_page(row)
    ctx.record(
        "page.created",
        page_id,
        {
            "page_id": page_id,
            "title": repo.title_of(row),
            "parent": page["parent"],
            "properties": repo.page_values(row),
            "blocks": len(children),
            "text": _blocks_text(children),
            "url": page["url"],
        },
    )
    return page


def _parent(ctx: Ctx, parent: Any) -> tuple[str, str, str | None]:
    """(parent_type, parent_id, data source id or None) of a new page."""
    repo = ctx.repo
    kind = parent.get("type") or next((k for k in PARENT_KEYS if k in parent), None)
    if kind not in PARENT_KEYS or kind not in parent:
        allowed = "page_id`, `database_id" + ("`, `data_source_id" if ctx.new else "")
        raise body_invalid("parent", f"an object with `{allowed}`", dict(parent))
    if kind == "workspace":
        raise validation(
            "Internal integrations cannot create pages at the top level of the workspace; "
            "give the page a parent page."
        )
    if kind == "block_id" or (kind == "data_source_id" and not ctx.new):
        raise body_invalid(
            f"parent.{kind}", "undefined (not a valid parent for a page)", parent[kind]
        )
    target = normalise_id(parent[kind])
    if target is None:
        raise body_invalid(f"parent.{kind}", "a valid uuid", parent[kind])
    if kind == "page_id":
        row = repo.page(target)
        if row["in_trash"]:
            raise archived("page")
        return "page_id", target, None
    if kind == "data_source_id":
        ds = repo.data_source(target)
        if ds is None:
            raise not_found("data source", target)
        if ds["in_trash"] or repo.database(ds["database_id"])["in_trash"]:
            raise archived("database")
        return "data_source_id", target, target
    database = repo.database(target)
    if database["in_trash"]:
        raise archived("database")
    sources = repo.data_sources_of(target)
    if not sources:
        raise validation(f"Database {target} has no data source to add pages to.")
    if len(sources) > 1:
        raise validation(
            f"Database {target} has {len(sources)} data sources; use a data_source_id parent."
        )
    return "data_source_id", sources[0]["id"], sources[0]["id"]


def _children_of(ctx: Ctx, body: dict[str, Any]) -> list[NewBlock]:
    if "children" in body and body["children"] is not None:
        return parse_children(body["children"], "children", ctx.repo)
    if "content" in body and body["content"] is not None:
        return parse_children(body["content"], "content", ctx.repo)
    if body.get("markdown") is not None:
        if not isinstance(body["markdown"], str) or len(body["markdown"]) > 200_000:
            raise body_invalid("markdown", "a string", body["markdown"])
        return markdown_blocks(body["markdown"], ctx.repo)
    return []


def _apply_properties(
    ctx: Ctx,
    schema: list[dict[str, Any]],
    ds_id: str | None,
    raw: Any,
    current: dict[str, Any],
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """New stored values after applying a request's ``properties``; and what changed."""
    if raw is None:
        return dict(current), []
    if not isinstance(raw, dict):
        raise body_invalid("properties", "an object", raw)
    if len(raw) > 100:
        raise validation("body failed validation: at most 100 properties per request.")
    values = dict(current)
    changed = []
    dirty = False

    def new_option(prop: dict[str, Any], name: str, color: str | None) -> dict[str, Any]:
        nonlocal dirty
        dirty = True
        return add_option(prop, name, f"{ds_id}:{prop['id']}", color)

    for key, value in raw.items():
        prop = find(schema, key)
        if prop is None:
            raise validation(f"{key} is not a property that exists.")
        values[prop["id"]] = parse_value(
            prop, value, f"properties.{key}", ctx.repo, ctx.repo.user, new_option
        )
        changed.append(prop)
    if dirty and ds_id is not None:
        ctx.repo.save_schema(ds_id, schema)
    return values, changed


def _blocks_text(blocks: list[NewBlock]) -> str:
    lines: list[str] = []

    def walk(items: list[NewBlock]) -> None:
        for block in items:
            text = block_plain(block.type, block.payload)
            if text:
                lines.append(text)
            walk(block.children)

    walk(blocks)
    return "\n".join(lines)[:20_000]


def get_page(ctx: Ctx) -> dict[str, Any]:
    row = ctx.repo.page(ctx.path_id("page_id"))
    only = ctx.query.get("filter_properties")
    return ctx.repo.render_page(row, set(only) if only else None)


def update_page(ctx: Ctx) -> dict[str, Any]:
    repo, body = ctx.repo, ctx.body
    row = repo.page(ctx.path_id("page_id"))
    trash = optional_bool(body, "in_trash")
    archived_flag = optional_bool(body, "archived")
    if trash is None:
        trash = archived_flag
    locked = optional_bool(body, "is_locked")
    erase = optional_bool(body, "erase_content")
    edits = [k for k in ("properties", "icon", "cover") if k in body] + (["erase"] if erase else [])
    if row["in_trash"] and trash is not False and edits:
        raise archived("page")
    if row["is_locked"] and locked is not False and edits:
        raise validation("This page is locked. Unlock it before editing.")
    schema = repo.page_schema(row)
    ds_id = row["parent_id"] if row["parent_type"] == "data_source_id" else None
    data = _data(row)
    values, changed = _apply_properties(
        ctx, schema, ds_id, body.get("properties"), data.get("properties", {})
    )
    data["properties"] = values
    if "icon" in body:
        data["icon"] = parse_icon(body["icon"], "icon")
    if "cover" in body:
        data["cover"] = parse_cover(body["cover"], "cover")
    repo.set_data(row["id"], data, page_plain(schema, values))
    if trash is not None:
        repo.db.execute("UPDATE nodes SET in_trash = ? WHERE id = ?", (int(trash), row["id"]))
    if locked is not None:
        repo.db.execute("UPDATE nodes SET is_locked = ? WHERE id = ?", (int(locked), row["id"]))
    if erase:
        repo.db.execute(
            "UPDATE nodes SET in_trash = 1 WHERE parent_id = ? AND kind = 'block'", (row["id"],)
        )
    repo.touch(row["id"], ctx.when, ctx.me)
    row = repo.page(row["id"])
    plain_values = repo.page_values(row)
    payload: dict[str, Any] = {
        "page_id": row["id"],
        "title": repo.title_of(row),
        "changed": {p["name"]: plain_values.get(p["name"]) for p in changed},
    }
    if trash is not None:
        payload["in_trash"] = trash
    if locked is not None:
        payload["is_locked"] = locked
    if erase:
        payload["erased_content"] = True
    for key in ("icon", "cover"):
        if key in body:
            payload[key] = data.get(key)
    ctx.record("page.updated", row["id"], payload)
    return repo.render_page(row)


def get_property(ctx: Ctx) -> dict[str, Any]:
    repo = ctx.repo
    row = repo.page(ctx.path_id("page_id"))
    raw = ctx.path["property_id"]
    schema = repo.page_schema(row)
    prop = find(schema, raw) or find(schema, unquote(raw))
    if prop is None:
        raise NotionError(404, "object_not_found", f"Could not find property with ID: {raw}.")
    stored = _data(row).get("properties", {}).get(prop["id"])
    meta = repo.meta(row)
    if prop["type"] not in PAGINATED:
        value = render_value(prop, stored, meta, repo.user)
        return {"object": "property_item", **value}
    items = property_items(prop, stored, meta, repo.user)
    page, cursor, more = ctx.paginate(items, [str(i) for i in range(len(items))], from_body=False)
    out = listing(list(page), cursor, more, "property_item")
    out["property_item"] = {
        "id": prop["id"],
        "next_url": None,
        "type": prop["type"],
        prop["type"]: {},
    }
    return out


def _data(row: sqlite3.Row) -> dict[str, Any]:
    return json.loads(row["data"])


def get_markdown(ctx: Ctx) -> dict[str, Any]:
    """``GET /v1/pages/{id}/markdown``: the page content as Markdown."""
    row = ctx.repo.page(ctx.path_id("page_id"))
    text, truncated = page_markdown(ctx.repo, row["id"])
    return {
        "object": "page_markdown",
        "id": row["id"],
        "markdown": text,
        "truncated": truncated,
        "unknown_block_ids": [],
    }


def update_markdown(ctx: Ctx) -> dict[str, Any]:
    """``PATCH /v1/pages/{id}/markdown`` with ``insert_content``: Markdown appended as blocks
    (at the end, or after a block with ``after``). Other operations are refused."""
    repo, body = ctx.repo, ctx.body
    row = repo.page(ctx.path_id("page_id"))
    if body.get("type") != "insert_content":
        raise validation(
            'body failed validation: body.type should be `"insert_content"` (the only '
            f"markdown operation supported here), instead was `{str(body.get('type'))[:40]}`."
        )
    op = require_object(body.get("insert_content"), "insert_content")
    content = op.get("content")
    if not isinstance(content, str) or not content.strip() or len(content) > 200_000:
        raise body_invalid("insert_content.content", "a non-empty string", content)
    if row["in_trash"]:
        raise archived("page")
    blocks = markdown_blocks(content, repo)
    if sum(b.count() for b in blocks) > 1000:
        raise validation("body failed validation: at most 1000 blocks per request.")
    after = op.get("after")
    if after is not None:
        sibling = normalise_id(after)
        target = repo.node(sibling) if sibling else None
        if target is None or target["parent_id"] != row["id"] or target["in_trash"]:
            raise validation(f"Block {str(after)[:40]} is not a child of page {row['id']}.")
        seq = int(target["seq"]) + 1
        repo.open_gap(row["id"], seq, len(blocks))
    else:
        seq = repo.next_seq(row["id"])
    ids = repo.insert_blocks(
        "page_id", row["id"], blocks, seq=seq, when=ctx.when, by=ctx.me, make_id=repo.new_id
    )
    repo.touch(row["id"], ctx.when, ctx.me)
    ctx.record(
        "blocks.appended",
        row["id"],
        {
            "parent_id": row["id"],
            "page_id": row["id"],
            "page_title": repo.title_of(row),
            "block_ids": ids,
            "types": [b.type for b in blocks],
            "text": _blocks_text(blocks),
        },
    )
    return get_markdown(ctx)
