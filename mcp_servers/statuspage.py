"""MCP server for an Atlassian Statuspage page: components, incidents and the public status.

There is no widely used Statuspage MCP server to imitate, so the tools are the obvious ones an
incident responder needs, named like other incident tooling (``list_incidents``,
``create_incident``, ``update_incident``, ...). Components are named by their display name
("Checkout") or id, so an agent never has to look ids up first. Answers are compact JSON.

It talks to Statuspage's manage API (``{base_url}/v1/pages/{page_id}/...`` with
``Authorization: OAuth <api key>``) and reads what customers see from the page's public
``/api/v2/summary.json``, with httpx; pointing it at api.statuspage.io and a real page is
configuration only (``public_url`` is then the page's own address).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

import httpx
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from mcp_servers.results import tool_registrar

__all__ = ["create_server"]

INSTRUCTIONS = (
    "Statuspage: what Acme's customers are told about outages. list_components shows each "
    "component's status; create_incident opens an incident (and sets the affected components' "
    "statuses); update_incident posts each new update (investigating -> identified -> "
    "monitoring -> resolved); resolving returns its components to operational unless you say "
    "otherwise. get_public_status shows the page as customers see it."
)

ComponentStatus = Literal[
    "operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance"
]
IncidentStatus = Literal["investigating", "identified", "monitoring", "resolved"]
Impact = Literal["none", "minor", "major", "critical"]
CLOSED = ("resolved", "postmortem", "completed")

IncidentId = Annotated[
    str,
    Field(
        description="The incident's id (list_incidents shows them).",
        min_length=1,
        max_length=64,
    ),
]
ComponentChanges = Annotated[
    dict[str, ComponentStatus] | None,
    Field(
        description="Affected components and their new status, keyed by component name (e.g. "
        "'Checkout') or id: {'Checkout': 'major_outage', 'Payments': 'degraded_performance'}.",
    ),
]

# -- the Statuspage APIs -----------------------------------------------------------------------


class StatuspageApi:
    """The manage API (OAuth key) and the public page, with every failure turned into a
    :class:`ToolError` that says what was wrong and what to do."""

    def __init__(self, base_url: str, key: str, public_url: str, timeout: float = 20.0):
        self.base_url = base_url.rstrip("/")
        self.public_url = public_url.rstrip("/")
        self.http = httpx.Client(
            headers={
                "Authorization": f"OAuth {key}",
                "Accept": "application/json",
                "User-Agent": "prodbench-statuspage-mcp/1.0",
            },
            timeout=timeout,
        )
        self.public = httpx.Client(headers={"Accept": "application/json"}, timeout=timeout)

    def call(
        self,
        method: str,
        path: str,
        *,
        what: str,
        params: dict[str, Any] | None = None,
        json: Any = None,
        public: bool = False,
    ) -> Any:
        client = self.public if public else self.http
        url = f"{self.public_url if public else self.base_url}{path}"
        clean = {k: v for k, v in (params or {}).items() if v is not None}
        try:
            response = client.request(method, url, params=clean, json=json)
        except httpx.TimeoutException:
            raise ToolError(f"Statuspage did not answer in time ({what}); try again.") from None
        except httpx.HTTPError as exc:
            raise ToolError(
                f"Cannot reach Statuspage at {url.split('/v1/')[0]}: {type(exc).__name__}. "
                "Check that the service is running."
            ) from None
        if response.status_code >= 400:
            raise ToolError(self._explain(response, what))
        try:
            return response.json()
        except ValueError:
            raise ToolError(
                f"Statuspage answered {what} with something that is not JSON."
            ) from None

    @staticmethod
    def _explain(response: httpx.Response, what: str) -> str:
        try:
            body = response.json()
            error = body.get("error") if isinstance(body, dict) else None
        except ValueError:
            error = None
        if isinstance(error, list):
            error = "; ".join(str(e) for e in error)
        error = str(error or response.reason_phrase or "error").strip()
        status = response.status_code
        if status == 401:
            return f"Statuspage rejected the API key (401: {error})."
        if status == 403:
            return f"Not allowed (403: {error}) for {what}."
        if status == 404:
            return f"Not found: {what} (404). Check the id and try again."
        if status == 429:
            return "Statuspage is rate limiting requests (429); wait a moment and try again."
        if status >= 500:
            return f"Statuspage failed with {status} on {what}: {error}. Try again later."
        return f"Statuspage refused {what} ({status}): {error}"


# -- compact shapes ----------------------------------------------------------------------------


def when(value: Any) -> Any:
    """'2026-10-14T05:50:00.000Z' -> '2026-10-14T05:50:00Z'."""
    if isinstance(value, str):
        return re.sub(r"\.0+(Z|[+-]\d\d:\d\d)$", r"\1", value)
    return value


def changes_text(affected: list[dict[str, Any]] | None) -> dict[str, str] | None:
    if not affected:
        return None
    return {
        a.get("name") or a.get("code"): (
            a.get("new_status")
            if a.get("old_status") in (None, a.get("new_status"))
            else f"{a.get('old_status')} -> {a.get('new_status')}"
        )
        for a in affected
    }


def incident_brief(incident: dict[str, Any]) -> dict[str, Any]:
    updates = incident.get("incident_updates") or []
    latest = updates[0] if updates else {}
    out = {
        "id": incident.get("id"),
        "name": incident.get("name"),
        "status": incident.get("status"),
        "impact": incident.get("impact"),
        "created_at": when(incident.get("created_at")),
        "resolved_at": when(incident.get("resolved_at")),
        "components": {c.get("name"): c.get("status") for c in incident.get("components") or []}
        or None,
        "latest_update": (
            {
                "status": latest.get("status"),
                "body": latest.get("body"),
                "at": when(latest.get("display_at") or latest.get("created_at")),
            }
            if latest
            else None
        ),
        "shortlink": incident.get("shortlink"),
    }
    return {k: v for k, v in out.items() if v is not None}


def incident_full(incident: dict[str, Any]) -> dict[str, Any]:
    out = incident_brief(incident)
    out.pop("latest_update", None)
    for key in ("started_at", "monitoring_at", "updated_at"):
        if incident.get(key):
            out[key] = when(incident[key])
    if incident.get("impact_override"):
        out["impact_override"] = incident["impact_override"]
    updates = []
    for update in incident.get("incident_updates") or []:
        item = {
            "status": update.get("status"),
            "body": update.get("body"),
            "at": when(update.get("display_at") or update.get("created_at")),
            "components": changes_text(update.get("affected_components")),
        }
        updates.append({k: v for k, v in item.items() if v is not None})
    out["updates"] = updates  # newest first
    if incident.get("postmortem_body"):
        out["postmortem"] = incident["postmortem_body"]
    return out


def component_brief(component: dict[str, Any]) -> dict[str, Any]:
    out = {
        "id": component.get("id"),
        "name": component.get("name"),
        "status": component.get("status"),
        "description": component.get("description"),
    }
    return {k: v for k, v in out.items() if v is not None}


# -- the server --------------------------------------------------------------------------------


def create_server(
    base_url: str, token: str, *, page_id: str | None = None, public_url: str | None = None
) -> MCPServer:
    """The status page MCP server.

    ``base_url`` is the manage API's root (``https://api.statuspage.io`` for the real product,
    the service's root here) and ``token`` the API key sent as ``Authorization: OAuth``.
    ``page_id`` defaults to the only page the key can manage; ``public_url`` (where the public
    page and its ``/api/v2/summary.json`` live) defaults to ``base_url``.
    """
    api = StatuspageApi(base_url, token, public_url or base_url)
    srv = MCPServer("statuspage", instructions=INSTRUCTIONS)
    tool = tool_registrar(srv)
    known: dict[str, str] = {}
    if page_id:
        known["page"] = page_id

    def page() -> str:
        if "page" not in known:
            pages = api.call("GET", "/v1/pages", what="your pages")
            if len(pages) != 1:
                ids = ", ".join(p.get("id", "?") for p in pages) or "none"
                raise ToolError(
                    f"Your API key manages {len(pages)} pages ({ids}); the server needs page_id."
                )
            known["page"] = pages[0]["id"]
        return known["page"]

    def manage(method: str, path: str, *, what: str, **kwargs: Any) -> Any:
        return api.call(method, f"/v1/pages/{page()}{path}", what=what, **kwargs)

    def fetch_components() -> list[dict[str, Any]]:
        return manage("GET", "/components", what="components", params={"per_page": 100})

    def resolve(names: dict[str, str], all_components: list[dict[str, Any]]) -> dict[str, str]:
        """{name or id: status} -> {component id: status}; unknown names are an error."""
        by_key: dict[str, str] = {}
        for c in all_components:
            by_key[c["id"]] = c["id"]
            by_key[c["name"].strip().lower()] = c["id"]
        out: dict[str, str] = {}
        unknown = []
        for key, status in names.items():
            found = by_key.get(key) or by_key.get(key.strip().lower())
            if found is None:
                unknown.append(key)
            else:
                out[found] = status
        if unknown:
            known_names = ", ".join(c["name"] for c in all_components)
            raise ToolError(
                f"Unknown component(s) {', '.join(map(repr, unknown))}; the page's components "
                f"are: {known_names}."
            )
        return out

    def check_incident_id(incident_id: str) -> str:
        incident_id = incident_id.strip()
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", incident_id):
            raise ToolError(
                f"incident_id {incident_id!r} is not an incident id; list_incidents shows them."
            )
        return incident_id

    @tool(read_only=True)
    def list_components() -> dict[str, Any]:
        """List the page's components (id, name, current status, description). Statuses:
        operational, degraded_performance, partial_outage, major_outage, under_maintenance."""
        return {"page": page(), "components": [component_brief(c) for c in fetch_components()]}

    @tool
    def update_component_status(
        component: Annotated[
            str,
            Field(
                description="Component name (e.g. 'Checkout') or id.", min_length=1, max_length=200
            ),
        ],
        status: Annotated[ComponentStatus, Field(description="The component's new status.")],
    ) -> dict[str, Any]:
        """Set one component's status outside an incident update (to change statuses as part
        of an incident, pass components to create_incident / update_incident instead)."""
        all_components = fetch_components()
        (component_id,) = resolve({component: status}, all_components)
        before = next(c for c in all_components if c["id"] == component_id)
        after = manage(
            "PATCH",
            f"/components/{component_id}",
            json={"component": {"status": status}},
            what=f"component {before['name']!r}",
        )
        return {
            "id": after.get("id"),
            "name": after.get("name"),
            "previous_status": before.get("status"),
            "status": after.get("status"),
        }

    @tool(read_only=True)
    def list_incidents(
        which: Annotated[
            Literal["unresolved", "all"],
            Field(description="'unresolved' (open incidents only) or 'all', newest first."),
        ] = "unresolved",
        query: Annotated[
            str | None,
            Field(description="Only incidents whose name or updates mention this.", max_length=200),
        ] = None,
        limit: Annotated[int, Field(description="Incidents per page.", ge=1, le=100)] = 20,
        page_number: Annotated[
            int, Field(description="Page of results, from 1.", ge=1, le=1000)
        ] = 1,
    ) -> dict[str, Any]:
        """List incidents, newest first: id, name, status, impact, affected components and the
        latest update."""
        path = "/incidents/unresolved" if which == "unresolved" else "/incidents"
        found = manage(
            "GET",
            path,
            what="incidents",
            params={"q": query or None, "per_page": limit, "page": page_number},
        )
        return {
            "incidents": [incident_brief(i) for i in found],
            "next_page": page_number + 1 if len(found) == limit else None,
        }

    @tool(read_only=True)
    def get_incident(incident_id: IncidentId) -> dict[str, Any]:
        """One incident in full: status, impact, times, its components' current statuses, and
        every update (newest first) with the component changes it made, plus any postmortem."""
        incident_id = check_incident_id(incident_id)
        incident = manage("GET", f"/incidents/{incident_id}", what=f"incident {incident_id}")
        return incident_full(incident)

    @tool
    def create_incident(
        name: Annotated[
            str,
            Field(
                description="Customer-facing title, e.g. 'Checkout errors for some customers'.",
                min_length=1,
                max_length=255,
            ),
        ],
        body: Annotated[
            str,
            Field(
                description="The first update customers read: what is affected, what you are "
                "doing.",
                min_length=1,
                max_length=25000,
            ),
        ],
        status: Annotated[
            IncidentStatus, Field(description="Where the response stands.")
        ] = "investigating",
        impact: Annotated[
            Impact | None,
            Field(
                description="Override the impact; by default it follows the worst component "
                "status (degraded -> minor, partial outage -> major, major outage -> critical)."
            ),
        ] = None,
        components: ComponentChanges = None,
        deliver_notifications: Annotated[
            bool, Field(description="Notify the page's subscribers.")
        ] = True,
    ) -> dict[str, Any]:
        """Open an incident on the status page, setting the affected components' statuses in
        the same step. Returns the incident with its id for update_incident."""
        if not name.strip() or not body.strip():
            raise ToolError("name and body must not be blank.")
        incident: dict[str, Any] = {
            "name": name.strip(),
            "status": status,
            "body": body,
            "deliver_notifications": deliver_notifications,
        }
        if impact is not None:
            incident["impact_override"] = impact
        if components:
            incident["components"] = resolve(components, fetch_components())
            incident["component_ids"] = list(incident["components"])
        created = manage(
            "POST", "/incidents", json={"incident": incident}, what=f"the incident {name!r}"
        )
        return incident_full(created)

    @tool
    def update_incident(
        incident_id: IncidentId,
        status: Annotated[
            IncidentStatus | None,
            Field(description="New status; omit to post an update without changing it."),
        ] = None,
        body: Annotated[
            str | None,
            Field(description="The update customers read.", max_length=25000),
        ] = None,
        components: ComponentChanges = None,
        restore_components: Annotated[
            bool,
            Field(
                description="When resolving, set the incident's components that are not "
                "operational (and not named in components) back to operational."
            ),
        ] = True,
        name: Annotated[
            str | None, Field(description="Rename the incident.", max_length=255)
        ] = None,
        impact: Annotated[Impact | None, Field(description="Override the impact.")] = None,
        deliver_notifications: Annotated[
            bool, Field(description="Notify the page's subscribers.")
        ] = True,
    ) -> dict[str, Any]:
        """Post an update to an incident: new status, message and component statuses. Resolving
        sets its components back to operational unless you pass their statuses or
        restore_components=false."""
        incident_id = check_incident_id(incident_id)
        if (
            status is None
            and not (body and body.strip())
            and not components
            and not name
            and impact is None
        ):
            raise ToolError("Nothing to update: give status, body, components, name or impact.")
        current = manage("GET", f"/incidents/{incident_id}", what=f"incident {incident_id}")
        changes: dict[str, str] = {}
        if components:
            changes = resolve(components, fetch_components())
        if status == "resolved" and restore_components:
            for component in current.get("components") or []:
                if component["id"] not in changes and component.get("status") != "operational":
                    changes[component["id"]] = "operational"
        incident: dict[str, Any] = {"deliver_notifications": deliver_notifications}
        if status is not None:
            incident["status"] = status
        if body is not None and body.strip():
            incident["body"] = body
        if changes:
            incident["components"] = changes
        if name is not None and name.strip():
            incident["name"] = name.strip()
        if impact is not None:
            incident["impact_override"] = impact
        updated = manage(
            "PATCH",
            f"/incidents/{incident_id}",
            json={"incident": incident},
            what=f"incident {incident_id}",
        )
        return incident_full(updated)

    @tool(read_only=True)
    def get_public_status() -> dict[str, Any]:
        """The status page as customers see it: overall status, every component's status, open
        incidents with their latest update, and active or upcoming maintenance."""
        summary = api.call("GET", "/api/v2/summary.json", what="the public page", public=True)
        info = summary.get("page") or {}
        maintenance = [incident_brief(m) for m in summary.get("scheduled_maintenances") or []]
        return {
            "page": info.get("name"),
            "url": info.get("url"),
            "status": (summary.get("status") or {}).get("description"),
            "indicator": (summary.get("status") or {}).get("indicator"),
            "components": {c.get("name"): c.get("status") for c in summary.get("components") or []},
            "incidents": [incident_brief(i) for i in summary.get("incidents") or []],
            "scheduled_maintenances": maintenance,
            "updated_at": when(info.get("updated_at")),
        }

    return srv
