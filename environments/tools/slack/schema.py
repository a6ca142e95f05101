"""The Slack imitation's tables. Ids are Slack-shaped strings; ``ts`` is always the 6-decimal
string form ("1757000000.123456"), which sorts like the number for any date in 2001..2286."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS team (
    id      TEXT PRIMARY KEY,
    name    TEXT NOT NULL,
    domain  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS users (
    id            TEXT PRIMARY KEY,
    key           TEXT NOT NULL UNIQUE,   -- fixture key: employee id, or 'bot:<key>'
    name          TEXT NOT NULL UNIQUE,   -- the handle
    real_name     TEXT NOT NULL,
    display_name  TEXT NOT NULL DEFAULT '',
    email         TEXT,
    title         TEXT NOT NULL DEFAULT '',
    tz            TEXT NOT NULL DEFAULT 'UTC',
    team_key      TEXT,                   -- the company team (e.g. 'platform'), not a Slack team
    is_bot        INTEGER NOT NULL DEFAULT 0,
    bot_id        TEXT UNIQUE,
    app_id        TEXT,
    is_admin      INTEGER NOT NULL DEFAULT 0,
    is_owner      INTEGER NOT NULL DEFAULT 0,
    deleted       INTEGER NOT NULL DEFAULT 0,
    updated       INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX IF NOT EXISTS users_by_email ON users(email) WHERE email IS NOT NULL;
CREATE TABLE IF NOT EXISTS tokens (
    token    TEXT PRIMARY KEY,
    user_id  TEXT NOT NULL REFERENCES users(id),
    kind     TEXT NOT NULL CHECK (kind IN ('bot', 'user'))
);
CREATE TABLE IF NOT EXISTS channels (
    id                TEXT PRIMARY KEY,
    name              TEXT NOT NULL UNIQUE,
    is_private        INTEGER NOT NULL DEFAULT 0,
    is_archived       INTEGER NOT NULL DEFAULT 0,
    is_general        INTEGER NOT NULL DEFAULT 0,
    created           INTEGER NOT NULL DEFAULT 0,
    creator           TEXT NOT NULL DEFAULT '',
    topic             TEXT NOT NULL DEFAULT '',
    topic_creator     TEXT NOT NULL DEFAULT '',
    topic_last_set    INTEGER NOT NULL DEFAULT 0,
    purpose           TEXT NOT NULL DEFAULT '',
    purpose_creator   TEXT NOT NULL DEFAULT '',
    purpose_last_set  INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS members (
    channel_id  TEXT NOT NULL REFERENCES channels(id),
    user_id     TEXT NOT NULL REFERENCES users(id),
    PRIMARY KEY (channel_id, user_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS messages (
    channel_id  TEXT NOT NULL REFERENCES channels(id),
    ts          TEXT NOT NULL,
    user_id     TEXT,                     -- NULL for webhook posts
    bot_id      TEXT,
    subtype     TEXT,                     -- NULL, 'bot_message', 'thread_broadcast', 'tombstone'
    text        TEXT NOT NULL DEFAULT '',
    thread_ts   TEXT,                     -- replies only: the parent's ts
    broadcast   INTEGER NOT NULL DEFAULT 0,
    extra       TEXT,                     -- JSON: attachments, blocks, username, icons
    edited_by   TEXT,
    edited_ts   TEXT,
    PRIMARY KEY (channel_id, ts)
) WITHOUT ROWID;
-- Not a partial index: SQLite's planner skips a partial one for `thread_ts IN (...)`.
CREATE INDEX IF NOT EXISTS messages_by_thread ON messages(channel_id, thread_ts, ts);
CREATE TABLE IF NOT EXISTS reactions (
    seq         INTEGER PRIMARY KEY,      -- order of reacting
    channel_id  TEXT NOT NULL,
    ts          TEXT NOT NULL,
    name        TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    UNIQUE (channel_id, ts, name, user_id)
);
CREATE TABLE IF NOT EXISTS pins (
    channel_id  TEXT NOT NULL,
    ts          TEXT NOT NULL,
    pinned_by   TEXT NOT NULL,
    created     INTEGER NOT NULL,
    PRIMARY KEY (channel_id, ts)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS webhooks (
    path        TEXT PRIMARY KEY,         -- 'T…/B…/secret' after /services/
    key         TEXT NOT NULL UNIQUE,
    channel_id  TEXT NOT NULL REFERENCES channels(id),
    bot_id      TEXT NOT NULL,
    app_id      TEXT NOT NULL,
    username    TEXT NOT NULL,
    icon_emoji  TEXT,
    icon_url    TEXT
);
"""

# What /_admin/export dumps: table -> (ORDER BY, JSON columns).
EXPORT_TABLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "team": ("id", ()),
    "users": ("id", ()),
    "tokens": ("token", ()),
    "channels": ("id", ()),
    "members": ("channel_id, user_id", ()),
    "messages": ("channel_id, ts", ("extra",)),
    "reactions": ("seq", ()),
    "pins": ("channel_id, ts", ()),
    "webhooks": ("path", ()),
}
