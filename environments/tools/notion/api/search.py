"""``POST /v1/search``: pages and data sources (2025-09-03) or databases (2022-06-28).

Notion documents search as matching titles. Titles rank first here; pages whose content holds
the query follow (Notion's own search finds those too, and agents looking for an env var or an
alert name need them). Default order: rank, then most recently edited.
"""

from __future__ import annotations

from typing import Any

from environments.tools.notion.api.context import Ctx, listing
from environments.tools.notion.errors import body_invalid

MAX_QUERY = 2000


def search(ctx: Ctx) -> dict[str, Any]:
    repo = ctx.repo
    body = ctx.body
    query = body.get("query")
    if query is not None and not isinstance(query, str):
        raise body_invalid("query", "a string or `undefined`", query)
    query = (query or "").strip().casefold()[:MAX_QUERY]
    container = "data_source" if ctx.new else "database"
    wanted = {"page", container}
    flt = body.get("filter")
    if flt is not None:
        if not isinstance(flt, dict):
            raise body_invalid("filter", "an object", flt)
        if flt.get("property") != "object":
            raise body_invalid("filter.property", '`"object"`', flt.get("property"))
        if flt.get("value") not in ("page", container):
            raise body_invalid("filter.value", f'`"page"` or `"{container}"`', flt.get("value"))
        wanted = {flt["value"]}
    sort = body.get("sort")
    direction = None
    if sort is not None:
        if not isinstance(sort, dict):
            raise body_invalid("sort", "an object", sort)
        if sort.get("timestamp") != "last_edited_time":
            raise body_invalid("sort.timestamp", '`"last_edited_time"`', sort.get("timestamp"))
        if sort.get("direction") not in ("ascending", "descending"):
            raise body_invalid(
                "sort.direction", '`"ascending"` or `"descending"`', sort.get("direction")
            )
        direction = sort["direction"]

    found: list[tuple[int, str, str, str, Any]] = []  # rank, edited, id, kind, row
    if "page" in wanted:
        content_hits = _pages_mentioning(ctx, query) if query else set()
        for row in repo.db.execute("SELECT * FROM nodes WHERE kind = 'page' AND in_trash = 0"):
            rank = _rank(query, repo.title_of(row), row["plain"], row["id"] in content_hits)
            if rank is not None:
                found.append((rank, row["last_edited_time"], row["id"], "page", row))
    if container == "data_source" and container in wanted:
        for ds in repo.db.execute(
            "SELECT ds.* FROM data_sources ds JOIN nodes db ON db.id = ds.database_id "
            "WHERE ds.in_trash = 0 AND db.in_trash = 0"
        ):
            rank = _rank(query, ds["name"], "", False)
            if rank is not None:
                found.append((rank, ds["last_edited_time"], ds["id"], container, ds))
    if container == "database" and container in wanted:
        for row in repo.db.execute("SELECT * FROM nodes WHERE kind = 'database' AND in_trash = 0"):
            rank = _rank(query, repo.title_of(row), "", False)
            if rank is not None:
                found.append((rank, row["last_edited_time"], row["id"], container, row))

    if direction is None:
        found.sort(key=lambda f: (f[0], _desc(f[1]), f[2]))
    else:
        found.sort(key=lambda f: (f[1], f[2]), reverse=direction == "descending")
    page, cursor, more = ctx.paginate(found, [f[2] for f in found], from_body=True)
    results = []
    for _, _, _, kind, row in page:
        if kind == "page":
            results.append(repo.render_page(row))
        elif kind == "data_source":
            results.append(repo.render_data_source(row))
        else:
            results.append(repo.render_database(row))
    return listing(results, cursor, more, f"page_or_{container}")


def _rank(query: str, title: str, extra: str, in_content: bool) -> int | None:
    if not query:
        return 0
    folded = title.casefold()
    if query in folded:
        return 0
    if all(word in folded for word in query.split()):
        return 1
    if query in extra.casefold() or in_content:
        return 2
    return None


def _desc(text: str) -> str:
    # Descending order of ISO timestamps inside an ascending sort key.
    return "".join(chr(0x10FFFF - ord(c)) for c in text)


def _pages_mentioning(ctx: Ctx, query: str) -> set[str]:
    """Ids of the pages whose (non-trashed) blocks contain ``query``."""
    repo = ctx.repo
    hits = repo.db.execute(
        "SELECT * FROM nodes WHERE kind = 'block' AND in_trash = 0 AND instr(lower(plain), ?) > 0",
        (query,),
    ).fetchall()
    pages: set[str] = set()
    for row in hits:
        page = repo.containing_page(row)
        if page is not None:
            pages.add(page["id"])
    return pages
