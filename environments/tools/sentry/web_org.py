"""Web API: who am I, the organization, its projects, teams, members, keys and releases."""

from __future__ import annotations

import sqlite3
from typing import Any

from starlette.responses import Response

from environments.tools.sentry.normalize import parse_time, tag_value
from environments.tools.sentry.pagination import page_from
from environments.tools.sentry.serialize import (
    TAG_LABELS,
    deploy_json,
    key_json,
    member_json,
    org_json,
    project_json,
    release_json,
    team_json,
    user_json,
)
from environments.tools.sentry.web import NOT_FOUND, ApiError, Call, json_response, paginated


def _like(call: Call) -> str | None:
    query = (call.request.query_params.get("query") or "").strip()
    return f"%{query.lower()}%" if query else None


def whoami(call: Call) -> Response:
    return json_response(user_json(call.user))


def api_index(call: Call) -> Response:
    return json_response({"version": "0", "auth": {"scopes": []}, "user": user_json(call.user)})


def organizations(call: Call) -> Response:
    org = call.view.org
    like = _like(call)
    page = page_from(call.request)
    items = []
    if not like or like.strip("%") in org["slug"].lower() or like.strip("%") in org["name"].lower():
        items = [org_json(call.view)]
    return paginated(call, items[page.offset : page.offset + page.limit], page, len(items))


def organization(call: Call) -> Response:
    call.org()
    return json_response(org_json(call.view, detailed=True))


def projects(call: Call) -> Response:
    call.org()
    page = page_from(call.request)
    sql, args = "SELECT * FROM projects", []
    query = (call.request.query_params.get("query") or "").strip()
    if query.startswith("id:") and query[3:].isdecimal() and len(query) <= 21:
        sql += " WHERE id = ?"
        args.append(int(query[3:]))
    elif query.startswith("slug:"):
        sql += " WHERE slug = ?"
        args.append(query[5:])
    elif query:
        sql += " WHERE lower(slug) LIKE ? OR lower(name) LIKE ?"
        args += [f"%{query.lower()}%"] * 2
    rows = call.db.execute(f"{sql} ORDER BY slug", args).fetchall()
    items = [project_json(call.view, r) for r in rows[page.offset : page.offset + page.limit]]
    return paginated(call, items, page, len(rows))


def all_projects(call: Call) -> Response:
    page = page_from(call.request)
    rows = call.db.execute("SELECT * FROM projects ORDER BY slug").fetchall()
    items = []
    for row in rows[page.offset : page.offset + page.limit]:
        item = project_json(call.view, row)
        item["organization"] = org_json(call.view)
        items.append(item)
    return paginated(call, items, page, len(rows))


def project(call: Call) -> Response:
    row = call.project()
    out = project_json(call.view, row)
    out["organization"] = org_json(call.view)
    latest = call.db.execute(
        "SELECT r.version FROM releases r JOIN release_projects rp ON rp.release_id = r.id "
        "WHERE rp.project_id = ? ORDER BY r.date_created DESC, r.id DESC LIMIT 1",
        (row["id"],),
    ).fetchone()
    out["latestRelease"] = {"version": latest[0]} if latest else None
    return json_response(out)


def project_keys(call: Call) -> Response:
    row = call.project()
    keys = call.db.execute(
        "SELECT * FROM keys WHERE project_id = ? ORDER BY date_created, public_key", (row["id"],)
    )
    return json_response([key_json(call.view, k) for k in keys])


def project_teams(call: Call) -> Response:
    row = call.project()
    page = page_from(call.request)
    team = call.view.row("teams", row["team_id"]) if row["team_id"] else None
    items = [team_json(call.view, team, projects=False)] if team else []
    return paginated(call, items, page, len(items))


def teams(call: Call) -> Response:
    call.org()
    page = page_from(call.request)
    like = _like(call)
    sql, args = "SELECT * FROM teams", []
    if like:
        sql += " WHERE lower(slug) LIKE ? OR lower(name) LIKE ?"
        args = [like, like]
    rows = call.db.execute(f"{sql} ORDER BY slug", args).fetchall()
    detailed = call.request.query_params.get("detailed", "1") != "0"
    items = [
        team_json(call.view, r, projects=detailed)
        for r in rows[page.offset : page.offset + page.limit]
    ]
    return paginated(call, items, page, len(rows))


def team(call: Call) -> Response:
    call.org()
    slug = call.request.path_params["team"]
    row = call.db.execute("SELECT * FROM teams WHERE slug = ?", (slug,)).fetchone()
    if row is None:
        raise ApiError(404, NOT_FOUND)
    return json_response(team_json(call.view, row))


def members(call: Call) -> Response:
    call.org()
    page = page_from(call.request)
    like = _like(call)
    sql, args = "SELECT * FROM users", []
    if like:
        sql += " WHERE lower(name) LIKE ? OR lower(email) LIKE ?"
        args = [like, like]
    rows = call.db.execute(f"{sql} ORDER BY id", args).fetchall()
    items = [member_json(call.view, r) for r in rows[page.offset : page.offset + page.limit]]
    return paginated(call, items, page, len(rows))


def environments(call: Call) -> Response:
    call.org()
    names = call.db.execute("SELECT DISTINCT name FROM environments ORDER BY name").fetchall()
    return json_response([{"id": str(i + 1), "name": n[0]} for i, n in enumerate(names)])


def org_tags(call: Call) -> Response:
    call.org()
    rows = call.db.execute(
        "SELECT key, COUNT(DISTINCT value) FROM issue_tags GROUP BY key ORDER BY key"
    ).fetchall()
    return json_response(
        [{"key": k, "name": TAG_LABELS.get(k, k), "totalValues": n} for k, n in rows]
    )


# -- releases ----------------------------------------------------------------------------------


def _release_rows(call: Call, project_id: int | None) -> list[sqlite3.Row]:
    sql = "SELECT DISTINCT r.* FROM releases r"
    args: list[Any] = []
    where = []
    if project_id is not None:
        sql += " JOIN release_projects rp ON rp.release_id = r.id"
        where.append("rp.project_id = ?")
        args.append(project_id)
    else:
        ids = [
            p
            for p in call.request.query_params.getlist("project")
            if p.lstrip("-").isdecimal() and len(p) <= 18
        ]
        ids = [int(p) for p in ids if int(p) != -1]
        if ids:
            sql += " JOIN release_projects rp ON rp.release_id = r.id"
            where.append(f"rp.project_id IN ({','.join('?' * len(ids))})")
            args += ids
    query = (call.request.query_params.get("query") or "").strip()
    if query:
        where.append("lower(r.version) LIKE ?")
        args.append(f"%{query.lower()}%")
    if where:
        sql += " WHERE " + " AND ".join(where)
    sort = call.request.query_params.get("sort", "date")
    order = {
        "date": "r.date_created DESC",
        "sessions": "r.date_created DESC",
        "users": "r.date_created DESC",
        "crash_free_sessions": "r.date_created DESC",
        "semver": "r.version DESC",
        "build": "r.version DESC",
    }.get(sort)
    if order is None:
        raise ApiError(400, f"Invalid sort: {sort}")
    return call.db.execute(f"{sql} ORDER BY {order}, r.id DESC", args).fetchall()


def releases(call: Call) -> Response:
    project_ref = call.request.path_params.get("project")
    project_id = call.project(project_ref)["id"] if project_ref else None
    call.org()
    page = page_from(call.request)
    rows = _release_rows(call, project_id)
    items = [release_json(call.view, r) for r in rows[page.offset : page.offset + page.limit]]
    return paginated(call, items, page, len(rows))


def _release(call: Call) -> sqlite3.Row:
    call.org()
    if (ref := call.request.path_params.get("project")) is not None:
        call.project(ref)
    version = call.request.path_params["version"]
    row = call.db.execute("SELECT * FROM releases WHERE version = ?", (version,)).fetchone()
    if row is None:
        raise ApiError(404, NOT_FOUND)
    return row


def release(call: Call) -> Response:
    return json_response(release_json(call.view, _release(call)))


def create_release(call: Call) -> Response:
    """``POST /organizations/{org}/releases/`` as sentry-cli and CI use it."""
    call.org()
    body = call.body()
    version = tag_value(body.get("version"))
    if not version or any(c in version for c in " /\\") or version in (".", "..", "latest"):
        raise ApiError(400, "version: Release with name of this version is not valid.")
    refs = body.get("projects")
    if not isinstance(refs, list) or not refs or not all(isinstance(r, str | int) for r in refs):
        raise ApiError(400, "projects: This field is required.")
    projects_ = [call.project(str(r)) for r in refs]
    created = call.view.now
    existing = call.db.execute("SELECT id FROM releases WHERE version = ?", (version,)).fetchone()
    released = parse_time(body.get("dateReleased"))
    if existing is None:
        call.db.execute(
            "INSERT INTO releases(version, date_created, date_released) VALUES (?, ?, ?)",
            (version, parse_time(body.get("dateCreated")) or created, released),
        )
    elif released is not None:
        call.db.execute(
            "UPDATE releases SET date_released = ? WHERE version = ?", (released, version)
        )
    row = call.db.execute("SELECT * FROM releases WHERE version = ?", (version,)).fetchone()
    for proj in projects_:
        call.db.execute(
            "INSERT OR IGNORE INTO release_projects(release_id, project_id) VALUES (?, ?)",
            (row["id"], proj["id"]),
        )
    ref = body.get("ref")
    if isinstance(ref, str) and ref.strip():
        call.db.execute(
            "UPDATE releases SET commit_id = ? WHERE id = ?", (ref.strip()[:64], row["id"])
        )
    if existing is None:
        call.record(
            "release.created",
            version,
            {"version": version, "projects": [p["slug"] for p in projects_]},
        )
    row = call.db.execute("SELECT * FROM releases WHERE id = ?", (row["id"],)).fetchone()
    return json_response(release_json(call.view, row), 208 if existing else 201)


def deploys(call: Call) -> Response:
    row = _release(call)
    page = page_from(call.request)
    rows = call.db.execute(
        "SELECT * FROM deploys WHERE release_id = ? ORDER BY date_finished DESC, id DESC",
        (row["id"],),
    ).fetchall()
    items = [deploy_json(d) for d in rows[page.offset : page.offset + page.limit]]
    return paginated(call, items, page, len(rows))


def create_deploy(call: Call) -> Response:
    row = _release(call)
    body = call.body()
    environment = tag_value(body.get("environment"))
    if not environment:
        raise ApiError(400, "environment: This field is required.")
    finished = parse_time(body.get("dateFinished")) or call.view.now
    started = parse_time(body.get("dateStarted")) or finished
    name = body.get("name") if isinstance(body.get("name"), str) else None
    url = body.get("url") if isinstance(body.get("url"), str) else None
    cur = call.db.execute(
        "INSERT INTO deploys(release_id, environment, name, url, date_started, date_finished) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (row["id"], environment[:64], name and name[:200], url and url[:2000], started, finished),
    )
    for proj in call.db.execute(
        "SELECT project_id FROM release_projects WHERE release_id = ?", (row["id"],)
    ).fetchall():
        call.db.execute(
            "INSERT OR IGNORE INTO environments(project_id, name) VALUES (?, ?)",
            (proj[0], environment[:64]),
        )
    if row["date_released"] is None:
        call.db.execute("UPDATE releases SET date_released = ? WHERE id = ?", (finished, row["id"]))
    call.record(
        "release.deployed", row["version"], {"version": row["version"], "environment": environment}
    )
    deploy = call.db.execute("SELECT * FROM deploys WHERE id = ?", (cur.lastrowid,)).fetchone()
    return json_response(deploy_json(deploy), 201)
