"""Web API: the events (Discover) endpoint for error events, and the small enrichment
endpoints sentry-mcp calls around issue details (external issues, autofix, replays, user
reports, stacktrace links), which answer "nothing here" the way Sentry does without them.

``GET /organizations/{org}/events/?dataset=errors&field=title&field=count()&query=...`` supports
plain fields (``id``, ``title``, ``message``, ``issue``, ``issue.id``, ``project``, ``timestamp``,
``level``, ``release``, ``environment``, ``culprit``, ``transaction``, ``user.*``, ``trace``,
``event.type``, tags) and the aggregates ``count()``, ``count_unique(user)``, ``last_seen()``,
``first_seen()``; any aggregate groups by the plain fields. Other datasets (spans, logs,
metrics, profiles) hold nothing here and answer an empty result.
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.responses import Response

from environments.tools.sentry.normalize import iso
from environments.tools.sentry.pagination import Page, page_from, parse_cursor
from environments.tools.sentry.search import tokenize
from environments.tools.sentry.serialize import short_id
from environments.tools.sentry.web import ApiError, Call, json_response, paginated
from environments.tools.sentry.web_issues import issue_id_or_none, time_window

AGGREGATE = re.compile(r"^(count|count_unique|last_seen|first_seen)\(([\w.]*)\)$")
ERROR_DATASETS = ("errors", "discover", "events", "error-events", "")
FIELD_TYPES = {
    "timestamp": "date",
    "issue.id": "integer",
    "last_seen()": "date",
    "first_seen()": "date",
    "count()": "integer",
    "count_unique(user)": "integer",
}


def _plain(view_row: dict[str, Any], field: str, project_slugs: dict[int, str]) -> Any:
    data, row = view_row["data"], view_row["row"]
    user = data.get("user") or {}
    tags = dict(data.get("tags") or [])
    if field == "id":
        return row["event_id"]
    if field == "title":
        return data.get("title")
    if field == "message":
        return data.get("message") or data.get("title")
    if field == "issue":
        return view_row["short_id"]
    if field == "issue.id":
        return row["issue_id"]
    if field in ("project", "project.name"):
        return project_slugs.get(row["project_id"])
    if field == "project.id":
        return row["project_id"]
    if field == "timestamp":
        return iso(row["timestamp"])
    if field in ("level", "release", "environment", "culprit", "transaction", "platform"):
        return data.get(field)
    if field == "event.type":
        return data.get("type", "error")
    if field == "trace":
        return ((data.get("contexts") or {}).get("trace") or {}).get("trace_id")
    if field == "user.display":
        return user.get("email") or user.get("username") or user.get("id") or user.get("ip_address")
    if field.startswith("user."):
        return user.get(field[5:])
    if field.startswith("tags[") and field.endswith("]"):
        return tags.get(field[5:-1])
    return tags.get(field)


def _matches(
    item: dict[str, Any], terms: list[tuple[bool, str | None, str]], slugs: dict[int, str]
) -> bool:
    for negated, key, value in terms:
        if key is None:
            haystack = f"{item['data'].get('title', '')}\n{item['data'].get('message', '')}".lower()
            hit = value.lower() in haystack
        elif key in ("issue", "issue.id"):
            hit = value.upper() in (item["short_id"], str(item["row"]["issue_id"]))
        elif key == "event.type":
            hit = value == item["data"].get("type", "error") or value == "error"
        elif key in ("has",):
            hit = _plain(item, value, slugs) not in (None, "")
        else:
            actual = _plain(item, key, slugs)
            pattern = value.replace("*", "")
            hit = actual is not None and (
                str(actual) == value or ("*" in value and pattern.lower() in str(actual).lower())
            )
        if hit == negated:
            return False
    return True


def discover(call: Call) -> Response:
    call.org()
    params = call.request.query_params
    dataset = (params.get("dataset") or "").lower()
    fields = [f for f in params.getlist("field") if f] or ["id", "title", "timestamp"]
    meta = {"fields": {f: FIELD_TYPES.get(f, "string") for f in fields}, "units": {}}
    if dataset not in ERROR_DATASETS:
        return json_response({"data": [], "meta": {**meta, "dataset": dataset}})
    try:
        per_page = max(1, min(int(params.get("per_page") or 50), 100))
    except ValueError:
        raise ApiError(400, "Invalid per_page parameter.") from None
    for field in fields:
        if "(" in field and not AGGREGATE.match(field):
            raise ApiError(400, f"Unsupported function: {field}")
    terms = tokenize(params.get("query") or "")
    lo, hi = time_window(call, 14 * 86400)
    where, args = ["timestamp >= ?"], [lo]
    if hi is not None:
        where.append("timestamp <= ?")
        args.append(hi)
    projects = [
        int(p) for p in params.getlist("project") if p.isdecimal() and len(p) <= 18 and int(p) > 0
    ]
    if projects:
        where.append(f"project_id IN ({','.join('?' * len(projects))})")
        args += projects
    for negated, key, value in terms:
        if key in ("issue", "issue.id") and not negated:
            where.append("issue_id = ?")
            args.append(issue_id_or_none(call, value) or -1)
        elif key == "project":
            sql = "project_id IN (SELECT id FROM projects WHERE slug = ? OR CAST(id AS TEXT) = ?)"
            where.append(f"NOT ({sql})" if negated else sql)
            args += [value, value]
    rows = call.db.execute(
        f"SELECT * FROM error_events WHERE {' AND '.join(where)} ORDER BY timestamp DESC LIMIT 10000",
        args,
    ).fetchall()
    slugs = {r[0]: r[1] for r in call.db.execute("SELECT id, slug FROM projects")}
    seqs = {
        r[0]: short_id(slugs[r[1]], r[2])
        for r in call.db.execute("SELECT id, project_id, short_seq FROM issues")
    }
    items = []
    for row in rows:
        item = {"row": row, "data": json.loads(row["data"]), "short_id": seqs.get(row["issue_id"])}
        if _matches(item, [t for t in terms if t[1] != "project"], slugs):
            items.append(item)
    plain = [f for f in fields if not AGGREGATE.match(f)]
    aggregates = [f for f in fields if AGGREGATE.match(f)]
    if aggregates:
        groups: dict[tuple, list[dict[str, Any]]] = {}
        for item in items:
            groups.setdefault(tuple(_plain(item, f, slugs) for f in plain), []).append(item)
        data = []
        for key, members in groups.items():
            out = dict(zip(plain, key, strict=True))
            for field in aggregates:
                kind = AGGREGATE.match(field)[1]
                if kind == "count":
                    out[field] = len(members)
                elif kind == "count_unique":
                    out[field] = len(
                        {m["row"]["user_tag"] for m in members if m["row"]["user_tag"]}
                    )
                elif kind == "last_seen":
                    out[field] = iso(max(m["row"]["timestamp"] for m in members))
                else:
                    out[field] = iso(min(m["row"]["timestamp"] for m in members))
            data.append(out)
    else:
        data = [{f: _plain(item, f, slugs) for f in plain} for item in items]
    sort = params.get("sort") or ("-" + (aggregates[0] if aggregates else "timestamp"))
    name = sort.lstrip("-")
    if name in fields:
        data.sort(key=lambda d: _sort_key(d.get(name)), reverse=sort.startswith("-"))
    page = Page(parse_cursor(params.get("cursor")), per_page)
    window = data[page.offset : page.offset + page.limit]
    return json_response(
        {"data": window, "meta": meta}, headers={"Link": page.link(call.request, len(data))}
    )


def _sort_key(value: Any) -> tuple[int, float, str]:
    if value is None:
        return (1, 0.0, "")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (0, float(value), "")
    return (0, 0.0, str(value))


# -- enrichment endpoints ----------------------------------------------------------------------


def external_issues(call: Call) -> Response:
    call.issue()
    return json_response([])


def user_reports(call: Call) -> Response:
    call.issue()
    return paginated(call, [], page_from(call.request), 0)


def autofix(call: Call) -> Response:
    call.issue()
    return json_response({"autofix": None})


def replay_count(call: Call) -> Response:
    call.org()
    return json_response({})


def stacktrace_link(call: Call) -> Response:
    call.project()
    return json_response(
        {
            "config": None,
            "sourceUrl": None,
            "integrations": [],
            "error": "no_code_mappings_for_project",
        }
    )
