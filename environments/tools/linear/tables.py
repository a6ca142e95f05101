"""The Linear imitation's tables.

Ids are UUIDs derived from stable keys; times are stored the way Linear prints them
(``2026-11-02T14:05:00.000Z``), so they sort as text and need no conversion on the way out.
Column names are snake_case; the SELECT lists in :mod:`.entities` alias them to the API's
camelCase field names, so a row is already the object the GraphQL layer resolves fields on.
"""

SCHEMA = """
CREATE TABLE IF NOT EXISTS organization (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    url_key     TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS users (
    id            TEXT PRIMARY KEY,
    key           TEXT NOT NULL UNIQUE,     -- fixture key: employee id, or 'bot:<key>'
    name          TEXT NOT NULL,
    display_name  TEXT NOT NULL,
    email         TEXT NOT NULL UNIQUE,
    title         TEXT,
    description   TEXT,
    timezone      TEXT,
    admin         INTEGER NOT NULL DEFAULT 0,
    owner         INTEGER NOT NULL DEFAULT 0,
    app           INTEGER NOT NULL DEFAULT 0,
    guest         INTEGER NOT NULL DEFAULT 0,
    active        INTEGER NOT NULL DEFAULT 1,
    avatar_color  TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
    token    TEXT PRIMARY KEY,
    user_id  TEXT NOT NULL REFERENCES users(id),
    kind     TEXT NOT NULL CHECK (kind IN ('api_key', 'oauth'))
);
CREATE TABLE IF NOT EXISTS teams (
    id                TEXT PRIMARY KEY,
    key               TEXT NOT NULL UNIQUE,
    name              TEXT NOT NULL,
    description       TEXT,
    icon              TEXT,
    color             TEXT,
    private           INTEGER NOT NULL DEFAULT 0,
    timezone          TEXT NOT NULL DEFAULT 'America/Los_Angeles',
    cycles_enabled    INTEGER NOT NULL DEFAULT 0,
    cycle_duration    INTEGER NOT NULL DEFAULT 2,     -- weeks
    cycle_start_day   INTEGER NOT NULL DEFAULT 1,     -- 0 = Sunday
    triage_enabled    INTEGER NOT NULL DEFAULT 0,
    issue_seq         INTEGER NOT NULL DEFAULT 0,     -- the last issue number handed out
    default_state_id  TEXT,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS team_members (
    team_id  TEXT NOT NULL REFERENCES teams(id),
    user_id  TEXT NOT NULL REFERENCES users(id),
    PRIMARY KEY (team_id, user_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS states (
    id           TEXT PRIMARY KEY,
    team_id      TEXT NOT NULL REFERENCES teams(id),
    name         TEXT NOT NULL,
    type         TEXT NOT NULL CHECK (type IN ('triage', 'backlog', 'unstarted', 'started',
                                               'completed', 'canceled', 'duplicate')),
    color        TEXT NOT NULL,
    position     REAL NOT NULL,
    description  TEXT,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    UNIQUE (team_id, name)
);
CREATE TABLE IF NOT EXISTS labels (
    id           TEXT PRIMARY KEY,
    team_id      TEXT REFERENCES teams(id),       -- NULL: a workspace label
    name         TEXT NOT NULL,
    color        TEXT NOT NULL,
    description  TEXT,
    parent_id    TEXT REFERENCES labels(id),
    is_group     INTEGER NOT NULL DEFAULT 0,
    creator_id   TEXT REFERENCES users(id),
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS labels_by_scope_name ON labels(IFNULL(team_id, ''), name);
CREATE TABLE IF NOT EXISTS projects (
    id           TEXT PRIMARY KEY,
    key          TEXT NOT NULL UNIQUE,            -- fixture key
    slug_id      TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    content      TEXT,
    icon         TEXT,
    color        TEXT NOT NULL,
    state        TEXT NOT NULL,                   -- backlog planned started paused completed canceled
    priority     INTEGER NOT NULL DEFAULT 0,
    lead_id      TEXT REFERENCES users(id),
    creator_id   TEXT REFERENCES users(id),
    start_date   TEXT,
    target_date  TEXT,
    started_at   TEXT,
    completed_at TEXT,
    canceled_at  TEXT,
    archived_at  TEXT,
    sort_order   REAL NOT NULL DEFAULT 0,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS project_teams (
    project_id  TEXT NOT NULL REFERENCES projects(id),
    team_id     TEXT NOT NULL REFERENCES teams(id),
    PRIMARY KEY (project_id, team_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS project_members (
    project_id  TEXT NOT NULL REFERENCES projects(id),
    user_id     TEXT NOT NULL REFERENCES users(id),
    PRIMARY KEY (project_id, user_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS cycles (
    id           TEXT PRIMARY KEY,
    team_id      TEXT NOT NULL REFERENCES teams(id),
    number       INTEGER NOT NULL,
    name         TEXT,
    description  TEXT,
    starts_at    TEXT NOT NULL,
    ends_at      TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    UNIQUE (team_id, number)
);
CREATE TABLE IF NOT EXISTS issues (
    id                   TEXT PRIMARY KEY,
    team_id              TEXT NOT NULL REFERENCES teams(id),
    number               INTEGER NOT NULL,
    identifier           TEXT NOT NULL UNIQUE,
    title                TEXT NOT NULL,
    description          TEXT,
    priority             INTEGER NOT NULL DEFAULT 0,
    estimate             REAL,
    due_date             TEXT,
    state_id             TEXT NOT NULL REFERENCES states(id),
    assignee_id          TEXT REFERENCES users(id),
    creator_id           TEXT REFERENCES users(id),
    project_id           TEXT REFERENCES projects(id),
    cycle_id             TEXT REFERENCES cycles(id),
    parent_id            TEXT REFERENCES issues(id),
    sort_order           REAL NOT NULL DEFAULT 0,
    sub_issue_sort_order REAL,
    previous_identifiers TEXT NOT NULL DEFAULT '[]',  -- JSON list, after a move between teams
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL,
    started_at           TEXT,
    completed_at         TEXT,
    canceled_at          TEXT,
    archived_at          TEXT,
    triaged_at           TEXT,
    started_triage_at    TEXT,
    added_to_cycle_at    TEXT,
    added_to_project_at  TEXT,
    added_to_team_at     TEXT,
    trashed              INTEGER,
    UNIQUE (team_id, number)
);
CREATE INDEX IF NOT EXISTS issues_by_created ON issues(created_at, id);
CREATE INDEX IF NOT EXISTS issues_by_updated ON issues(updated_at, id);
CREATE INDEX IF NOT EXISTS issues_by_state ON issues(state_id);
CREATE INDEX IF NOT EXISTS issues_by_assignee ON issues(assignee_id);
CREATE INDEX IF NOT EXISTS issues_by_project ON issues(project_id);
CREATE INDEX IF NOT EXISTS issues_by_cycle ON issues(cycle_id);
CREATE INDEX IF NOT EXISTS issues_by_parent ON issues(parent_id);
CREATE TABLE IF NOT EXISTS issue_labels (
    issue_id  TEXT NOT NULL REFERENCES issues(id),
    label_id  TEXT NOT NULL REFERENCES labels(id),
    PRIMARY KEY (issue_id, label_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS issue_labels_by_label ON issue_labels(label_id, issue_id);
CREATE TABLE IF NOT EXISTS comments (
    id                 TEXT PRIMARY KEY,
    issue_id           TEXT NOT NULL REFERENCES issues(id),
    user_id            TEXT REFERENCES users(id),
    parent_id          TEXT REFERENCES comments(id),
    body               TEXT NOT NULL,
    quoted_text        TEXT,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    edited_at          TEXT,
    resolved_at        TEXT,
    resolving_user_id  TEXT REFERENCES users(id),
    archived_at        TEXT
);
CREATE INDEX IF NOT EXISTS comments_by_issue ON comments(issue_id, created_at);
"""

# What /_admin/export dumps: table -> (ORDER BY, JSON columns).
EXPORT_TABLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "organization": ("id", ()),
    "users": ("key", ()),
    "tokens": ("token", ()),
    "teams": ("key", ()),
    "team_members": ("team_id, user_id", ()),
    "states": ("team_id, position, id", ()),
    "labels": ("IFNULL(team_id, ''), name", ()),
    "projects": ("key", ()),
    "project_teams": ("project_id, team_id", ()),
    "project_members": ("project_id, user_id", ()),
    "cycles": ("team_id, number", ()),
    "issues": ("team_id, number", ("previous_identifiers",)),
    "issue_labels": ("issue_id, label_id", ()),
    "comments": ("issue_id, created_at, id", ()),
}
