"""Storing one normalized event: find or create its issue, regress it, keep counters current.

Runs inside the caller's transaction. Returns the mutations worth an entry in the foundation's
events table (a new issue, a regression, an ignore that lapsed) for the caller to record; plain
repeat events are not recorded there, so traffic does not flood the grader's log.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Any

from environments.tools.sentry.normalize import Normalized, dumps

Mutation = tuple[str, str, dict[str, Any]]  # (kind, object_id, payload)


@dataclass
class Stored:
    event_id: str
    issue_id: int
    created: bool
    duplicate: bool = False
    mutations: list[Mutation] = field(default_factory=list)


def ensure_release(
    db: sqlite3.Connection, version: str, project_id: int, when: float, *, new_group: bool = False
) -> int:
    """The release id for ``version`` (created on first sight, as Sentry does on ingestion)."""
    db.execute(
        "INSERT INTO releases(version, date_created, first_event, last_event) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(version) DO UPDATE SET "
        "first_event = MIN(COALESCE(first_event, excluded.first_event), excluded.first_event), "
        "last_event = MAX(COALESCE(last_event, excluded.last_event), excluded.last_event)",
        (version, when, when, when),
    )
    release_id = db.execute("SELECT id FROM releases WHERE version = ?", (version,)).fetchone()[0]
    db.execute(
        "INSERT INTO release_projects(release_id, project_id, new_groups) VALUES (?, ?, ?) "
        "ON CONFLICT(release_id, project_id) DO UPDATE SET "
        "new_groups = new_groups + excluded.new_groups",
        (release_id, project_id, 1 if new_group else 0),
    )
    return release_id


def release_created(db: sqlite3.Connection, version: str | None) -> float | None:
    if not version:
        return None
    row = db.execute("SELECT date_created FROM releases WHERE version = ?", (version,)).fetchone()
    return None if row is None else row[0]


def _regresses(db: sqlite3.Connection, issue: sqlite3.Row, ev: Normalized) -> bool:
    """Whether a new event reopens a resolved issue (Sentry's regression rules, simplified)."""
    details = issue["status_details"] or "{}"
    if '"inNextRelease"' in details or '"inRelease"' in details:
        reference = issue["resolved_release"]
        if not ev.release or ev.release == reference:
            return False
        ours, theirs = release_created(db, ev.release), release_created(db, reference)
        return theirs is None or ours is None or ours >= theirs
    resolved_at = issue["resolved_at"]
    return resolved_at is None or ev.timestamp > resolved_at


def _ignore_lapsed(issue: sqlite3.Row, ev: Normalized, times_seen: int) -> bool:
    if issue["ignore_until"] is not None and ev.timestamp >= issue["ignore_until"]:
        return True
    return issue["ignore_count"] is not None and times_seen >= issue["ignore_count"]


def store_event(
    db: sqlite3.Connection,
    ev: Normalized,
    project: sqlite3.Row,
    *,
    received: float,
    size: int,
    fixture_key: str | None = None,
) -> Stored:
    """Insert the event and update (or create) its issue. Duplicated event ids are ignored."""
    existing = db.execute("SELECT issue_id FROM error_events WHERE event_id = ?", (ev.event_id,))
    if (row := existing.fetchone()) is not None:
        return Stored(ev.event_id, row[0], created=False, duplicate=True)

    project_id = project["id"]
    found = db.execute(
        "SELECT i.* FROM fingerprints f JOIN issues i ON i.id = f.issue_id "
        "WHERE f.project_id = ? AND f.hash = ?",
        (project_id, ev.hash),
    ).fetchone()
    mutations: list[Mutation] = []
    if found is None:
        issue_id = _create_issue(db, ev, project, fixture_key)
        created = True
        mutations.append(
            (
                "issue.created",
                str(issue_id),
                {"issue_id": issue_id, "project": project["slug"], "title": ev.title},
            )
        )
    else:
        issue_id = found["id"]
        created = False
        mutations.extend(_update_issue(db, found, ev))

    db.execute(
        "INSERT INTO error_events(event_id, issue_id, project_id, timestamp, received, level, release, "
        "environment, user_tag, search_text, size, data) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            ev.event_id,
            issue_id,
            project_id,
            ev.timestamp,
            received,
            ev.level,
            ev.release,
            ev.environment,
            ev.user_tag,
            f"{ev.title}\n{ev.message}".lower()[:4096],
            size,
            dumps(ev.data),
        ),
    )
    if ev.user_tag:
        cur = db.execute(
            "INSERT OR IGNORE INTO issue_users(issue_id, user_tag) VALUES (?, ?)",
            (issue_id, ev.user_tag),
        )
        if cur.rowcount:
            db.execute("UPDATE issues SET user_count = user_count + 1 WHERE id = ?", (issue_id,))
    db.executemany(
        "INSERT INTO issue_tags(issue_id, key, value, times_seen, first_seen, last_seen) "
        "VALUES (?, ?, ?, 1, ?, ?) ON CONFLICT(issue_id, key, value) DO UPDATE SET "
        "times_seen = times_seen + 1, first_seen = MIN(first_seen, excluded.first_seen), "
        "last_seen = MAX(last_seen, excluded.last_seen)",
        [(issue_id, k, v, ev.timestamp, ev.timestamp) for k, v in ev.tags],
    )
    if ev.release:
        ensure_release(db, ev.release, project_id, ev.timestamp, new_group=created)
    if ev.environment:
        db.execute(
            "INSERT OR IGNORE INTO environments(project_id, name) VALUES (?, ?)",
            (project_id, ev.environment),
        )
    if project["first_event"] is None or ev.timestamp < project["first_event"]:
        db.execute("UPDATE projects SET first_event = ? WHERE id = ?", (ev.timestamp, project_id))
    return Stored(ev.event_id, issue_id, created, mutations=mutations)


def _create_issue(
    db: sqlite3.Connection, ev: Normalized, project: sqlite3.Row, fixture_key: str | None
) -> int:
    seq = db.execute(
        "UPDATE projects SET next_short_id = next_short_id + 1 WHERE id = ? "
        "RETURNING next_short_id - 1",
        (project["id"],),
    ).fetchone()[0]
    cur = db.execute(
        "INSERT INTO issues(project_id, short_seq, fixture_key, type, title, culprit, level, "
        "platform, logger, metadata, status, substatus, priority, first_seen, last_seen, "
        "times_seen, first_release, last_release, is_unhandled) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,'unresolved','new',?,?,?,1,?,?,?)",
        (
            project["id"],
            seq,
            fixture_key,
            ev.type,
            ev.title,
            ev.culprit,
            ev.level,
            ev.data.get("platform"),
            ev.data.get("logger"),
            dumps(ev.metadata),
            priority_for(ev.level),
            ev.timestamp,
            ev.timestamp,
            ev.release,
            ev.release,
            int(ev.is_unhandled),
        ),
    )
    issue_id = int(cur.lastrowid)
    db.execute(
        "INSERT INTO fingerprints(project_id, hash, issue_id) VALUES (?, ?, ?)",
        (project["id"], ev.hash, issue_id),
    )
    return issue_id


def priority_for(level: str) -> str:
    return {"fatal": "high", "error": "high", "warning": "medium"}.get(level, "low")


def _update_issue(db: sqlite3.Connection, issue: sqlite3.Row, ev: Normalized) -> list[Mutation]:
    times_seen = issue["times_seen"] + 1
    newest = ev.timestamp >= issue["last_seen"]
    sets = ["times_seen = ?", "first_seen = MIN(first_seen, ?)", "last_seen = MAX(last_seen, ?)"]
    args: list[Any] = [times_seen, ev.timestamp, ev.timestamp]
    if newest:
        sets += ["level = ?", "culprit = ?", "title = ?", "metadata = ?"]
        args += [ev.level, ev.culprit, ev.title, dumps(ev.metadata)]
        if ev.release:
            sets.append("last_release = ?")
            args.append(ev.release)
    if ev.is_unhandled:
        sets.append("is_unhandled = 1")
    mutations: list[Mutation] = []
    short = {"issue_id": issue["id"], "title": ev.title, "event_id": ev.event_id}
    if issue["status"] == "resolved" and _regresses(db, issue, ev):
        sets += [
            "status = 'unresolved'",
            "substatus = 'regressed'",
            "status_details = '{}'",
            "status_actor = NULL",
            "resolved_at = NULL",
            "resolved_release = NULL",
        ]
        add_activity(db, issue["id"], "set_regression", None, {"version": ev.release or ""}, ev)
        mutations.append(("issue.regressed", str(issue["id"]), {**short, "release": ev.release}))
    elif issue["status"] == "ignored" and _ignore_lapsed(issue, ev, times_seen):
        sets += [
            "status = 'unresolved'",
            "substatus = 'escalating'",
            "status_details = '{}'",
            "status_actor = NULL",
            "ignore_until = NULL",
            "ignore_count = NULL",
        ]
        add_activity(db, issue["id"], "set_escalating", None, {}, ev)
        mutations.append(("issue.escalated", str(issue["id"]), short))
    db.execute(f"UPDATE issues SET {', '.join(sets)} WHERE id = ?", (*args, issue["id"]))
    return mutations


def add_activity(
    db: sqlite3.Connection,
    issue_id: int,
    kind: str,
    user_id: int | None,
    data: dict[str, Any],
    at: Normalized | float,
) -> int:
    when = at.data["received"] if isinstance(at, Normalized) else at
    cur = db.execute(
        "INSERT INTO activities(issue_id, type, user_id, data, date_created) VALUES (?,?,?,?,?)",
        (issue_id, kind, user_id, dumps(data), when),
    )
    return int(cur.lastrowid)
