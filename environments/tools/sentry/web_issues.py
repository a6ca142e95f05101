"""Web API: issues (search, details, updates, notes, activity), their events and tags."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from starlette.responses import Response

from environments.tools.sentry.ingest import add_activity
from environments.tools.sentry.normalize import dumps, iso, parse_time
from environments.tools.sentry.pagination import Page, page_from
from environments.tools.sentry.search import SearchError, compile_query, parse_period, tokenize
from environments.tools.sentry.serialize import (
    activities_json,
    activity_json,
    event_brief_json,
    event_json,
    issue_details_json,
    issue_json,
    issues_json,
    short_id,
    status_details,
    tag_key_json,
    tag_keys_json,
    tag_value_json,
)
from environments.tools.sentry.web import NOT_FOUND, ApiError, Call, flag, json_response, paginated

FORBIDDEN = "You do not have permission to perform this action."
ISSUE_SORTS = {
    "date": "i.last_seen DESC, i.id DESC",
    "new": "i.first_seen DESC, i.id DESC",
    "freq": "i.times_seen DESC, i.id DESC",
    "user": "i.user_count DESC, i.id DESC",
    "priority": "i.last_seen DESC, i.id DESC",
    "recommended": "i.last_seen DESC, i.id DESC",
    "trends": "i.last_seen DESC, i.id DESC",
    "inbox": "i.last_seen DESC, i.id DESC",
}
STATUSES = ("resolved", "resolvedInNextRelease", "unresolved", "ignored", "muted")
SUBSTATUSES = {
    "unresolved": ("ongoing", "escalating", "regressed", "new"),
    "ignored": ("archived_until_escalating", "archived_until_condition_met", "archived_forever"),
}
DEFAULT_ORG_PERIOD = 14 * 86400


# -- issue lists -------------------------------------------------------------------------------


def time_window(call: Call, default: float | None) -> tuple[float | None, float | None]:
    params = call.request.query_params
    start, end = params.get("start"), params.get("end")
    period = params.get("statsPeriod")
    if start or end:
        if period:
            raise ApiError(400, "You cannot use statsPeriod with start and end.")
        lo, hi = parse_time(start), parse_time(end)
        if lo is None or hi is None:
            raise ApiError(400, "start and end are both required and must be ISO 8601 dates.")
        return lo, hi
    if period:
        try:
            return call.view.now - parse_period(period), None
        except SearchError:
            raise ApiError(400, f"Invalid statsPeriod: {period!r}") from None
    return (call.view.now - default if default else None), None


def _project_filter(call: Call, fixed: int | None) -> list[int] | None:
    if fixed is not None:
        return [fixed]
    raw = call.request.query_params.getlist("project")
    ids: list[int] = []
    for value in raw:
        value = value.strip()
        if not value.lstrip("-").isdecimal() or len(value) > 18:
            raise ApiError(400, "Invalid project parameter. Values must be numbers.")
        if int(value) == -1:
            return None
        ids.append(int(value))
    if not ids:
        return None
    known = {r[0] for r in call.db.execute("SELECT id FROM projects")}
    if any(i not in known for i in ids):
        raise ApiError(403, FORBIDDEN)
    return ids


def _stats_period(call: Call) -> str | None:
    params = call.request.query_params
    if "stats" in params.getlist("collapse"):
        return None
    period = params.get("groupStatsPeriod", "24h")
    if period in ("", "auto"):
        return "24h" if period == "auto" else None
    if period not in ("24h", "14d"):
        raise ApiError(400, "Invalid groupStatsPeriod. Valid choices are '', '24h', '14d', 'auto'")
    return period


def issue_list(call: Call, *, project_id: int | None = None) -> Response:
    """Org issues (``/organizations/{org}/issues/``) or one project's (legacy)."""
    call.org()
    params = call.request.query_params
    page = page_from(call.request, default=100, maximum=100, name="limit")
    sort = params.get("sort") or "date"
    if sort not in ISSUE_SORTS:
        raise ApiError(400, f"Invalid sort: {sort}")
    query = params.get("query")
    query = "is:unresolved" if query is None else query
    projects = _project_filter(call, project_id)
    lo, hi = time_window(call, None if project_id is not None else DEFAULT_ORG_PERIOD)

    if params.get("shortIdLookup") in ("1", "true") and query.strip():
        found = _short_id_lookup(call, query.strip())
        if found is not None:
            items = issues_json(call.view, [found], stats_period=_stats_period(call))
            return paginated(call, items, page, 1, **{"X-Hits": "1", "X-Max-Hits": "1"})

    compiled = compile_query(call.db, query, now=call.view.now, user=call.user)
    where, args = list(compiled.where), list(compiled.args)
    if projects is not None:
        where.append(f"i.project_id IN ({','.join('?' * len(projects))})")
        args += projects
    envs = [e for e in params.getlist("environment") if e]
    if envs:
        where.append(
            "i.id IN (SELECT issue_id FROM issue_tags WHERE key = 'environment' "
            f"AND value IN ({','.join('?' * len(envs))}))"
        )
        args += envs
    if lo is not None:
        where.append("i.last_seen >= ?")
        args.append(lo)
    if hi is not None:
        where.append("i.first_seen <= ?")
        args.append(hi)
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    total = call.db.execute(f"SELECT COUNT(*) FROM issues i{clause}", args).fetchone()[0]
    rows = call.db.execute(
        f"SELECT i.* FROM issues i{clause} ORDER BY {ISSUE_SORTS[sort]} LIMIT ? OFFSET ?",
        (*args, page.limit, page.offset),
    ).fetchall()
    items = issues_json(call.view, rows, stats_period=_stats_period(call))
    hits = {"X-Hits": str(total), "X-Max-Hits": str(total)}
    return paginated(call, items, page, total, **hits)


def _short_id_lookup(call: Call, value: str) -> sqlite3.Row | None:
    try:
        return call.issue(value)
    except ApiError:
        return None


def issue_id_or_none(call: Call, ref: str) -> int | None:
    """The id of the issue a numeric or short id names, None when there is none."""
    found = _short_id_lookup(call, ref)
    return None if found is None else found["id"]


def org_issues(call: Call) -> Response:
    return issue_list(call)


def project_issues(call: Call) -> Response:
    return issue_list(call, project_id=call.project()["id"])


# -- one issue ---------------------------------------------------------------------------------


def issue_details(call: Call) -> Response:
    return json_response(issue_details_json(call.view, call.issue()))


def _user_ref(call: Call, ref: str) -> sqlite3.Row | None:
    if ref.lower() == "me":
        return call.user
    return call.db.execute(
        "SELECT * FROM users WHERE email = ? OR key = ? OR CAST(id AS TEXT) = ?", (ref, ref, ref)
    ).fetchone()


def _actor(call: Call, value: Any) -> str | None:
    """'user:<id>' / 'team:<id>' for an ``assignedTo`` value; None unassigns."""
    if value is None or (isinstance(value, str) and value.strip() == ""):
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise ApiError(400, "assignedTo: Unknown actor input")
    ref = value.strip()
    if ref.startswith(("team:", "#")):
        slug = ref.removeprefix("team:").removeprefix("#")
        team = call.db.execute(
            "SELECT id FROM teams WHERE slug = ? OR CAST(id AS TEXT) = ?", (slug, slug)
        ).fetchone()
        if team is None:
            raise ApiError(400, "assignedTo: Unknown actor input")
        return f"team:{team[0]}"
    user = _user_ref(call, ref.removeprefix("user:"))
    if user is None:
        team = call.db.execute("SELECT id FROM teams WHERE slug = ?", (ref,)).fetchone()
        if team is not None:
            return f"team:{team[0]}"
        raise ApiError(400, "assignedTo: Unknown actor input")
    return f"user:{user['id']}"


def _actor_label(call: Call, assignee: str | None) -> str | None:
    if not assignee:
        return None
    kind, _, raw = assignee.partition(":")
    if kind == "user":
        row = call.view.row("users", int(raw))
        return row["key"] if row else assignee
    row = call.view.row("teams", int(raw))
    return f"team:{row['slug']}" if row else assignee


def _number(value: Any, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ApiError(400, f"{name}: A valid integer is required.")
    text = str(value).strip()
    if not text.isdecimal() or len(text) > 9:
        raise ApiError(400, f"{name}: A valid integer is required.")
    return int(text)


class _Update:
    """A validated issue update, applied to one or many issues."""

    IGNORE_FIELDS = (
        "ignoreDuration",
        "ignoreCount",
        "ignoreWindow",
        "ignoreUserCount",
        "ignoreUserWindow",
    )

    def __init__(self, call: Call, body: dict[str, Any]):
        self.call = call
        self.status: str | None = None
        self.details: dict[str, Any] = {}
        self.substatus: str | None = None
        self.assign = "assignedTo" in body
        self.assignee = _actor(call, body.get("assignedTo")) if self.assign else None
        self.flags = {
            k: flag(body[k], k)
            for k in ("hasSeen", "isBookmarked", "isSubscribed", "isPublic")
            if k in body
        }
        self.priority = body.get("priority")
        if self.priority is not None and self.priority not in ("high", "medium", "low"):
            raise ApiError(400, "priority: Invalid priority. Choose high, medium or low.")
        if "status" in body or "substatus" in body or any(k in body for k in self.IGNORE_FIELDS):
            self._status(body)

    def _status(self, body: dict[str, Any]) -> None:
        status = body.get("status")
        raw_details = body.get("statusDetails") or {}
        if not isinstance(raw_details, dict):
            raise ApiError(400, "statusDetails: Must be an object.")
        substatus = body.get("substatus")
        if status is None:
            status = "ignored" if any(k in body for k in self.IGNORE_FIELDS) else None
        if status is None:
            raise ApiError(400, "status: This field is required when substatus is given.")
        if status not in STATUSES:
            raise ApiError(400, f'status: "{str(status)[:50]}" is not a valid choice.')
        status = "ignored" if status == "muted" else status
        if substatus is not None and substatus not in SUBSTATUSES.get(status, ()):
            raise ApiError(
                400, f"substatus: {str(substatus)[:50]!r} is not valid for status {status}."
            )
        details: dict[str, Any] = {}
        if status == "resolvedInNextRelease" or (
            status == "resolved" and raw_details.get("inNextRelease")
        ):
            status = "resolved"
            details = {"inNextRelease": True}
        elif status == "resolved" and raw_details.get("inRelease") is not None:
            version = raw_details["inRelease"]
            if not isinstance(version, str) or not version.strip():
                raise ApiError(400, "statusDetails.inRelease: Unable to find the given release.")
            details = {"inRelease": version.strip()}
        elif status == "resolved" and raw_details.get("inCommit") is not None:
            details = {"inCommit": raw_details["inCommit"]}
        elif status == "ignored":
            merged = {**raw_details, **{k: body[k] for k in self.IGNORE_FIELDS if k in body}}
            if "ignoreUntilEscalating" in body:
                merged["ignoreUntilEscalating"] = body["ignoreUntilEscalating"]
            for key in self.IGNORE_FIELDS:
                if (n := _number(merged.get(key), key)) is not None:
                    details[key] = n
            if merged.get("ignoreUntilEscalating") in (True, "true", "1"):
                details["ignoreUntilEscalating"] = True
            if "ignoreDuration" in details:
                details["ignoreUntil"] = iso(self.call.view.now + details["ignoreDuration"] * 60)
            if substatus is None:
                if details.get("ignoreUntilEscalating"):
                    substatus = "archived_until_escalating"
                elif details:
                    substatus = "archived_until_condition_met"
                else:
                    substatus = "archived_forever"
        elif status == "unresolved" and substatus is None:
            substatus = "ongoing"
        self.status, self.details, self.substatus = status, details, substatus

    # -- applying --------------------------------------------------------------------------

    def apply(self, issue: sqlite3.Row) -> sqlite3.Row:
        call, db, now = self.call, self.call.db, self.call.view.now
        user_id = call.user["id"]
        project = call.view.row("projects", issue["project_id"])
        label = {
            "issue_id": issue["id"],
            "short_id": short_id(project["slug"], issue["short_seq"]),
            "project": project["slug"],
            "title": issue["title"],
        }
        if self.status is not None:
            self._apply_status(issue, label)
        if self.assign and self.assignee != issue["assignee"]:
            db.execute("UPDATE issues SET assignee = ? WHERE id = ?", (self.assignee, issue["id"]))
            if self.assignee:
                kind, _, raw = self.assignee.partition(":")
                data: dict[str, Any] = {"assignee": raw, "assigneeType": kind}
                target = call.view.row("users" if kind == "user" else "teams", int(raw))
                if kind == "user":
                    data["assigneeEmail"] = target["email"]
                else:
                    data["assigneeName"] = target["slug"]
                add_activity(db, issue["id"], "assigned", user_id, data, now)
            else:
                add_activity(db, issue["id"], "unassigned", user_id, {}, now)
            call.record(
                "issue.assigned",
                str(issue["id"]),
                {
                    **label,
                    "from": _actor_label(call, issue["assignee"]),
                    "to": _actor_label(call, self.assignee),
                },
            )
        if self.priority is not None and self.priority != issue["priority"]:
            db.execute("UPDATE issues SET priority = ? WHERE id = ?", (self.priority, issue["id"]))
            add_activity(db, issue["id"], "set_priority", user_id, {"priority": self.priority}, now)
            call.record("issue.updated", str(issue["id"]), {**label, "priority": self.priority})
        for key, column in (("isBookmarked", "bookmarked"), ("hasSeen", "seen")):
            if key in self.flags:
                db.execute(
                    f"INSERT INTO issue_user_state(issue_id, user_id, {column}) VALUES (?, ?, ?) "
                    f"ON CONFLICT(issue_id, user_id) DO UPDATE SET {column} = excluded.{column}",
                    (issue["id"], user_id, int(self.flags[key])),
                )
        return db.execute("SELECT * FROM issues WHERE id = ?", (issue["id"],)).fetchone()

    def _apply_status(self, issue: sqlite3.Row, label: dict[str, Any]) -> None:
        call, db, now = self.call, self.call.db, self.call.view.now
        details = dict(self.details)
        resolved_release = None
        if self.status == "resolved":
            if "inRelease" in details:
                version = details["inRelease"]
                if version == "latest":
                    version = _latest_release(db, issue["project_id"]) or ""
                found = db.execute(
                    "SELECT 1 FROM releases WHERE version = ?", (version,)
                ).fetchone()
                if not found:
                    raise ApiError(
                        400, "statusDetails.inRelease: Unable to find the given release."
                    )
                details["inRelease"] = resolved_release = version
            elif details.get("inNextRelease"):
                resolved_release = _latest_release(db, issue["project_id"]) or issue["last_release"]
        changed = (
            self.status != issue["status"]
            or dumps(details) != (issue["status_details"] or "{}")
            or (self.substatus and self.substatus != issue["substatus"])
        )
        if not changed:
            return
        ignore_until = parse_time(details.get("ignoreUntil")) if self.status == "ignored" else None
        ignore_count = (
            issue["times_seen"] + details["ignoreCount"]
            if self.status == "ignored" and "ignoreCount" in details
            else None
        )
        db.execute(
            "UPDATE issues SET status = ?, substatus = ?, status_details = ?, status_actor = ?, "
            "resolved_at = ?, resolved_release = ?, ignore_until = ?, ignore_count = ? WHERE id = ?",
            (
                self.status,
                self.substatus if self.status != "resolved" else None,
                dumps(details),
                call.user["id"] if details else None,
                now if self.status == "resolved" else None,
                resolved_release,
                ignore_until,
                ignore_count,
                issue["id"],
            ),
        )
        if self.status == "resolved":
            if "inNextRelease" in details or "inRelease" in details:
                kind, data = "set_resolved_in_release", {"version": details.get("inRelease", "")}
            elif "inCommit" in details:
                kind, data = "set_resolved_in_commit", {"commit": details["inCommit"]}
            else:
                kind, data = "set_resolved", {}
        elif self.status == "ignored":
            kind, data = "set_ignored", {k: v for k, v in details.items() if k != "ignoreUntil"}
        else:
            kind, data = "set_unresolved", {}
        add_activity(db, issue["id"], kind, call.user["id"], data, now)
        call.record(
            "issue.status_changed",
            str(issue["id"]),
            {
                **label,
                "from": issue["status"],
                "to": self.status,
                "substatus": self.substatus if self.status != "resolved" else None,
                "status_details": details,
            },
        )

    def delta(self, issue: sqlite3.Row) -> dict[str, Any]:
        """What the bulk endpoint answers: the changed fields only."""
        out: dict[str, Any] = {}
        if self.status is not None:
            out["status"] = issue["status"]
            out["statusDetails"] = status_details(self.call.view, issue)
            out["substatus"] = issue["substatus"]
            out["inbox"] = None
        if self.assign:
            from environments.tools.sentry.serialize import actor_json

            out["assignedTo"] = actor_json(self.call.view, issue["assignee"])
        if "isBookmarked" in self.flags:
            out["isBookmarked"] = self.flags["isBookmarked"]
        if "hasSeen" in self.flags:
            out["hasSeen"] = self.flags["hasSeen"]
        if "isSubscribed" in self.flags:
            out["isSubscribed"] = self.flags["isSubscribed"]
        if self.priority is not None:
            out["priority"] = self.priority
        return out


def _latest_release(db: sqlite3.Connection, project_id: int) -> str | None:
    row = db.execute(
        "SELECT r.version FROM releases r JOIN release_projects rp ON rp.release_id = r.id "
        "WHERE rp.project_id = ? ORDER BY r.date_created DESC, r.id DESC LIMIT 1",
        (project_id,),
    ).fetchone()
    return row[0] if row else None


def update_issue(call: Call) -> Response:
    issue = call.issue()
    update = _Update(call, call.body())
    updated = update.apply(issue)
    return json_response(issue_details_json(call.view, updated))


def bulk_update(call: Call) -> Response:
    """``PUT /organizations/{org}/issues/?id=1&id=2`` (or a project's): the delta is answered."""
    call.org()
    project_ref = call.request.path_params.get("project")
    project_id = call.project(project_ref)["id"] if project_ref else None
    refs = call.request.query_params.getlist("id")
    if not refs:
        raise ApiError(400, "You must specify a list of IDs for this operation")
    rows = [call.issue(ref) for ref in refs[:1000]]
    if project_id is not None and any(r["project_id"] != project_id for r in rows):
        raise ApiError(404, NOT_FOUND)
    update = _Update(call, call.body())
    last = None
    for row in rows:
        last = update.apply(row)
    assert last is not None
    return json_response(update.delta(last))


# -- notes and activity ------------------------------------------------------------------------


def notes(call: Call) -> Response:
    issue = call.issue()
    page = page_from(call.request)
    rows = call.db.execute(
        "SELECT * FROM activities WHERE issue_id = ? AND type = 'note' "
        "ORDER BY date_created DESC, id DESC",
        (issue["id"],),
    ).fetchall()
    items = [activity_json(call.view, r) for r in rows[page.offset : page.offset + page.limit]]
    return paginated(call, items, page, len(rows))


def _note_text(call: Call) -> str:
    text = call.body().get("text")
    if not isinstance(text, str) or not text.strip():
        raise ApiError(400, "text: This field is required.")
    if len(text) > 80_000:
        raise ApiError(400, "text: Ensure this field has no more than 80000 characters.")
    return text


def add_note(call: Call) -> Response:
    issue = call.issue()
    text = _note_text(call)
    data = {"text": text}
    duplicate = call.db.execute(
        "SELECT 1 FROM activities WHERE issue_id = ? AND type = 'note' AND user_id = ? AND data = ?",
        (issue["id"], call.user["id"], dumps(data)),
    ).fetchone()
    if duplicate:
        raise ApiError(400, "You have already posted that comment.")
    note_id = add_activity(call.db, issue["id"], "note", call.user["id"], data, call.view.now)
    call.db.execute(
        "UPDATE issues SET num_comments = num_comments + 1 WHERE id = ?", (issue["id"],)
    )
    project = call.view.row("projects", issue["project_id"])
    call.record(
        "issue.note_added",
        str(issue["id"]),
        {
            "issue_id": issue["id"],
            "short_id": short_id(project["slug"], issue["short_seq"]),
            "project": project["slug"],
            "note_id": note_id,
            "text": text,
            "status": issue["status"],
        },
    )
    row = call.db.execute("SELECT * FROM activities WHERE id = ?", (note_id,)).fetchone()
    return json_response(activity_json(call.view, row), 201)


def _own_note(call: Call) -> tuple[sqlite3.Row, sqlite3.Row]:
    issue = call.issue()
    raw = call.request.path_params["note"]
    row = None
    if raw.isdecimal() and len(raw) <= 18:
        row = call.db.execute(
            "SELECT * FROM activities WHERE id = ? AND issue_id = ? AND type = 'note' AND user_id = ?",
            (int(raw), issue["id"], call.user["id"]),
        ).fetchone()
    if row is None:
        raise ApiError(404, NOT_FOUND)
    return issue, row


def edit_note(call: Call) -> Response:
    issue, row = _own_note(call)
    text = _note_text(call)
    call.db.execute(
        "UPDATE activities SET data = ? WHERE id = ?", (dumps({"text": text}), row["id"])
    )
    call.record(
        "issue.note_edited",
        str(issue["id"]),
        {"issue_id": issue["id"], "note_id": row["id"], "text": text},
    )
    updated = call.db.execute("SELECT * FROM activities WHERE id = ?", (row["id"],)).fetchone()
    return json_response(activity_json(call.view, updated))


def delete_note(call: Call) -> Response:
    issue, row = _own_note(call)
    call.db.execute("DELETE FROM activities WHERE id = ?", (row["id"],))
    call.db.execute(
        "UPDATE issues SET num_comments = MAX(0, num_comments - 1) WHERE id = ?", (issue["id"],)
    )
    call.record(
        "issue.note_deleted", str(issue["id"]), {"issue_id": issue["id"], "note_id": row["id"]}
    )
    return Response(status_code=204)


def activities(call: Call) -> Response:
    issue = call.issue()
    return json_response({"activity": activities_json(call.view, issue, limit=1000)})


# -- events ------------------------------------------------------------------------------------


def _event_filters(
    call: Call, issue_id: int | None, project_id: int | None
) -> tuple[str, list[Any]]:
    where, args = [], []
    if issue_id is not None:
        where.append("e.issue_id = ?")
        args.append(issue_id)
    if project_id is not None:
        where.append("e.project_id = ?")
        args.append(project_id)
    params = call.request.query_params
    envs = [e for e in params.getlist("environment") if e]
    if envs:
        where.append(f"e.environment IN ({','.join('?' * len(envs))})")
        args += envs
    lo, hi = time_window(call, None)
    if lo is not None:
        where.append("e.timestamp >= ?")
        args.append(lo)
    if hi is not None:
        where.append("e.timestamp <= ?")
        args.append(hi)
    free = []
    for negated, key, value in tokenize(params.get("query") or ""):
        if key is None:
            free.append(value)
            continue
        lowered = key.lower()
        if lowered in ("level", "release", "environment"):
            sql, extra = f"e.{lowered} = ?", [value]
        elif lowered in ("event.type", "issue.category"):
            continue
        elif lowered in ("id", "event_id", "event.id"):
            sql, extra = "e.event_id = ?", [value.replace("-", "").lower()]
        elif lowered in ("user.id", "user.email", "user.username", "user.ip_address", "user.ip"):
            path = "$.user." + ("ip_address" if lowered == "user.ip" else lowered[5:])
            sql, extra = f"json_extract(e.data, '{path}') = ?", [value]
        elif lowered in ("trace", "trace.id"):
            sql, extra = "json_extract(e.data, '$.contexts.trace.trace_id') = ?", [value]
        else:
            sql = (
                "EXISTS (SELECT 1 FROM json_each(json_extract(e.data, '$.tags')) t "
                "WHERE json_extract(t.value, '$[0]') = ? AND json_extract(t.value, '$[1]') = ?)"
            )
            extra = [key, value]
        where.append(f"NOT ({sql})" if negated else f"({sql})")
        args += extra
    text = " ".join(free).strip().lower()
    if text:
        where.append("e.search_text LIKE ?")
        args.append(f"%{text}%")
    return (" WHERE " + " AND ".join(where)) if where else "", args


def _event_page(
    call: Call, issue_id: int | None, project_id: int | None, page: Page, full: bool
) -> Response:
    clause, args = _event_filters(call, issue_id, project_id)
    sort = call.request.query_params.get("sort") or "-timestamp"
    order = "ASC" if sort == "timestamp" else "DESC"  # other sorts fall back to newest first
    rows = call.db.execute(
        f"SELECT e.* FROM error_events e{clause} ORDER BY e.timestamp {order}, e.received {order} "
        "LIMIT ? OFFSET ?",
        (*args, page.limit + 1, page.offset),
    ).fetchall()
    more = len(rows) > page.limit
    items = []
    for row in rows[: page.limit]:
        data = json.loads(row["data"])
        items.append(event_json(call.view, row, data) if full else event_brief_json(row, data))
    return paginated(call, items, page, more)


def issue_events(call: Call) -> Response:
    issue = call.issue()
    page = page_from(call.request)
    full = call.request.query_params.get("full", "").lower() in ("1", "true", "yes")
    return _event_page(call, issue["id"], None, page, full)


def project_events(call: Call) -> Response:
    project = call.project()
    page = page_from(call.request)
    full = call.request.query_params.get("full", "").lower() in ("1", "true", "yes")
    return _event_page(call, None, project["id"], page, full)


def _neighbours(call: Call, row: sqlite3.Row) -> tuple[str | None, str | None]:
    prev = call.db.execute(
        "SELECT event_id FROM error_events WHERE issue_id = ? AND (timestamp < ? OR "
        "(timestamp = ? AND event_id < ?)) ORDER BY timestamp DESC, event_id DESC LIMIT 1",
        (row["issue_id"], row["timestamp"], row["timestamp"], row["event_id"]),
    ).fetchone()
    nxt = call.db.execute(
        "SELECT event_id FROM error_events WHERE issue_id = ? AND (timestamp > ? OR "
        "(timestamp = ? AND event_id > ?)) ORDER BY timestamp ASC, event_id ASC LIMIT 1",
        (row["issue_id"], row["timestamp"], row["timestamp"], row["event_id"]),
    ).fetchone()
    return (prev[0] if prev else None, nxt[0] if nxt else None)


def _render_event(call: Call, row: sqlite3.Row | None) -> Response:
    if row is None:
        raise ApiError(404, "Event not found")
    data = json.loads(row["data"])
    return json_response(event_json(call.view, row, data, neighbours=_neighbours(call, row)))


def issue_event(call: Call) -> Response:
    issue = call.issue()
    which = call.request.path_params["event"].strip().lower()
    if which in ("latest", "recommended", "oldest"):
        order = "ASC" if which == "oldest" else "DESC"
        row = call.db.execute(
            f"SELECT * FROM error_events WHERE issue_id = ? ORDER BY timestamp {order}, received {order} LIMIT 1",
            (issue["id"],),
        ).fetchone()
    else:
        row = call.db.execute(
            "SELECT * FROM error_events WHERE event_id = ? AND issue_id = ?",
            (which.replace("-", ""), issue["id"]),
        ).fetchone()
    return _render_event(call, row)


def project_event(call: Call) -> Response:
    project = call.project()
    event_id = call.request.path_params["event"].strip().lower().replace("-", "")
    row = call.db.execute(
        "SELECT * FROM error_events WHERE event_id = ? AND project_id = ?",
        (event_id, project["id"]),
    ).fetchone()
    return _render_event(call, row)


def event_id_lookup(call: Call) -> Response:
    call.org()
    event_id = call.request.path_params["event"].strip().lower().replace("-", "")
    row = call.db.execute("SELECT * FROM error_events WHERE event_id = ?", (event_id,)).fetchone()
    if row is None:
        raise ApiError(404, NOT_FOUND)
    project = call.view.row("projects", row["project_id"])
    data = json.loads(row["data"])
    return json_response(
        {
            "organizationSlug": call.view.org["slug"],
            "projectSlug": project["slug"],
            "groupId": str(row["issue_id"]),
            "eventId": row["event_id"],
            "event": event_json(call.view, row, data),
        }
    )


def short_id_lookup(call: Call) -> Response:
    issue = call.issue(call.request.path_params["short_id"])
    project = call.view.row("projects", issue["project_id"])
    return json_response(
        {
            "organizationSlug": call.view.org["slug"],
            "projectSlug": project["slug"],
            "groupId": str(issue["id"]),
            "shortId": short_id(project["slug"], issue["short_seq"]),
            "group": issue_json(call.view, issue),
        }
    )


# -- tags --------------------------------------------------------------------------------------


def issue_tags(call: Call) -> Response:
    issue = call.issue()
    return json_response(tag_keys_json(call.view, issue["id"]))


def _tag_counts(call: Call, issue_id: int, key: str) -> tuple[int, int]:
    row = call.db.execute(
        "SELECT COUNT(*), COALESCE(SUM(times_seen), 0) FROM issue_tags WHERE issue_id = ? AND key = ?",
        (issue_id, key),
    ).fetchone()
    if row[0] == 0:
        raise ApiError(404, NOT_FOUND)
    return row[0], row[1]


def issue_tag(call: Call) -> Response:
    issue = call.issue()
    key = call.request.path_params["key"]
    unique, total = _tag_counts(call, issue["id"], key)
    return json_response(tag_key_json(call.view, issue["id"], key, unique, total))


def issue_tag_values(call: Call) -> Response:
    issue = call.issue()
    key = call.request.path_params["key"]
    unique, _ = _tag_counts(call, issue["id"], key)
    page = page_from(call.request)
    sort = call.request.query_params.get("sort") or "-last_seen"
    order = {
        "-last_seen": "last_seen DESC",
        "-first_seen": "first_seen DESC",
        "-count": "times_seen DESC",
        "-times_seen": "times_seen DESC",
    }.get(sort)
    if order is None:
        raise ApiError(400, f"Invalid sort: {sort}")
    rows = call.db.execute(
        f"SELECT * FROM issue_tags WHERE issue_id = ? AND key = ? ORDER BY {order}, value "
        "LIMIT ? OFFSET ?",
        (issue["id"], key, page.limit, page.offset),
    ).fetchall()
    return paginated(call, [tag_value_json(r) for r in rows], page, unique)


# -- attachments -------------------------------------------------------------------------------


def _attachment_json(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "event_id": row["event_id"],
        "type": row["attachment_type"],
        "name": row["name"],
        "mimetype": row["content_type"],
        "size": row["size"],
        "sha1": row["sha1"],
        "dateCreated": iso(row["date_created"]),
        "headers": {"Content-Type": row["content_type"]},
    }


def event_attachments(call: Call) -> Response:
    project = call.project()
    event_id = call.request.path_params["event"].strip().lower().replace("-", "")
    rows = call.db.execute(
        "SELECT id, event_id, attachment_type, name, content_type, size, sha1, date_created "
        "FROM attachments WHERE event_id = ? AND project_id = ? ORDER BY id",
        (event_id, project["id"]),
    )
    return json_response([_attachment_json(r) for r in rows])


def event_attachment(call: Call) -> Response:
    project = call.project()
    event_id = call.request.path_params["event"].strip().lower().replace("-", "")
    raw = call.request.path_params["attachment"]
    row = None
    if raw.isdecimal() and len(raw) <= 18:
        row = call.db.execute(
            "SELECT * FROM attachments WHERE id = ? AND event_id = ? AND project_id = ?",
            (int(raw), event_id, project["id"]),
        ).fetchone()
    if row is None:
        raise ApiError(404, NOT_FOUND)
    if call.request.query_params.get("download") in ("1", "true"):
        safe_name = "".join(c for c in row["name"] if c.isalnum() or c in "._-") or "attachment"
        return Response(
            bytes(row["data"]),
            media_type=row["content_type"],
            headers={"Content-Disposition": f'attachment; filename="{safe_name}"'},
        )
    return json_response(_attachment_json(row))
