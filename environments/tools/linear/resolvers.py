"""Query fields and the computed fields of every object type.

Objects are the row dicts of :mod:`.reader`; a field without a resolver here is read from the
dict by name. Every resolver is ``(obj, info, **args)`` and uses only ``info.context``, so the
same functions serve graphql-core's executor and the fast path in :mod:`.fastexec`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

from environments.tools.linear.context import Context
from environments.tools.linear.model import (
    PRIORITY_LABELS,
    LinearError,
    branch_name,
    is_uuid,
    issue_url,
    not_found,
)
from environments.tools.linear.reader import slice_list

Resolver = Callable[..., Any]
RESOLVERS: dict[str, dict[str, Resolver]] = {}


def resolves(type_name: str, field_name: str) -> Callable[[Resolver], Resolver]:
    def register(fn: Resolver) -> Resolver:
        RESOLVERS.setdefault(type_name, {})[field_name] = fn
        return fn

    return register


def ctx_of(info) -> Context:
    return info.context


def issue_page(ctx: Context, args: dict[str, Any], where: str = "1", params=()) -> dict:
    page = ctx.reader.page("Issue", args, where, params)
    ctx.seen(page["nodes"])
    return page


def _hash(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


# -- Query ------------------------------------------------------------------------------------


@resolves("Query", "issues")
def q_issues(_, info, **args):
    return issue_page(ctx_of(info), args)


@resolves("Query", "issue")
def q_issue(_, info, id):
    issue = ctx_of(info).find_issue(id)
    if issue is None:
        raise not_found("Issue")
    return issue


@resolves("Query", "searchIssues")
def q_search_issues(_, info, term, **args):
    return search(ctx_of(info), term, args, with_total=True)


@resolves("Query", "issueSearch")
def q_issue_search(_, info, query=None, **args):
    if not query:
        return issue_page(ctx_of(info), args)
    return search(ctx_of(info), query, args, with_total=False)


@resolves("Query", "teams")
def q_teams(_, info, **args):
    return ctx_of(info).reader.page("Team", args)


@resolves("Query", "team")
def q_team(_, info, id):
    team = ctx_of(info).lookup.team(id)
    if team is None:
        raise not_found("Team")
    return team


@resolves("Query", "workflowStates")
def q_states(_, info, **args):
    return ctx_of(info).reader.page("WorkflowState", args)


@resolves("Query", "workflowState")
def q_state(_, info, id):
    state = ctx_of(info).lookup.states.get(id)
    if state is None:
        raise not_found("WorkflowState")
    return state


@resolves("Query", "users")
def q_users(_, info, includeDisabled=None, **args):
    where = "1" if includeDisabled else "u.active = 1"
    return ctx_of(info).reader.page("User", args, where)


@resolves("Query", "user")
def q_user(_, info, id):
    user = ctx_of(info).lookup.users.get(id)
    if user is None:
        raise not_found("User")
    return user


@resolves("Query", "viewer")
def q_viewer(_, info):
    return ctx_of(info).viewer


@resolves("Query", "issueLabels")
def q_labels(_, info, **args):
    return ctx_of(info).reader.page("IssueLabel", args)


@resolves("Query", "issueLabel")
def q_label(_, info, id):
    label = ctx_of(info).lookup.labels.get(id)
    if label is None:
        raise not_found("IssueLabel")
    return label


@resolves("Query", "projects")
def q_projects(_, info, **args):
    return ctx_of(info).reader.page("Project", args)


@resolves("Query", "project")
def q_project(_, info, id):
    lookup = ctx_of(info).lookup
    project = lookup.projects.get(id) or lookup.project_slugs.get(id)
    if project is None and isinstance(id, str) and "-" in id:
        project = lookup.project_slugs.get(id.rsplit("-", 1)[-1])  # "checkout-v2-<slugId>"
    if project is None:
        raise not_found("Project")
    return project


@resolves("Query", "cycles")
def q_cycles(_, info, **args):
    return ctx_of(info).reader.page("Cycle", args)


@resolves("Query", "cycle")
def q_cycle(_, info, id):
    cycle = ctx_of(info).lookup.cycles.get(id)
    if cycle is None:
        raise not_found("Cycle")
    return cycle


@resolves("Query", "comments")
def q_comments(_, info, **args):
    return ctx_of(info).reader.page("Comment", args)


@resolves("Query", "comment")
def q_comment(_, info, id=None, hash=None):
    ctx = ctx_of(info)
    if id is None:
        raise LinearError(
            "Argument Validation Error", user_message="comment: give the comment's id."
        )
    found = ctx.reader.by_ids("Comment", [id]) if is_uuid(id) else {}
    if id not in found:
        raise not_found("Comment")
    return found[id]


@resolves("Query", "organization")
def q_organization(_, info):
    return ctx_of(info).lookup.org


# -- search -----------------------------------------------------------------------------------

_WORD = re.compile(r"[\w#./:@-]+", re.UNICODE)


def search(ctx: Context, term: str, args: dict[str, Any], *, with_total: bool) -> dict:
    """Issues whose identifier, title or description (or comments) contain every word.

    Ranked by relevance (identifier match, then title hits, then description hits) unless an
    ``orderBy`` is given, then in that order like any list.
    """
    words = [w.lower() for w in _WORD.findall(term or "")][:20]
    reader = ctx.reader
    b = reader.builder()
    text = "lin_lower(i.identifier || ' ' || i.title || ' ' || IFNULL(i.description, ''))"
    if args.get("includeComments"):
        text = (
            f"({text} || ' ' || lin_lower(IFNULL((SELECT group_concat(body, ' ') FROM comments "
            "cm WHERE cm.issue_id = i.id AND cm.archived_at IS NULL), '')))"
        )
    conds = []
    for word in words:
        b.params.append(word)
        conds.append(f"instr({text}, ?) > 0")
    if not words:
        conds.append("0")
    team_boost = args.pop("teamId", None)
    where = " AND ".join(conds)
    filt = args.get("filter")
    filter_sql = b.where("Issue", "i", filt)
    archived = "1" if args.get("includeArchived") else "i.archived_at IS NULL"
    full_where = f"({where}) AND {filter_sql} AND {archived}"
    if args.get("orderBy") is not None:
        page = issue_page(
            ctx, {k: v for k, v in args.items() if k != "filter"}, full_where, b.params
        )
    else:
        sql = reader.select("Issue", "i") + f" WHERE {full_where}"
        rows = reader.rows("Issue", sql, b.params)
        phrase = " ".join(words)

        def score(row: dict[str, Any]) -> tuple:
            title = row["title"].lower()
            body = (row["description"] or "").lower()
            return (
                row["identifier"].lower() == phrase,
                phrase in title,
                sum(title.count(w) for w in words),
                sum(body.count(w) for w in words),
                team_boost is not None and row["teamId"] == team_boost,
                row["createdAt"],
                row["id"],
            )

        rows.sort(key=score, reverse=True)
        page = slice_list(rows, args)
        ctx.seen(page["nodes"])
        page["totalCount"] = float(len(rows))
    for node in page["nodes"]:
        node.setdefault("metadata", {"score": 1.0})
    if with_total and "totalCount" not in page:
        page["totalCount"] = float(ctx.reader.count("Issue", full_where, b.params))
    return page


# -- connections ------------------------------------------------------------------------------


def edges(page, info):
    return [{"node": node, "cursor": node["id"]} for node in page["nodes"]]


CONNECTIONS = (
    "IssueConnection",
    "TeamConnection",
    "WorkflowStateConnection",
    "UserConnection",
    "IssueLabelConnection",
    "ProjectConnection",
    "CycleConnection",
    "CommentConnection",
    "IssueSearchPayload",
)
for _name in CONNECTIONS:
    RESOLVERS.setdefault(_name, {})["edges"] = edges


# -- Issue ------------------------------------------------------------------------------------


def _issue(field: str) -> Callable[[Resolver], Resolver]:
    """Registers an Issue field for IssueSearchResult as well."""

    def register(fn: Resolver) -> Resolver:
        resolves("Issue", field)(fn)
        resolves("IssueSearchResult", field)(fn)
        return fn

    return register


@_issue("url")
def issue_url_field(issue, info):
    return issue_url(ctx_of(info).lookup.org["urlKey"], issue["identifier"], issue["title"])


@_issue("branchName")
def issue_branch(issue, info):
    assignee = ctx_of(info).lookup.users.get(issue["assigneeId"] or "")
    return branch_name(issue["identifier"], issue["title"], assignee and assignee["displayName"])


@_issue("priorityLabel")
def issue_priority_label(issue, info):
    return PRIORITY_LABELS.get(issue["priority"], "No priority")


@_issue("prioritySortOrder")
def issue_priority_sort(issue, info):
    return float(issue["priority"] or 5)


@_issue("boardOrder")
def issue_board_order(issue, info):
    return issue["sortOrder"]


@_issue("labelIds")
def issue_label_ids(issue, info):
    return [label["id"] for label in ctx_of(info).issue_labels(issue["id"])]


@_issue("previousIdentifiers")
def issue_previous(issue, info):
    return json.loads(issue["previousIdentifiersJson"])


@_issue("state")
def issue_state(issue, info):
    return ctx_of(info).lookup.states[issue["stateId"]]


@_issue("team")
def issue_team(issue, info):
    return ctx_of(info).lookup.teams[issue["teamId"]]


@_issue("assignee")
def issue_assignee(issue, info):
    return ctx_of(info).lookup.users.get(issue["assigneeId"] or "")


@_issue("creator")
def issue_creator(issue, info):
    return ctx_of(info).lookup.users.get(issue["creatorId"] or "")


@_issue("project")
def issue_project(issue, info):
    return ctx_of(info).lookup.projects.get(issue["projectId"] or "")


@_issue("cycle")
def issue_cycle(issue, info):
    return ctx_of(info).lookup.cycles.get(issue["cycleId"] or "")


@_issue("parent")
def issue_parent(issue, info):
    return ctx_of(info).issue_by_id(issue["parentId"])


@_issue("children")
def issue_children(issue, info, **args):
    return issue_page(ctx_of(info), args, "i.parent_id = ?", [issue["id"]])


@_issue("comments")
def issue_comments(issue, info, **args):
    return ctx_of(info).reader.page("Comment", args, "m.issue_id = ?", [issue["id"]])


@_issue("labels")
def issue_labels(issue, info, **args):
    ctx = ctx_of(info)
    if not args.get("filter") and args.get("orderBy") in (None, "createdAt"):
        return slice_list(ctx.issue_labels(issue["id"]), args)
    where = "l.id IN (SELECT label_id FROM issue_labels WHERE issue_id = ?)"
    return ctx.reader.page("IssueLabel", args, where, [issue["id"]])


@_issue("subscribers")
def issue_subscribers(issue, info, includeDisabled=None, **args):
    where = (
        "u.id IN (SELECT creator_id FROM issues WHERE id = ? UNION SELECT assignee_id FROM "
        "issues WHERE id = ? UNION SELECT user_id FROM comments WHERE issue_id = ?)"
    )
    if not includeDisabled:
        where += " AND u.active = 1"
    return ctx_of(info).reader.page("User", args, where, [issue["id"]] * 3)


@resolves("IssueSearchResult", "metadata")
def search_metadata(issue, info):
    return issue.get("metadata") or {"score": 1.0}


# -- Team -------------------------------------------------------------------------------------


def _team_state_of_type(team, info, kind: str):
    for state in ctx_of(info).lookup.team_states(team["id"]):
        if state["type"] == kind:
            return state
    return None


@resolves("Team", "defaultIssueState")
def team_default_state(team, info):
    return ctx_of(info).lookup.states.get(team["defaultStateId"] or "")


@resolves("Team", "triageIssueState")
def team_triage_state(team, info):
    return _team_state_of_type(team, info, "triage") if team["triageEnabled"] else None


@resolves("Team", "markedAsDuplicateWorkflowState")
def team_duplicate_state(team, info):
    return _team_state_of_type(team, info, "duplicate")


@resolves("Team", "activeCycle")
def team_active_cycle(team, info):
    ctx = ctx_of(info)
    for cycle in ctx.lookup.team_cycles.get(team["id"], ()):
        if cycle["startsAt"] <= ctx.now_iso < cycle["endsAt"]:
            return cycle
    return None


@resolves("Team", "upcomingCycleCount")
def team_upcoming(team, info):
    ctx = ctx_of(info)
    cycles = ctx.lookup.team_cycles.get(team["id"], ())
    return float(sum(1 for c in cycles if c["startsAt"] > ctx.now_iso))


@resolves("Team", "issueCount")
def team_issue_count(team, info, includeArchived=None):
    where = "i.team_id = ?" + ("" if includeArchived else " AND i.archived_at IS NULL")
    return ctx_of(info).reader.count("Issue", where, [team["id"]])


@resolves("Team", "inviteHash")
def team_invite_hash(team, info):
    return _hash("team-invite", team["id"])


@resolves("Team", "cycleCalenderUrl")
def team_calendar(team, info):
    key = ctx_of(info).lookup.org["urlKey"]
    return f"https://calendar.linear.app/{key}/team/{team['key']}/{_hash('cal', team['id'])}.ics"


@resolves("Team", "organization")
def team_org(team, info):
    return ctx_of(info).lookup.org


@resolves("Team", "states")
def team_states(team, info, **args):
    return ctx_of(info).reader.page("WorkflowState", args, "s.team_id = ?", [team["id"]])


@resolves("Team", "labels")
def team_labels(team, info, **args):
    return ctx_of(info).reader.page("IssueLabel", args, "l.team_id = ?", [team["id"]])


@resolves("Team", "issues")
def team_issues(team, info, includeSubTeams=None, **args):
    return issue_page(ctx_of(info), args, "i.team_id = ?", [team["id"]])


@resolves("Team", "cycles")
def team_cycles(team, info, **args):
    return ctx_of(info).reader.page("Cycle", args, "c.team_id = ?", [team["id"]])


@resolves("Team", "projects")
def team_projects(team, info, includeSubTeams=None, **args):
    where = "p.id IN (SELECT project_id FROM project_teams WHERE team_id = ?)"
    return ctx_of(info).reader.page("Project", args, where, [team["id"]])


@resolves("Team", "members")
def team_members(team, info, includeDisabled=None, **args):
    where = "u.id IN (SELECT user_id FROM team_members WHERE team_id = ?)"
    if not includeDisabled:
        where += " AND u.active = 1"
    return ctx_of(info).reader.page("User", args, where, [team["id"]])


# -- WorkflowState ----------------------------------------------------------------------------


@resolves("WorkflowState", "team")
def state_team(state, info):
    return ctx_of(info).lookup.teams[state["teamId"]]


@resolves("WorkflowState", "issues")
def state_issues(state, info, **args):
    return issue_page(ctx_of(info), args, "i.state_id = ?", [state["id"]])


# -- User -------------------------------------------------------------------------------------


@resolves("User", "isMe")
def user_is_me(user, info):
    return user["id"] == ctx_of(info).viewer["id"]


@resolves("User", "url")
def user_url(user, info):
    return f"https://linear.app/{ctx_of(info).lookup.org['urlKey']}/profiles/{user['displayName']}"


@resolves("User", "inviteHash")
def user_invite_hash(user, info):
    return _hash("user-invite", user["id"])


@resolves("User", "organization")
def user_org(user, info):
    return ctx_of(info).lookup.org


@resolves("User", "createdIssueCount")
def user_created_count(user, info):
    return ctx_of(info).reader.count("Issue", "i.creator_id = ?", [user["id"]])


@resolves("User", "assignedIssues")
def user_assigned(user, info, **args):
    return issue_page(ctx_of(info), args, "i.assignee_id = ?", [user["id"]])


@resolves("User", "createdIssues")
def user_created(user, info, **args):
    return issue_page(ctx_of(info), args, "i.creator_id = ?", [user["id"]])


@resolves("User", "teams")
def user_teams(user, info, **args):
    where = "t.id IN (SELECT team_id FROM team_members WHERE user_id = ?)"
    return ctx_of(info).reader.page("Team", args, where, [user["id"]])


# -- IssueLabel -------------------------------------------------------------------------------


@resolves("IssueLabel", "team")
def label_team(label, info):
    return ctx_of(info).lookup.teams.get(label["teamId"] or "")


@resolves("IssueLabel", "parent")
def label_parent(label, info):
    return ctx_of(info).lookup.labels.get(label["parentId"] or "")


@resolves("IssueLabel", "creator")
def label_creator(label, info):
    return ctx_of(info).lookup.users.get(label["creatorId"] or "")


@resolves("IssueLabel", "organization")
def label_org(label, info):
    return ctx_of(info).lookup.org


@resolves("IssueLabel", "children")
def label_children(label, info, **args):
    return ctx_of(info).reader.page("IssueLabel", args, "l.parent_id = ?", [label["id"]])


@resolves("IssueLabel", "issues")
def label_issues(label, info, **args):
    where = "i.id IN (SELECT issue_id FROM issue_labels WHERE label_id = ?)"
    return issue_page(ctx_of(info), args, where, [label["id"]])


# -- Project ----------------------------------------------------------------------------------

PROJECT_STATUS = {
    "backlog": ("Backlog", "#BEC2C8", 0.0),
    "planned": ("Planned", "#E2E2E2", 1.0),
    "started": ("In Progress", "#F2C94C", 2.0),
    "paused": ("Paused", "#95A2B3", 3.0),
    "completed": ("Completed", "#5E6AD2", 4.0),
    "canceled": ("Canceled", "#95A2B3", 5.0),
}


@resolves("Project", "status")
def project_status(project, info):
    org = ctx_of(info).lookup.org
    name, color, position = PROJECT_STATUS.get(project["state"], PROJECT_STATUS["planned"])
    digest = _hash("project-status", org["id"], project["state"])
    return {
        "id": f"{digest[:8]}-{digest[8:12]}-4{digest[13:16]}-8{digest[17:20]}-{digest[20:32]}",
        "name": name,
        "type": project["state"] if project["state"] in PROJECT_STATUS else "planned",
        "color": color,
        "position": position,
        "description": None,
        "indefinite": project["state"] in ("backlog", "paused"),
        "archivedAt": None,
        "createdAt": org["createdAt"],
        "updatedAt": org["createdAt"],
    }


@resolves("Project", "priorityLabel")
def project_priority_label(project, info):
    return PRIORITY_LABELS.get(project["priority"], "No priority")


@resolves("Project", "prioritySortOrder")
def project_priority_sort(project, info):
    return float(project["priority"] or 5)


def _progress(ctx: Context, column: str, value: str) -> tuple[float, float]:
    row = ctx.db.execute(
        "SELECT SUM(s.type = 'completed'), SUM(s.type NOT IN ('canceled', 'duplicate')) "
        f"FROM issues i JOIN states s ON s.id = i.state_id WHERE i.{column} = ? "
        "AND i.archived_at IS NULL",
        (value,),
    ).fetchone()
    done, scope = float(row[0] or 0), float(row[1] or 0)
    return (done / scope if scope else 0.0), scope


@resolves("Project", "progress")
def project_progress(project, info):
    return _progress(ctx_of(info), "project_id", project["id"])[0]


@resolves("Project", "scope")
def project_scope(project, info):
    return _progress(ctx_of(info), "project_id", project["id"])[1]


@resolves("Project", "lead")
def project_lead(project, info):
    return ctx_of(info).lookup.users.get(project["leadId"] or "")


@resolves("Project", "creator")
def project_creator(project, info):
    return ctx_of(info).lookup.users.get(project["creatorId"] or "")


@resolves("Project", "url")
def project_url(project, info):
    from environments.tools.linear.model import slugify

    key = ctx_of(info).lookup.org["urlKey"]
    return f"https://linear.app/{key}/project/{slugify(project['name'])}-{project['slugId']}"


@resolves("Project", "issues")
def project_issues(project, info, **args):
    return issue_page(ctx_of(info), args, "i.project_id = ?", [project["id"]])


@resolves("Project", "teams")
def project_teams(project, info, **args):
    where = "t.id IN (SELECT team_id FROM project_teams WHERE project_id = ?)"
    return ctx_of(info).reader.page("Team", args, where, [project["id"]])


@resolves("Project", "members")
def project_members(project, info, includeDisabled=None, **args):
    where = "u.id IN (SELECT user_id FROM project_members WHERE project_id = ?)"
    return ctx_of(info).reader.page("User", args, where, [project["id"]])


# -- Cycle ------------------------------------------------------------------------------------


@resolves("Cycle", "completedAt")
def cycle_completed(cycle, info):
    return cycle["endsAt"] if cycle["endsAt"] <= ctx_of(info).now_iso else None


@resolves("Cycle", "isActive")
def cycle_active(cycle, info):
    return cycle["startsAt"] <= ctx_of(info).now_iso < cycle["endsAt"]


@resolves("Cycle", "isPast")
def cycle_past(cycle, info):
    return cycle["endsAt"] <= ctx_of(info).now_iso


@resolves("Cycle", "isFuture")
def cycle_future(cycle, info):
    return cycle["startsAt"] > ctx_of(info).now_iso


def _neighbour(cycle, info, upcoming: bool) -> dict[str, Any] | None:
    ctx = ctx_of(info)
    cycles = ctx.lookup.team_cycles.get(cycle["teamId"], [])
    if upcoming:
        later = [c for c in cycles if c["startsAt"] > ctx.now_iso]
        return later[0] if later else None
    ended = [c for c in cycles if c["endsAt"] <= ctx.now_iso]
    return ended[-1] if ended else None


@resolves("Cycle", "isNext")
def cycle_next(cycle, info):
    found = _neighbour(cycle, info, True)
    return found is not None and found["id"] == cycle["id"]


@resolves("Cycle", "isPrevious")
def cycle_previous(cycle, info):
    found = _neighbour(cycle, info, False)
    return found is not None and found["id"] == cycle["id"]


@resolves("Cycle", "progress")
def cycle_progress(cycle, info):
    return _progress(ctx_of(info), "cycle_id", cycle["id"])[0]


@resolves("Cycle", "team")
def cycle_team(cycle, info):
    return ctx_of(info).lookup.teams[cycle["teamId"]]


@resolves("Cycle", "issues")
def cycle_issues(cycle, info, **args):
    return issue_page(ctx_of(info), args, "i.cycle_id = ?", [cycle["id"]])


# -- Comment ----------------------------------------------------------------------------------


@resolves("Comment", "issue")
def comment_issue(comment, info):
    return ctx_of(info).issue_by_id(comment["issueId"])


@resolves("Comment", "user")
def comment_user(comment, info):
    return ctx_of(info).lookup.users.get(comment["userId"] or "")


@resolves("Comment", "resolvingUser")
def comment_resolver(comment, info):
    return ctx_of(info).lookup.users.get(comment["resolvingUserId"] or "")


@resolves("Comment", "parent")
def comment_parent(comment, info):
    if not comment["parentId"]:
        return None
    return ctx_of(info).reader.by_ids("Comment", [comment["parentId"]]).get(comment["parentId"])


@resolves("Comment", "children")
def comment_children(comment, info, **args):
    return ctx_of(info).reader.page("Comment", args, "m.parent_id = ?", [comment["id"]])


@resolves("Comment", "url")
def comment_url(comment, info):
    ctx = ctx_of(info)
    issue = ctx.issue_by_id(comment["issueId"])
    base = issue_url(ctx.lookup.org["urlKey"], issue["identifier"], issue["title"]) if issue else ""
    return f"{base}#comment-{comment['id'][:8]}"


# -- Organization -----------------------------------------------------------------------------


@resolves("Organization", "userCount")
def org_user_count(org, info):
    return ctx_of(info).reader.count("User", "u.active = 1 AND u.app = 0", [])


@resolves("Organization", "teams")
def org_teams(org, info, **args):
    return ctx_of(info).reader.page("Team", args)


@resolves("Organization", "users")
def org_users(org, info, includeDisabled=None, **args):
    return ctx_of(info).reader.page("User", args, "1" if includeDisabled else "u.active = 1")


def bind(schema) -> None:
    """Attach every resolver to its field; an unknown type or field is a programming error."""
    from environments.tools.linear import mutations  # noqa: F401 - registers Mutation fields

    for type_name, fields in RESOLVERS.items():
        gql_type = schema.type_map[type_name]
        for field_name, fn in fields.items():
            gql_type.fields[field_name].resolve = fn


__all__ = ["RESOLVERS", "bind", "issue_page", "resolves", "search"]
