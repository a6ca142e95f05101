"""Reading rows as API objects, and Relay pagination over filtered SQL.

A row comes back as a dict keyed by GraphQL field names (the SELECT lists alias the columns),
plus the constant fields Linear always sends for things this imitation does not model, so the
resolvers only compute what needs computing. Pagination is keyset pagination on
``(createdAt|updatedAt, id)``, newest first like Linear; a cursor is the row's id.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from environments.tools.linear.filters import SPECS, Builder
from environments.tools.linear.model import LinearError, initials, invalid

DEFAULT_PAGE = 50
MAX_PAGE = 250

COLUMNS: dict[str, str] = {
    "Issue": (
        "{a}.id, {a}.identifier, {a}.number, {a}.title, {a}.description, {a}.priority, "
        "{a}.estimate, {a}.due_date AS dueDate, {a}.team_id AS teamId, {a}.state_id AS stateId, "
        "{a}.assignee_id AS assigneeId, {a}.creator_id AS creatorId, "
        "{a}.project_id AS projectId, {a}.cycle_id AS cycleId, {a}.parent_id AS parentId, "
        "{a}.sort_order AS sortOrder, {a}.sub_issue_sort_order AS subIssueSortOrder, "
        "{a}.previous_identifiers AS previousIdentifiersJson, {a}.created_at AS createdAt, "
        "{a}.updated_at AS updatedAt, {a}.started_at AS startedAt, "
        "{a}.completed_at AS completedAt, {a}.canceled_at AS canceledAt, "
        "{a}.archived_at AS archivedAt, {a}.triaged_at AS triagedAt, "
        "{a}.started_triage_at AS startedTriageAt, {a}.added_to_cycle_at AS addedToCycleAt, "
        "{a}.added_to_project_at AS addedToProjectAt, {a}.added_to_team_at AS addedToTeamAt, "
        "{a}.trashed AS trashedFlag"
    ),
    "Team": (
        "{a}.id, {a}.key, {a}.name, {a}.description, {a}.icon, {a}.color, {a}.private, "
        "{a}.timezone, {a}.cycles_enabled AS cyclesEnabled, {a}.cycle_duration AS cycleDuration, "
        "{a}.cycle_start_day AS cycleStartDay, {a}.triage_enabled AS triageEnabled, "
        "{a}.default_state_id AS defaultStateId, {a}.created_at AS createdAt, "
        "{a}.updated_at AS updatedAt"
    ),
    "WorkflowState": (
        "{a}.id, {a}.team_id AS teamId, {a}.name, {a}.type, {a}.color, {a}.position, "
        "{a}.description, {a}.created_at AS createdAt, {a}.updated_at AS updatedAt"
    ),
    "User": (
        "{a}.id, {a}.key, {a}.name, {a}.display_name AS displayName, {a}.email, {a}.title, "
        "{a}.description, {a}.timezone, {a}.admin, {a}.owner, {a}.app, {a}.guest, {a}.active, "
        "{a}.avatar_color AS avatarBackgroundColor, {a}.created_at AS createdAt, "
        "{a}.updated_at AS updatedAt"
    ),
    "IssueLabel": (
        "{a}.id, {a}.team_id AS teamId, {a}.name, {a}.color, {a}.description, "
        "{a}.parent_id AS parentId, {a}.is_group AS isGroup, {a}.creator_id AS creatorId, "
        "{a}.created_at AS createdAt, {a}.updated_at AS updatedAt"
    ),
    "Project": (
        "{a}.id, {a}.key, {a}.slug_id AS slugId, {a}.name, {a}.description, {a}.content, "
        "{a}.icon, {a}.color, {a}.state, {a}.priority, {a}.lead_id AS leadId, "
        "{a}.creator_id AS creatorId, {a}.start_date AS startDate, "
        "{a}.target_date AS targetDate, {a}.started_at AS startedAt, "
        "{a}.completed_at AS completedAt, {a}.canceled_at AS canceledAt, "
        "{a}.archived_at AS archivedAt, {a}.sort_order AS sortOrder, "
        "{a}.created_at AS createdAt, {a}.updated_at AS updatedAt"
    ),
    "Cycle": (
        "{a}.id, {a}.team_id AS teamId, {a}.number, {a}.name, {a}.description, "
        "{a}.starts_at AS startsAt, {a}.ends_at AS endsAt, {a}.created_at AS createdAt, "
        "{a}.updated_at AS updatedAt"
    ),
    "Comment": (
        "{a}.id, {a}.issue_id AS issueId, {a}.user_id AS userId, {a}.parent_id AS parentId, "
        "{a}.body, {a}.quoted_text AS quotedText, {a}.created_at AS createdAt, "
        "{a}.updated_at AS updatedAt, {a}.edited_at AS editedAt, {a}.resolved_at AS resolvedAt, "
        "{a}.resolving_user_id AS resolvingUserId, {a}.archived_at AS archivedAt"
    ),
}

# Which entities can be archived (and are hidden unless includeArchived).
ARCHIVABLE = frozenset({"Issue", "Project", "Comment"})

# Fields Linear always sends that this imitation holds constant.
CONSTANTS: dict[str, dict[str, Any]] = {
    "Issue": {
        "autoArchivedAt": None,
        "autoClosedAt": None,
        "customerTicketCount": 0,
        "slaBreachesAt": None,
        "slaHighRiskAt": None,
        "slaMediumRiskAt": None,
        "slaStartedAt": None,
        "slaType": None,
        "snoozedUntilAt": None,
        "delegate": None,
        "snoozedBy": None,
    },
    "Team": {
        "aiDiscussionSummariesEnabled": False,
        "aiThreadSummariesEnabled": False,
        "ancestors": [],
        "children": [],
        "parent": None,
        "archivedAt": None,
        "autoArchivePeriod": 6.0,
        "autoCloseChildIssues": False,
        "autoCloseParentIssues": False,
        "autoClosePeriod": None,
        "autoCloseStateId": None,
        "cycleCooldownTime": 0.0,
        "cycleIssueAutoAssignCompleted": False,
        "cycleIssueAutoAssignStarted": False,
        "cycleLockToActive": False,
        "defaultIssueEstimate": 1.0,
        "groupIssueHistory": True,
        "inheritIssueEstimation": False,
        "inheritWorkflowStatuses": False,
        "issueEstimationAllowZero": False,
        "issueEstimationExtended": False,
        "issueEstimationType": "fibonacci",
        "issueOrderingNoPriorityFirst": False,
        "issueSortOrderDefaultToBottom": False,
        "requirePriorityToLeaveTriage": False,
        "scimManaged": False,
        "setIssueSortOrderOnStateChange": "default",
        "slackIssueComments": False,
        "slackIssueStatuses": False,
        "slackNewIssue": False,
    },
    "WorkflowState": {"archivedAt": None, "inheritedFrom": None},
    "User": {
        "archivedAt": None,
        "avatarUrl": None,
        "canAccessAnyPublicTeam": True,
        "disableReason": None,
        "gitHubUserId": None,
        "lastSeen": None,
        "statusEmoji": None,
        "statusLabel": None,
        "statusUntilAt": None,
        "supportsAgentSessions": False,
    },
    "IssueLabel": {
        "archivedAt": None,
        "inheritedFrom": None,
        "lastAppliedAt": None,
        "retiredAt": None,
        "retiredBy": None,
    },
    "Project": {"autoArchivedAt": None, "labelIds": [], "trashed": None},
    "Cycle": {"archivedAt": None, "autoArchivedAt": None, "inheritedFrom": None},
    "Comment": {},
}


def _decorate_user(row: dict[str, Any]) -> None:
    for flag in ("admin", "owner", "app", "guest", "active"):
        row[flag] = bool(row[flag])
    row["initials"] = initials(row["name"])
    row["isAssignable"] = row["active"]
    row["isMentionable"] = row["active"]


def _decorate_team(row: dict[str, Any]) -> None:
    row["displayName"] = row["name"]
    for flag in ("private", "cyclesEnabled", "triageEnabled"):
        row[flag] = bool(row[flag])
    row["cycleDuration"] = float(row["cycleDuration"])
    row["cycleStartDay"] = float(row["cycleStartDay"])


def _decorate_label(row: dict[str, Any]) -> None:
    row["isGroup"] = bool(row["isGroup"])


def _decorate_issue(row: dict[str, Any]) -> None:
    flag = row.pop("trashedFlag")
    row["trashed"] = None if flag is None else bool(flag)


DECORATE: dict[str, Callable[[dict[str, Any]], None]] = {
    "User": _decorate_user,
    "Team": _decorate_team,
    "IssueLabel": _decorate_label,
    "Issue": _decorate_issue,
}


class Reader:
    """Reads API objects for one request (one connection, one viewer, one 'now')."""

    def __init__(self, db: sqlite3.Connection, *, viewer_id: str, now_iso: str):
        self.db = db
        self.viewer_id = viewer_id
        self.now_iso = now_iso

    def builder(self) -> Builder:
        return Builder(viewer_id=self.viewer_id, now_iso=self.now_iso)

    def select(self, entity: str, alias: str) -> str:
        spec = SPECS[entity]
        return f"SELECT {COLUMNS[entity].replace('{a}', alias)} FROM {spec.table} {alias}"

    def rows(self, entity: str, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        cursor = self.db.cursor()
        cursor.row_factory = None
        try:
            cursor.execute(sql, params)
        except sqlite3.OperationalError as exc:  # limits of SQLite itself (expression depth...)
            raise LinearError(
                "Query too complex",
                user_message=f"The filter is too complex to run ({exc}); simplify it.",
            ) from None
        names = [d[0] for d in cursor.description]
        constants = CONSTANTS[entity]
        decorate = DECORATE.get(entity)
        out = []
        for values in cursor.fetchall():
            row = dict(constants)
            row.update(zip(names, values))
            if decorate is not None:
                decorate(row)
            out.append(row)
        return out

    def by_ids(self, entity: str, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        if not ids:
            return {}
        alias = SPECS[entity].short
        marks = ", ".join("?" for _ in ids)
        found = self.rows(
            entity, f"{self.select(entity, alias)} WHERE {alias}.id IN ({marks})", ids
        )
        return {row["id"]: row for row in found}

    def all(self, entity: str) -> list[dict[str, Any]]:
        alias = SPECS[entity].short
        return self.rows(entity, f"{self.select(entity, alias)} ORDER BY {alias}.id")

    def count(self, entity: str, where: str, params: Sequence[Any]) -> int:
        spec = SPECS[entity]
        sql = f"SELECT COUNT(*) FROM {spec.table} {spec.short} WHERE {where}"
        return int(self.db.execute(sql, params).fetchone()[0])

    # -- connections -------------------------------------------------------------------------

    def page(
        self,
        entity: str,
        args: Mapping[str, Any],
        where: str = "1",
        params: Sequence[Any] = (),
    ) -> dict[str, Any]:
        """One Relay page of ``entity`` rows matching ``where`` and ``args['filter']``.

        ``where`` is over the alias ``SPECS[entity].short`` and may use ``params``.
        """
        spec = SPECS[entity]
        a = spec.short
        b = self.builder()
        b.params.extend(params)
        conds = [where, b.where(entity, a, args.get("filter"))]
        if entity in ARCHIVABLE and not args.get("includeArchived"):
            conds.append(f"{a}.archived_at IS NULL")
        key = "updated_at" if args.get("orderBy") == "updatedAt" else "created_at"
        first, last = page_sizes(args)
        after, before = args.get("after"), args.get("before")
        if after is not None:
            conds.append(self._beyond(spec, key, after, "after", b, "<"))
        if before is not None:
            conds.append(self._beyond(spec, key, before, "before", b, ">"))
        base = f"{self.select(entity, a)} WHERE {' AND '.join(c for c in conds if c != '1') or '1'}"
        if last is not None and first is None:
            sql = f"{base} ORDER BY {a}.{key} ASC, {a}.id ASC LIMIT ?"
            rows = self.rows(entity, sql, [*b.params, last + 1])
            has_previous = len(rows) > last
            nodes = list(reversed(rows[:last]))
            has_next = before is not None
        else:
            size = first if first is not None else DEFAULT_PAGE
            sql = f"{base} ORDER BY {a}.{key} DESC, {a}.id DESC LIMIT ?"
            rows = self.rows(entity, sql, [*b.params, size + 1])
            has_next = len(rows) > size
            nodes = rows[:size]
            has_previous = after is not None
            if last is not None and len(nodes) > last:
                nodes = nodes[-last:]
                has_previous = True
        return connection(nodes, has_next=has_next, has_previous=has_previous)

    def _beyond(self, spec, key: str, cursor: Any, which: str, b: Builder, op: str) -> str:
        row = None
        if isinstance(cursor, str) and len(cursor) <= 100:
            row = self.db.execute(
                f"SELECT {key}, id FROM {spec.table} WHERE id = ?", (cursor,)
            ).fetchone()
        if row is None:
            raise LinearError(
                "Invalid cursor",
                user_message=f"{which}: not a cursor of this list; pass a cursor "
                "(pageInfo.endCursor / startCursor or edges.cursor) from an earlier page.",
            )
        a = spec.short
        b.params.extend([row[0], row[0], row[1]])
        return f"({a}.{key} {op} ? OR ({a}.{key} = ? AND {a}.id {op} ?))"


def page_sizes(args: Mapping[str, Any]) -> tuple[int | None, int | None]:
    """``first`` / ``last``, checked against Linear's bounds (1..250)."""
    sizes = []
    for name in ("first", "last"):
        value = args.get(name)
        if value is not None and not 0 < value <= MAX_PAGE:
            raise invalid(name, f"must be between 1 and {MAX_PAGE} (got {value})")
        sizes.append(value)
    return sizes[0], sizes[1]


def connection(
    nodes: list[dict[str, Any]], *, has_next: bool, has_previous: bool
) -> dict[str, Any]:
    """A connection object; ``edges`` is resolved from ``nodes`` when asked for."""
    return {
        "nodes": nodes,
        "pageInfo": {
            "hasNextPage": has_next,
            "hasPreviousPage": has_previous,
            "startCursor": nodes[0]["id"] if nodes else None,
            "endCursor": nodes[-1]["id"] if nodes else None,
        },
    }


def slice_list(items: list[dict[str, Any]], args: Mapping[str, Any]) -> dict[str, Any]:
    """Relay pagination over an already ordered in-memory list (cursor = id)."""
    if not args and len(items) <= DEFAULT_PAGE:  # the common case: a short list, no arguments
        return connection(items, has_next=False, has_previous=False)
    first, last = page_sizes(args)
    start, end = 0, len(items)
    after, before = args.get("after"), args.get("before")
    index = {item["id"]: i for i, item in enumerate(items)}
    for which, cursor in (("after", after), ("before", before)):
        if cursor is None:
            continue
        if cursor not in index:
            raise LinearError(
                "Invalid cursor",
                user_message=f"{which}: not a cursor of this list; pass a cursor from an "
                "earlier page.",
            )
        if which == "after":
            start = max(start, index[cursor] + 1)
        else:
            end = min(end, index[cursor])
    window = items[start:end] if start < end else []
    has_previous, has_next = start > 0, end < len(items)
    if first is None and last is None:
        first = DEFAULT_PAGE
    if first is not None and len(window) > first:
        window, has_next = window[:first], True
    if last is not None and len(window) > last:
        window, has_previous = window[-last:], True
    return connection(window, has_next=has_next, has_previous=has_previous)


__all__ = ["COLUMNS", "CONSTANTS", "Reader", "connection", "page_sizes", "slice_list"]
