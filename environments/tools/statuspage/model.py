"""Status page rules shared by fixtures, the manage API and the public page.

- Component statuses, incident statuses and impacts as Statuspage names them.
- :class:`Writer` — creating and updating incidents: each change of status, body or components
  is an incident update; component statuses named in it change and are listed as
  ``affected_components``; ``monitoring_at``/``resolved_at`` follow the status.
- Impact is ``impact_override`` or derived from the worst component status the incident ever
  set; the page indicator blends unresolved incidents and component statuses.
- Serializers for the manage API (v1, UTC ``Z`` times) and the public API (v2, page time zone).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import zoneinfo
from dataclasses import dataclass, field
from typing import Any

from environments.tools.common import stable_id

COMPONENT_STATUSES = (
    "operational",
    "under_maintenance",
    "degraded_performance",
    "partial_outage",
    "major_outage",
)
REALTIME_STATUSES = ("investigating", "identified", "monitoring", "resolved", "postmortem")
MAINTENANCE_STATUSES = ("scheduled", "in_progress", "verifying", "completed")
INCIDENT_STATUSES = REALTIME_STATUSES + MAINTENANCE_STATUSES
CLOSED = ("resolved", "postmortem", "completed")
IMPACTS = ("none", "maintenance", "minor", "major", "critical")
_IMPACT_OF = {
    "operational": "none",
    "under_maintenance": "maintenance",
    "degraded_performance": "minor",
    "partial_outage": "major",
    "major_outage": "critical",
}
_SEVERITY = {"none": 0, "maintenance": 1, "minor": 2, "major": 3, "critical": 4}
_DESCRIPTION = {
    "none": "All Systems Operational",
    "maintenance": "Service Under Maintenance",
    "minor": "Minor Service Outage",
    "major": "Partial System Outage",
    "critical": "Major Service Outage",
}


class PageError(Exception):
    """A refused request: HTTP status and Statuspage's ``error`` text."""

    def __init__(self, status: int, error: str):
        super().__init__(error)
        self.status = status
        self.error = error


# -- ids and times -----------------------------------------------------------------------------


def page_id_for(seed: int, *parts: object) -> str:
    """A Statuspage-shaped id (12 lowercase base32 characters) derived from a stable key."""
    return stable_id("", seed, "statuspage", *parts, length=12).lower()


def next_id(db: sqlite3.Connection, seed: int, kind: str) -> str:
    """A fresh id for an object created through the API: the n-th of its kind, so replays of
    the same calls give the same ids."""
    row = db.execute(
        "INSERT INTO counters(name, value) VALUES (?, 1) "
        "ON CONFLICT(name) DO UPDATE SET value = value + 1 RETURNING value",
        (kind,),
    ).fetchone()
    return page_id_for(seed, "api", kind, row[0])


def parse_time(value: Any) -> float | None:
    """Unix seconds from an ISO 8601 string (naive = UTC) or a number; None if neither."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if 0 <= value < 32503680000 else None
    if isinstance(value, str) and 4 <= len(value) <= 40:
        try:
            moment = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            return None
        return (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).timestamp()
    return None


def iso_z(seconds: float | None) -> str | None:
    """Manage-API time: UTC with milliseconds and ``Z``."""
    if seconds is None:
        return None
    moment = dt.datetime.fromtimestamp(seconds, dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def iso_local(seconds: float | None, time_zone: str) -> str | None:
    """Public-API time: in the page's time zone with its offset, as status pages serve them."""
    if seconds is None:
        return None
    try:
        zone: dt.tzinfo = zoneinfo.ZoneInfo(time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = dt.UTC
    return dt.datetime.fromtimestamp(seconds, zone).isoformat(timespec="milliseconds")


# -- impact and indicator ----------------------------------------------------------------------


def incident_impact(db: sqlite3.Connection, incident: sqlite3.Row) -> str:
    if incident["impact_override"]:
        return incident["impact_override"]
    if incident["scheduled_for"] is not None:
        return "maintenance"
    worst = "none"
    for (raw,) in db.execute(
        "SELECT affected_components FROM incident_updates WHERE incident_id = ? "
        "AND affected_components IS NOT NULL",
        (incident["id"],),
    ):
        for change in json.loads(raw):
            impact = _IMPACT_OF.get(change.get("new_status"), "none")
            if _SEVERITY[impact] > _SEVERITY[worst]:
                worst = impact
    return worst


def page_status(db: sqlite3.Connection, page_id: str) -> dict[str, str]:
    """``{"indicator", "description"}``: the worse of open incidents and component statuses."""
    worst = "none"
    for incident in db.execute(
        "SELECT * FROM incidents WHERE page_id = ? AND status NOT IN ('resolved', 'postmortem', "
        "'completed', 'scheduled')",
        (page_id,),
    ).fetchall():
        impact = incident_impact(db, incident)
        if _SEVERITY[impact] > _SEVERITY[worst]:
            worst = impact
    for (status,) in db.execute("SELECT status FROM components WHERE page_id = ?", (page_id,)):
        impact = _IMPACT_OF.get(status, "none")
        if _SEVERITY[impact] > _SEVERITY[worst]:
            worst = impact
    return {"indicator": worst, "description": _DESCRIPTION[worst]}


# -- serializers -------------------------------------------------------------------------------


def component_json(
    row: sqlite3.Row, *, public: bool = False, tz: str = "Etc/UTC"
) -> dict[str, Any]:
    when = (lambda t: iso_local(t, tz)) if public else iso_z
    out = {
        "id": row["id"],
        "name": row["name"],
        "status": row["status"],
        "created_at": when(row["created_at"]),
        "updated_at": when(row["updated_at"]),
        "position": row["position"],
        "description": row["description"],
        "showcase": bool(row["showcase"]),
        "start_date": row["start_date"],
        "group_id": None,
        "page_id": row["page_id"],
        "group": False,
        "only_show_if_degraded": bool(row["only_show_if_degraded"]),
    }
    if not public:
        out["automation_email"] = f"component+{row['id']}@notifications.statuspage.io"
    return out


def update_json(row: sqlite3.Row, *, public: bool = False, tz: str = "Etc/UTC") -> dict[str, Any]:
    when = (lambda t: iso_local(t, tz)) if public else iso_z
    affected = json.loads(row["affected_components"]) if row["affected_components"] else None
    out: dict[str, Any] = {
        "id": row["id"],
        "status": row["status"],
        "body": row["body"],
        "incident_id": row["incident_id"],
        "created_at": when(row["created_at"]),
        "updated_at": when(row["updated_at"]),
        "display_at": when(row["display_at"]),
        "affected_components": affected,
        "deliver_notifications": bool(row["deliver_notifications"]),
        "custom_tweet": None,
        "tweet_id": None,
    }
    if not public:
        out["twitter_updated_at"] = None
        out["wants_twitter_update"] = False
    return out


def incident_json(
    db: sqlite3.Connection,
    row: sqlite3.Row,
    base_url: str,
    *,
    public: bool = False,
    tz: str = "Etc/UTC",
) -> dict[str, Any]:
    when = (lambda t: iso_local(t, tz)) if public else iso_z
    updates = db.execute(
        "SELECT * FROM incident_updates WHERE incident_id = ? ORDER BY seq DESC", (row["id"],)
    ).fetchall()
    components = db.execute(
        "SELECT c.* FROM incident_components ic JOIN components c ON c.id = ic.component_id "
        "WHERE ic.incident_id = ? ORDER BY c.position, c.id",
        (row["id"],),
    ).fetchall()
    out: dict[str, Any] = {
        "id": row["id"],
        "name": row["name"],
        "status": row["status"],
        "created_at": when(row["created_at"]),
        "updated_at": when(row["updated_at"]),
        "monitoring_at": when(row["monitoring_at"]),
        "resolved_at": when(row["resolved_at"]),
        "impact": incident_impact(db, row),
        "shortlink": f"{base_url}/incidents/{row['id']}",
        "started_at": when(row["started_at"]),
        "page_id": row["page_id"],
        "incident_updates": [update_json(u, public=public, tz=tz) for u in updates],
        "components": [component_json(c, public=public, tz=tz) for c in components],
    }
    if row["scheduled_for"] is not None or not public:
        out["scheduled_for"] = when(row["scheduled_for"])
        out["scheduled_until"] = when(row["scheduled_until"])
    if not public:
        out.update(
            {
                "impact_override": row["impact_override"],
                "metadata": json.loads(row["metadata"]),
                "postmortem_body": row["postmortem_body"],
                "postmortem_body_last_updated_at": None,
                "postmortem_ignored": False,
                "postmortem_notified_subscribers": False,
                "postmortem_notified_twitter": False,
                "postmortem_published_at": iso_z(row["postmortem_published_at"]),
                "scheduled_auto_completed": False,
                "scheduled_auto_in_progress": False,
                "scheduled_remind_prior": False,
                "scheduled_reminded_at": None,
                "auto_transition_deliver_notifications_at_end": None,
                "auto_transition_deliver_notifications_at_start": None,
                "auto_transition_to_maintenance_state": None,
                "auto_transition_to_operational_state": None,
                "auto_tweet_at_beginning": None,
                "auto_tweet_on_completion": None,
                "auto_tweet_on_creation": None,
                "auto_tweet_one_hour_before": None,
                "backfill_date": None,
                "backfilled": False,
                "reminder_intervals": None,
            }
        )
    return out


def page_json(row: sqlite3.Row) -> dict[str, Any]:
    """``GET /v1/pages/{id}``: the page profile (fields clients read; the rest at defaults)."""
    return {
        "id": row["id"],
        "created_at": iso_z(row["created_at"]),
        "updated_at": iso_z(row["updated_at"]),
        "name": row["name"],
        "page_description": row["description"],
        "headline": row["headline"],
        "branding": "basic",
        "subdomain": row["subdomain"],
        "domain": (row["url"] or "").split("://", 1)[-1].rstrip("/") or None,
        "url": row["url"],
        "support_url": None,
        "hidden_from_search": False,
        "allow_page_subscribers": True,
        "allow_incident_subscribers": True,
        "allow_email_subscribers": True,
        "allow_sms_subscribers": False,
        "allow_rss_atom_feeds": True,
        "allow_webhook_subscribers": True,
        "notifications_from_email": "noreply@statuspage.io",
        "notifications_email_footer": None,
        "activity_score": 0,
        "twitter_username": None,
        "viewers_must_be_team_members": False,
        "ip_restrictions": None,
        "city": None,
        "state": None,
        "country": None,
        "time_zone": row["time_zone"],
        "css_body_background_color": "#ffffff",
        "css_font_color": "#333333",
        "css_light_font_color": "#757575",
        "css_greens": "#2fcc66",
        "css_yellows": "#f1c40f",
        "css_oranges": "#e67e22",
        "css_blues": "#3498db",
        "css_reds": "#e74c3c",
        "css_border_color": "#ecf0f1",
        "css_graph_color": "#3498db",
        "css_link_color": "#3498db",
        "css_no_data": "#b3bac5",
        "favicon_logo": None,
        "transactional_logo": None,
        "hero_cover": None,
        "email_logo": None,
        "twitter_logo": None,
    }


def public_page_json(row: sqlite3.Row, updated_at: float | None = None) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "url": row["url"],
        "time_zone": row["time_zone"],
        "updated_at": iso_local(updated_at or row["updated_at"], row["time_zone"]),
    }


# -- writing incidents -------------------------------------------------------------------------


@dataclass
class Change:
    """A requested incident create/update (already validated)."""

    name: str | None = None
    status: str | None = None
    body: str | None = None
    impact_override: str | None = None
    impact_override_set: bool = False
    components: dict[str, str] = field(default_factory=dict)  # component id -> new status
    component_ids: list[str] | None = None
    deliver_notifications: bool = True
    metadata: dict[str, Any] | None = None
    scheduled_for: float | None = None
    scheduled_until: float | None = None


@dataclass
class Writer:
    """Creates and updates incidents; returns foundation events for the caller to record."""

    db: sqlite3.Connection
    seed: int
    events: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    def _components(self, page_id: str, ids: list[str]) -> dict[str, sqlite3.Row]:
        found = {}
        for component_id in ids:
            row = self.db.execute(
                "SELECT * FROM components WHERE id = ? AND page_id = ?", (component_id, page_id)
            ).fetchone()
            if row is None:
                raise PageError(422, f"Component {component_id} could not be found on this page")
            found[component_id] = row
        return found

    def _set_components(
        self, page_id: str, changes: dict[str, str], at: float, incident_id: str | None
    ) -> list[dict[str, str]]:
        rows = self._components(page_id, list(changes))
        affected = []
        for component_id, status in changes.items():
            row = rows[component_id]
            affected.append(
                {
                    "code": component_id,
                    "name": row["name"],
                    "old_status": row["status"],
                    "new_status": status,
                }
            )
            if status != row["status"]:
                self.db.execute(
                    "UPDATE components SET status = ?, updated_at = ? WHERE id = ?",
                    (status, at, component_id),
                )
                self.events.append(
                    (
                        "component.status_changed",
                        component_id,
                        {
                            "page_id": page_id,
                            "component_id": component_id,
                            "name": row["name"],
                            "from": row["status"],
                            "to": status,
                            "incident_id": incident_id,
                        },
                    )
                )
        return affected

    def _link(self, incident_id: str, component_ids: list[str]) -> None:
        self.db.executemany(
            "INSERT OR IGNORE INTO incident_components(incident_id, component_id) VALUES (?, ?)",
            [(incident_id, c) for c in component_ids],
        )

    def _add_update(
        self,
        incident_id: str,
        status: str,
        body: str,
        affected: list[dict[str, str]] | None,
        deliver: bool,
        at: float,
        update_id: str | None = None,
    ) -> str:
        seq = self.db.execute(
            "SELECT COALESCE(MAX(seq), 0) + 1 FROM incident_updates WHERE incident_id = ?",
            (incident_id,),
        ).fetchone()[0]
        update_id = update_id or next_id(self.db, self.seed, "incident_update")
        self.db.execute(
            "INSERT INTO incident_updates(id, incident_id, seq, status, body, affected_components, "
            "deliver_notifications, created_at, updated_at, display_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                update_id,
                incident_id,
                seq,
                status,
                body,
                json.dumps(affected) if affected else None,
                int(deliver),
                at,
                at,
                at,
            ),
        )
        return update_id

    def create(
        self,
        page_id: str,
        change: Change,
        at: float,
        *,
        incident_id: str | None = None,
        fixture_key: str | None = None,
        update_id: str | None = None,
    ) -> str:
        if not change.name:
            raise PageError(422, "Name can't be blank")
        scheduled = change.scheduled_for is not None
        status = change.status or ("scheduled" if scheduled else "investigating")
        incident_id = incident_id or next_id(self.db, self.seed, "incident")
        self.db.execute(
            "INSERT INTO incidents(id, page_id, fixture_key, name, status, impact_override, metadata, "
            "scheduled_for, scheduled_until, created_at, updated_at, started_at, monitoring_at, "
            "resolved_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                incident_id,
                page_id,
                fixture_key,
                change.name,
                status,
                change.impact_override,
                json.dumps(change.metadata or {}),
                change.scheduled_for,
                change.scheduled_until,
                at,
                at,
                at,
                at if status == "monitoring" else None,
                at if status in CLOSED else None,
            ),
        )
        affected = self._set_components(page_id, change.components, at, incident_id)
        linked = list(change.components) + [
            c for c in (change.component_ids or []) if c not in change.components
        ]
        self._components(page_id, linked)
        self._link(incident_id, linked)
        self._add_update(
            incident_id,
            status,
            change.body or "",
            affected,
            change.deliver_notifications,
            at,
            update_id,
        )
        self.events.append(
            (
                "incident.created",
                incident_id,
                {
                    "page_id": page_id,
                    "incident_id": incident_id,
                    "name": change.name,
                    "status": status,
                    "body": change.body or "",
                    "components": {a["name"]: a["new_status"] for a in affected},
                },
            )
        )
        return incident_id

    def update(
        self, incident: sqlite3.Row, change: Change, at: float, *, update_id: str | None = None
    ) -> None:
        sets: list[str] = ["updated_at = ?"]
        args: list[Any] = [at]
        if change.name is not None:
            if not change.name:
                raise PageError(422, "Name can't be blank")
            sets.append("name = ?")
            args.append(change.name)
        if change.impact_override_set:
            sets.append("impact_override = ?")
            args.append(change.impact_override)
        if change.metadata is not None:
            sets.append("metadata = ?")
            args.append(json.dumps(change.metadata))
        status = change.status or incident["status"]
        if change.status and change.status != incident["status"]:
            sets.append("status = ?")
            args.append(status)
            if status == "monitoring" and incident["monitoring_at"] is None:
                sets.append("monitoring_at = ?")
                args.append(at)
            if status in CLOSED and incident["resolved_at"] is None:
                sets.append("resolved_at = ?")
                args.append(at)
            if status not in CLOSED:
                sets.append("resolved_at = NULL")
        affected = self._set_components(incident["page_id"], change.components, at, incident["id"])
        if change.component_ids is not None:
            keep = list(change.components) + [
                c for c in change.component_ids if c not in change.components
            ]
            self._components(incident["page_id"], keep)
            self.db.execute(
                "DELETE FROM incident_components WHERE incident_id = ?", (incident["id"],)
            )
            self._link(incident["id"], keep)
        else:
            self._link(incident["id"], list(change.components))
        self.db.execute(
            f"UPDATE incidents SET {', '.join(sets)} WHERE id = ?", (*args, incident["id"])
        )
        status_changed = change.status is not None and change.status != incident["status"]
        if status_changed or change.body is not None or affected:
            self._add_update(
                incident["id"],
                status,
                change.body or "",
                affected,
                change.deliver_notifications,
                at,
                update_id,
            )
        self.events.append(
            (
                "incident.updated",
                incident["id"],
                {
                    "page_id": incident["page_id"],
                    "incident_id": incident["id"],
                    "name": change.name or incident["name"],
                    "from": incident["status"],
                    "to": status,
                    "body": change.body,
                    "components": {a["name"]: a["new_status"] for a in affected},
                },
            )
        )
