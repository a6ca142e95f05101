"""MCP server for Sentry, modelled on getsentry/sentry-mcp's tool catalog.

Tools keep sentry-mcp's names and camelCase parameters (``organizationSlug``, ``issueId``,
``issueUrl``, ``projectSlugOrId``, ...) so an agent that knows that server feels at home, but
answer with small JSON documents instead of long Markdown: ids, short ids, titles, states,
counts, times and links, plus the in-app frames that locate a crash.

Everything goes through Sentry's public web API (``{base_url}/api/0/...`` with
``Authorization: Bearer <token>``) with httpx, so pointing it at sentry.io or a self-hosted
Sentry is configuration only.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal
from urllib.parse import unquote, urlsplit

import httpx
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from mcp_servers.results import tool_registrar

__all__ = ["create_server"]

INSTRUCTIONS = (
    "Sentry: errors reported by Acme's services, grouped into issues. Find issues with "
    "search_issues (Sentry search syntax, e.g. 'is:unresolved release:abc123'), read one with "
    "get_issue_details (counts, status, assignee, the latest event's exception and in-app "
    "frames), then triage with update_issue and add_issue_note. organizationSlug may be "
    "omitted when your token sees a single organization."
)

ISSUE_STATUSES = ("resolved", "resolvedInNextRelease", "unresolved", "ignored")
UNASSIGN = ("none", "null", "unassigned", "nobody")
# Event tags that are noise for triage, or promoted to their own field.
QUIET_TAGS = {"os.name", "runtime", "runtime.name", "level", "handled", "mechanism", "user"}
PROMOTED_TAGS = {"release", "environment"}
DETAIL_TAGS = ("release", "environment", "server_name", "transaction", "url", "service")
TOP_FRAMES = 5

OrgSlug = Annotated[
    str | None,
    Field(
        description="The organization's slug (see find_organizations). May be omitted when "
        "your token sees a single organization.",
        max_length=100,
    ),
]
IssueId = Annotated[
    str | None,
    Field(
        description="The issue: its short id (e.g. 'ACME-API-7') or numeric id.",
        max_length=100,
    ),
]
IssueUrl = Annotated[
    str | None,
    Field(
        description="The issue's URL, e.g. https://sentry.example.com/organizations/acme/"
        "issues/18/ (instead of issueId; the organization is taken from it).",
        max_length=2000,
    ),
]
Cursor = Annotated[
    str | None,
    Field(description="nextCursor from a previous call with the same filters.", max_length=100),
]
Period = Annotated[
    str,
    Field(
        description="Relative time window the results must fall in: e.g. '24h', '7d', '14d', "
        "'30d', '90d'.",
        pattern=r"^\d{1,4}[mhdw]$",
    ),
]


# -- Sentry's web API --------------------------------------------------------------------------


class SentryApi:
    """A thin client for ``/api/0``: JSON in and out, Link-header cursors, and every failure
    turned into a :class:`ToolError` that says what was wrong and what to do."""

    def __init__(self, base_url: str, token: str, timeout: float = 20.0):
        self.base_url = base_url.rstrip("/")
        self.http = httpx.Client(
            base_url=f"{self.base_url}/api/0",
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/json",
                "User-Agent": "prodbench-sentry-mcp/1.0",
            },
            timeout=timeout,
        )

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        what: str = "",
    ) -> httpx.Response:
        clean = {k: v for k, v in (params or {}).items() if v is not None}
        try:
            response = self.http.request(method, path, params=clean, json=json)
        except httpx.TimeoutException:
            raise ToolError(
                f"Sentry did not answer in time ({method} {path}); try again."
            ) from None
        except httpx.HTTPError as exc:
            raise ToolError(
                f"Cannot reach Sentry at {self.base_url}: {type(exc).__name__}. "
                "Check that the service is running."
            ) from None
        if response.status_code >= 400:
            raise ToolError(self._explain(response, what or path))
        return response

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs).json()

    @staticmethod
    def _explain(response: httpx.Response, what: str) -> str:
        try:
            body = response.json()
            detail = body.get("detail") if isinstance(body, dict) else None
        except ValueError:
            detail = None
        detail = str(detail or response.reason_phrase or "error").strip()
        status = response.status_code
        if status == 401:
            return f"Sentry rejected the token (401: {detail}). The credential is invalid."
        if status == 403:
            return f"Not allowed (403: {detail}) for {what}."
        if status == 404:
            return f"Not found: {what} (404: {detail}). Check the id or slug and try again."
        if status == 429:
            return "Sentry is rate limiting requests (429); wait a moment and try again."
        if status >= 500:
            return f"Sentry failed with {status} on {what}: {detail}. Try again later."
        return f"Sentry refused the request ({status}): {detail}"


def next_cursor(response: httpx.Response) -> str | None:
    """The cursor of the next page from Sentry's Link header, None on the last page."""
    for part in response.headers.get("link", "").split(","):
        if 'rel="next"' in part and 'results="true"' in part:
            found = re.search(r'cursor="([^"]+)"', part)
            if found:
                return found.group(1)
    return None


# -- compact shapes ----------------------------------------------------------------------------


def when(value: Any) -> Any:
    """'2026-11-19T21:40:00.000000Z' -> '2026-11-19T21:40:00Z' (sub-seconds only when set)."""
    if isinstance(value, str):
        return re.sub(r"\.0+Z$", "Z", value)
    return value


def as_int(value: Any) -> Any:
    try:
        return int(value)
    except (TypeError, ValueError):
        return value


def assignee(value: Any) -> str | None:
    if not isinstance(value, dict):
        return value if isinstance(value, str) and value else None
    if value.get("type") == "team":
        return f"team:{value.get('name') or value.get('id')}"
    name, email = value.get("name"), value.get("email")
    if name and email and name != email:
        return f"{name} <{email}>"
    return email or name or f"user:{value.get('id')}"


def person(user: Any) -> str:
    if not isinstance(user, dict):
        return "Sentry"
    return user.get("name") or user.get("email") or f"user:{user.get('id')}"


def resolution(issue: dict[str, Any]) -> dict[str, Any] | None:
    details = issue.get("statusDetails") or {}
    out: dict[str, Any] = {}
    if details.get("inNextRelease"):
        out["inNextRelease"] = True
    for key in ("inRelease", "inCommit", "ignoreUntil", "ignoreCount", "ignoreUserCount"):
        if details.get(key) not in (None, ""):
            out[key] = when(details[key])
    if details.get("ignoreUntilEscalating"):
        out["ignoreUntilEscalating"] = True
    actor = details.get("actor")
    if out and isinstance(actor, dict):
        out["by"] = person(actor)
    return out or None


def issue_brief(issue: dict[str, Any]) -> dict[str, Any]:
    project = issue.get("project") or {}
    out = {
        "shortId": issue.get("shortId"),
        "id": str(issue.get("id")),
        "title": issue.get("title"),
        "culprit": issue.get("culprit"),
        "project": project.get("slug"),
        "status": issue.get("status"),
        "substatus": issue.get("substatus"),
        "level": issue.get("level"),
        "count": as_int(issue.get("count")),
        "userCount": as_int(issue.get("userCount")),
        "firstSeen": when(issue.get("firstSeen")),
        "lastSeen": when(issue.get("lastSeen")),
        "assignedTo": assignee(issue.get("assignedTo")),
        "permalink": issue.get("permalink"),
    }
    if (details := resolution(issue)) is not None:
        out["statusDetails"] = details
    return {k: v for k, v in out.items() if v is not None}


def frame_line(frame: dict[str, Any]) -> str:
    """'acme/api/services/pricing.py:27 in compute_totals: rates = store["tax_lines"]'."""
    where = frame.get("filename") or frame.get("absPath") or frame.get("module") or "?"
    if frame.get("lineNo") is not None:
        where += f":{frame['lineNo']}"
    text = f"{where} in {frame.get('function') or '?'}"
    line = context_line(frame)
    return f"{text}: {line.strip()}" if line and line.strip() else text


def context_line(frame: dict[str, Any]) -> str | None:
    for number, source in frame.get("context") or []:
        if number == frame.get("lineNo"):
            return source
    return None


def exceptions_of(event: dict[str, Any]) -> list[dict[str, Any]]:
    for entry in event.get("entries") or []:
        if entry.get("type") == "exception":
            return list((entry.get("data") or {}).get("values") or [])
    return []


def entry_data(event: dict[str, Any], kind: str) -> dict[str, Any]:
    for entry in event.get("entries") or []:
        if entry.get("type") == kind:
            return entry.get("data") or {}
    return {}


def tag_map(event: dict[str, Any]) -> dict[str, str]:
    return {t.get("key"): t.get("value") for t in event.get("tags") or [] if t.get("key")}


def event_brief(event: dict[str, Any]) -> dict[str, Any]:
    tags = tag_map(event)
    user = event.get("user") or {}
    out = {
        "id": event.get("eventID") or event.get("id"),
        "dateCreated": when(event.get("dateCreated")),
        "title": event.get("title"),
        "message": event.get("message") or None,
        "release": tags.get("release"),
        "environment": tags.get("environment"),
        "user": user.get("email") or user.get("id") or user.get("username") or None,
        "tags": {k: v for k, v in tags.items() if k not in QUIET_TAGS and k not in PROMOTED_TAGS}
        or None,
    }
    return {k: v for k, v in out.items() if v is not None}


def exception_summary(value: dict[str, Any], limit: int = TOP_FRAMES) -> dict[str, Any]:
    frames = ((value.get("stacktrace") or {}).get("frames")) or []
    in_app = [f for f in frames if f.get("inApp")] or frames
    mechanism = value.get("mechanism") or {}
    out = {
        "type": value.get("type"),
        "value": value.get("value"),
        "handled": mechanism.get("handled"),
        "mechanism": mechanism.get("type"),
        # Newest first: the crash site leads.
        "inAppFrames": [frame_line(f) for f in reversed(in_app)][:limit],
    }
    return {k: v for k, v in out.items() if v not in (None, [])}


def event_summary(event: dict[str, Any]) -> dict[str, Any]:
    """The latest (or chosen) event as get_issue_details shows it."""
    out = event_brief(event)
    out.pop("title", None)  # the issue's title
    request = entry_data(event, "request")
    if request.get("url"):
        out["request"] = f"{request.get('method') or 'GET'} {request['url']}".strip()
    values = exceptions_of(event)
    if values:
        # Sentry stores a chain cause-first; the raised exception is last. Lead with it.
        out["exceptions"] = [exception_summary(v) for v in reversed(values)]
    elif not out.get("message"):
        message = entry_data(event, "message")
        if message.get("formatted"):
            out["message"] = message["formatted"]
    return out


def full_frame(frame: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "file": frame.get("filename") or frame.get("absPath"),
        "line": frame.get("lineNo"),
        "function": frame.get("function"),
        "module": frame.get("module"),
        "inApp": bool(frame.get("inApp")),
    }
    context = frame.get("context") or []
    if context:
        out["context"] = [
            f"{'>' if number == frame.get('lineNo') else ' '}{number}: {source}"
            for number, source in context
        ]
    if frame.get("vars"):
        out["vars"] = {k: str(v)[:200] for k, v in list(frame["vars"].items())[:20]}
    return {k: v for k, v in out.items() if v is not None}


def activity_item(item: dict[str, Any]) -> dict[str, Any]:
    data = item.get("data") or {}
    out: dict[str, Any] = {
        "type": item.get("type"),
        "by": person(item.get("user")),
        "at": when(item.get("dateCreated")),
    }
    if isinstance(data, dict):
        text = data.get("text") or data.get("message") or data.get("reason")
        if text:
            out["text"] = text
        elif item.get("type") == "assigned":
            out["assignee"] = (
                data.get("assigneeEmail") or data.get("assigneeName") or data.get("assignee")
            )
        elif data.get("version"):
            out["release"] = data["version"]
        elif data:
            out["data"] = {k: v for k, v in data.items() if v not in (None, "", {}, [])} or None
    if item.get("type") == "note":
        out["noteId"] = str(item.get("id"))
    return {k: v for k, v in out.items() if v is not None}


# -- issue references --------------------------------------------------------------------------


def parse_issue_url(url: str) -> tuple[str | None, str]:
    """(organization slug or None, issue id) from a Sentry issue URL: /organizations/<org>/
    issues/<id>/ (self-hosted and this imitation) or https://<org>.sentry.io/issues/<id>/."""
    parts = urlsplit(url.strip())
    if not parts.scheme or not parts.netloc:
        raise ToolError(f"issueUrl {url!r} is not a URL; pass issueId instead.")
    segments = [unquote(s) for s in parts.path.split("/") if s]
    if "issues" not in segments or segments.index("issues") + 1 >= len(segments):
        raise ToolError(
            f"issueUrl {url!r} does not name an issue (expected .../issues/<id>/); "
            "pass issueId instead."
        )
    issue = segments[segments.index("issues") + 1]
    org = None
    if "organizations" in segments and segments.index("organizations") + 1 < len(segments):
        org = segments[segments.index("organizations") + 1]
    else:
        host = parts.hostname or ""
        if host.endswith(".sentry.io") and host.count(".") == 2:
            org = host.split(".", 1)[0]
    return org, issue


def clean_issue_id(value: str) -> str:
    value = value.strip()
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}", value):
        raise ToolError(
            f"issueId {value!r} is not an issue id: use a short id like 'ACME-API-7' or a "
            "numeric id (search_issues lists them)."
        )
    return value.upper() if not value.isdecimal() else value


# -- the server --------------------------------------------------------------------------------


def create_server(base_url: str, token: str) -> MCPServer:
    """The Sentry MCP server for the Sentry at ``base_url`` (its root, not ``/api/0``),
    acting with ``token`` (a user auth token, sent as ``Authorization: Bearer``)."""
    api = SentryApi(base_url, token)
    srv = MCPServer("sentry", instructions=INSTRUCTIONS)
    tool = tool_registrar(srv)
    known: dict[str, str] = {}  # discovered organization slug

    def org_of(organization: str | None) -> str:
        if organization and organization.strip():
            slug = organization.strip()
            if not re.fullmatch(r"[A-Za-z0-9_.-]{1,100}", slug):
                raise ToolError(f"organizationSlug {slug!r} is not a slug (e.g. 'acme').")
            return slug
        if "org" not in known:
            orgs = api.get("/organizations/", what="your organizations")
            if len(orgs) != 1:
                names = ", ".join(o.get("slug", "?") for o in orgs) or "none"
                raise ToolError(
                    f"organizationSlug is required: your token sees {len(orgs)} organizations "
                    f"({names})."
                )
            known["org"] = orgs[0]["slug"]
        return known["org"]

    def issue_of(
        organization: str | None, issue_id: str | None, issue_url: str | None
    ) -> tuple[str, str]:
        if issue_url:
            url_org, ref = parse_issue_url(issue_url)
            return org_of(organization or url_org), clean_issue_id(ref)
        if issue_id:
            return org_of(organization), clean_issue_id(issue_id)
        raise ToolError("Give issueId (e.g. 'ACME-API-7') or issueUrl.")

    def get_issue(org: str, ref: str) -> dict[str, Any]:
        return api.get(f"/organizations/{org}/issues/{ref}/", what=f"issue {ref} in {org}")

    def project_id(org: str, ref: str) -> str:
        ref = ref.strip()
        query = f"id:{ref}" if ref.isdecimal() else f"slug:{ref}"
        found = api.get(
            f"/organizations/{org}/projects/", params={"query": query}, what=f"projects of {org}"
        )
        if not found:
            slugs = [p["slug"] for p in api.get(f"/organizations/{org}/projects/")]
            raise ToolError(
                f"Unknown project {ref!r} in {org}; its projects are: {', '.join(slugs)}."
            )
        return str(found[0]["id"])

    @tool(read_only=True)
    def whoami() -> dict[str, Any]:
        """Identify the Sentry user this server acts as (id, name, email). Use the id as
        'user:<id>' or 'me' in update_issue's assignedTo."""
        me = api.get("/auth/", what="the current user")
        return {"id": str(me.get("id")), "name": me.get("name"), "email": me.get("email")}

    @tool(read_only=True)
    def find_organizations(
        query: Annotated[
            str | None, Field(description="Filter by name or slug.", max_length=200)
        ] = None,
    ) -> dict[str, Any]:
        """List the organizations you can access (slug, name, URL)."""
        orgs = api.get("/organizations/", params={"query": query}, what="organizations")
        return {
            "organizations": [
                {
                    "slug": o.get("slug"),
                    "name": o.get("name"),
                    "url": (o.get("links") or {}).get("organizationUrl"),
                }
                for o in orgs
            ]
        }

    @tool(read_only=True)
    def find_projects(
        organizationSlug: OrgSlug = None,
        query: Annotated[
            str | None, Field(description="Filter by name or slug.", max_length=200)
        ] = None,
        cursor: Cursor = None,
    ) -> dict[str, Any]:
        """List the projects of an organization (id, slug, name, platform, owning team)."""
        org = org_of(organizationSlug)
        response = api.request(
            "GET",
            f"/organizations/{org}/projects/",
            params={"query": query, "cursor": cursor},
            what=f"projects of {org}",
        )
        projects = [
            {
                "id": str(p.get("id")),
                "slug": p.get("slug"),
                "name": p.get("name"),
                "platform": p.get("platform"),
                "team": (p.get("team") or {}).get("slug"),
            }
            for p in response.json()
        ]
        return {"projects": projects, "nextCursor": next_cursor(response)}

    @tool(read_only=True)
    def find_teams(
        organizationSlug: OrgSlug = None,
        query: Annotated[
            str | None, Field(description="Filter by name or slug.", max_length=200)
        ] = None,
        cursor: Cursor = None,
    ) -> dict[str, Any]:
        """List the teams of an organization (slug, name, member count, their projects).
        Assign an issue to a team with assignedTo='team:<slug>'."""
        org = org_of(organizationSlug)
        response = api.request(
            "GET",
            f"/organizations/{org}/teams/",
            params={"query": query, "cursor": cursor},
            what=f"teams of {org}",
        )
        teams = [
            {
                "id": str(t.get("id")),
                "slug": t.get("slug"),
                "name": t.get("name"),
                "memberCount": t.get("memberCount"),
                "projects": [p.get("slug") for p in t.get("projects") or []],
            }
            for t in response.json()
        ]
        return {"teams": teams, "nextCursor": next_cursor(response)}

    @tool(read_only=True)
    def find_releases(
        organizationSlug: OrgSlug = None,
        projectSlug: Annotated[
            str | None,
            Field(description="Only releases of this project (slug or id).", max_length=100),
        ] = None,
        query: Annotated[
            str | None,
            Field(
                description="Filter by (part of) the version, e.g. a commit sha.", max_length=200
            ),
        ] = None,
        limit: Annotated[int, Field(description="Releases per page.", ge=1, le=100)] = 10,
        cursor: Cursor = None,
    ) -> dict[str, Any]:
        """List releases, newest first: version, when it was created and deployed, new issues
        it introduced, its projects and last commit."""
        org = org_of(organizationSlug)
        params = {"query": query, "per_page": limit, "cursor": cursor}
        if projectSlug:
            params["project"] = project_id(org, projectSlug)
        response = api.request(
            "GET", f"/organizations/{org}/releases/", params=params, what=f"releases of {org}"
        )
        releases = []
        for r in response.json():
            commit = r.get("lastCommit") or {}
            deploy = r.get("lastDeploy") or {}
            message = (commit.get("message") or "").strip().splitlines()
            finished = deploy.get("dateFinished") or deploy.get("dateStarted")
            item = {
                "version": r.get("version"),
                "dateCreated": when(r.get("dateCreated")),
                "dateReleased": when(r.get("dateReleased")),
                "newGroups": r.get("newGroups"),
                "projects": [p.get("slug") for p in r.get("projects") or []],
                "lastCommit": (
                    f"{message[0] if message else commit.get('id')} ({person(commit.get('author'))})"
                    if commit
                    else None
                ),
                "lastDeploy": f"{deploy.get('environment')} at {when(finished)}"
                if deploy
                else None,
            }
            releases.append({k: v for k, v in item.items() if v is not None})
        return {"releases": releases, "nextCursor": next_cursor(response)}

    @tool(read_only=True)
    def search_issues(
        organizationSlug: OrgSlug = None,
        query: Annotated[
            str,
            Field(
                description="Sentry issue search syntax, e.g. 'is:unresolved', "
                "'is:unresolved release:52cf3e5', 'assigned:me', 'level:error KeyError', "
                "'!is:resolved error.type:TimeoutError', 'timesSeen:>100'. Empty means all.",
                max_length=1000,
            ),
        ] = "is:unresolved",
        sort: Annotated[
            Literal["date", "freq", "new", "user", "recommended"],
            Field(
                description="date = last seen, freq = most events, new = first seen, "
                "user = most users affected."
            ),
        ] = "date",
        projectSlugOrId: Annotated[
            str | None, Field(description="Only issues of this project.", max_length=100)
        ] = None,
        period: Period = "30d",
        limit: Annotated[int, Field(description="Issues per page.", ge=1, le=100)] = 10,
        cursor: Cursor = None,
    ) -> dict[str, Any]:
        """Search issues (grouped errors) in an organization. Returns each issue's short id,
        title, culprit, project, status, event and user counts, first/last seen, assignee and
        link, plus the total and a cursor for the next page."""
        org = org_of(organizationSlug)
        params: dict[str, Any] = {
            "query": query.strip(),
            "sort": sort,
            "statsPeriod": period,
            "limit": limit,
            "cursor": cursor,
            "collapse": ["stats", "unhandled"],
        }
        if projectSlugOrId:
            params["project"] = project_id(org, projectSlugOrId)
        response = api.request(
            "GET", f"/organizations/{org}/issues/", params=params, what=f"issues of {org}"
        )
        issues = [issue_brief(i) for i in response.json()]
        total = response.headers.get("x-hits")
        return {
            "issues": issues,
            "total": as_int(total) if total is not None else len(issues),
            "nextCursor": next_cursor(response),
        }

    @tool(read_only=True)
    def get_issue_details(
        organizationSlug: OrgSlug = None,
        issueId: IssueId = None,
        issueUrl: IssueUrl = None,
        eventId: Annotated[
            str | None,
            Field(
                description="Show this event instead of the latest one (32 hex characters). "
                "With eventId alone, the issue it belongs to is found for you.",
                max_length=64,
            ),
        ] = None,
    ) -> dict[str, Any]:
        """Everything needed to triage one issue: title, culprit, status (and resolution),
        assignee, event and user counts, first/last seen and releases, top tag values, and the
        latest event (or eventId) with its exception and top in-app frames, crash site first."""
        if eventId is not None:
            eventId = eventId.strip().replace("-", "").lower()
            if not re.fullmatch(r"[0-9a-f]{32}", eventId):
                raise ToolError(f"eventId {eventId!r} is not an event id (32 hex characters).")
        if issueId or issueUrl:
            org, ref = issue_of(organizationSlug, issueId, issueUrl)
            issue = get_issue(org, ref)
        elif eventId:
            org = org_of(organizationSlug)
            found = api.get(
                f"/organizations/{org}/issues/",
                params={"query": eventId, "statsPeriod": "90d", "limit": 1},
                what=f"the issue of event {eventId}",
            )
            if not found:
                raise ToolError(f"No issue in {org} has an event {eventId}.")
            issue = get_issue(org, str(found[0]["id"]))
        else:
            raise ToolError("Give issueId (e.g. 'ACME-API-7'), issueUrl or eventId.")
        ref = str(issue["id"])
        which = eventId or "latest"
        event = api.get(
            f"/organizations/{org}/issues/{ref}/events/{which}/",
            what=f"event {which} of {issue.get('shortId')}",
        )
        out = issue_brief(issue)
        for key in ("numComments", "isUnhandled", "priority"):
            if issue.get(key) is not None:
                out[key] = issue[key]
        first, last = issue.get("firstRelease") or {}, issue.get("lastRelease") or {}
        if first.get("version"):
            out["firstRelease"] = first["version"]
        if last.get("version"):
            out["lastRelease"] = last["version"]
        tags = {}
        for tag in issue.get("tags") or []:
            if tag.get("key") in DETAIL_TAGS and tag.get("topValues"):
                tags[tag["key"]] = {v.get("value"): v.get("count") for v in tag["topValues"][:3]}
        if tags:
            out["tags"] = tags
        out["event" if eventId else "latestEvent"] = event_summary(event)
        return out

    @tool
    def update_issue(
        organizationSlug: OrgSlug = None,
        issueId: IssueId = None,
        issueUrl: IssueUrl = None,
        status: Annotated[
            Literal["resolved", "resolvedInNextRelease", "unresolved", "ignored"] | None,
            Field(
                description="New status: 'resolved', 'resolvedInNextRelease' (resolved by the "
                "next release; regresses if seen after it), 'unresolved' or 'ignored'."
            ),
        ] = None,
        assignedTo: Annotated[
            str | None,
            Field(
                description="Assign to 'user:<id>', 'team:<slug>', a member's email, or 'me'; "
                "'none' unassigns.",
                max_length=200,
            ),
        ] = None,
        ignoreDurationMinutes: Annotated[
            int | None,
            Field(description="With status 'ignored': ignore only for this long.", ge=1, le=525600),
        ] = None,
    ) -> dict[str, Any]:
        """Change an issue's status and/or assignee; returns the issue as it now stands."""
        org, ref = issue_of(organizationSlug, issueId, issueUrl)
        if status is None and assignedTo is None:
            raise ToolError("Nothing to change: give status and/or assignedTo.")
        if ignoreDurationMinutes is not None and status != "ignored":
            raise ToolError("ignoreDurationMinutes only applies with status='ignored'.")
        body: dict[str, Any] = {}
        if status is not None:
            body["status"] = status
            if ignoreDurationMinutes is not None:
                body["ignoreDuration"] = ignoreDurationMinutes
            elif status == "ignored":
                body["substatus"] = "archived_forever"
        if assignedTo is not None:
            target = assignedTo.strip()
            body["assignedTo"] = None if target.lower() in UNASSIGN or not target else target
        try:
            updated = api.request(
                "PUT",
                f"/organizations/{org}/issues/{ref}/",
                json=body,
                what=f"issue {ref} in {org}",
            ).json()
        except ToolError as exc:
            if "assignedTo" in str(exc):
                raise ToolError(
                    f"assignedTo {assignedTo!r} is no member or team of {org}: use 'me', "
                    "'user:<id>', a member's email, or 'team:<slug>' (see find_teams)."
                ) from None
            raise
        return issue_brief(updated)

    @tool
    def add_issue_note(
        text: Annotated[
            str, Field(description="The comment (Markdown).", min_length=1, max_length=80000)
        ],
        organizationSlug: OrgSlug = None,
        issueId: IssueId = None,
        issueUrl: IssueUrl = None,
    ) -> dict[str, Any]:
        """Add a comment (note) to an issue's activity, visible to the team."""
        org, ref = issue_of(organizationSlug, issueId, issueUrl)
        if not text.strip():
            raise ToolError("text is empty: write the comment to add.")
        note = api.request(
            "POST",
            f"/organizations/{org}/issues/{ref}/notes/",
            json={"text": text},
            what=f"issue {ref} in {org}",
        ).json()
        return {
            "issue": ref,
            "noteId": str(note.get("id")),
            "by": person(note.get("user")),
            "at": when(note.get("dateCreated")),
            "text": (note.get("data") or {}).get("text", text),
        }

    @tool(read_only=True)
    def get_issue_activity(
        organizationSlug: OrgSlug = None,
        issueId: IssueId = None,
        issueUrl: IssueUrl = None,
        includeComments: Annotated[
            bool, Field(description="Include comments (notes) as well as status changes.")
        ] = True,
        limit: Annotated[
            int, Field(description="Most recent entries to return.", ge=1, le=100)
        ] = 25,
    ) -> dict[str, Any]:
        """An issue's activity feed, newest first: comments, assignments, resolutions,
        regressions, and when it was first seen."""
        org, ref = issue_of(organizationSlug, issueId, issueUrl)
        feed = api.get(
            f"/organizations/{org}/issues/{ref}/activities/", what=f"issue {ref} in {org}"
        ).get("activity", [])
        if not includeComments:
            feed = [a for a in feed if a.get("type") != "note"]
        return {"issue": ref, "activity": [activity_item(a) for a in feed[:limit]]}

    @tool(read_only=True)
    def search_issue_events(
        organizationSlug: OrgSlug = None,
        issueId: IssueId = None,
        issueUrl: IssueUrl = None,
        query: Annotated[
            str | None,
            Field(
                description="Event search syntax, e.g. 'environment:production', "
                "'release:52cf3e5', 'user.email:a@b.com', 'server_name:api-1', or free text.",
                max_length=1000,
            ),
        ] = None,
        sort: Annotated[
            Literal["-timestamp", "timestamp"], Field(description="Newest or oldest first.")
        ] = "-timestamp",
        period: Annotated[
            str | None,
            Field(
                description="Only events in this window, e.g. '24h', '7d'; all when omitted.",
                pattern=r"^\d{1,4}[mhdw]$",
            ),
        ] = None,
        limit: Annotated[int, Field(description="Events per page.", ge=1, le=100)] = 10,
        cursor: Cursor = None,
    ) -> dict[str, Any]:
        """List the events of one issue (id, time, release, environment, user, tags), filtered
        by query and time window. Use an event id with get_event_stacktrace or
        get_issue_details(eventId=...)."""
        org, ref = issue_of(organizationSlug, issueId, issueUrl)
        response = api.request(
            "GET",
            f"/organizations/{org}/issues/{ref}/events/",
            params={
                "query": query,
                "statsPeriod": period,
                "sort": sort,
                "per_page": limit,
                "cursor": cursor,
            },
            what=f"issue {ref} in {org}",
        )
        events = [event_brief(e) for e in response.json()]
        for event in events:
            event.pop("title", None)
        return {"issue": ref, "events": events, "nextCursor": next_cursor(response)}

    @tool(read_only=True)
    def get_event_stacktrace(
        organizationSlug: OrgSlug = None,
        issueId: IssueId = None,
        issueUrl: IssueUrl = None,
        eventId: Annotated[
            str,
            Field(
                description="The event id (32 hex characters), or 'latest' / 'oldest'.",
                max_length=64,
            ),
        ] = "latest",
        inAppOnly: Annotated[
            bool, Field(description="Only the application's own frames (not libraries).")
        ] = False,
    ) -> dict[str, Any]:
        """The full stacktrace of an event: each exception (the raised one first) with its
        frames, crash site first: file, line, function, whether it is application code,
        source context and local variables when captured."""
        org, ref = issue_of(organizationSlug, issueId, issueUrl)
        which = eventId.strip().replace("-", "").lower()
        if which not in ("latest", "oldest", "recommended") and not re.fullmatch(
            r"[0-9a-f]{32}", which
        ):
            raise ToolError(f"eventId {eventId!r} is not 'latest' or an event id (32 hex).")
        event = api.get(
            f"/organizations/{org}/issues/{ref}/events/{which}/",
            what=f"event {which} of issue {ref}",
        )
        values = exceptions_of(event)
        out: dict[str, Any] = {
            "issue": ref,
            "eventId": event.get("eventID") or event.get("id"),
            "dateCreated": when(event.get("dateCreated")),
            "title": event.get("title"),
        }
        if not values:
            out["exceptions"] = []
            out["note"] = "This event has no exception/stacktrace (it is a message event)."
            return out
        chain = []
        for value in reversed(values):
            frames = ((value.get("stacktrace") or {}).get("frames")) or []
            if inAppOnly:
                frames = [f for f in frames if f.get("inApp")]
            mechanism = value.get("mechanism") or {}
            item = {
                "type": value.get("type"),
                "value": value.get("value"),
                "handled": mechanism.get("handled"),
                "frames": [full_frame(f) for f in reversed(frames)],
            }
            chain.append({k: v for k, v in item.items() if v is not None})
        out["exceptions"] = chain
        return out

    return srv
