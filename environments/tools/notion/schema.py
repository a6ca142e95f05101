"""The Notion imitation's tables.

Pages, databases and blocks share one table (``nodes``) because Notion gives them one id space:
a page is also a ``child_page`` block of its parent, a database a ``child_database`` block, and
``GET /v1/blocks/{page_id}/children`` lists a page's content. Rows of a database are pages
whose parent is one of its data sources. Times are Notion's ISO strings (minute precision).
``props`` is a compact copy of a page's values (rich text reduced to plain text) so queries
filter and sort thousands of rows without decoding every page in full.
"""

SCHEMA = """
CREATE TABLE IF NOT EXISTS workspace (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    uuid     TEXT NOT NULL,
    name     TEXT NOT NULL,
    domain   TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS users (
    id          TEXT PRIMARY KEY,
    key         TEXT NOT NULL UNIQUE,     -- employee id, or 'bot:<key>' for integrations
    seq         INTEGER NOT NULL,         -- listing order
    type        TEXT NOT NULL CHECK (type IN ('person', 'bot')),
    name        TEXT NOT NULL,
    email       TEXT,
    avatar_url  TEXT
);
CREATE TABLE IF NOT EXISTS tokens (
    token    TEXT PRIMARY KEY,
    user_id  TEXT NOT NULL REFERENCES users(id)
);
CREATE TABLE IF NOT EXISTS nodes (
    id                TEXT PRIMARY KEY,
    key               TEXT UNIQUE,        -- fixture key of pages and databases
    kind              TEXT NOT NULL CHECK (kind IN ('page', 'database', 'block')),
    type              TEXT NOT NULL,      -- block type; child_page / child_database
    parent_type       TEXT NOT NULL
                      CHECK (parent_type IN ('workspace', 'page_id', 'block_id', 'data_source_id')),
    parent_id         TEXT,
    seq               INTEGER NOT NULL DEFAULT 0,
    data              TEXT NOT NULL,      -- JSON: block payload / page / database fields
    props             TEXT NOT NULL DEFAULT '{}',  -- pages: property values, text as plain text
    plain             TEXT NOT NULL DEFAULT '',
    in_trash          INTEGER NOT NULL DEFAULT 0,
    is_locked         INTEGER NOT NULL DEFAULT 0,
    created_time      TEXT NOT NULL,
    created_by        TEXT NOT NULL,
    last_edited_time  TEXT NOT NULL,
    last_edited_by    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS nodes_by_parent ON nodes(parent_id, in_trash, seq, id, parent_type);
CREATE INDEX IF NOT EXISTS nodes_by_kind ON nodes(kind, last_edited_time);
CREATE TABLE IF NOT EXISTS data_sources (
    id                TEXT PRIMARY KEY,
    key               TEXT UNIQUE,
    database_id       TEXT NOT NULL REFERENCES nodes(id),
    seq               INTEGER NOT NULL DEFAULT 0,
    name              TEXT NOT NULL,
    properties        TEXT NOT NULL,      -- JSON list of property definitions, in order
    in_trash          INTEGER NOT NULL DEFAULT 0,
    created_time      TEXT NOT NULL,
    created_by        TEXT NOT NULL,
    last_edited_time  TEXT NOT NULL,
    last_edited_by    TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS comments (
    id             TEXT PRIMARY KEY,
    seq            INTEGER NOT NULL UNIQUE,
    discussion_id  TEXT NOT NULL,
    parent_type    TEXT NOT NULL CHECK (parent_type IN ('page_id', 'block_id')),
    parent_id      TEXT NOT NULL,
    rich_text      TEXT NOT NULL,
    created_time   TEXT NOT NULL,
    created_by     TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS comments_by_parent ON comments(parent_id, created_time, seq);
CREATE TABLE IF NOT EXISTS counters (
    name   TEXT PRIMARY KEY,
    value  INTEGER NOT NULL
);
"""

# What /_admin/export dumps: table -> (ORDER BY, JSON columns).
EXPORT_TABLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "workspace": ("id", ()),
    "users": ("seq", ()),
    "tokens": ("token", ()),
    "nodes": ("id", ("data", "props")),
    "data_sources": ("id", ("properties",)),
    "comments": ("seq", ("rich_text",)),
    "counters": ("name", ()),
}
