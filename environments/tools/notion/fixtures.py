"""Notion fixture documents: the typed format and how one is applied to the state.

A document (YAML or JSON; every key optional, later documents add to earlier ones)::

    workspace: {name: Acme Commerce Inc., domain: acme}
    company: ../company.yaml          # every employee becomes a person (key = employee id)
    users:                            # more people
      - {key: jane.doe, name: Jane Doe, email: jane@example.com}
    integrations:                     # bot users; tokens act as them; refer to them as bot:<key>
      - {key: agent, name: Acme Agent, tokens: [ntn_...]}
    pages:                            # a tree; `parent: <page key>` attaches to an existing page
      - key: engineering
        title: Engineering
        icon: "🛠️"
        created: 2021-05-03T16:00:00Z   # edited / edited_by default to created / created_by
        created_by: daniel.okafor
        body: notion/engineering.md     # Markdown: a file next to this document, or inline text
        comments:
          - {by: maya.chen, at: 2026-09-25T10:00:00Z, text: "...", replies: [{by: ..., text: ...}]}
        pages: [...]                    # sub-pages, in order, after the body
        databases:
          - key: incidents
            title: Incidents
            properties:                 # the schema, in order; exactly one title
              - {name: Incident, type: title}
              - {name: Status, type: status,
                 options: [{name: Investigating, color: red, group: In progress}, ...]}
              - {name: Severity, type: select, options: [SEV1, SEV2]}
            rows:                       # pages of the database: title, values by name, body
              - {key: inc-2026-09-22, title: ..., properties: {Status: Resolved, Date: 2026-09-22,
                 Commander: aisha.bello}, body: notion/postmortem-2026-09-22.md}

Ids come from the seed and a key (``page:engineering``, ``user:maya.chen``; blocks by their
page and position), times from the document, so the same documents always give the same
state. Markdown bodies may mention people (``<@maya.chen>``) and pages (``<page:key>``).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from environments.tools.common import FixtureError, stable_uuid, to_epoch
from environments.tools.common.fixtures import (
    FixtureModel,
    fixture_path,
    load_company_ref,
    suggest,
    validate_document,
)
from environments.tools.notion.blocks import NewBlock, block_plain, parse_icon
from environments.tools.notion.errors import NotionError
from environments.tools.notion.markdown import Refs, inline_markdown, markdown_blocks
from environments.tools.notion.model import Repo, dumps, iso, page_plain
from environments.tools.notion.properties import (
    BASE_COLORS,
    STATUS_GROUPS,
    TITLE_SCHEMA,
    TYPES,
    add_option,
    short_id,
    status_groups,
)
from environments.tools.notion.richtext import split_text

KEY = r"^[a-z0-9][a-z0-9._-]{0,99}$"
TOKEN = r"^(ntn_|secret_)[A-Za-z0-9_-]{16,200}$"
DEFAULT_TIME = "2021-04-12T17:00:00Z"


class WorkspaceFx(FixtureModel):
    name: str = Field(min_length=1, max_length=200)
    domain: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,40}$")


class UserFx(FixtureModel):
    key: str = Field(pattern=KEY)
    name: str = Field(min_length=1)
    email: str | None = None
    avatar_url: str | None = None


class IntegrationFx(FixtureModel):
    key: str = Field(pattern=KEY)
    name: str = Field(min_length=1, max_length=100)
    tokens: list[str] = Field(default_factory=list)


class CommentFx(FixtureModel):
    by: str
    text: str = Field(min_length=1)
    at: Any = None
    replies: list[CommentFx] = Field(default_factory=list)


class OptionFx(FixtureModel):
    name: str = Field(min_length=1, max_length=100)
    color: str = "default"
    group: Literal["To-do", "In progress", "Complete"] | None = None
    description: str | None = None


class PropertyFx(FixtureModel):
    name: str = Field(min_length=1, max_length=100)
    type: str
    options: list[OptionFx | str] = Field(default_factory=list)
    format: str | None = None


class PageFx(FixtureModel):
    key: str = Field(pattern=KEY)
    title: str = ""
    icon: str | dict[str, Any] | None = None
    cover: str | None = None
    parent: str | None = None
    created: Any = None
    created_by: str | None = None
    edited: Any = None
    edited_by: str | None = None
    body: str | None = None
    properties: dict[str, Any] = Field(default_factory=dict)
    comments: list[CommentFx] = Field(default_factory=list)
    pages: list[PageFx] = Field(default_factory=list)
    databases: list[DatabaseFx] = Field(default_factory=list)
    in_trash: bool = False


class DatabaseFx(FixtureModel):
    key: str = Field(pattern=KEY)
    title: str = Field(min_length=1)
    description: str = ""
    icon: str | dict[str, Any] | None = None
    parent: str | None = None
    inline: bool = False
    data_source: str | None = None
    created: Any = None
    created_by: str | None = None
    edited: Any = None
    edited_by: str | None = None
    properties: list[PropertyFx] = Field(min_length=1)
    rows: list[PageFx] = Field(default_factory=list)


class NotionFixtures(FixtureModel):
    workspace: WorkspaceFx | None = None
    company: str | None = None
    users: list[UserFx] = Field(default_factory=list)
    integrations: list[IntegrationFx] = Field(default_factory=list)
    pages: list[PageFx] = Field(default_factory=list)
    databases: list[DatabaseFx] = Field(default_factory=list)


PageFx.model_rebuild()


def apply_document(
    db: sqlite3.Connection, doc: Mapping[str, Any], *, seed: int, origin: Path | None
) -> dict[str, int]:
    """Validate ``doc`` and add what it describes; counts of what was added."""
    fx = validate_document(NotionFixtures, dict(doc), origin)
    applier = _Applier(db, seed, origin)
    applier.apply(fx)
    return applier.counts


class _Applier:
    def __init__(self, db: sqlite3.Connection, seed: int, origin: Path | None):
        self.db = db
        self.seed = seed
        self.origin = origin
        self.repo = Repo(db, seed=seed, new=True)
        self.counts: dict[str, int] = {}
        self.titles: dict[str, tuple[str, str]] = {}  # page key -> (id, title), this document

    def count(self, what: str, n: int = 1) -> None:
        self.counts[what] = self.counts.get(what, 0) + n

    # -- ids and references ------------------------------------------------------------------

    def uid(self, *parts: object) -> str:
        return stable_uuid(self.seed, "notion", *parts)

    def user_id(self, key: str, where: str) -> str:
        row = self.db.execute("SELECT id FROM users WHERE key = ?", (key,)).fetchone()
        if row is None:
            known = [r[0] for r in self.db.execute("SELECT key FROM users ORDER BY key")]
            raise FixtureError(f"{where}: unknown user {key!r}{suggest(key, known, n=3)}")
        return row[0]

    def node_id(self, key: str, where: str, kind: str = "page") -> str:
        if kind == "page" and key in self.titles:
            return self.titles[key][0]
        row = self.db.execute("SELECT id, kind FROM nodes WHERE key = ?", (key,)).fetchone()
        if row is None or row[1] != kind:
            known = list(self.titles) + [
                r[0] for r in self.db.execute("SELECT key FROM nodes WHERE key IS NOT NULL")
            ]
            raise FixtureError(f"{where}: unknown {kind} {key!r}{suggest(key, known, n=3)}")
        return row[0]

    def refs(self, where: str) -> Refs:
        def user(key: str) -> tuple[str, str]:
            user_id = self.user_id(key, where)
            return user_id, self.repo.user_name(user_id) or key

        def page(key: str) -> tuple[str, str]:
            if key in self.titles:
                return self.titles[key]
            page_id = self.node_id(key, where)
            return page_id, self.repo.page_title(page_id) or ""

        return Refs(user=user, page=page)

    def times(
        self, item: PageFx | DatabaseFx, where: str, inherit: tuple[str, str]
    ) -> tuple[str, str, str, str]:
        created = (
            iso(to_epoch(item.created, what=f"{where}.created")) if item.created else inherit[0]
        )
        created_by = (
            self.user_id(item.created_by, f"{where}.created_by") if item.created_by else inherit[1]
        )
        edited = iso(to_epoch(item.edited, what=f"{where}.edited")) if item.edited else created
        edited_by = (
            self.user_id(item.edited_by, f"{where}.edited_by") if item.edited_by else created_by
        )
        if edited < created:
            raise FixtureError(f"{where}: edited ({edited}) is before created ({created})")
        return created, created_by, edited, edited_by

    # -- the document ------------------------------------------------------------------------

    def apply(self, fx: NotionFixtures) -> None:
        self.workspace(fx.workspace)
        if fx.company:
            self.company(fx.company)
        for user in fx.users:
            self.add_user(user.key, "person", user.name, user.email, user.avatar_url)
        for integration in fx.integrations:
            user_id = self.add_user(f"bot:{integration.key}", "bot", integration.name, None, None)
            for token in integration.tokens:
                self.add_token(token, user_id, f"integrations.{integration.key}")
        self.register(fx.pages, fx.databases)
        fallback = (iso(to_epoch(DEFAULT_TIME)), self.default_author())
        for i, page in enumerate(fx.pages):
            parent = (
                ("page_id", self.node_id(page.parent, f"pages[{i}].parent"))
                if page.parent
                else ("workspace", None)
            )
            self.page(page, parent, f"pages[{i}]", fallback)
        for i, database in enumerate(fx.databases):
            if not database.parent:
                raise FixtureError(
                    f"databases[{i}]: a top-level database needs `parent: <page key>`"
                )
            parent_id = self.node_id(database.parent, f"databases[{i}].parent")
            self.database(database, parent_id, f"databases[{i}]", fallback)

    def workspace(self, ws: WorkspaceFx | None) -> None:
        row = self.db.execute("SELECT 1 FROM workspace WHERE id = 1").fetchone()
        if ws is None:
            if row is None:
                ws = WorkspaceFx(name="Workspace", domain="workspace")
            else:
                return
        self.db.execute(
            "INSERT INTO workspace(id, uuid, name, domain) VALUES (1, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET name = excluded.name, domain = excluded.domain",
            (self.uid("workspace"), ws.name, ws.domain),
        )
        self.repo = Repo(self.db, seed=self.seed, new=True)

    def company(self, ref: str) -> None:
        company = load_company_ref(ref, self.origin, strict=False)
        for employee in company.employees:
            self.add_user(employee.id, "person", employee.name, employee.email, None)

    def add_user(
        self, key: str, kind: str, name: str, email: str | None, avatar: str | None
    ) -> str:
        user_id = self.uid("user", key)
        exists = self.db.execute("SELECT 1 FROM users WHERE key = ?", (key,)).fetchone()
        seq = self.db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM users").fetchone()[0]
        if exists:
            self.db.execute(
                "UPDATE users SET name = ?, email = ?, avatar_url = ? WHERE key = ?",
                (name, email, avatar, key),
            )
        else:
            self.db.execute(
                "INSERT INTO users(id, key, seq, type, name, email, avatar_url) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (user_id, key, seq, kind, name, email, avatar),
            )
            self.count("users")
        self.repo._users.pop(user_id, None)
        return user_id

    def add_token(self, token: str, user_id: str, where: str) -> None:
        if not re.match(TOKEN, token):
            raise FixtureError(f"{where}: token {token[:12]!r}... must look like ntn_… or secret_…")
        owner = self.db.execute("SELECT user_id FROM tokens WHERE token = ?", (token,)).fetchone()
        if owner is not None and owner[0] != user_id:
            raise FixtureError(f"{where}: token {token[:12]!r}... already belongs to someone else")
        self.db.execute(
            "INSERT OR IGNORE INTO tokens(token, user_id) VALUES (?, ?)", (token, user_id)
        )
        self.count("tokens")

    def default_author(self) -> str:
        row = self.db.execute("SELECT id FROM users ORDER BY seq LIMIT 1").fetchone()
        if row is None:
            raise FixtureError(
                "pages need an author: add `company`, `users` or `integrations` first"
            )
        return row[0]

    def register(self, pages: list[PageFx], databases: list[DatabaseFx]) -> None:
        """Know every page's id and title before any body is converted (mentions)."""
        seen = set()

        def visit_page(page: PageFx) -> None:
            if (
                page.key in seen
                or self.db.execute("SELECT 1 FROM nodes WHERE key = ?", (page.key,)).fetchone()
            ):
                raise FixtureError(f"page key {page.key!r} is used twice")
            seen.add(page.key)
            self.titles[page.key] = (self.uid("page", page.key), page.title)
            for child in page.pages:
                visit_page(child)
            for database in page.databases:
                visit_database(database)

        def visit_database(database: DatabaseFx) -> None:
            if (
                database.key in seen
                or self.db.execute("SELECT 1 FROM nodes WHERE key = ?", (database.key,)).fetchone()
            ):
                raise FixtureError(f"database key {database.key!r} is used twice")
            seen.add(database.key)
            for row in database.rows:
                visit_page(row)

        for page in pages:
            visit_page(page)
        for database in databases:
            visit_database(database)

    # -- pages -------------------------------------------------------------------------------

    def page(
        self,
        page: PageFx,
        parent: tuple[str, str | None],
        where: str,
        inherit: tuple[str, str],
        values: dict[str, Any] | None = None,
    ) -> str:
        page_id = self.uid("page", page.key)
        created, created_by, edited, edited_by = self.times(page, where, inherit)
        parent_type, parent_id = parent
        data: dict[str, Any] = {
            "properties": values if values is not None else {"title": split_text(page.title)}
        }
        if page.icon is not None:
            data["icon"] = _icon(page.icon, where)
        if page.cover:
            data["cover"] = {"type": "external", "external": {"url": page.cover}}
        seq = self.repo.next_seq(parent_id) if parent_id else self.top_seq()
        schema = self.repo.schema(parent_id) if parent_type == "data_source_id" else TITLE_SCHEMA
        plain_text = page_plain(schema, data["properties"])
        self.repo.insert_node(
            node_id=page_id,
            key=page.key,
            kind="page",
            type_="child_page",
            parent_type=parent_type,
            parent_id=parent_id,
            seq=seq,
            data=data,
            plain_text=plain_text,
            when=created,
            by=created_by,
            edited=edited,
            edited_by=edited_by,
        )
        if page.in_trash:
            self.db.execute("UPDATE nodes SET in_trash = 1 WHERE id = ?", (page_id,))
        self.count("pages")
        if page.body:
            blocks = markdown_blocks(
                self.markdown(page.body, where), refs=self.refs(f"{where}.body")
            )
            self.blocks(
                page.key, "page_id", page_id, blocks, (created, created_by, edited, edited_by), ""
            )
        stamps = (created, created_by)
        for i, child in enumerate(page.pages):
            self.page(child, ("page_id", page_id), f"{where}.pages[{i}]", stamps)
        for i, database in enumerate(page.databases):
            self.database(database, page_id, f"{where}.databases[{i}]", stamps)
        self.comments(page, page_id, where, created, created_by)
        return page_id

    def top_seq(self) -> int:
        value = self.db.execute(
            "SELECT MAX(seq) FROM nodes WHERE parent_type = 'workspace'"
        ).fetchone()[0]
        return 0 if value is None else value + 1

    def markdown(self, body: str, where: str) -> str:
        if "\n" not in body and body.strip().endswith(".md"):
            path = fixture_path(body.strip(), self.origin, what=f"{where}.body", strict=False)
            try:
                return path.read_text(encoding="utf-8")
            except OSError as exc:
                raise FixtureError(
                    f"{where}.body: cannot read {path} ({exc.strerror or exc})"
                ) from None
        return body

    def blocks(
        self,
        page_key: str,
        parent_type: str,
        parent_id: str,
        blocks: list[NewBlock],
        stamps: tuple[str, str, str, str],
        path: str,
    ) -> None:
        created, created_by, edited, edited_by = stamps
        for i, block in enumerate(blocks):
            here = f"{path}.{i}" if path else str(i)
            block_id = self.uid("block", page_key, here)
            self.repo.insert_node(
                node_id=block_id,
                kind="block",
                type_=block.type,
                parent_type=parent_type,
                parent_id=parent_id,
                seq=i,
                data=block.payload,
                plain_text=block_plain(block.type, block.payload),
                when=created,
                by=created_by,
                edited=edited,
                edited_by=edited_by,
            )
            self.count("blocks")
            if block.children:
                self.blocks(page_key, "block_id", block_id, block.children, stamps, here)

    def comments(self, page: PageFx, page_id: str, where: str, created: str, author: str) -> None:
        previous = created
        for i, comment in enumerate(page.comments):
            discussion = self.uid("discussion", page.key, i)
            for j, item in enumerate([comment, *comment.replies]):
                at = (
                    iso(to_epoch(item.at, what=f"{where}.comments[{i}].at"))
                    if item.at
                    else previous
                )
                previous = at
                by = self.user_id(item.by, f"{where}.comments[{i}].by")
                seq = self.db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM comments").fetchone()[
                    0
                ]
                rich = inline_markdown(item.text, self.refs(f"{where}.comments[{i}]"))
                self.db.execute(
                    "INSERT INTO comments(id, seq, discussion_id, parent_type, parent_id, rich_text, "
                    "created_time, created_by) VALUES (?, ?, ?, 'page_id', ?, ?, ?, ?)",
                    (
                        self.uid("comment", page.key, i, j),
                        seq,
                        discussion,
                        page_id,
                        json.dumps(rich, ensure_ascii=False),
                        at,
                        by,
                    ),
                )
                self.count("comments")

    # -- databases ---------------------------------------------------------------------------

    def database(
        self, database: DatabaseFx, parent_id: str, where: str, inherit: tuple[str, str]
    ) -> str:
        db_id = self.uid("database", database.key)
        ds_id = self.uid("data_source", database.key)
        created, created_by, edited, edited_by = self.times(database, where, inherit)
        schema = self.schema(database, ds_id, where)
        data: dict[str, Any] = {
            "title": split_text(database.title),
            "description": inline_markdown(database.description) if database.description else [],
            "is_inline": database.inline,
        }
        if database.icon is not None:
            data["icon"] = _icon(database.icon, where)
        self.repo.insert_node(
            node_id=db_id,
            key=database.key,
            kind="database",
            type_="child_database",
            parent_type="page_id",
            parent_id=parent_id,
            seq=self.repo.next_seq(parent_id),
            data=data,
            plain_text=database.title,
            when=created,
            by=created_by,
            edited=edited,
            edited_by=edited_by,
        )
        self.db.execute(
            "INSERT INTO data_sources(id, key, database_id, seq, name, properties, created_time, "
            "created_by, last_edited_time, last_edited_by) VALUES (?, ?, ?, 0, ?, ?, ?, ?, ?, ?)",
            (
                ds_id,
                database.key,
                db_id,
                database.data_source or database.title,
                dumps(schema),
                created,
                created_by,
                edited,
                edited_by,
            ),
        )
        self.count("databases")
        self.repo._schemas.pop(ds_id, None)
        for i, row in enumerate(database.rows):
            values = self.row_values(row, schema, f"{where}.rows[{i}]")
            self.page(
                row, ("data_source_id", ds_id), f"{where}.rows[{i}]", (created, created_by), values
            )
        return db_id

    def schema(self, database: DatabaseFx, ds_id: str, where: str) -> list[dict[str, Any]]:
        schema: list[dict[str, Any]] = []
        titles = [p for p in database.properties if p.type == "title"]
        if len(titles) != 1:
            raise FixtureError(f"{where}.properties: a database needs exactly one title property")
        names = set()
        for i, prop in enumerate(database.properties):
            here = f"{where}.properties[{i}]"
            if prop.name in names:
                raise FixtureError(f"{here}: property {prop.name!r} is defined twice")
            names.add(prop.name)
            if prop.type not in TYPES:
                raise FixtureError(
                    f"{here}: unknown property type {prop.type!r}{suggest(prop.type, sorted(TYPES), n=3)}"
                )
            definition: dict[str, Any] = {
                "id": "title"
                if prop.type == "title"
                else short_id(self.seed, database.key, prop.name),
                "name": prop.name,
                "type": prop.type,
            }
            if prop.type in ("select", "multi_select", "status"):
                group_of: dict[str, str] = {}
                for raw in prop.options:
                    option = raw if isinstance(raw, OptionFx) else OptionFx(name=raw)
                    color = None if option.color == "default" else option.color
                    if color is not None and color not in BASE_COLORS:
                        raise FixtureError(
                            f"{here}: option {option.name!r} has unknown color {color!r}"
                        )
                    made = add_option(definition, option.name, f"{ds_id}:{definition['id']}", color)
                    made["description"] = option.description
                    if prop.type == "status":
                        group_of[option.name] = option.group or STATUS_GROUPS[0]
                if prop.type == "status":
                    definition["groups"] = status_groups(
                        definition["options"], group_of, f"{ds_id}:{definition['id']}"
                    )
                definition.setdefault("options", [])
            elif prop.options:
                raise FixtureError(
                    f"{here}: only select, multi_select and status properties have options"
                )
            if prop.type == "number":
                definition["format"] = prop.format or "number"
            schema.append(definition)
        return schema

    def row_values(self, row: PageFx, schema: list[dict[str, Any]], where: str) -> dict[str, Any]:
        values: dict[str, Any] = {"title": split_text(row.title)}
        by_name = {p["name"]: p for p in schema}
        for name, raw in row.properties.items():
            prop = by_name.get(name)
            if prop is None:
                raise FixtureError(
                    f"{where}.properties: unknown property {name!r}{suggest(name, list(by_name), n=3)}"
                )
            if prop["type"] == "title":
                raise FixtureError(f"{where}.properties.{name}: set the title with `title:`")
            values[prop["id"]] = self.row_value(prop, raw, f"{where}.properties.{name}")
        return values

    def row_value(self, prop: dict[str, Any], raw: Any, where: str) -> Any:
        kind = prop["type"]
        if raw is None:
            return [] if kind in ("rich_text", "multi_select", "people") else None
        if kind == "rich_text":
            return inline_markdown(str(raw), self.refs(where))
        if kind in ("select", "status"):
            return self.option(prop, raw, where)
        if kind == "multi_select":
            items = raw if isinstance(raw, list) else [raw]
            return [self.option(prop, item, where) for item in items]
        if kind == "people":
            items = raw if isinstance(raw, list) else [raw]
            return [self.user_id(str(item), where) for item in items]
        if kind == "date":
            if isinstance(raw, Mapping):
                start, end = raw.get("start"), raw.get("end")
            else:
                start, end = raw, None
            return {
                "start": _date_text(start, where),
                "end": _date_text(end, where) if end else None,
                "time_zone": None,
            }
        if kind == "checkbox":
            if not isinstance(raw, bool):
                raise FixtureError(f"{where}: expected true or false, got {raw!r}")
            return raw
        if kind == "number":
            if isinstance(raw, bool) or not isinstance(raw, int | float):
                raise FixtureError(f"{where}: expected a number, got {raw!r}")
            return raw
        if kind in ("url", "email", "phone_number"):
            return str(raw)
        raise FixtureError(f"{where}: {kind} properties are computed; do not set them")

    def option(self, prop: dict[str, Any], raw: Any, where: str) -> str:
        names = {o["name"]: o["id"] for o in prop.get("options", [])}
        if str(raw) not in names:
            raise FixtureError(
                f"{where}: {raw!r} is not an option of {prop['name']}{suggest(str(raw), list(names), n=3)}"
            )
        return names[str(raw)]


def _icon(value: str | dict[str, Any], where: str) -> dict[str, Any] | None:
    if isinstance(value, str):
        return (
            {"type": "emoji", "emoji": value}
            if not value.startswith("http")
            else {
                "type": "external",
                "external": {"url": value},
            }
        )
    try:
        return parse_icon(value, "icon")
    except NotionError as exc:
        raise FixtureError(f"{where}.icon: {exc.message}") from None


def _date_text(value: Any, where: str) -> str:
    if isinstance(value, dt.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        try:
            if len(value) == 10:
                return dt.date.fromisoformat(value).isoformat()
            to_epoch(value, what=where)
            return value
        except ValueError:
            pass
    raise FixtureError(f"{where}: {value!r} is not a date")


__all__ = ["NotionFixtures", "apply_document"]
