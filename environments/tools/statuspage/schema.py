"""The status page imitation's tables. Ids are Statuspage-shaped (12 lowercase alphanumerics);
times are unix seconds (REAL); ``seq`` columns keep insertion order for equal times."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS pages (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    subdomain     TEXT NOT NULL,
    url           TEXT,
    time_zone     TEXT NOT NULL DEFAULT 'Etc/UTC',
    headline      TEXT,
    description   TEXT,
    position      INTEGER NOT NULL,
    created_at    REAL NOT NULL,
    updated_at    REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS api_keys (
    key           TEXT PRIMARY KEY,
    user_key      TEXT NOT NULL,
    created_at    REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS components (
    id            TEXT PRIMARY KEY,
    page_id       TEXT NOT NULL REFERENCES pages(id),
    fixture_key   TEXT,
    name          TEXT NOT NULL,
    description   TEXT,
    position      INTEGER NOT NULL,
    status        TEXT NOT NULL DEFAULT 'operational',
    showcase      INTEGER NOT NULL DEFAULT 1,
    only_show_if_degraded INTEGER NOT NULL DEFAULT 0,
    start_date    TEXT,
    created_at    REAL NOT NULL,
    updated_at    REAL NOT NULL,
    UNIQUE (page_id, fixture_key)
);
CREATE TABLE IF NOT EXISTS incidents (
    id            TEXT PRIMARY KEY,
    page_id       TEXT NOT NULL REFERENCES pages(id),
    fixture_key   TEXT UNIQUE,
    name          TEXT NOT NULL,
    status        TEXT NOT NULL,
    impact_override TEXT,
    metadata      TEXT NOT NULL DEFAULT '{}',
    postmortem_body TEXT,
    postmortem_published_at REAL,
    scheduled_for REAL,
    scheduled_until REAL,
    created_at    REAL NOT NULL,
    updated_at    REAL NOT NULL,
    started_at    REAL NOT NULL,
    monitoring_at REAL,
    resolved_at   REAL
);
CREATE INDEX IF NOT EXISTS incidents_by_page ON incidents(page_id, created_at);
CREATE TABLE IF NOT EXISTS incident_components (
    incident_id   TEXT NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    component_id  TEXT NOT NULL REFERENCES components(id) ON DELETE CASCADE,
    PRIMARY KEY (incident_id, component_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS incident_updates (
    id            TEXT PRIMARY KEY,
    incident_id   TEXT NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    seq           INTEGER NOT NULL,
    status        TEXT NOT NULL,
    body          TEXT NOT NULL DEFAULT '',
    affected_components TEXT,               -- JSON list of {code, name, old_status, new_status}
    deliver_notifications INTEGER NOT NULL DEFAULT 1,
    created_at    REAL NOT NULL,
    updated_at    REAL NOT NULL,
    display_at    REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS updates_by_incident ON incident_updates(incident_id, seq);
CREATE TABLE IF NOT EXISTS counters (
    name          TEXT PRIMARY KEY,
    value         INTEGER NOT NULL
);
"""

# What /_admin/export dumps: table -> (ORDER BY, JSON columns).
EXPORT_TABLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "pages": ("position, id", ()),
    "api_keys": ("key", ()),
    "components": ("page_id, position, id", ()),
    "incidents": ("page_id, created_at, id", ("metadata",)),
    "incident_components": ("incident_id, component_id", ()),
    "incident_updates": ("incident_id, seq", ("affected_components",)),
    "counters": ("name", ()),
}
