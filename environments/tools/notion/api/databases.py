"""Databases and data sources.

2025-09-03: ``GET /v1/databases/{id}`` lists ``data_sources``; ``GET /v1/data_sources/{id}``
has the schema; rows are read with ``POST /v1/data_sources/{id}/query``.
2022-06-28: ``GET /v1/databases/{id}`` has the schema and ``POST /v1/databases/{id}/query``
reads the rows. Each version refuses the other's endpoints, as Notion does.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from environments.tools.notion.api.context import Ctx, listing, optional_bool
from environments.tools.notion.errors import NotionError, body_invalid, not_found, validation
from environments.tools.notion.query import compile_filter, sort_rows


def get_database(ctx: Ctx) -> dict[str, Any]:
    return ctx.repo.render_database(ctx.repo.database(ctx.path_id("database_id")))


def get_data_source(ctx: Ctx) -> dict[str, Any]:
    _need_new(ctx)
    return ctx.repo.render_data_source(_data_source(ctx))


def query_data_source(ctx: Ctx) -> dict[str, Any]:
    _need_new(ctx)
    ds = _data_source(ctx)
    return _query(ctx, ds["id"], "page_or_data_source")


def query_database(ctx: Ctx) -> dict[str, Any]:
    if ctx.new:
        raise NotionError(
            400,
            "invalid_request_url",
            f"Invalid request URL. With Notion-Version {ctx.version} databases are queried "
            "through their data sources: GET /v1/databases/{id} lists them, then "
            "POST /v1/data_sources/{id}/query.",
        )
    database = ctx.repo.database(ctx.path_id("database_id"))
    sources = ctx.repo.data_sources_of(database["id"])
    if len(sources) != 1:
        raise validation(
            f"Database {database['id']} has {len(sources)} data sources; query them with "
            "Notion-Version 2025-09-03."
        )
    return _query(ctx, sources[0]["id"], "page_or_database")


def _need_new(ctx: Ctx) -> None:
    if not ctx.new:
        raise NotionError(
            400,
            "invalid_request_url",
            f"Invalid request URL. Data source endpoints need Notion-Version 2025-09-03 or "
            f"later; this request sent {ctx.version}.",
        )


def _data_source(ctx: Ctx) -> sqlite3.Row:
    ds_id = ctx.path_id("data_source_id")
    ds = ctx.repo.data_source(ds_id)
    if ds is None:
        row = ctx.repo.node(ds_id)
        if row is not None and row["kind"] == "database":
            raise validation(
                f"Provided ID {ds_id} is a database, not a data source. GET "
                f"/v1/databases/{ds_id} lists its data sources."
            )
        raise not_found("data source", ds_id)
    return ds


def _query(ctx: Ctx, ds_id: str, kind: str) -> dict[str, Any]:
    repo, body = ctx.repo, ctx.body
    schema = repo.schema(ds_id)
    flt = body.get("filter")
    test = compile_filter(flt, schema, ctx.now) if flt is not None else None
    include_trash = bool(optional_bool(body, "in_trash") or optional_bool(body, "archived"))
    result_type = body.get("result_type")
    if result_type not in (None, "page"):
        raise body_invalid("result_type", '`"page"`', result_type)
    rows = repo.db.execute(
        "SELECT id, props, created_time, last_edited_time, created_by, last_edited_by "
        "FROM nodes WHERE kind = 'page' AND parent_type = 'data_source_id' AND parent_id = ?"
        + ("" if include_trash else " AND in_trash = 0")
        + " ORDER BY id",
        (ds_id,),
    ).fetchall()
    # (values, row): filters read values by property id and timestamps from the row. Values
    # are shared with the memo and must not be modified.
    decoded = {r["id"]: (repo.memo.loads(r["props"]), r) for r in rows}
    if test is not None:
        rows = [r for r in rows if test(decoded[r["id"]])]
    rows = sort_rows(rows, body.get("sorts"), schema, lambda r: decoded[r["id"]], repo.user_name)
    ids = [r["id"] for r in rows]
    page, cursor, more = ctx.paginate(ids, ids, from_body=True)
    only = ctx.query.get("filter_properties")
    results = [repo.render_page(r, set(only) if only else None) for r in repo.nodes(list(page))]
    return listing(results, cursor, more, kind)
