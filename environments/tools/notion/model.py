"""Reading and writing Notion objects over one SQLite connection, and rendering them.

:class:`Repo` is made per request (it caches users and schemas for that request only) and is
told which API version to render for: ``2025-09-03`` shows data sources, ``2022-06-28`` shows
databases with their properties. It is also the rich-text :class:`Resolver` for mentions.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections.abc import Iterable
from typing import Any

from environments.tools.common import stable_uuid
from environments.tools.notion.blocks import NewBlock, block_plain
from environments.tools.notion.errors import not_found, validation
from environments.tools.notion.ids import compact
from environments.tools.notion.properties import (
    TITLE_SCHEMA,
    plain_value,
    render_schema,
    render_value,
)
from environments.tools.notion.richtext import plain

_SLUG = re.compile(r"[^0-9A-Za-z]+")


def iso(epoch: float) -> str:
    """Notion's timestamp form; like Notion, rounded down to the minute."""
    return time.strftime("%Y-%m-%dT%H:%M:00.000Z", time.gmtime(int(epoch // 60 * 60)))


def page_url(title: str, object_id: str) -> str:
    slug = _SLUG.sub("-", title).strip("-")[:60].strip("-")
    return f"https://www.notion.so/{slug + '-' if slug else ''}{compact(object_id)}"


def loads(text: str) -> Any:
    return json.loads(text)


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def partial_user(user_id: str) -> dict[str, str]:
    return {"object": "user", "id": user_id}


def compact_values(values: dict[str, Any]) -> dict[str, Any]:
    """Property values with rich text reduced to its plain text (what filters and sorts use)."""
    out = {}
    for key, value in values.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            value = plain(value)
        out[key] = value
    return out


def page_plain(schema: list[dict[str, Any]], values: dict[str, Any]) -> str:
    """A page's searchable text: its title and rich-text property values."""
    parts = [plain(values.get(p["id"])) for p in schema if p["type"] in ("title", "rich_text")]
    return "\n".join(part for part in parts if part)


class Memo:
    """Decoded JSON by its text, shared across requests: a query over thousands of rows
    decodes only rows it has not seen in that exact state (the text is the key, so an edit
    is never served stale). Bounded by the size of the text it holds."""

    def __init__(self, budget_bytes: int = 8 * 1024 * 1024):
        self.budget = budget_bytes
        self._size = 0
        self._items: dict[str, Any] = {}

    def loads(self, text: str) -> Any:
        value = self._items.get(text)
        if value is None:
            if self._size + len(text) > self.budget:
                self._items.clear()
                self._size = 0
            value = self._items[text] = loads(text)
            self._size += len(text)
        return value


class Repo:
    """One request's view of the workspace."""

    def __init__(
        self, db: sqlite3.Connection, *, seed: int, new: bool = True, memo: Memo | None = None
    ):
        self.db = db
        self.seed = seed
        self.new = new
        self.memo = memo or Memo()
        self._users: dict[str, dict[str, Any] | None] = {}
        self._schemas: dict[str, list[dict[str, Any]]] = {}
        self._workspace: sqlite3.Row | None = None
        self._sources: dict[str, sqlite3.Row | None] = {}

    # -- workspace and users -----------------------------------------------------------------

    def workspace(self) -> sqlite3.Row:
        if self._workspace is None:
            row = self.db.execute("SELECT * FROM workspace WHERE id = 1").fetchone()
            if row is None:  # an unseeded state still answers sensibly
                self.db.execute(
                    "INSERT OR IGNORE INTO workspace(id, uuid, name, domain) VALUES (1, ?, ?, ?)",
                    (stable_uuid(self.seed, "notion", "workspace"), "Workspace", "workspace"),
                )
                row = self.db.execute("SELECT * FROM workspace WHERE id = 1").fetchone()
            self._workspace = row
        return self._workspace

    def render_user(self, row: sqlite3.Row) -> dict[str, Any]:
        user: dict[str, Any] = {
            "object": "user",
            "id": row["id"],
            "name": row["name"],
            "avatar_url": row["avatar_url"],
            "type": row["type"],
        }
        if row["type"] == "person":
            user["person"] = {"email": row["email"]}
        else:
            ws = self.workspace()
            user["bot"] = {
                "owner": {"type": "workspace", "workspace": True},
                "workspace_name": ws["name"],
                "workspace_id": ws["uuid"],
                "workspace_limits": {"max_file_upload_size_in_bytes": 5_368_709_120},
            }
        return user

    def user(self, user_id: str) -> dict[str, Any] | None:
        if user_id not in self._users:
            row = self.db.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()
            self._users[user_id] = None if row is None else self.render_user(row)
        return self._users[user_id]

    def user_name(self, user_id: str) -> str | None:
        user = self.user(user_id)
        return None if user is None else user["name"]

    # -- nodes -------------------------------------------------------------------------------

    def node(self, node_id: str) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM nodes WHERE id = ?", (node_id,)).fetchone()

    def page(self, page_id: str) -> sqlite3.Row:
        row = self.node(page_id)
        if row is None or row["kind"] != "page":
            if row is not None and row["kind"] == "database":
                raise validation(
                    f"Provided ID {page_id} is a database, not a page. "
                    "Use the retrieve database API instead."
                )
            raise not_found("page", page_id)
        return row

    def database(self, database_id: str) -> sqlite3.Row:
        row = self.node(database_id)
        if row is None or row["kind"] != "database":
            if row is not None and row["kind"] == "page":
                raise validation(
                    f"Provided ID {database_id} is a page, not a database. "
                    "Use the retrieve page API instead."
                )
            if self.data_source(database_id) is not None:
                raise validation(
                    f"Provided ID {database_id} is a data source, not a database. Use the "
                    "data source APIs (Notion-Version 2025-09-03) with it instead."
                )
            raise not_found("database", database_id)
        return row

    def block(self, block_id: str) -> sqlite3.Row:
        row = self.node(block_id)
        if row is None:
            raise not_found("block", block_id)
        return row

    def page_title(self, page_id: str) -> str | None:
        row = self.db.execute("SELECT kind, props FROM nodes WHERE id = ?", (page_id,)).fetchone()
        return None if row is None or row["kind"] != "page" else self.title_of(row)

    def database_title(self, database_id: str) -> str | None:
        row = self.node(database_id)
        return None if row is None or row["kind"] != "database" else self.title_of(row)

    def title_of(self, row: sqlite3.Row) -> str:
        if row["kind"] == "page":
            title = loads(row["props"]).get("title", "")
            return title if isinstance(title, str) else ""
        data = loads(row["data"])
        if row["kind"] == "database":
            return plain(data.get("title"))
        return block_plain(row["type"], data)

    def children(self, parent_id: str) -> list[sqlite3.Row]:
        return self.db.execute(
            "SELECT * FROM nodes WHERE parent_id = ? AND parent_type IN ('page_id', 'block_id') "
            "AND in_trash = 0 ORDER BY seq, id",
            (parent_id,),
        ).fetchall()

    def child_ids(self, parent_id: str) -> list[str]:
        return [
            r[0]
            for r in self.db.execute(
                "SELECT id FROM nodes WHERE parent_id = ? AND parent_type IN ('page_id', 'block_id') "
                "AND in_trash = 0 ORDER BY seq, id",
                (parent_id,),
            )
        ]

    def nodes(self, ids: list[str]) -> list[sqlite3.Row]:
        """Full rows for ``ids``, in that order."""
        found: dict[str, sqlite3.Row] = {}
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            marks = ",".join("?" * len(chunk))
            for row in self.db.execute(f"SELECT * FROM nodes WHERE id IN ({marks})", chunk):
                found[row["id"]] = row
        return [found[i] for i in ids if i in found]

    def with_children(self, ids: Iterable[str]) -> set[str]:
        ids = list(ids)
        found: set[str] = set()
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            marks = ",".join("?" * len(chunk))
            found.update(
                r[0]
                for r in self.db.execute(
                    f"SELECT DISTINCT parent_id FROM nodes WHERE parent_id IN ({marks}) "
                    "AND parent_type IN ('page_id', 'block_id') AND in_trash = 0",
                    chunk,
                )
            )
        return found

    def containing_page(self, row: sqlite3.Row) -> sqlite3.Row | None:
        """The page a block lives in (the row itself for a page); None for orphans."""
        seen = 0
        while row is not None and row["kind"] != "page" and seen < 64:
            if row["parent_type"] not in ("page_id", "block_id"):
                return None
            row = self.node(row["parent_id"])
            seen += 1
        return row if row is not None and row["kind"] == "page" else None

    # -- data sources ------------------------------------------------------------------------

    def data_source(self, ds_id: str) -> sqlite3.Row | None:
        if ds_id not in self._sources:
            self._sources[ds_id] = self.db.execute(
                "SELECT * FROM data_sources WHERE id = ?", (ds_id,)
            ).fetchone()
        return self._sources[ds_id]

    def data_sources_of(self, database_id: str) -> list[sqlite3.Row]:
        return self.db.execute(
            "SELECT * FROM data_sources WHERE database_id = ? AND in_trash = 0 ORDER BY seq, id",
            (database_id,),
        ).fetchall()

    def schema(self, ds_id: str) -> list[dict[str, Any]]:
        if ds_id not in self._schemas:
            row = self.data_source(ds_id)
            self._schemas[ds_id] = loads(row["properties"]) if row else list(TITLE_SCHEMA)
        return self._schemas[ds_id]

    def save_schema(self, ds_id: str, schema: list[dict[str, Any]]) -> None:
        self._schemas[ds_id] = schema
        self._sources.pop(ds_id, None)
        self.db.execute(
            "UPDATE data_sources SET properties = ? WHERE id = ?", (dumps(schema), ds_id)
        )

    def page_schema(self, row: sqlite3.Row) -> list[dict[str, Any]]:
        if row["parent_type"] == "data_source_id":
            return self.schema(row["parent_id"])
        return TITLE_SCHEMA

    # -- rendering ---------------------------------------------------------------------------

    def parent(self, row: sqlite3.Row) -> dict[str, Any]:
        kind, pid = row["parent_type"], row["parent_id"]
        if kind == "workspace":
            return {"type": "workspace", "workspace": True}
        if kind == "data_source_id":
            ds = self.data_source(pid)
            database_id = ds["database_id"] if ds else pid
            if self.new:
                return {"type": "data_source_id", "data_source_id": pid, "database_id": database_id}
            return {"type": "database_id", "database_id": database_id}
        return {"type": kind, kind: pid}

    def _common(self, row: sqlite3.Row) -> dict[str, Any]:
        return {
            "id": row["id"],
            "created_time": row["created_time"],
            "last_edited_time": row["last_edited_time"],
            "created_by": partial_user(row["created_by"]),
            "last_edited_by": partial_user(row["last_edited_by"]),
        }

    def meta(self, row: sqlite3.Row) -> dict[str, Any]:
        return {
            "created_time": row["created_time"],
            "last_edited_time": row["last_edited_time"],
            "created_by": row["created_by"],
            "last_edited_by": row["last_edited_by"],
        }

    def render_page(self, row: sqlite3.Row, only: set[str] | None = None) -> dict[str, Any]:
        data = self.memo.loads(row["data"])  # shared: rendered, never modified
        title = plain(data.get("properties", {}).get("title"))
        values = data.get("properties", {})
        meta = self.meta(row)
        properties = {}
        for prop in self.page_schema(row):
            if only is not None and prop["id"] not in only and prop["name"] not in only:
                continue
            properties[prop["name"]] = render_value(prop, values.get(prop["id"]), meta, self.user)
        trashed = bool(row["in_trash"])
        return {
            "object": "page",
            **self._common(row),
            "cover": data.get("cover"),
            "icon": data.get("icon"),
            "parent": self.parent(row),
            "archived": trashed,
            "in_trash": trashed,
            "is_locked": bool(row["is_locked"]),
            "properties": properties,
            "url": page_url(title, row["id"]),
            "public_url": None,
        }

    def page_values(self, row: sqlite3.Row) -> dict[str, Any]:
        """Property name -> plain value (for events and graders)."""
        values = loads(row["data"]).get("properties", {})
        meta = self.meta(row)
        return {
            prop["name"]: plain_value(prop, values.get(prop["id"]), meta, self.user)
            for prop in self.page_schema(row)
            if prop["type"]
            not in ("created_time", "last_edited_time", "created_by", "last_edited_by")
        }

    def render_block(self, row: sqlite3.Row, has_children: bool) -> dict[str, Any]:
        kind = row["type"]
        if row["kind"] == "block":
            payload = self.memo.loads(row["data"])  # shared: rendered, never modified
        else:
            payload = {"title": self.title_of(row)}
        trashed = bool(row["in_trash"])
        return {
            "object": "block",
            **self._common(row),
            "parent": self.parent(row),
            "has_children": has_children,
            "archived": trashed,
            "in_trash": trashed,
            "type": kind,
            kind: payload,
        }

    def render_blocks(self, rows: list[sqlite3.Row]) -> list[dict[str, Any]]:
        parents = self.with_children(r["id"] for r in rows if r["kind"] != "database")
        return [self.render_block(r, r["id"] in parents) for r in rows]

    def render_database(self, row: sqlite3.Row) -> dict[str, Any]:
        data = loads(row["data"])
        trashed = bool(row["in_trash"])
        out: dict[str, Any] = {
            "object": "database",
            **self._common(row),
            "title": data.get("title", []),
            "description": data.get("description", []),
            "icon": data.get("icon"),
            "cover": data.get("cover"),
            "parent": self.parent(row),
            "is_inline": bool(data.get("is_inline")),
            "archived": trashed,
            "in_trash": trashed,
            "is_locked": bool(row["is_locked"]),
            "url": page_url("", row["id"]),
            "public_url": None,
        }
        sources = self.data_sources_of(row["id"])
        if self.new:
            out["data_sources"] = [{"id": ds["id"], "name": ds["name"]} for ds in sources]
        else:
            out["properties"] = render_schema(self.schema(sources[0]["id"])) if sources else {}
        return out

    def render_data_source(self, ds: sqlite3.Row) -> dict[str, Any]:
        database = self.node(ds["database_id"])
        data = loads(database["data"]) if database else {}
        trashed = bool(ds["in_trash"]) or bool(database and database["in_trash"])
        return {
            "object": "data_source",
            **self._common(ds),
            "title": data.get("title", []) if database else [],
            "description": data.get("description", []),
            "icon": data.get("icon"),
            "cover": data.get("cover"),
            "properties": render_schema(self.schema(ds["id"])),
            "parent": {"type": "database_id", "database_id": ds["database_id"]},
            "database_parent": self.parent(database) if database else None,
            "is_inline": bool(data.get("is_inline")),
            "archived": trashed,
            "in_trash": trashed,
            "url": page_url("", ds["database_id"]),
            "public_url": None,
        }

    # -- writing -----------------------------------------------------------------------------

    def new_id(self) -> str:
        """A fresh id for an object made through the API: seeded and counted, so replaying the
        same requests on the same state gives the same ids."""
        n = self.db.execute(
            "INSERT INTO counters(name, value) VALUES ('ids', 1) "
            "ON CONFLICT(name) DO UPDATE SET value = value + 1 RETURNING value"
        ).fetchone()[0]
        return stable_uuid(self.seed, "notion", "runtime", n)

    def next_seq(self, parent_id: str) -> int:
        value = self.db.execute(
            "SELECT MAX(seq) FROM nodes WHERE parent_id = ?", (parent_id,)
        ).fetchone()[0]
        return 0 if value is None else int(value) + 1

    def open_gap(self, parent_id: str, position: int, width: int) -> None:
        """Shift siblings at ``position`` and after by ``width`` to insert blocks there."""
        self.db.execute(
            "UPDATE nodes SET seq = seq + ? WHERE parent_id = ? AND seq >= ?",
            (width, parent_id, position),
        )

    def insert_node(
        self,
        *,
        node_id: str,
        kind: str,
        type_: str,
        parent_type: str,
        parent_id: str | None,
        seq: int,
        data: dict[str, Any],
        plain_text: str,
        when: str,
        by: str,
        key: str | None = None,
        edited: str | None = None,
        edited_by: str | None = None,
    ) -> None:
        self.db.execute(
            "INSERT INTO nodes(id, key, kind, type, parent_type, parent_id, seq, data, props, "
            "plain, created_time, created_by, last_edited_time, last_edited_by) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                node_id,
                key,
                kind,
                type_,
                parent_type,
                parent_id,
                seq,
                dumps(data),
                dumps(compact_values(data.get("properties", {}))) if kind == "page" else "{}",
                plain_text,
                when,
                by,
                edited or when,
                edited_by or by,
            ),
        )

    def insert_blocks(
        self,
        parent_type: str,
        parent_id: str,
        blocks: list[NewBlock],
        *,
        seq: int,
        when: str,
        by: str,
        make_id,
    ) -> list[str]:
        """Store ``blocks`` (and their children) under a parent from ``seq`` on; their ids."""
        ids = []
        for offset, block in enumerate(blocks):
            block_id = make_id()
            self.insert_node(
                node_id=block_id,
                kind="block",
                type_=block.type,
                parent_type=parent_type,
                parent_id=parent_id,
                seq=seq + offset,
                data=block.payload,
                plain_text=block_plain(block.type, block.payload),
                when=when,
                by=by,
            )
            if block.children:
                self.insert_blocks(
                    "block_id", block_id, block.children, seq=0, when=when, by=by, make_id=make_id
                )
            ids.append(block_id)
        return ids

    def touch(self, node_id: str, when: str, by: str) -> None:
        self.db.execute(
            "UPDATE nodes SET last_edited_time = ?, last_edited_by = ? WHERE id = ?",
            (when, by, node_id),
        )

    def set_data(self, node_id: str, data: dict[str, Any], plain_text: str) -> None:
        props = dumps(compact_values(data["properties"])) if "properties" in data else "{}"
        self.db.execute(
            "UPDATE nodes SET data = ?, props = ?, plain = ? WHERE id = ?",
            (dumps(data), props, plain_text, node_id),
        )
