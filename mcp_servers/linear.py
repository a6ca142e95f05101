"""MCP server for Linear: issues, comments, statuses, labels, projects, teams, users, cycles.

Modelled on Linear's hosted MCP server (``mcp.linear.app``; its 2025 tool set): the same tool
names and parameters (``list_issues(query, team, assignee="me", state, label, ...)``,
``get_issue(id)``, ``create_issue``, ``update_issue``, ``list_issue_statuses(team)`` ...), taking
human names ("ENG", "In Progress", "maya.chen@acme.dev", "me") and resolving them to ids here,
so an agent never has to look an id up first.

It speaks Linear's public GraphQL API over httpx (``POST {base_url}/graphql`` with
``Authorization: <api key>``), so pointing it at api.linear.app is configuration only.
Results are small JSON objects with the useful fields; lists carry ``next_cursor``.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Literal

import httpx
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from pydantic import Field

__all__ = ["create_server"]

INSTRUCTIONS = (
    "Linear, the team's issue tracker. Issues are named by identifier (ENG-123); teams by key "
    "(ENG), name or id; states by name ('In Progress'); people by 'me', email, name or id; "
    "labels and projects by name. Lists return next_cursor: pass it as cursor for more."
)

READ = ToolAnnotations(read_only_hint=True, open_world_hint=False)
CREATE = ToolAnnotations(read_only_hint=False, destructive_hint=False, open_world_hint=False)
UPDATE = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)

PRIORITIES = {
    "none": 0,
    "no priority": 0,
    "urgent": 1,
    "high": 2,
    "medium": 3,
    "normal": 3,
    "low": 4,
}
STATE_TYPES = ("triage", "backlog", "unstarted", "started", "completed", "canceled", "duplicate")
NOBODY = ("none", "unassigned", "nobody", "null")
_IDENTIFIER = re.compile(r"\b([A-Za-z][A-Za-z0-9]{0,9}-\d{1,9})\b")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

# -- parameter types ---------------------------------------------------------------------------

Limit = Annotated[int, Field(ge=1, le=250, description="Maximum results to return (1-250).")]
Cursor = Annotated[
    str | None, Field(description="next_cursor from the previous page, to continue a list.")
]
OrderBy = Annotated[
    Literal["createdAt", "updatedAt"],
    Field(description="Sort newest first by creation or by last update."),
]
IncludeArchived = Annotated[bool, Field(description="Include archived items.")]
IssueRef = Annotated[
    str,
    Field(min_length=1, max_length=300, description="Issue identifier (ENG-123), id or URL."),
]
TeamRef = Annotated[
    str, Field(min_length=1, max_length=200, description="Team key (ENG), name or id.")
]
OptTeam = Annotated[str | None, Field(max_length=200, description="Team key (ENG), name or id.")]
Priority = Annotated[
    int | str | None,
    Field(
        description="0 none, 1 urgent, 2 high, 3 medium, 4 low; or the name "
        "(urgent, high, medium, low, none)."
    ),
]
UserRef = Annotated[
    str | None,
    Field(max_length=200, description="'me', or a user's email, name, display name or id."),
]
DateOrDuration = Annotated[
    str | None,
    Field(
        max_length=40,
        description="Only items on or after this time: ISO-8601 date/time, or a duration "
        "back from now such as -P1D or -P2W.",
    ),
]

# -- GraphQL selections ------------------------------------------------------------------------

ISSUE_ROW = """identifier title priority priorityLabel dueDate updatedAt state { name }
  assignee { name } labels(first: 25) { nodes { name } } project { name }"""
ISSUE_FULL = """id identifier title description priority priorityLabel estimate dueDate url
  branchName createdAt updatedAt startedAt completedAt canceledAt archivedAt
  state { name type } team { key name } assignee { name email } creator { name }
  labels(first: 50) { nodes { name } } project { name } cycle { number name }
  parent { identifier title }
  children(first: 50) { nodes { identifier title state { name } } }"""
COMMENT = "id body createdAt editedAt user { name } parent { id }"
PAGE = "pageInfo { hasNextPage endCursor }"
USER = "id name displayName email active admin isMe"
PROJECT_ROW = """id name state priorityLabel progress startDate targetDate url
  lead { name } status { name }"""
CYCLE = "id number name startsAt endsAt isActive isNext isPrevious progress team { key }"
LABEL = "id name color description isGroup team { key } parent { name }"


class LinearError(ToolError):
    """A GraphQL error from Linear, with its code (``INPUT_ERROR``, ``RATELIMITED`` ...)."""

    def __init__(self, message: str, code: str = "", not_found: bool = False):
        super().__init__(message)
        self.code = code
        self.not_found = not_found


def _out(data: dict[str, Any]) -> CallToolResult:
    """A result as compact JSON text, with the same object as structured content."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=data)


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    """Drop empty fields: agents pay for every token."""
    return {k: v for k, v in data.items() if v is not None and v != [] and v != ""}


def _name(obj: dict[str, Any] | None) -> str | None:
    return obj.get("name") if obj else None


def _page(conn: dict[str, Any]) -> str | None:
    info = conn.get("pageInfo") or {}
    return info.get("endCursor") if info.get("hasNextPage") else None


def _issue_row(node: dict[str, Any]) -> dict[str, Any]:
    return _clean(
        {
            "identifier": node["identifier"],
            "title": node["title"],
            "state": node["state"]["name"],
            "priority": node["priorityLabel"] if node.get("priority") else None,
            "assignee": _name(node.get("assignee")),
            "labels": [lb["name"] for lb in node["labels"]["nodes"]],
            "project": _name(node.get("project")),
            "dueDate": node.get("dueDate"),
            "updatedAt": node["updatedAt"],
        }
    )


def _comment(node: dict[str, Any]) -> dict[str, Any]:
    return _clean(
        {
            "id": node["id"],
            "author": _name(node.get("user")) or "(integration)",
            "body": node["body"],
            "createdAt": node["createdAt"],
            "editedAt": node.get("editedAt"),
            "parentId": (node.get("parent") or {}).get("id"),
        }
    )


def _issue_full(node: dict[str, Any]) -> dict[str, Any]:
    cycle = node.get("cycle")
    return _clean(
        {
            "id": node["id"],
            "identifier": node["identifier"],
            "title": node["title"],
            "url": node["url"],
            "team": node["team"]["key"],
            "state": node["state"]["name"],
            "stateType": node["state"]["type"],
            "priority": node["priorityLabel"],
            "assignee": _name(node.get("assignee")),
            "creator": _name(node.get("creator")),
            "labels": [lb["name"] for lb in node["labels"]["nodes"]],
            "project": _name(node.get("project")),
            "cycle": (cycle.get("name") or f"Cycle {cycle['number']:g}") if cycle else None,
            "parent": node["parent"]["identifier"] if node.get("parent") else None,
            "children": [
                f"{c['identifier']} [{c['state']['name']}] {c['title']}"
                for c in node["children"]["nodes"]
            ],
            "estimate": node.get("estimate"),
            "dueDate": node.get("dueDate"),
            "branchName": node.get("branchName"),
            "createdAt": node["createdAt"],
            "updatedAt": node["updatedAt"],
            "startedAt": node.get("startedAt"),
            "completedAt": node.get("completedAt"),
            "canceledAt": node.get("canceledAt"),
            "archivedAt": node.get("archivedAt"),
            "description": node.get("description"),
        }
    )


def _user(node: dict[str, Any]) -> dict[str, Any]:
    return _clean(
        {
            "id": node["id"],
            "name": node["name"],
            "displayName": node["displayName"],
            "email": node["email"],
            "isMe": node.get("isMe") or None,
            "admin": node.get("admin") or None,
            "active": None if node.get("active", True) else False,
        }
    )


def _label(node: dict[str, Any]) -> dict[str, Any]:
    return _clean(
        {
            "id": node["id"],
            "name": node["name"],
            "team": (node.get("team") or {}).get("key") or "workspace",
            "color": node.get("color"),
            "description": node.get("description"),
            "group": node.get("isGroup") or None,
            "parent": _name(node.get("parent")),
        }
    )


def _project_row(node: dict[str, Any]) -> dict[str, Any]:
    return _clean(
        {
            "id": node["id"],
            "name": node["name"],
            "state": node["state"],
            "status": _name(node.get("status")),
            "priority": node.get("priorityLabel"),
            "lead": _name(node.get("lead")),
            "progress": round(node["progress"], 2) if node.get("progress") is not None else None,
            "startDate": node.get("startDate"),
            "targetDate": node.get("targetDate"),
            "url": node.get("url"),
        }
    )


def _cycle(node: dict[str, Any]) -> dict[str, Any]:
    when = (
        "current"
        if node.get("isActive")
        else "next"
        if node.get("isNext")
        else "previous"
        if node.get("isPrevious")
        else None
    )
    return _clean(
        {
            "id": node["id"],
            "number": int(node["number"]),
            "name": node.get("name"),
            "team": node["team"]["key"],
            "startsAt": node["startsAt"],
            "endsAt": node["endsAt"],
            "progress": round(node["progress"], 2),
            "is": when,
        }
    )


def _priority(value: int | str | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, str):
        key = value.strip().lower()
        if key.isdigit():
            value = int(key)
        elif key in PRIORITIES:
            return PRIORITIES[key]
        else:
            raise ToolError(
                f"Unknown priority {value!r}: use 0-4 or urgent, high, medium, low, none."
            )
    if not 0 <= value <= 4:
        raise ToolError(f"Priority {value} is out of range: use 0 (none), 1 (urgent) .. 4 (low).")
    return value


def _issue_key(ref: str) -> str:
    """An identifier (``ENG-123``, also from a URL) or an id, as ``issue(id:)`` accepts it."""
    ref = ref.strip()
    if _UUID.match(ref):
        return ref.lower()
    match = _IDENTIFIER.search(ref.split("/issue/")[-1])
    if match:
        return match.group(1).upper()
    raise ToolError(f"{ref!r} is not an issue identifier: pass one like ENG-123, or an issue id.")


def _match(items: list[dict[str, Any]], ref: str, *keys: str) -> list[dict[str, Any]]:
    wanted = ref.strip().lower()
    return [it for it in items if any(str(it.get(k) or "").lower() == wanted for k in keys)]


def create_server(base_url: str, token: str) -> MCPServer:
    """A Linear MCP server speaking GraphQL to ``{base_url}/graphql`` with ``token``."""
    auth = token if token.startswith("lin_api_") or " " in token else f"Bearer {token}"
    http = httpx.Client(
        base_url=base_url.rstrip("/"),
        headers={"Authorization": auth, "Content-Type": "application/json"},
        timeout=30,
    )
    srv = MCPServer("linear", instructions=INSTRUCTIONS)

    # -- GraphQL ----------------------------------------------------------------------------

    def gql(query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        try:
            response = http.post("/graphql", json={"query": query, "variables": variables or {}})
        except httpx.HTTPError as exc:
            raise ToolError(f"Cannot reach Linear at {base_url}: {exc}. Retry shortly.") from exc
        try:
            body = response.json()
        except ValueError:
            raise ToolError(
                f"Linear answered HTTP {response.status_code} without JSON: "
                f"{response.text[:200]!r}. Retry shortly."
            ) from None
        errors = body.get("errors") if isinstance(body, dict) else None
        if errors:
            first = errors[0]
            ext = first.get("extensions") or {}
            code = ext.get("code") or ""
            message = first.get("message") or "unknown error"
            if code == "RATELIMITED":
                raise LinearError("Linear rate limit reached: wait a minute, then retry.", code)
            if ext.get("type") == "authentication_error" or response.status_code == 401:
                raise LinearError(f"Linear rejected the API key: {message}", code)
            not_found = message.startswith("Entity not found")
            if not_found:
                message = ext.get("userPresentableMessage") or message
            raise LinearError(f"Linear: {message}", code, not_found)
        if response.status_code >= 400 or not isinstance(body.get("data"), dict):
            raise ToolError(f"Linear answered HTTP {response.status_code}: {response.text[:200]}")
        return body["data"]

    # -- name resolution --------------------------------------------------------------------

    def teams() -> list[dict[str, Any]]:
        return gql("{ teams(first: 250) { nodes { id key name } } }")["teams"]["nodes"]

    def find_team(ref: str) -> dict[str, Any]:
        all_teams = teams()
        found = _match(all_teams, ref, "key", "name", "id")
        if not found:
            names = ", ".join(f"{t['key']} ({t['name']})" for t in all_teams)
            raise ToolError(f"Unknown team {ref!r}. Teams: {names}.")
        return found[0]

    def states(team_id: str) -> list[dict[str, Any]]:
        data = gql(
            "query($id: String!) { team(id: $id) { states(first: 100) "
            "{ nodes { id name type position } } } }",
            {"id": team_id},
        )
        return sorted(data["team"]["states"]["nodes"], key=lambda s: s["position"])

    def state_id(the_team: dict[str, Any], ref: str) -> str:
        all_states = states(the_team["id"])
        found = _match(all_states, ref, "name", "id")
        if not found:
            of_type = [s for s in all_states if s["type"] == ref.strip().lower()]
            if len(of_type) == 1:
                found = of_type
        if not found:
            names = ", ".join(s["name"] for s in all_states)
            raise ToolError(f"Unknown state {ref!r} for team {the_team['key']}. States: {names}.")
        return found[0]["id"]

    def find_user(ref: str) -> dict[str, Any]:
        ref = ref.strip()
        if ref.lower() == "me":
            return gql(f"{{ viewer {{ {USER} }} }}")["viewer"]
        if _UUID.match(ref):
            try:
                return gql(f"query($id: String!) {{ user(id: $id) {{ {USER} }} }}", {"id": ref})[
                    "user"
                ]
            except LinearError as exc:
                if not exc.not_found:
                    raise
                raise ToolError(f"No user with id {ref!r}: list_users shows everyone.") from None
        by = {"eqIgnoreCase": ref}
        where: list[dict[str, Any]] = [{"email": by}, {"name": by}, {"displayName": by}]
        if "@" not in ref:
            where.append({"email": {"startsWithIgnoreCase": f"{ref}@"}})
        found = gql(
            f"query($f: UserFilter) {{ users(first: 10, filter: $f) {{ nodes {{ {USER} }} }} }}",
            {"f": {"or": where}},
        )["users"]["nodes"]
        if not found:
            raise ToolError(
                f"No user matches {ref!r}: pass 'me', an email, a name or an id "
                "(list_users shows everyone)."
            )
        if len(found) > 1:
            who = ", ".join(f"{u['name']} <{u['email']}>" for u in found)
            raise ToolError(f"{ref!r} matches several users ({who}): pass an email or id.")
        return found[0]

    def labels_of(team_id: str | None) -> list[dict[str, Any]]:
        flt: dict[str, Any] = (
            {"or": [{"team": {"null": True}}, {"team": {"id": {"eq": team_id}}}]} if team_id else {}
        )
        data = gql(
            "query($f: IssueLabelFilter) { issueLabels(first: 250, filter: $f) "
            "{ nodes { id name team { key } } } }",
            {"f": flt},
        )
        return data["issueLabels"]["nodes"]

    def label_ids(the_team: dict[str, Any], refs: list[str]) -> list[str]:
        available = labels_of(the_team["id"])
        ids: list[str] = []
        for ref in refs:
            found = _match(available, ref, "name", "id")
            if not found:
                raise ToolError(
                    f"Unknown label {ref!r} for team {the_team['key']}: list_issue_labels shows "
                    "them, create_issue_label makes a new one."
                )
            if found[0]["id"] not in ids:
                ids.append(found[0]["id"])
        return ids

    def find_project(ref: str) -> dict[str, Any]:
        ref = ref.strip()
        slug = ref.rstrip("/").split("/")[-1].split("-")[-1] if "/project/" in ref else ref
        if _UUID.match(slug):
            where: dict[str, Any] = {"id": {"eq": slug.lower()}}
        else:
            where = {"or": [{"name": {"eqIgnoreCase": ref}}, {"slugId": {"eq": slug}}]}
        found = gql(
            "query($f: ProjectFilter) { projects(first: 5, filter: $f, includeArchived: true) "
            "{ nodes { id name } } }",
            {"f": where},
        )["projects"]["nodes"]
        if not found:
            raise ToolError(f"No project matches {ref!r}: list_projects shows them by name.")
        return found[0]

    def cycle_id(the_team: dict[str, Any], ref: int | str) -> str:
        text = str(ref).strip().lower()
        flt: dict[str, Any] = {"team": {"id": {"eq": the_team["id"]}}}
        if text in ("current", "active"):
            flt["isActive"] = {"eq": True}
        elif text in ("next", "previous"):
            flt["isNext" if text == "next" else "isPrevious"] = {"eq": True}
        elif text.isdigit():
            flt["number"] = {"eq": int(text)}
        elif _UUID.match(text):
            flt["id"] = {"eq": text}
        else:
            raise ToolError(f"Cycle {ref!r}: pass a cycle number, 'current', 'next' or 'previous'.")
        found = gql(
            "query($f: CycleFilter) { cycles(first: 1, filter: $f) { nodes { id } } }", {"f": flt}
        )["cycles"]["nodes"]
        if not found:
            raise ToolError(f"Team {the_team['key']} has no cycle {ref!r}: list_cycles shows them.")
        return found[0]["id"]

    def find_issue(ref: str, fields: str = ISSUE_FULL) -> dict[str, Any]:
        key = _issue_key(ref)
        try:
            return gql(f"query($id: String!) {{ issue(id: $id) {{ {fields} }} }}", {"id": key})[
                "issue"
            ]
        except LinearError as exc:
            if not exc.not_found:
                raise
            raise ToolError(
                f"Issue {key} not found: check the identifier, or find it with list_issues."
            ) from None

    def since(value: str) -> dict[str, Any]:
        return {"gte": value.strip()}

    # -- issues -----------------------------------------------------------------------------

    @srv.tool(annotations=READ)
    def list_issues(
        query: Annotated[
            str | None,
            Field(max_length=300, description="Text to search for in titles and descriptions."),
        ] = None,
        team: OptTeam = None,
        assignee: Annotated[
            str | None,
            Field(
                max_length=200,
                description="'me', 'none' for unassigned, or an email, name or id.",
            ),
        ] = None,
        state: Annotated[
            str | None,
            Field(
                max_length=100,
                description="State name ('In Progress') or type (triage, backlog, unstarted, "
                "started, completed, canceled).",
            ),
        ] = None,
        label: Annotated[str | None, Field(max_length=100, description="Label name.")] = None,
        project: Annotated[
            str | None, Field(max_length=200, description="Project name, id or URL.")
        ] = None,
        priority: Priority = None,
        cycle: Annotated[
            int | str | None,
            Field(description="Cycle number, or 'current', 'next', 'previous' (needs team)."),
        ] = None,
        parentId: Annotated[
            str | None, Field(max_length=300, description="Only sub-issues of this issue.")
        ] = None,
        createdAt: DateOrDuration = None,
        updatedAt: DateOrDuration = None,
        includeArchived: IncludeArchived = False,
        orderBy: Annotated[
            Literal["createdAt", "updatedAt"] | None,
            Field(
                description="Newest first by creation or last update (default: updatedAt; "
                "with a query, relevance)."
            ),
        ] = None,
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> CallToolResult:
        """List issues, newest first, filtered by any of: text query, team, assignee ("me"),
        state, label, project, priority, cycle, parent. Each issue comes back as identifier,
        title, state, priority, assignee, labels and project; use get_issue for the
        description and comments."""
        flt: dict[str, Any] = {}
        the_team = None
        if team:
            the_team = find_team(team)
            flt["team"] = {"id": {"eq": the_team["id"]}}
        if assignee:
            who = assignee.strip().lower()
            if who == "me":
                flt["assignee"] = {"isMe": {"eq": True}}
            elif who in NOBODY:
                flt["assignee"] = {"null": True}
            else:
                flt["assignee"] = {"id": {"eq": find_user(assignee)["id"]}}
        if state:
            kind = state.strip().lower()
            if kind in STATE_TYPES:
                flt["state"] = {"type": {"eq": kind}}
            else:
                where: dict[str, Any] = {"name": {"eqIgnoreCase": state.strip()}}
                if the_team:
                    where["team"] = {"id": {"eq": the_team["id"]}}
                known = gql(
                    "query($f: WorkflowStateFilter) { workflowStates(first: 1, filter: $f) "
                    "{ nodes { id } } }",
                    {"f": where},
                )["workflowStates"]["nodes"]
                if not known:
                    scope = the_team["id"] if the_team else teams()[0]["id"]
                    names = ", ".join(s["name"] for s in states(scope))
                    raise ToolError(
                        f"Unknown state {state!r}. States are like: {names}; or a type: "
                        f"{', '.join(STATE_TYPES)}."
                    )
                flt["state"] = {"name": {"eqIgnoreCase": state.strip()}}
        if label:
            if not _match(labels_of(None), label, "name", "id"):
                raise ToolError(f"Unknown label {label!r}: list_issue_labels shows them.")
            flt["labels"] = {"some": {"name": {"eqIgnoreCase": label.strip()}}}
        if project:
            flt["project"] = {"id": {"eq": find_project(project)["id"]}}
        if priority is not None:
            flt["priority"] = {"eq": _priority(priority)}
        if cycle is not None:
            if not the_team:
                raise ToolError("Filtering by cycle needs a team: pass team as well.")
            flt["cycle"] = {"id": {"eq": cycle_id(the_team, cycle)}}
        if parentId:
            flt["parent"] = {"id": {"eq": find_issue(parentId, "id")["id"]}}
        if createdAt:
            flt["createdAt"] = since(createdAt)
        if updatedAt:
            flt["updatedAt"] = since(updatedAt)
        variables = {
            "f": flt,
            "first": limit,
            "after": cursor,
            "order": orderBy,
            "arch": includeArchived,
        }
        if query and query.strip():  # ranked by relevance unless an order is asked for
            data = gql(
                f"""query($q: String!, $f: IssueFilter, $first: Int, $after: String,
                    $order: PaginationOrderBy, $arch: Boolean) {{
                  searchIssues(term: $q, filter: $f, first: $first, after: $after,
                               orderBy: $order, includeArchived: $arch) {{
                    nodes {{ {ISSUE_ROW} }} {PAGE} }} }}""",
                {**variables, "q": query.strip()},
            )["searchIssues"]
        else:
            data = gql(
                f"""query($f: IssueFilter, $first: Int, $after: String,
                    $order: PaginationOrderBy, $arch: Boolean) {{
                  issues(filter: $f, first: $first, after: $after, orderBy: $order,
                         includeArchived: $arch) {{ nodes {{ {ISSUE_ROW} }} {PAGE} }} }}""",
                {**variables, "order": orderBy or "updatedAt"},
            )["issues"]
        return _out({"issues": [_issue_row(n) for n in data["nodes"]], "next_cursor": _page(data)})

    @srv.tool(annotations=READ)
    def get_issue(id: IssueRef) -> CallToolResult:
        """Get one issue by identifier (ENG-123), id or URL: title, description, state,
        assignee, labels, project, cycle, parent and sub-issues, and its comments (oldest
        first; the first 50, list_comments pages through more)."""
        node = find_issue(
            id, f"{ISSUE_FULL} comments(first: 50) {{ nodes {{ {COMMENT} }} {PAGE} }}"
        )
        result = _issue_full(node)
        comments = sorted(node["comments"]["nodes"], key=lambda c: c["createdAt"])
        result["comments"] = [_comment(c) for c in comments]
        if node["comments"]["pageInfo"]["hasNextPage"]:
            result["moreComments"] = True
        return _out(result)

    def issue_input(
        the_team: dict[str, Any],
        *,
        title: str | None,
        description: str | None,
        assignee: str | None,
        state: str | None,
        priority: int | str | None,
        labels: list[str] | None,
        project: str | None,
        parent: str | None,
        due: str | None,
        estimate: int | None,
        cycle: int | str | None,
    ) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if title is not None:
            if not title.strip():
                raise ToolError("title must not be empty.")
            data["title"] = title.strip()
        if description is not None:
            data["description"] = description
        if assignee is not None:
            data["assigneeId"] = (
                None if assignee.strip().lower() in NOBODY else find_user(assignee)["id"]
            )
        if state is not None:
            data["stateId"] = state_id(the_team, state)
        if priority is not None:
            data["priority"] = _priority(priority)
        if labels is not None:
            data["labelIds"] = label_ids(the_team, labels)
        if project is not None:
            data["projectId"] = (
                None if project.strip().lower() in NOBODY else find_project(project)["id"]
            )
        if parent is not None:
            data["parentId"] = (
                None if parent.strip().lower() in NOBODY else find_issue(parent, "id")["id"]
            )
        if due is not None:
            data["dueDate"] = None if due.strip().lower() in NOBODY else due.strip()
        if estimate is not None:
            data["estimate"] = estimate
        if cycle is not None:
            data["cycleId"] = (
                None if str(cycle).strip().lower() in NOBODY else cycle_id(the_team, cycle)
            )
        return data

    def saved(payload: dict[str, Any]) -> CallToolResult:
        """The saved issue, without the description the caller just sent."""
        node = payload.get("issue")
        if not payload.get("success") or not node:
            raise ToolError("Linear did not save the issue; retry, or check the arguments.")
        result = _issue_full(node)
        result.pop("description", None)
        return _out(result)

    @srv.tool(annotations=CREATE)
    def create_issue(
        title: Annotated[str, Field(min_length=1, max_length=512, description="Issue title.")],
        team: TeamRef,
        description: Annotated[
            str | None, Field(max_length=100_000, description="Body in Markdown.")
        ] = None,
        assignee: UserRef = None,
        state: Annotated[
            str | None,
            Field(
                max_length=100,
                description="State name, e.g. 'Todo' (default: the team's default state).",
            ),
        ] = None,
        priority: Priority = None,
        labels: Annotated[
            list[Annotated[str, Field(max_length=100)]] | None,
            Field(max_length=50, description="Label names."),
        ] = None,
        project: Annotated[
            str | None, Field(max_length=200, description="Project name or id.")
        ] = None,
        parentId: Annotated[
            str | None, Field(max_length=300, description="Parent issue (ENG-123) for a sub-issue.")
        ] = None,
        dueDate: Annotated[
            str | None, Field(pattern=r"^\d{4}-\d{2}-\d{2}$", description="Due date, YYYY-MM-DD.")
        ] = None,
        estimate: Annotated[int | None, Field(ge=0, le=100, description="Estimate points.")] = None,
        cycle: Annotated[
            int | str | None,
            Field(description="Cycle number, or 'current' / 'next'."),
        ] = None,
    ) -> CallToolResult:
        """Create an issue in a team. Names are resolved for you: team key, state name,
        assignee ('me', email or name), label and project names. Returns the new issue with
        its identifier and URL."""
        the_team = find_team(team)
        data = issue_input(
            the_team,
            title=title,
            description=description,
            assignee=assignee,
            state=state,
            priority=priority,
            labels=labels,
            project=project,
            parent=parentId,
            due=dueDate,
            estimate=estimate,
            cycle=cycle,
        )
        data["teamId"] = the_team["id"]
        payload = gql(
            f"""mutation($input: IssueCreateInput!) {{
              issueCreate(input: $input) {{ success issue {{ {ISSUE_FULL} }} }} }}""",
            {"input": data},
        )["issueCreate"]
        return saved(payload)

    @srv.tool(annotations=UPDATE)
    def update_issue(
        id: IssueRef,
        title: Annotated[str | None, Field(max_length=512, description="New title.")] = None,
        description: Annotated[
            str | None, Field(max_length=100_000, description="New body in Markdown (replaces it).")
        ] = None,
        state: Annotated[
            str | None, Field(max_length=100, description="State name, e.g. 'In Progress', 'Done'.")
        ] = None,
        assignee: Annotated[
            str | None,
            Field(max_length=200, description="'me', an email, name or id; 'none' to unassign."),
        ] = None,
        priority: Priority = None,
        labels: Annotated[
            list[Annotated[str, Field(max_length=100)]] | None,
            Field(max_length=50, description="Label names: replaces all of the issue's labels."),
        ] = None,
        addLabels: Annotated[
            list[Annotated[str, Field(max_length=100)]] | None,
            Field(max_length=50, description="Label names to add, keeping the others."),
        ] = None,
        removeLabels: Annotated[
            list[Annotated[str, Field(max_length=100)]] | None,
            Field(max_length=50, description="Label names to remove."),
        ] = None,
        project: Annotated[
            str | None, Field(max_length=200, description="Project name or id; 'none' to remove.")
        ] = None,
        parentId: Annotated[
            str | None, Field(max_length=300, description="Parent issue; 'none' to detach.")
        ] = None,
        dueDate: Annotated[
            str | None,
            Field(pattern=r"^(\d{4}-\d{2}-\d{2}|none)$", description="YYYY-MM-DD, or 'none'."),
        ] = None,
        estimate: Annotated[int | None, Field(ge=0, le=100, description="Estimate points.")] = None,
        cycle: Annotated[
            int | str | None,
            Field(description="Cycle number, 'current', 'next'; 'none' to remove."),
        ] = None,
    ) -> CallToolResult:
        """Update an issue (ENG-123): state by name ('In Progress', 'Done'), assignee, priority,
        labels (replace, add or remove), title, description, project, parent, due date, cycle.
        Only the fields given change. Returns the updated issue."""
        current = find_issue(id, "id identifier team { id key name }")
        the_team = current["team"]
        data = issue_input(
            the_team,
            title=title,
            description=description,
            assignee=assignee,
            state=state,
            priority=priority,
            labels=labels,
            project=project,
            parent=parentId,
            due=dueDate,
            estimate=estimate,
            cycle=cycle,
        )
        if addLabels:
            data["addedLabelIds"] = label_ids(the_team, addLabels)
        if removeLabels:
            data["removedLabelIds"] = label_ids(the_team, removeLabels)
        if not data:
            raise ToolError("Nothing to update: pass at least one field (state, assignee, ...).")
        payload = gql(
            f"""mutation($id: String!, $input: IssueUpdateInput!) {{
              issueUpdate(id: $id, input: $input) {{ success issue {{ {ISSUE_FULL} }} }} }}""",
            {"id": current["id"], "input": data},
        )["issueUpdate"]
        return saved(payload)

    # -- comments ---------------------------------------------------------------------------

    @srv.tool(annotations=READ)
    def list_comments(
        issueId: IssueRef, limit: Limit = 50, cursor: Cursor = None
    ) -> CallToolResult:
        """List an issue's comments, oldest first: author, body (Markdown), time, and the
        parentId of replies."""
        key = _issue_key(issueId)
        try:
            node = gql(
                f"""query($id: String!, $first: Int, $after: String) {{ issue(id: $id) {{
                  identifier comments(first: $first, after: $after) {{
                    nodes {{ {COMMENT} }} {PAGE} }} }} }}""",
                {"id": key, "first": limit, "after": cursor},
            )["issue"]
        except LinearError as exc:
            if not exc.not_found:
                raise
            raise ToolError(f"Issue {key} not found: find it with list_issues.") from None
        comments = sorted(node["comments"]["nodes"], key=lambda c: c["createdAt"])
        return _out(
            {
                "issue": node["identifier"],
                "comments": [_comment(c) for c in comments],
                "next_cursor": _page(node["comments"]),
            }
        )

    @srv.tool(annotations=CREATE)
    def create_comment(
        issueId: IssueRef,
        body: Annotated[
            str, Field(min_length=1, max_length=100_000, description="Comment in Markdown.")
        ],
        parentId: Annotated[
            str | None, Field(max_length=100, description="Comment id to reply to (a thread).")
        ] = None,
    ) -> CallToolResult:
        """Comment on an issue (ENG-123), in Markdown; pass parentId to reply in a thread."""
        if not body.strip():
            raise ToolError("body must not be empty.")
        target = find_issue(issueId, "id identifier")
        data: dict[str, Any] = {"issueId": target["id"], "body": body}
        if parentId:
            data["parentId"] = parentId.strip()
        payload = gql(
            f"""mutation($input: CommentCreateInput!) {{
              commentCreate(input: $input) {{ success comment {{ {COMMENT} url }} }} }}""",
            {"input": data},
        )["commentCreate"]
        if not payload.get("success"):
            raise ToolError("Linear did not save the comment; retry.")
        comment = payload["comment"]
        return _out({"issue": target["identifier"], **_comment(comment), "url": comment["url"]})

    # -- statuses and labels ----------------------------------------------------------------

    @srv.tool(annotations=READ)
    def list_issue_statuses(team: TeamRef) -> CallToolResult:
        """List a team's workflow states (issue statuses) in board order: name, type
        (triage, backlog, unstarted, started, completed, canceled) and id."""
        the_team = find_team(team)
        return _out(
            {
                "team": the_team["key"],
                "statuses": [
                    {"name": s["name"], "type": s["type"], "id": s["id"]}
                    for s in states(the_team["id"])
                ],
            }
        )

    @srv.tool(annotations=READ)
    def list_issue_labels(
        team: Annotated[
            str | None,
            Field(
                max_length=200,
                description="Team key/name/id: the workspace labels plus "
                "this team's own. Omit for every label.",
            ),
        ] = None,
        name: Annotated[
            str | None, Field(max_length=100, description="Only labels whose name contains this.")
        ] = None,
        limit: Limit = 100,
        cursor: Cursor = None,
    ) -> CallToolResult:
        """List issue labels: name, team ('workspace' when shared), color, description."""
        parts: list[dict[str, Any]] = []
        if team:
            the_team = find_team(team)
            parts.append(
                {"or": [{"team": {"null": True}}, {"team": {"id": {"eq": the_team["id"]}}}]}
            )
        if name:
            parts.append({"name": {"containsIgnoreCase": name.strip()}})
        data = gql(
            f"""query($f: IssueLabelFilter, $first: Int, $after: String) {{
              issueLabels(filter: $f, first: $first, after: $after) {{
                nodes {{ {LABEL} }} {PAGE} }} }}""",
            {"f": {"and": parts} if parts else {}, "first": limit, "after": cursor},
        )["issueLabels"]
        rows = sorted((_label(n) for n in data["nodes"]), key=lambda r: r["name"].lower())
        return _out({"labels": rows, "next_cursor": _page(data)})

    @srv.tool(annotations=CREATE)
    def create_issue_label(
        name: Annotated[str, Field(min_length=1, max_length=80, description="Label name.")],
        team: Annotated[
            str | None,
            Field(
                max_length=200,
                description="Team key/name/id for a team label; omit for a "
                "workspace label every team can use.",
            ),
        ] = None,
        color: Annotated[
            str | None, Field(pattern=r"^#[0-9A-Fa-f]{6}$", description="Hex color, e.g. #EB5757.")
        ] = None,
        description: Annotated[
            str | None, Field(max_length=500, description="What the label is for.")
        ] = None,
        parent: Annotated[
            str | None,
            Field(max_length=100, description="Name or id of a label group to nest under."),
        ] = None,
    ) -> CallToolResult:
        """Create an issue label (workspace-wide, or for one team)."""
        data: dict[str, Any] = {"name": name.strip()}
        the_team = find_team(team) if team else None
        existing = labels_of(the_team["id"] if the_team else None)
        if _match(existing, name, "name"):
            raise ToolError(f"A label named {name.strip()!r} already exists: use it as it is.")
        if the_team:
            data["teamId"] = the_team["id"]
        if color:
            data["color"] = color
        if description:
            data["description"] = description
        if parent:
            found = _match(existing, parent, "name", "id")
            if not found:
                raise ToolError(f"Unknown parent label {parent!r}: list_issue_labels shows them.")
            data["parentId"] = found[0]["id"]
        payload = gql(
            f"""mutation($input: IssueLabelCreateInput!) {{
              issueLabelCreate(input: $input) {{ success issueLabel {{ {LABEL} }} }} }}""",
            {"input": data},
        )["issueLabelCreate"]
        if not payload.get("success"):
            raise ToolError("Linear did not create the label; retry.")
        return _out(_label(payload["issueLabel"]))

    # -- projects ---------------------------------------------------------------------------

    @srv.tool(annotations=READ)
    def list_projects(
        query: Annotated[
            str | None, Field(max_length=200, description="Only projects whose name contains this.")
        ] = None,
        team: OptTeam = None,
        state: Annotated[
            Literal["backlog", "planned", "started", "paused", "completed", "canceled"] | None,
            Field(description="Only projects in this state."),
        ] = None,
        includeArchived: IncludeArchived = False,
        orderBy: OrderBy = "updatedAt",
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> CallToolResult:
        """List projects: name, state, lead, progress (0-1), start and target dates, URL."""
        parts: list[dict[str, Any]] = []
        if query:
            parts.append({"name": {"containsIgnoreCase": query.strip()}})
        if state:
            parts.append({"state": {"eq": state}})
        variables = {
            "f": {"and": parts} if parts else {},
            "first": limit,
            "after": cursor,
            "order": orderBy,
            "arch": includeArchived,
        }
        args = "filter: $f, first: $first, after: $after, orderBy: $order, includeArchived: $arch"
        head = (
            "$f: ProjectFilter, $first: Int, $after: String, $order: PaginationOrderBy, "
            "$arch: Boolean"
        )
        if team:
            the_team = find_team(team)
            data = gql(
                f"""query($t: String!, {head}) {{ team(id: $t) {{
                  projects({args}) {{ nodes {{ {PROJECT_ROW} }} {PAGE} }} }} }}""",
                {**variables, "t": the_team["id"]},
            )["team"]["projects"]
        else:
            data = gql(
                f"query({head}) {{ projects({args}) {{ nodes {{ {PROJECT_ROW} }} {PAGE} }} }}",
                variables,
            )["projects"]
        return _out(
            {"projects": [_project_row(n) for n in data["nodes"]], "next_cursor": _page(data)}
        )

    @srv.tool(annotations=READ)
    def get_project(
        query: Annotated[
            str, Field(min_length=1, max_length=300, description="Project name, id, slug or URL.")
        ],
    ) -> CallToolResult:
        """Get a project by name or id: description, content, lead, members, teams, dates,
        progress, and its open issues (up to 50)."""
        found = find_project(query)
        node = gql(
            f"""query($id: String!) {{ project(id: $id) {{ {PROJECT_ROW} description content
              createdAt completedAt canceledAt
              members(first: 50) {{ nodes {{ name }} }} teams(first: 20) {{ nodes {{ key }} }}
              issues(first: 50, filter: {{ state: {{ type: {{ nin: ["completed", "canceled",
                "duplicate"] }} }} }}) {{ nodes {{ {ISSUE_ROW} }} {PAGE} }} }} }}""",
            {"id": found["id"]},
        )["project"]
        result = _project_row(node)
        result.update(
            _clean(
                {
                    "description": node.get("description"),
                    "teams": [t["key"] for t in node["teams"]["nodes"]],
                    "members": [m["name"] for m in node["members"]["nodes"]],
                    "createdAt": node.get("createdAt"),
                    "completedAt": node.get("completedAt"),
                    "canceledAt": node.get("canceledAt"),
                    "content": node.get("content"),
                }
            )
        )
        result["openIssues"] = [_issue_row(n) for n in node["issues"]["nodes"]]
        if _page(node["issues"]):
            result["moreOpenIssues"] = True
        return _out(result)

    # -- teams, users, cycles ---------------------------------------------------------------

    @srv.tool(annotations=READ)
    def list_teams(
        query: Annotated[
            str | None,
            Field(max_length=200, description="Only teams whose name or key contains this."),
        ] = None,
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> CallToolResult:
        """List teams: key (the prefix of issue identifiers), name, description, id."""
        flt: dict[str, Any] = {}
        if query:
            by = {"containsIgnoreCase": query.strip()}
            flt = {"or": [{"name": by}, {"key": by}]}
        data = gql(
            """query($f: TeamFilter, $first: Int, $after: String) {
              teams(filter: $f, first: $first, after: $after) {
                nodes { id key name description } pageInfo { hasNextPage endCursor } } }""",
            {"f": flt, "first": limit, "after": cursor},
        )["teams"]
        rows = [
            _clean(
                {
                    "key": t["key"],
                    "name": t["name"],
                    "description": t.get("description"),
                    "id": t["id"],
                }
            )
            for t in data["nodes"]
        ]
        return _out({"teams": rows, "next_cursor": _page(data)})

    @srv.tool(annotations=READ)
    def get_team(query: TeamRef) -> CallToolResult:
        """Get a team by key (ENG), name or id: description, workflow states, members,
        current cycle and defaults."""
        found = find_team(query)
        node = gql(
            """query($id: String!) { team(id: $id) { id key name description timezone
              triageEnabled cyclesEnabled defaultIssueState { name }
              states(first: 100) { nodes { name type position } }
              members(first: 100) { nodes { name email } }
              activeCycle { number name startsAt endsAt } } }""",
            {"id": found["id"]},
        )["team"]
        cycle = node.get("activeCycle")
        return _out(
            _clean(
                {
                    "id": node["id"],
                    "key": node["key"],
                    "name": node["name"],
                    "description": node.get("description"),
                    "timezone": node.get("timezone"),
                    "triage": node.get("triageEnabled") or None,
                    "defaultState": _name(node.get("defaultIssueState")),
                    "states": [
                        f"{s['name']} ({s['type']})"
                        for s in sorted(node["states"]["nodes"], key=lambda s: s["position"])
                    ],
                    "members": [f"{m['name']} <{m['email']}>" for m in node["members"]["nodes"]],
                    "currentCycle": (
                        {
                            "number": int(cycle["number"]),
                            "startsAt": cycle["startsAt"],
                            "endsAt": cycle["endsAt"],
                        }
                        if cycle
                        else None
                    ),
                }
            )
        )

    @srv.tool(annotations=READ)
    def list_users(
        query: Annotated[
            str | None,
            Field(
                max_length=200,
                description="Only users whose name, display name or email contains this.",
            ),
        ] = None,
        team: OptTeam = None,
        limit: Limit = 100,
        cursor: Cursor = None,
    ) -> CallToolResult:
        """List people in the workspace (or a team's members): name, display name, email, id."""
        flt: dict[str, Any] = {}
        if query:
            by = {"containsIgnoreCase": query.strip()}
            flt = {"or": [{"name": by}, {"displayName": by}, {"email": by}]}
        variables = {"f": flt, "first": limit, "after": cursor}
        select = f"nodes {{ {USER} }} {PAGE}"
        if team:
            the_team = find_team(team)
            data = gql(
                f"""query($t: String!, $f: UserFilter, $first: Int, $after: String) {{
                  team(id: $t) {{ members(filter: $f, first: $first, after: $after)
                  {{ {select} }} }} }}""",
                {**variables, "t": the_team["id"]},
            )["team"]["members"]
        else:
            data = gql(
                f"""query($f: UserFilter, $first: Int, $after: String) {{
                  users(filter: $f, first: $first, after: $after) {{ {select} }} }}""",
                variables,
            )["users"]
        return _out({"users": [_user(u) for u in data["nodes"]], "next_cursor": _page(data)})

    @srv.tool(annotations=READ)
    def get_user(
        query: Annotated[
            str,
            Field(
                min_length=1,
                max_length=200,
                description="'me', or an email, name, display name or id.",
            ),
        ],
    ) -> CallToolResult:
        """Get a person ('me' for yourself): name, email, title, teams, and their open
        assigned issues count."""
        found = find_user(query)
        node = gql(
            f"""query($id: String!) {{ user(id: $id) {{ {USER} title timezone statusLabel
              createdAt teams(first: 50) {{ nodes {{ key }} }}
              assignedIssues(first: 250, filter: {{ state: {{ type: {{ in: ["unstarted",
                "started"] }} }} }}) {{ nodes {{ identifier }} }} }} }}""",
            {"id": found["id"]},
        )["user"]
        result = _user(node)
        result.update(
            _clean(
                {
                    "title": node.get("title"),
                    "timezone": node.get("timezone"),
                    "status": node.get("statusLabel"),
                    "teams": [t["key"] for t in node["teams"]["nodes"]],
                    "openAssignedIssues": [
                        i["identifier"] for i in node["assignedIssues"]["nodes"]
                    ],
                }
            )
        )
        return _out(result)

    @srv.tool(annotations=READ)
    def list_cycles(
        team: TeamRef,
        type: Annotated[
            Literal["current", "previous", "next", "all"],
            Field(description="Which cycles: the current one, the previous, the next, or all."),
        ] = "all",
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> CallToolResult:
        """List a team's cycles (sprints): number, dates, progress (0-1), and which one is
        current / next / previous."""
        the_team = find_team(team)
        flt: dict[str, Any] = {"team": {"id": {"eq": the_team["id"]}}}
        if type == "current":
            flt["isActive"] = {"eq": True}
        elif type == "next":
            flt["isNext"] = {"eq": True}
        elif type == "previous":
            flt["isPrevious"] = {"eq": True}
        data = gql(
            f"""query($f: CycleFilter, $first: Int, $after: String) {{
              cycles(filter: $f, first: $first, after: $after) {{ nodes {{ {CYCLE} }} {PAGE} }} }}""",
            {"f": flt, "first": limit, "after": cursor},
        )["cycles"]
        rows = sorted((_cycle(c) for c in data["nodes"]), key=lambda c: c["number"])
        return _out({"cycles": rows, "next_cursor": _page(data)})

    return srv
