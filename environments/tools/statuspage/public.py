"""The public, unauthenticated status page: ``GET /`` (HTML), ``/incidents/{id}`` (HTML) and the
``/api/v2/*.json`` endpoints statuspage.io serves for every page (summary, status, components,
incidents, scheduled maintenances). The first page (by position) is the public one.
"""

from __future__ import annotations

import html
import sqlite3
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from environments.tools.statuspage.api import json_response
from environments.tools.statuspage.model import (
    component_json,
    incident_json,
    iso_local,
    page_status,
    public_page_json,
)

if TYPE_CHECKING:
    from environments.tools.statuspage.service import StatuspageService

RECENT_INCIDENTS = 50
_STATUS_TEXT = {
    "operational": "Operational",
    "degraded_performance": "Degraded Performance",
    "partial_outage": "Partial Outage",
    "major_outage": "Major Outage",
    "under_maintenance": "Under Maintenance",
}
_COLOURS = {
    "operational": "#2fcc66",
    "degraded_performance": "#f1c40f",
    "partial_outage": "#e67e22",
    "major_outage": "#e74c3c",
    "under_maintenance": "#3498db",
    "none": "#2fcc66",
    "minor": "#f1c40f",
    "major": "#e67e22",
    "critical": "#e74c3c",
    "maintenance": "#3498db",
}
UNRESOLVED = "status NOT IN ('resolved', 'postmortem', 'completed') AND scheduled_for IS NULL"
MAINTENANCE = {
    "all": "scheduled_for IS NOT NULL",
    "upcoming": "scheduled_for IS NOT NULL AND status = 'scheduled'",
    "active": "scheduled_for IS NOT NULL AND status IN ('in_progress', 'verifying')",
}


def _page(db: sqlite3.Connection) -> sqlite3.Row | None:
    return db.execute("SELECT * FROM pages ORDER BY position, id LIMIT 1").fetchone()


def _base(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


def _incidents(
    db: sqlite3.Connection, page: sqlite3.Row, where: str, base: str, limit: int
) -> list[dict[str, Any]]:
    rows = db.execute(
        f"SELECT * FROM incidents WHERE page_id = ? AND {where} ORDER BY created_at DESC, id DESC LIMIT ?",
        (page["id"], limit),
    ).fetchall()
    return [incident_json(db, r, base, public=True, tz=page["time_zone"]) for r in rows]


def _components(db: sqlite3.Connection, page: sqlite3.Row) -> list[dict[str, Any]]:
    rows = db.execute(
        "SELECT * FROM components WHERE page_id = ? ORDER BY position, id", (page["id"],)
    ).fetchall()
    return [component_json(r, public=True, tz=page["time_zone"]) for r in rows]


def _last_change(db: sqlite3.Connection, page: sqlite3.Row) -> float:
    """When anything on the page last changed (what ``page.updated_at`` reports)."""
    row = db.execute(
        "SELECT MAX(t) FROM (SELECT MAX(updated_at) AS t FROM components WHERE page_id = ?1 "
        "UNION ALL SELECT MAX(updated_at) FROM incidents WHERE page_id = ?1)",
        (page["id"],),
    ).fetchone()
    return max(page["updated_at"], row[0] or 0)


def v2_document(db: sqlite3.Connection, page: sqlite3.Row, which: str, base: str) -> dict[str, Any]:
    out: dict[str, Any] = {"page": public_page_json(page, _last_change(db, page))}
    if which in ("summary", "components"):
        out["components"] = _components(db, page)
    if which in ("summary", "incidents/unresolved"):
        out["incidents"] = _incidents(db, page, UNRESOLVED, base, RECENT_INCIDENTS)
    if which == "incidents":
        out["incidents"] = _incidents(db, page, "scheduled_for IS NULL", base, RECENT_INCIDENTS)
    if which == "summary":
        out["scheduled_maintenances"] = _incidents(
            db,
            page,
            f"({MAINTENANCE['upcoming']}) OR ({MAINTENANCE['active']})",
            base,
            RECENT_INCIDENTS,
        )
    if which.startswith("scheduled-maintenances"):
        kind = which.partition("/")[2] or "all"
        out["scheduled_maintenances"] = _incidents(
            db, page, MAINTENANCE[kind], base, RECENT_INCIDENTS
        )
    if which in ("summary", "status"):
        out["status"] = page_status(db, page["id"])
    return out


V2_DOCUMENTS = (
    "summary",
    "status",
    "components",
    "incidents",
    "incidents/unresolved",
    "scheduled-maintenances",
    "scheduled-maintenances/upcoming",
    "scheduled-maintenances/active",
)


def v2_endpoint(service: StatuspageService, which: str):
    async def run(request: Request) -> Response:
        with service.store.read() as db:
            page = _page(db)
            if page is None:
                return json_response({"error": "The requested resource could not be found."}, 404)
            body = v2_document(db, page, which, _base(request))
        response = json_response(body)
        response.headers["Access-Control-Allow-Origin"] = "*"
        return response

    return run


# -- HTML --------------------------------------------------------------------------------------


def _e(value: Any) -> str:
    return html.escape(str(value or ""))


def _incident_html(incident: dict[str, Any], *, link: bool = True) -> str:
    title = _e(incident["name"])
    if link:
        title = f'<a href="/incidents/{_e(incident["id"])}">{title}</a>'
    colour = _COLOURS.get(incident["impact"], "#333")
    updates = "".join(
        f'<div class="update"><strong>{_e(u["status"].replace("_", " ").title())}</strong> - '
        f'{_e(u["body"])}<div class="when">{_e(u["display_at"])}</div></div>'
        for u in incident["incident_updates"]
    )
    return (
        f'<div class="incident" data-incident-id="{_e(incident["id"])}" data-status="{_e(incident["status"])}">'
        f'<h3 style="color:{colour}">{title}</h3>{updates}</div>'
    )


def _document(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<title>{_e(title)}</title><meta name="viewport" content="width=device-width">'
        "<style>body{font-family:-apple-system,Helvetica,Arial,sans-serif;max-width:860px;"
        "margin:2em auto;color:#333}.banner{color:#fff;padding:1em;border-radius:4px;"
        "font-size:1.3em}.component{display:flex;justify-content:space-between;padding:.8em;"
        "border:1px solid #ecf0f1}.incident{margin:1em 0}.update{margin:.4em 0}.when{color:#999;"
        "font-size:.85em}</style></head><body>"
        f"{body}</body></html>"
    )


def home_html(db: sqlite3.Connection, page: sqlite3.Row, base: str, now: float) -> str:
    status = page_status(db, page["id"])
    components = _components(db, page)
    active = _incidents(db, page, UNRESOLVED, base, RECENT_INCIDENTS)
    since = int(now - 90 * 86400)
    past = _incidents(
        db,
        page,
        f"status IN ('resolved', 'postmortem') AND created_at >= {since}",
        base,
        RECENT_INCIDENTS,
    )
    parts = [
        f"<h1>{_e(page['name'])} Status</h1>",
        (
            f'<div class="banner" data-indicator="{_e(status["indicator"])}" '
            f'style="background:{_COLOURS[status["indicator"]]}">{_e(status["description"])}</div>'
        ),
    ]
    if active:
        parts.append("<h2>Active incidents</h2>" + "".join(_incidents_html(active)))
    parts.append('<h2>Components</h2><div class="components">')
    for comp in components:
        if comp["only_show_if_degraded"] and comp["status"] == "operational":
            continue
        parts.append(
            f'<div class="component" data-component-id="{_e(comp["id"])}" data-status="{_e(comp["status"])}">'
            f"<span>{_e(comp['name'])}</span>"
            f'<span style="color:{_COLOURS[comp["status"]]}">{_STATUS_TEXT[comp["status"]]}</span></div>'
        )
    parts.append("</div><h2>Past incidents</h2>")
    parts += _incidents_html(past) or ["<p>No incidents reported in the last 90 days.</p>"]
    parts.append(f'<p class="when">Page updated {_e(iso_local(now, page["time_zone"]))}</p>')
    return _document(f"{page['name']} Status", "".join(parts))


def _incidents_html(incidents: list[dict[str, Any]]) -> list[str]:
    return [_incident_html(i) for i in incidents]


def home_endpoint(service: StatuspageService):
    async def run(request: Request) -> Response:
        with service.store.read() as db:
            page = _page(db)
            if page is None:
                return HTMLResponse(_document("Status", "<h1>No status page</h1>"), 404)
            return HTMLResponse(home_html(db, page, _base(request), service.now()))

    return run


def incident_page_endpoint(service: StatuspageService):
    async def run(request: Request) -> Response:
        with service.store.read() as db:
            page = _page(db)
            row = db.execute(
                "SELECT * FROM incidents WHERE id = ?", (request.path_params["incident_id"],)
            ).fetchone()
            if page is None or row is None:
                return HTMLResponse(_document("Not found", "<h1>Incident not found</h1>"), 404)
            incident = incident_json(db, row, _base(request), public=True, tz=page["time_zone"])
        body = f'<p><a href="/">{_e(page["name"])} Status</a></p>' + _incident_html(
            incident, link=False
        )
        return HTMLResponse(_document(f"{incident['name']} - {page['name']} Status", body))

    return run
