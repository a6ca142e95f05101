"""Mutations: create and update issues, comment, label.

Each mutation checks its whole input before writing (Linear's "Argument Validation Error" /
"Entity not found" errors, naming the field), writes inside a savepoint, appends one event
for graders, and returns Linear's payload shape ``{success, lastSyncId, <entity>}``.

Events (``GET /_admin/events``): ``actor`` is the user's fixture key (``bot:agent``,
``maya.chen``), ``object_id`` the issue identifier (a label's id for labels), and the payload
is readable without further lookups:

- ``issue.created``  identifier, title, team, state, state_type, assignee, priority, labels…
- ``issue.updated``  the same summary plus ``changes: {field: {from, to}}`` in names, not ids
  (``state`` also has ``from_type``/``to_type``; ``labels`` are name lists); label changes by
  issueAddLabel / issueRemoveLabel are ``issue.updated`` too
- ``issue.archived``, ``comment.created`` (body, comment_id, parent_id), ``comment.updated``,
  ``label.created`` (name, team, color)
"""

from __future__ import annotations

import json
from typing import Any

from environments.tools.common import stable_uuid
from environments.tools.linear.context import Context
from environments.tools.linear.model import (
    PRIORITY_LABELS,
    LinearError,
    invalid,
    is_uuid,
    not_found,
)
from environments.tools.linear.resolvers import ctx_of, resolves

MAX_TITLE = 512
MAX_BODY = 200_000

# Column -> how it is shown in an event's "changes".
_SHOWN = {
    "state_id": "state",
    "assignee_id": "assignee",
    "project_id": "project",
    "cycle_id": "cycle",
    "parent_id": "parent",
    "team_id": "team",
    "title": "title",
    "description": "description",
    "priority": "priority",
    "estimate": "estimate",
    "due_date": "dueDate",
    "sort_order": "sortOrder",
    "sub_issue_sort_order": "subIssueSortOrder",
    "trashed": "trashed",
    "identifier": "identifier",
}


def _payload(ctx: Context, **entity: Any) -> dict[str, Any]:
    return {"success": True, "lastSyncId": float(ctx.service.next_sync_id()), **entity}


def _new_id(ctx: Context, given: Any, table: str, *key: object) -> str:
    """The client's id (a free UUID), or one derived from the sync counter (deterministic)."""
    if given is not None:
        if not is_uuid(given):
            raise invalid("id", "must be a UUID")
        taken = ctx.db.execute(f"SELECT 1 FROM {table} WHERE id = ?", (given.lower(),)).fetchone()
        if taken:
            raise LinearError(
                "Entity already exists",
                user_message=f"An entity with id {given} already exists.",
            )
        return given.lower()
    return stable_uuid(ctx.service.seed, "runtime", table, *key)


def _text(value: Any, name: str, limit: int, *, required: bool) -> str | None:
    if value is None:
        if required:
            raise invalid(name, "must not be empty")
        return None
    text = value.replace("\x00", "")
    if required and not text.strip():
        raise invalid(name, "must not be empty")
    if len(text) > limit:
        raise invalid(name, f"must be shorter than or equal to {limit} characters")
    return text.strip() if name == "title" else text


def _priority(value: Any) -> int:
    if value not in PRIORITY_LABELS:
        raise invalid(
            "priority", "must be one of 0 (none), 1 (urgent), 2 (high), 3 (medium), 4 (low)"
        )
    return value


def _estimate(value: Any) -> float | None:
    if value is None:
        return None
    if value < 0 or value > 1000:
        raise invalid("estimate", "must be between 0 and 1000")
    return float(value)


def _team(ctx: Context, ref: Any) -> dict[str, Any]:
    if not is_uuid(ref):
        raise invalid("teamId", "must be a UUID (query `teams { nodes { id key } }` for it)")
    team = ctx.lookup.teams.get(ref.lower())
    if team is None:
        raise not_found("Team")
    return team


def _state(ctx: Context, ref: Any, team: dict[str, Any]) -> dict[str, Any]:
    if not is_uuid(ref):
        raise invalid("stateId", "must be a UUID (query `workflowStates` for the team's states)")
    state = ctx.lookup.states.get(ref.lower())
    if state is None:
        raise not_found("WorkflowState")
    if state["teamId"] != team["id"]:
        raise LinearError(
            "Argument Validation Error",
            user_message=f"stateId: the workflow state {state['name']!r} belongs to another "
            f"team; use one of team {team['key']}'s states.",
        )
    return state


def _user(ctx: Context, ref: Any, field: str) -> dict[str, Any] | None:
    if ref is None:
        return None
    if not is_uuid(ref):
        raise invalid(field, "must be a UUID (query `users` for it)")
    user = ctx.lookup.users.get(ref.lower())
    if user is None:
        raise not_found("User")
    if not user["active"]:
        raise LinearError(
            "Argument Validation Error", user_message=f"{field}: user {user['name']} is disabled."
        )
    return user


def _project(ctx: Context, ref: Any) -> dict[str, Any] | None:
    if ref is None:
        return None
    if not is_uuid(ref):
        raise invalid("projectId", "must be a UUID (query `projects` for it)")
    project = ctx.lookup.projects.get(ref.lower())
    if project is None:
        raise not_found("Project")
    return project


def _cycle(ctx: Context, ref: Any, team: dict[str, Any]) -> dict[str, Any] | None:
    if ref is None:
        return None
    if not is_uuid(ref):
        raise invalid("cycleId", "must be a UUID (query `cycles` for it)")
    cycle = ctx.lookup.cycles.get(ref.lower())
    if cycle is None:
        raise not_found("Cycle")
    if cycle["teamId"] != team["id"]:
        raise LinearError(
            "Argument Validation Error",
            user_message=f"cycleId: that cycle belongs to another team, not {team['key']}.",
        )
    return cycle


def _labels(ctx: Context, refs: Any, team: dict[str, Any], field: str) -> list[dict[str, Any]]:
    found = []
    for ref in refs or ():
        if not is_uuid(ref):
            raise invalid(field, "must be a list of label UUIDs (query `issueLabels` for them)")
        label = ctx.lookup.labels.get(ref.lower())
        if label is None:
            raise not_found("IssueLabel")
        if label["teamId"] not in (None, team["id"]):
            raise LinearError(
                "Argument Validation Error",
                user_message=f"{field}: label {label['name']!r} belongs to another team.",
            )
        if label["isGroup"]:
            raise LinearError(
                "Argument Validation Error",
                user_message=f"{field}: {label['name']!r} is a label group; use one of its labels.",
            )
        if label not in found:
            found.append(label)
    return found


def _parent(ctx: Context, ref: Any, issue_id: str | None) -> dict[str, Any] | None:
    if ref is None:
        return None
    parent = ctx.find_issue(ref)
    if parent is None:
        raise not_found("Issue")
    seen, cursor = set(), parent
    while cursor is not None and cursor["id"] not in seen:
        if issue_id is not None and cursor["id"] == issue_id:
            raise LinearError(
                "Argument Validation Error",
                user_message="parentId: an issue cannot be its own parent or sub-issue.",
            )
        seen.add(cursor["id"])
        cursor = ctx.issue_by_id(cursor["parentId"])
    return parent


def _state_times(kind: str, before: dict[str, Any], now: str) -> dict[str, Any]:
    """The lifecycle timestamps after moving an issue into a state of type ``kind``."""
    started, completed, canceled = before.get("started_at"), None, None
    if kind in ("triage", "backlog", "unstarted"):
        started = None
    elif kind == "started":
        started = started or now
    elif kind == "completed":
        started, completed = started or now, before.get("completed_at") or now
    else:  # canceled, duplicate
        canceled = before.get("canceled_at") or now
    return {"started_at": started, "completed_at": completed, "canceled_at": canceled}


def _shown(ctx: Context, column: str, value: Any) -> Any:
    """A column value as a grader reads it: names and identifiers instead of ids."""
    lookup = ctx.lookup
    if value is None:
        return None
    if column == "state_id":
        return lookup.states[value]["name"] if value in lookup.states else value
    if column == "assignee_id":
        return lookup.users[value]["key"] if value in lookup.users else value
    if column == "project_id":
        return lookup.projects[value]["name"] if value in lookup.projects else value
    if column == "cycle_id":
        return lookup.cycles[value]["number"] if value in lookup.cycles else value
    if column == "team_id":
        return lookup.teams[value]["key"] if value in lookup.teams else value
    if column == "parent_id":
        row = ctx.db.execute("SELECT identifier FROM issues WHERE id = ?", (value,)).fetchone()
        return row[0] if row else value
    return value


def _issue_row(ctx: Context, issue_id: str) -> dict[str, Any]:
    row = ctx.db.execute("SELECT * FROM issues WHERE id = ?", (issue_id,)).fetchone()
    return dict(row)


def _label_names(ctx: Context, issue_id: str) -> list[str]:
    rows = ctx.db.execute(
        "SELECT l.name FROM issue_labels x JOIN labels l ON l.id = x.label_id "
        "WHERE x.issue_id = ? ORDER BY l.name",
        (issue_id,),
    )
    return [r[0] for r in rows]


def _summary(ctx: Context, row: dict[str, Any]) -> dict[str, Any]:
    state = ctx.lookup.states.get(row["state_id"], {})
    return {
        "issue_id": row["id"],
        "identifier": row["identifier"],
        "title": row["title"],
        "team": _shown(ctx, "team_id", row["team_id"]),
        "state": state.get("name"),
        "state_type": state.get("type"),
        "assignee": _shown(ctx, "assignee_id", row["assignee_id"]),
        "priority": row["priority"],
    }


# -- issueCreate ------------------------------------------------------------------------------


@resolves("Mutation", "issueCreate")
def issue_create(_, info, input):
    ctx = ctx_of(info)
    team = _team(ctx, input.get("teamId"))
    title = _text(input.get("title"), "title", MAX_TITLE, required=True)
    description = _text(input.get("description"), "description", MAX_BODY, required=False)
    state = (
        _state(ctx, input["stateId"], team)
        if input.get("stateId") is not None
        else ctx.lookup.states[team["defaultStateId"]]
    )
    assignee = _user(ctx, input.get("assigneeId"), "assigneeId")
    project = _project(ctx, input.get("projectId"))
    cycle = _cycle(ctx, input.get("cycleId"), team)
    labels = _labels(ctx, input.get("labelIds"), team, "labelIds")
    parent = _parent(ctx, input.get("parentId"), None)
    priority = _priority(input.get("priority") or 0)
    estimate = _estimate(input.get("estimate"))
    created = input.get("createdAt") or ctx.now_iso
    if created > ctx.now_iso:
        raise invalid("createdAt", "must not be in the future")

    with ctx.atomic() as db:
        number = db.execute(
            "UPDATE teams SET issue_seq = issue_seq + 1 WHERE id = ? RETURNING issue_seq",
            (team["id"],),
        ).fetchone()[0]
        identifier = f"{team['key']}-{number}"
        issue_id = _new_id(ctx, input.get("id"), "issues", identifier)
        times = _state_times(state["type"], {}, ctx.now_iso)
        values = {
            "id": issue_id,
            "team_id": team["id"],
            "number": number,
            "identifier": identifier,
            "title": title,
            "description": description,
            "priority": priority,
            "estimate": estimate,
            "due_date": input.get("dueDate"),
            "state_id": state["id"],
            "assignee_id": assignee and assignee["id"],
            "creator_id": ctx.viewer["id"],
            "project_id": project and project["id"],
            "cycle_id": cycle and cycle["id"],
            "parent_id": parent and parent["id"],
            "sort_order": float(input.get("sortOrder") or -number),
            "sub_issue_sort_order": input.get("subIssueSortOrder"),
            "created_at": created,
            "updated_at": ctx.now_iso,
            "added_to_team_at": created,
            "added_to_project_at": ctx.now_iso if project else None,
            "added_to_cycle_at": ctx.now_iso if cycle else None,
            "started_triage_at": ctx.now_iso if state["type"] == "triage" else None,
            **times,
        }
        columns = ", ".join(values)
        db.execute(
            f"INSERT INTO issues({columns}) VALUES ({', '.join('?' for _ in values)})",
            list(values.values()),
        )
        for label in labels:
            db.execute(
                "INSERT INTO issue_labels(issue_id, label_id) VALUES (?, ?)",
                (issue_id, label["id"]),
            )
        row = _issue_row(ctx, issue_id)
        payload = _payload(ctx)
        ctx.record(
            "issue.created",
            identifier,
            {
                **_summary(ctx, row),
                "description": description,
                "labels": _label_names(ctx, issue_id),
                "project": _shown(ctx, "project_id", row["project_id"]),
                "parent": _shown(ctx, "parent_id", row["parent_id"]),
            },
        )
    ctx.changed()
    return {**payload, "issue": ctx.issue_by_id(issue_id)}


# -- issueUpdate ------------------------------------------------------------------------------


def _require_issue(ctx: Context, ref: Any) -> dict[str, Any]:
    issue = ctx.find_issue(ref)
    if issue is None:
        raise not_found("Issue")
    return issue


@resolves("Mutation", "issueUpdate")
def issue_update(_, info, id, input):
    ctx = ctx_of(info)
    issue = _require_issue(ctx, id)
    before = _issue_row(ctx, issue["id"])
    team = ctx.lookup.teams[before["team_id"]]
    changes: dict[str, Any] = {}

    if input.get("teamId") is not None and input["teamId"] != team["id"]:
        team = _team(ctx, input["teamId"])
        changes["team_id"] = team["id"]
    if "title" in input:
        changes["title"] = _text(input["title"], "title", MAX_TITLE, required=True)
    if "description" in input:
        changes["description"] = _text(
            input["description"], "description", MAX_BODY, required=False
        )
    if input.get("priority") is not None:
        changes["priority"] = _priority(input["priority"])
    if "estimate" in input:
        changes["estimate"] = _estimate(input["estimate"])
    if "dueDate" in input:
        changes["due_date"] = input["dueDate"]
    if "assigneeId" in input:
        assignee = _user(ctx, input["assigneeId"], "assigneeId")
        changes["assignee_id"] = assignee and assignee["id"]
    if "projectId" in input:
        project = _project(ctx, input["projectId"])
        changes["project_id"] = project and project["id"]
    if "cycleId" in input:
        cycle = _cycle(ctx, input["cycleId"], team)
        changes["cycle_id"] = cycle and cycle["id"]
    elif "team_id" in changes:
        changes["cycle_id"] = None
    if "parentId" in input:
        parent = _parent(ctx, input["parentId"], issue["id"])
        changes["parent_id"] = parent and parent["id"]
    for name, column in (
        ("sortOrder", "sort_order"),
        ("subIssueSortOrder", "sub_issue_sort_order"),
    ):
        if input.get(name) is not None:
            changes[column] = float(input[name])
    if input.get("trashed") is not None:
        changes["trashed"] = int(input["trashed"])
    state = None
    if input.get("stateId") is not None:
        state = _state(ctx, input["stateId"], team)
    elif "team_id" in changes:
        state = _moved_state(ctx, ctx.lookup.states[before["state_id"]], team)
    if state is not None and state["id"] != before["state_id"]:
        changes["state_id"] = state["id"]

    current_labels = {label["id"] for label in ctx.issue_labels(issue["id"])}
    labels = set(current_labels)
    if input.get("labelIds") is not None:
        labels = {lb["id"] for lb in _labels(ctx, input["labelIds"], team, "labelIds")}
    labels |= {lb["id"] for lb in _labels(ctx, input.get("addedLabelIds"), team, "addedLabelIds")}
    removed = input.get("removedLabelIds") or ()
    for ref in removed:
        if not is_uuid(ref):
            raise invalid("removedLabelIds", "must be a list of label UUIDs")
    labels -= {ref.lower() for ref in removed}
    if "team_id" in changes:  # the old team's own labels do not travel
        labels = {lid for lid in labels if ctx.lookup.labels[lid]["teamId"] in (None, team["id"])}

    return _apply_update(ctx, before, changes, labels, current_labels)


def _moved_state(ctx: Context, old: dict[str, Any], team: dict[str, Any]) -> dict[str, Any]:
    states = ctx.lookup.team_states(team["id"])
    for match in (
        lambda s: s["name"] == old["name"],
        lambda s: s["type"] == old["type"],
    ):
        for state in states:
            if match(state):
                return state
    return ctx.lookup.states[team["defaultStateId"]]


def _apply_update(
    ctx: Context,
    before: dict[str, Any],
    changes: dict[str, Any],
    labels: set[str],
    current_labels: set[str],
    *,
    kind: str = "issue.updated",
) -> dict[str, Any]:
    changes = {k: v for k, v in changes.items() if before.get(k) != v}
    with ctx.atomic() as db:
        if "state_id" in changes:
            new_type = ctx.lookup.states[changes["state_id"]]["type"]
            old_type = ctx.lookup.states[before["state_id"]]["type"]
            changes.update(_state_times(new_type, before, ctx.now_iso))
            if old_type == "triage" and new_type != "triage":
                changes["triaged_at"] = ctx.now_iso
        if "team_id" in changes:
            number = db.execute(
                "UPDATE teams SET issue_seq = issue_seq + 1 WHERE id = ? RETURNING issue_seq",
                (changes["team_id"],),
            ).fetchone()[0]
            team = ctx.lookup.teams[changes["team_id"]]
            changes["number"] = number
            changes["identifier"] = f"{team['key']}-{number}"
            previous = json.loads(before["previous_identifiers"])
            changes["previous_identifiers"] = json.dumps([*previous, before["identifier"]])
            changes["added_to_team_at"] = ctx.now_iso
        if "project_id" in changes:
            changes["added_to_project_at"] = ctx.now_iso if changes["project_id"] else None
        if "cycle_id" in changes:
            changes["added_to_cycle_at"] = ctx.now_iso if changes["cycle_id"] else None
        labels_changed = labels != current_labels
        if changes or labels_changed:
            changes["updated_at"] = ctx.now_iso
            sets = ", ".join(f"{col} = ?" for col in changes)
            db.execute(f"UPDATE issues SET {sets} WHERE id = ?", [*changes.values(), before["id"]])
        if labels_changed:
            old_names = _label_names(ctx, before["id"])
            db.execute("DELETE FROM issue_labels WHERE issue_id = ?", (before["id"],))
            for label_id in sorted(labels):
                db.execute(
                    "INSERT INTO issue_labels(issue_id, label_id) VALUES (?, ?)",
                    (before["id"], label_id),
                )
        after = _issue_row(ctx, before["id"])
        payload = _payload(ctx)
        shown = {
            _SHOWN[col]: {"from": _shown(ctx, col, before.get(col)), "to": _shown(ctx, col, value)}
            for col, value in changes.items()
            if col in _SHOWN
        }
        if "state_id" in changes:
            shown["state"]["from_type"] = ctx.lookup.states[before["state_id"]]["type"]
            shown["state"]["to_type"] = ctx.lookup.states[after["state_id"]]["type"]
        if labels_changed:
            shown["labels"] = {"from": old_names, "to": _label_names(ctx, before["id"])}
        if shown:
            ctx.record(kind, before["identifier"], {**_summary(ctx, after), "changes": shown})
    ctx.changed()
    return {**payload, "issue": ctx.issue_by_id(before["id"])}


@resolves("Mutation", "issueAddLabel")
def issue_add_label(_, info, id, labelId):
    ctx = ctx_of(info)
    issue = _require_issue(ctx, id)
    before = _issue_row(ctx, issue["id"])
    team = ctx.lookup.teams[before["team_id"]]
    current = {label["id"] for label in ctx.issue_labels(issue["id"])}
    added = _labels(ctx, [labelId], team, "labelId")
    return _apply_update(ctx, before, {}, current | {added[0]["id"]}, current)


@resolves("Mutation", "issueRemoveLabel")
def issue_remove_label(_, info, id, labelId):
    ctx = ctx_of(info)
    issue = _require_issue(ctx, id)
    before = _issue_row(ctx, issue["id"])
    if not is_uuid(labelId) or labelId.lower() not in ctx.lookup.labels:
        raise not_found("IssueLabel")
    current = {label["id"] for label in ctx.issue_labels(issue["id"])}
    return _apply_update(ctx, before, {}, current - {labelId.lower()}, current)


@resolves("Mutation", "issueArchive")
def issue_archive(_, info, id, trash=None):
    ctx = ctx_of(info)
    issue = _require_issue(ctx, id)
    with ctx.atomic() as db:
        db.execute(
            "UPDATE issues SET archived_at = ?, trashed = ?, updated_at = ? WHERE id = ?",
            (ctx.now_iso, 1 if trash else None, ctx.now_iso, issue["id"]),
        )
        payload = _payload(ctx)
        row = _issue_row(ctx, issue["id"])
        ctx.record(
            "issue.archived", row["identifier"], {**_summary(ctx, row), "trash": bool(trash)}
        )
    ctx.changed()
    return {**payload, "entity": ctx.issue_by_id(issue["id"])}


# -- comments ---------------------------------------------------------------------------------


@resolves("Mutation", "commentCreate")
def comment_create(_, info, input):
    ctx = ctx_of(info)
    if input.get("issueId") is None:
        raise invalid("issueId", "must be given (comments here belong to issues)")
    issue = _require_issue(ctx, input["issueId"])
    body = _text(input.get("body"), "body", MAX_BODY, required=True)
    parent_id = input.get("parentId")
    if parent_id is not None:
        if not is_uuid(parent_id):
            raise invalid("parentId", "must be a UUID")
        parent = ctx.db.execute(
            "SELECT issue_id, parent_id FROM comments WHERE id = ?", (parent_id.lower(),)
        ).fetchone()
        if parent is None:
            raise not_found("Comment")
        if parent["issue_id"] != issue["id"]:
            raise LinearError(
                "Argument Validation Error",
                user_message="parentId: the parent comment is on another issue.",
            )
        parent_id = parent["parent_id"] or parent_id.lower()  # threads are one level deep
    created = input.get("createdAt") or ctx.now_iso
    with ctx.atomic() as db:
        sync_hint = ctx.service.peek_sync_id() + 1
        comment_id = _new_id(ctx, input.get("id"), "comments", sync_hint)
        db.execute(
            "INSERT INTO comments(id, issue_id, user_id, parent_id, body, quoted_text, created_at, "
            "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                comment_id,
                issue["id"],
                ctx.viewer["id"],
                parent_id,
                body,
                input.get("quotedText"),
                created,
                ctx.now_iso,
            ),
        )
        payload = _payload(ctx)
        ctx.record(
            "comment.created",
            issue["identifier"],
            {
                "comment_id": comment_id,
                "issue_id": issue["id"],
                "identifier": issue["identifier"],
                "title": issue["title"],
                "parent_id": parent_id,
                "body": body,
            },
        )
    ctx.changed()
    comment = ctx.reader.by_ids("Comment", [comment_id])[comment_id]
    return {**payload, "comment": comment}


@resolves("Mutation", "commentUpdate")
def comment_update(_, info, id, input, skipEditedAt=None):
    ctx = ctx_of(info)
    found = ctx.reader.by_ids("Comment", [id.lower()]) if is_uuid(id) else {}
    comment = found.get(id.lower()) if found else None
    if comment is None:
        raise not_found("Comment")
    if comment["userId"] != ctx.viewer["id"]:
        raise LinearError(
            "Forbidden",
            kind="forbidden",
            code="FORBIDDEN",
            status=403,
            user_message="You can only edit your own comments.",
        )
    body = comment["body"]
    if input.get("body") is not None:
        body = _text(input["body"], "body", MAX_BODY, required=True)
    with ctx.atomic() as db:
        db.execute(
            "UPDATE comments SET body = ?, quoted_text = COALESCE(?, quoted_text), updated_at = ?, "
            "edited_at = CASE WHEN ? THEN edited_at ELSE ? END WHERE id = ?",
            (
                body,
                input.get("quotedText"),
                ctx.now_iso,
                bool(skipEditedAt),
                ctx.now_iso,
                comment["id"],
            ),
        )
        payload = _payload(ctx)
        issue = ctx.issue_by_id(comment["issueId"])
        ctx.record(
            "comment.updated",
            issue["identifier"] if issue else comment["issueId"],
            {"comment_id": comment["id"], "from": comment["body"], "to": body},
        )
    ctx.changed()
    return {**payload, "comment": ctx.reader.by_ids("Comment", [comment["id"]])[comment["id"]]}


# -- labels -----------------------------------------------------------------------------------


@resolves("Mutation", "issueLabelCreate")
def label_create(_, info, input, replaceTeamLabels=None):
    ctx = ctx_of(info)
    name = _text(input.get("name"), "name", 80, required=True).strip()
    team = _team(ctx, input["teamId"]) if input.get("teamId") is not None else None
    color = input.get("color") or "#95A2B3"
    if not (len(color) == 7 and color.startswith("#")) or any(
        ch not in "0123456789abcdefABCDEF" for ch in color[1:]
    ):
        raise invalid("color", "must be a hex color like #EB5757")
    parent = None
    if input.get("parentId") is not None:
        parent_id = input["parentId"]
        parent = ctx.lookup.labels.get(parent_id.lower()) if is_uuid(parent_id) else None
        if parent is None:
            raise not_found("IssueLabel")
        if not parent["isGroup"]:
            raise LinearError(
                "Argument Validation Error",
                user_message=f"parentId: {parent['name']!r} is not a label group.",
            )
    team_id = team["id"] if team else None
    clash = ctx.db.execute(
        "SELECT 1 FROM labels WHERE lower(name) = lower(?) AND (team_id IS ? OR team_id IS NULL "
        "OR ? IS NULL)",
        (name, team_id, team_id),
    ).fetchone()
    if clash:
        raise LinearError(
            "Duplicate label name",
            user_message=f"A label named {name!r} already exists in this "
            f"{'team' if team else 'workspace'}.",
        )
    with ctx.atomic() as db:
        label_id = _new_id(ctx, input.get("id"), "labels", team["key"] if team else "", name)
        db.execute(
            "INSERT INTO labels(id, team_id, name, color, description, parent_id, is_group, "
            "creator_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                label_id,
                team_id,
                name,
                color.upper(),
                input.get("description"),
                parent and parent["id"],
                int(bool(input.get("isGroup"))),
                ctx.viewer["id"],
                ctx.now_iso,
                ctx.now_iso,
            ),
        )
        payload = _payload(ctx)
        ctx.record(
            "label.created",
            label_id,
            {
                "label_id": label_id,
                "name": name,
                "team": team["key"] if team else None,
                "color": color.upper(),
            },
        )
    ctx.changed(small_tables=True)
    return {**payload, "issueLabel": ctx.lookup.labels[label_id]}


__all__ = ["issue_create", "issue_update"]
