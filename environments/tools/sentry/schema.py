"""The Sentry imitation's tables.

Integer ids (users, teams, projects, issues, activities) are assigned in fixture order and then
by arrival, so the same fixtures always give the same ids. Times are unix seconds (REAL).
``issue_tags``/``issue_users`` are kept up to date at ingestion so tag pages, user counts and
tag filters never scan events.
"""

SCHEMA = """
CREATE TABLE IF NOT EXISTS org (
    id            INTEGER PRIMARY KEY,
    slug          TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    date_created  REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS users (
    id            INTEGER PRIMARY KEY,
    key           TEXT NOT NULL UNIQUE,        -- employee id ('maya.chen') or fixture key
    name          TEXT NOT NULL,
    email         TEXT NOT NULL UNIQUE,
    role          TEXT NOT NULL DEFAULT 'member',
    teams         TEXT NOT NULL DEFAULT '[]',  -- JSON list of team slugs
    date_joined   REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
    token         TEXT PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users(id),
    scopes        TEXT NOT NULL DEFAULT '[]',
    date_created  REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS teams (
    id            INTEGER PRIMARY KEY,
    slug          TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    date_created  REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS projects (
    id            INTEGER PRIMARY KEY,
    slug          TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    platform      TEXT,
    team_id       INTEGER REFERENCES teams(id),
    date_created  REAL NOT NULL,
    first_event   REAL,
    next_short_id INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS keys (
    public_key    TEXT PRIMARY KEY,
    secret_key    TEXT NOT NULL,
    project_id    INTEGER NOT NULL REFERENCES projects(id),
    label         TEXT NOT NULL DEFAULT 'Default',
    is_active     INTEGER NOT NULL DEFAULT 1,
    date_created  REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS releases (
    id            INTEGER PRIMARY KEY,
    version       TEXT NOT NULL UNIQUE,
    date_created  REAL NOT NULL,
    date_released REAL,
    first_event   REAL,
    last_event    REAL,
    commit_id     TEXT,
    commit_message TEXT,
    commit_author TEXT,                         -- user key or free-form name
    commit_date   REAL
);
CREATE TABLE IF NOT EXISTS release_projects (
    release_id    INTEGER NOT NULL REFERENCES releases(id),
    project_id    INTEGER NOT NULL REFERENCES projects(id),
    new_groups    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (release_id, project_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS deploys (
    id            INTEGER PRIMARY KEY,
    release_id    INTEGER NOT NULL REFERENCES releases(id),
    environment   TEXT NOT NULL,
    name          TEXT,
    url           TEXT,
    date_started  REAL,
    date_finished REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS environments (
    project_id    INTEGER NOT NULL REFERENCES projects(id),
    name          TEXT NOT NULL,
    PRIMARY KEY (project_id, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS issues (
    id            INTEGER PRIMARY KEY,
    project_id    INTEGER NOT NULL REFERENCES projects(id),
    short_seq     INTEGER NOT NULL,
    fixture_key   TEXT UNIQUE,
    type          TEXT NOT NULL,               -- 'error' | 'default'
    title         TEXT NOT NULL,
    culprit       TEXT NOT NULL DEFAULT '',
    level         TEXT NOT NULL,
    platform      TEXT,
    logger        TEXT,
    metadata      TEXT NOT NULL,               -- JSON
    status        TEXT NOT NULL DEFAULT 'unresolved',   -- unresolved | resolved | ignored
    substatus     TEXT,
    status_details TEXT NOT NULL DEFAULT '{}', -- JSON, as the API shows it (actor added on read)
    status_actor  INTEGER,
    resolved_at   REAL,
    resolved_release TEXT,                     -- regression reference for in(Next)Release
    ignore_until  REAL,
    ignore_count  INTEGER,                     -- un-ignore when times_seen reaches this
    priority      TEXT NOT NULL DEFAULT 'high',
    assignee      TEXT,                        -- 'user:<id>' | 'team:<id>'
    first_seen    REAL NOT NULL,
    last_seen     REAL NOT NULL,
    times_seen    INTEGER NOT NULL DEFAULT 0,
    user_count    INTEGER NOT NULL DEFAULT 0,
    first_release TEXT,
    last_release  TEXT,
    is_unhandled  INTEGER NOT NULL DEFAULT 0,
    num_comments  INTEGER NOT NULL DEFAULT 0,
    UNIQUE (project_id, short_seq)
);
CREATE INDEX IF NOT EXISTS issues_by_last_seen ON issues(last_seen, id);
CREATE INDEX IF NOT EXISTS issues_by_status ON issues(status, last_seen);
CREATE INDEX IF NOT EXISTS issues_by_project ON issues(project_id, last_seen);
CREATE TABLE IF NOT EXISTS fingerprints (
    project_id    INTEGER NOT NULL,
    hash          TEXT NOT NULL,
    issue_id      INTEGER NOT NULL REFERENCES issues(id),
    PRIMARY KEY (project_id, hash)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS error_events (
    event_id      TEXT PRIMARY KEY,            -- 32 hex characters
    issue_id      INTEGER NOT NULL REFERENCES issues(id),
    project_id    INTEGER NOT NULL,
    timestamp     REAL NOT NULL,
    received      REAL NOT NULL,
    level         TEXT NOT NULL,
    release       TEXT,
    environment   TEXT,
    user_tag      TEXT,
    search_text   TEXT NOT NULL DEFAULT '',    -- title + message, for event search
    size          INTEGER NOT NULL DEFAULT 0,
    data          TEXT NOT NULL                -- JSON: the normalized event
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS events_by_issue ON error_events(issue_id, timestamp);
CREATE INDEX IF NOT EXISTS events_by_project ON error_events(project_id, timestamp);
CREATE TABLE IF NOT EXISTS issue_tags (
    issue_id      INTEGER NOT NULL,
    key           TEXT NOT NULL,
    value         TEXT NOT NULL,
    times_seen    INTEGER NOT NULL DEFAULT 0,
    first_seen    REAL NOT NULL,
    last_seen     REAL NOT NULL,
    PRIMARY KEY (issue_id, key, value)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS issue_tags_by_value ON issue_tags(key, value, issue_id);
CREATE TABLE IF NOT EXISTS issue_users (
    issue_id      INTEGER NOT NULL,
    user_tag      TEXT NOT NULL,
    PRIMARY KEY (issue_id, user_tag)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS issue_user_state (
    issue_id      INTEGER NOT NULL,
    user_id       INTEGER NOT NULL,
    bookmarked    INTEGER NOT NULL DEFAULT 0,
    seen          INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (issue_id, user_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS activities (
    id            INTEGER PRIMARY KEY,
    issue_id      INTEGER NOT NULL REFERENCES issues(id),
    type          TEXT NOT NULL,
    user_id       INTEGER,
    data          TEXT NOT NULL DEFAULT '{}',
    date_created  REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS activities_by_issue ON activities(issue_id, date_created);
CREATE TABLE IF NOT EXISTS attachments (
    id            INTEGER PRIMARY KEY,
    event_id      TEXT NOT NULL,
    project_id    INTEGER NOT NULL,
    name          TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    attachment_type TEXT NOT NULL,
    size          INTEGER NOT NULL,
    sha1          TEXT NOT NULL,
    data          BLOB NOT NULL,
    date_created  REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS attachments_by_event ON attachments(event_id);
CREATE TABLE IF NOT EXISTS outcomes (
    project_id    INTEGER NOT NULL,
    category      TEXT NOT NULL,               -- envelope item type, or 'dropped:<reason>'
    quantity      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (project_id, category)
) WITHOUT ROWID;
"""

# What /_admin/export dumps: table -> (ORDER BY, JSON columns). Attachment bytes are left out.
EXPORT_TABLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "org": ("id", ()),
    "users": ("id", ("teams",)),
    "tokens": ("token", ("scopes",)),
    "teams": ("id", ()),
    "projects": ("id", ()),
    "keys": ("public_key", ()),
    "releases": ("id", ()),
    "release_projects": ("release_id, project_id", ()),
    "deploys": ("id", ()),
    "environments": ("project_id, name", ()),
    "issues": ("id", ("metadata", "status_details")),
    "error_events": ("issue_id, timestamp, event_id", ("data",)),
    "issue_tags": ("issue_id, key, value", ()),
    "activities": ("id", ("data",)),
    "outcomes": ("project_id, category", ()),
}
