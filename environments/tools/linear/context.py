"""What every resolver gets: the request's connection, viewer, clock and caches.

Teams, states, users, labels, projects and cycles are few, so they are read once per change
of the state (:class:`Lookup`) and to-one fields (``issue.state``, ``issue.assignee``) are dict
lookups. An issue's labels are loaded for every issue of the request at once, the first time
any of them is asked for, so a page of 50 issues costs one label query, not 50.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from environments.tools.linear.model import is_uuid, split_identifier
from environments.tools.linear.reader import Reader

if TYPE_CHECKING:
    from environments.tools.linear.service import LinearService


def _newest_first(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda r: (r["createdAt"], r["id"]), reverse=True)


class Lookup:
    """A snapshot of the small tables, keyed for the lookups resolvers make."""

    def __init__(self, reader: Reader):
        org = reader.db.execute(
            "SELECT id, name, url_key, created_at, updated_at FROM organization"
        ).fetchone()
        self.org: dict[str, Any] = {
            "id": org[0] if org else "",
            "name": org[1] if org else "",
            "urlKey": org[2] if org else "linear",
            "createdAt": org[3] if org else "1970-01-01T00:00:00.000Z",
            "updatedAt": org[4] if org else "1970-01-01T00:00:00.000Z",
            "logoUrl": None,
            "archivedAt": None,
        }
        self.teams = {r["id"]: r for r in reader.all("Team")}
        self.team_keys = {r["key"]: r for r in self.teams.values()}
        self.states = {r["id"]: r for r in reader.all("WorkflowState")}
        self.users = {r["id"]: r for r in reader.all("User")}
        self.labels = {r["id"]: r for r in reader.all("IssueLabel")}
        self.projects = {r["id"]: r for r in reader.all("Project")}
        self.project_slugs = {r["slugId"]: r for r in self.projects.values()}
        self.cycles = {r["id"]: r for r in reader.all("Cycle")}
        self.team_cycles: dict[str, list[dict[str, Any]]] = {}
        for cycle in sorted(self.cycles.values(), key=lambda c: (c["startsAt"], c["id"])):
            self.team_cycles.setdefault(cycle["teamId"], []).append(cycle)

    def team(self, ref: Any) -> dict[str, Any] | None:
        if not isinstance(ref, str):
            return None
        return self.teams.get(ref) or self.team_keys.get(ref.strip().upper())

    def team_states(self, team_id: str) -> list[dict[str, Any]]:
        return sorted(
            (s for s in self.states.values() if s["teamId"] == team_id),
            key=lambda s: (s["position"], s["id"]),
        )


@dataclass
class Context:
    service: LinearService
    db: sqlite3.Connection
    reader: Reader
    lookup: Lookup
    viewer: dict[str, Any]
    now: float
    now_iso: str
    events: list[tuple[str, str, str, dict[str, Any]]] = field(default_factory=list)
    _labels: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    _pending: set[str] = field(default_factory=set)
    _issues: dict[str, dict[str, Any]] = field(default_factory=dict)

    # -- batching ----------------------------------------------------------------------------

    def seen(self, issues: list[dict[str, Any]]) -> None:
        """Issues this request returns: their labels get loaded together when needed."""
        for issue in issues:
            self._issues.setdefault(issue["id"], issue)
            if issue["id"] not in self._labels:
                self._pending.add(issue["id"])

    def issue_labels(self, issue_id: str) -> list[dict[str, Any]]:
        labels = self._labels.get(issue_id)
        if labels is not None:
            return labels
        wanted = sorted(self._pending | {issue_id})
        self._pending.clear()
        found: dict[str, list[dict[str, Any]]] = {i: [] for i in wanted}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ", ".join("?" for _ in chunk)
            for iid, lid in self.db.execute(
                f"SELECT issue_id, label_id FROM issue_labels WHERE issue_id IN ({marks})", chunk
            ):
                label = self.lookup.labels.get(lid)
                if label is not None:
                    found[iid].append(label)
        for iid, rows in found.items():
            self._labels[iid] = _newest_first(rows)
        return self._labels[issue_id]

    # -- lookups -----------------------------------------------------------------------------

    def issue_by_id(self, issue_id: str | None) -> dict[str, Any] | None:
        if issue_id is None:
            return None
        issue = self._issues.get(issue_id)
        if issue is None:
            issue = self.reader.by_ids("Issue", [issue_id]).get(issue_id)
            if issue is not None:
                self.seen([issue])
        return issue

    def find_issue(self, ref: Any) -> dict[str, Any] | None:
        """An issue by UUID or identifier (``ENG-123``, any case; old identifiers too)."""
        if is_uuid(ref):
            return self.issue_by_id(ref.lower())
        parts = split_identifier(ref)
        if parts is None:
            return None
        identifier = f"{parts[0]}-{parts[1]}"
        sql = self.reader.select("Issue", "i") + " WHERE i.identifier = ?"
        rows = self.reader.rows("Issue", sql, [identifier])
        if not rows:
            sql = self.reader.select("Issue", "i") + " WHERE i.previous_identifiers LIKE ?"
            rows = [
                r
                for r in self.reader.rows("Issue", sql, [f'%"{identifier}"%'])
                if identifier in json.loads(r["previousIdentifiersJson"])
            ]
        if not rows:
            return None
        self.seen(rows[:1])
        return rows[0]

    # -- writes ------------------------------------------------------------------------------

    @contextmanager
    def atomic(self) -> Iterator[sqlite3.Connection]:
        """One mutation's writes: all of them or (on any error) none."""
        self.db.execute("SAVEPOINT mutation")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK TO mutation")
            self.db.execute("RELEASE mutation")
            raise
        self.db.execute("RELEASE mutation")

    def changed(self, *, small_tables: bool = False) -> None:
        """After a write: later fields of this request see the new state.

        ``small_tables``: teams, states, users, labels, projects or cycles changed too, so the
        shared :class:`Lookup` is rebuilt (issue and comment writes leave it as it is).
        """
        if small_tables:
            self.service.invalidate()
            self.lookup = self.service.lookup(self.reader)
        self._labels.clear()
        self._pending.clear()
        self._issues.clear()

    def record(self, kind: str, object_id: str, payload: dict[str, Any]) -> None:
        self.events.append((self.viewer["key"], kind, object_id, payload))
        self.service.record(self.viewer["key"], kind, object_id, payload)


__all__ = ["Context", "Lookup"]
