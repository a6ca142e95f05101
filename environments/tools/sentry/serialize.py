"""Rows into the JSON Sentry's web API answers with (``src/sentry/api/serializers``).

The shapes follow what getsentry/sentry-mcp's zod schemas validate: string ids, ISO times with
``Z``, ``count`` as a string, ``permalink`` a URL, web-format (camelCase) frames, event tags as
``[{key, value}]``. ``View`` carries what every serializer needs from the request: the
connection, the base URL (for permalinks and DSNs) and who is asking.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from environments.tools.sentry.normalize import group_hash, iso

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
STATS_PERIODS = {"24h": (24, 3600), "14d": (14, 86400), "30d": (30, 86400)}
TAG_LABELS = {
    "level": "Level",
    "environment": "Environment",
    "release": "Release",
    "server_name": "Server",
    "transaction": "Transaction",
    "user": "User",
    "url": "URL",
    "logger": "Logger",
    "handled": "Handled",
    "mechanism": "Mechanism",
    "runtime": "Runtime",
    "runtime.name": "Runtime.Name",
    "os.name": "OS",
    "browser.name": "Browser.Name",
    "browser": "Browser",
    "device": "Device",
}
PROJECT_FEATURES = ["alert-filters", "minidump", "race-free-group-creation", "similarity-indexing"]
ORG_FEATURES = ["issue-stream-search-query-builder", "shared-issues", "team-insights"]
ORG_ACCESS = [
    "org:read",
    "org:write",
    "project:read",
    "project:write",
    "project:releases",
    "team:read",
    "team:write",
    "event:read",
    "event:write",
    "event:admin",
    "member:read",
]


@dataclass
class View:
    """The request context a serializer needs."""

    db: sqlite3.Connection
    base_url: str  # 'http://127.0.0.1:8123', no trailing slash
    org: sqlite3.Row
    user: sqlite3.Row | None
    now: float
    _cache: dict[tuple[str, Any], Any] = field(default_factory=dict)

    def row(self, table: str, key: Any) -> sqlite3.Row | None:
        """One row by primary key, cached for the request."""
        cache_key = (table, key)
        if cache_key not in self._cache:
            self._cache[cache_key] = self.db.execute(
                f"SELECT * FROM {table} WHERE id = ?", (key,)
            ).fetchone()
        return self._cache[cache_key]


def short_id(project_slug: str, seq: int) -> str:
    """``ACME-API-1F``: the project slug upper-cased and a Crockford base32 counter."""
    digits = ""
    while True:
        seq, rem = divmod(seq, 32)
        digits = CROCKFORD[rem] + digits
        if seq == 0:
            break
    return f"{project_slug.upper()}-{digits}"


def parse_short_id(value: str) -> tuple[str, int] | None:
    slug, sep, code = value.strip().rpartition("-")
    if not sep or not slug or not code or len(code) > 12:
        return None
    seq = 0
    for char in code.upper().replace("O", "0").replace("I", "1").replace("L", "1"):
        index = CROCKFORD.find(char)
        if index < 0:
            return None
        seq = seq * 32 + index
    return slug.lower(), seq


def _avatar() -> dict[str, Any]:
    return {"avatarType": "letter_avatar", "avatarUuid": None, "avatarUrl": None}


def avatar_url(email: str) -> str:
    digest = hashlib.md5(email.lower().encode()).hexdigest()
    return f"https://gravatar.com/avatar/{digest}?s=32&d=mm"


# -- people and places -------------------------------------------------------------------------


def user_json(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "name": row["name"],
        "username": row["email"],
        "email": row["email"],
        "avatarUrl": avatar_url(row["email"]),
        "isActive": True,
        "hasPasswordAuth": True,
        "isManaged": False,
        "dateJoined": iso(row["date_joined"]),
        "lastLogin": iso(row["date_joined"]),
        "has2fa": False,
        "lastActive": iso(row["date_joined"]),
        "isSuperuser": False,
        "isStaff": False,
        "experiments": {},
        "emails": [{"id": str(row["id"]), "email": row["email"], "is_verified": True}],
        "avatar": _avatar(),
    }


def actor_json(view: View, assignee: str | None) -> dict[str, Any] | None:
    """``assignedTo``: ``{type, id, name[, email]}`` for 'user:<id>' / 'team:<id>'."""
    if not assignee:
        return None
    kind, _, raw_id = assignee.partition(":")
    if kind == "user" and (user := view.row("users", int(raw_id))) is not None:
        return {"type": "user", "id": str(user["id"]), "name": user["name"], "email": user["email"]}
    if kind == "team" and (team := view.row("teams", int(raw_id))) is not None:
        return {"type": "team", "id": str(team["id"]), "name": team["slug"]}
    return None


def team_json(view: View, row: sqlite3.Row, *, projects: bool = True) -> dict[str, Any]:
    members = view.db.execute(
        "SELECT COUNT(*) FROM users, json_each(users.teams) WHERE json_each.value = ?",
        (row["slug"],),
    ).fetchone()[0]
    is_member = bool(view.user) and row["slug"] in json.loads(view.user["teams"])
    out: dict[str, Any] = {
        "id": str(row["id"]),
        "slug": row["slug"],
        "name": row["name"],
        "dateCreated": iso(row["date_created"]),
        "isMember": is_member,
        "teamRole": "contributor" if is_member else None,
        "flags": {"idp:provisioned": False},
        "access": ["alerts:read", "event:read", "event:write", "project:read", "team:read"],
        "hasAccess": True,
        "isPending": False,
        "memberCount": members,
        "avatar": _avatar(),
    }
    if projects:
        rows = view.db.execute(
            "SELECT * FROM projects WHERE team_id = ? ORDER BY slug", (row["id"],)
        )
        out["projects"] = [project_json(view, p, teams=False) for p in rows]
    return out


def project_json(view: View, row: sqlite3.Row, *, teams: bool = True) -> dict[str, Any]:
    envs = [
        r[0]
        for r in view.db.execute(
            "SELECT name FROM environments WHERE project_id = ? ORDER BY name", (row["id"],)
        )
    ]
    out: dict[str, Any] = {
        "id": str(row["id"]),
        "slug": row["slug"],
        "name": row["name"],
        "platform": row["platform"],
        "dateCreated": iso(row["date_created"]),
        "isBookmarked": False,
        "isMember": True,
        "features": PROJECT_FEATURES,
        "firstEvent": iso(row["first_event"]),
        "firstTransactionEvent": False,
        "access": ["event:read", "event:write", "event:admin", "project:read", "project:write"],
        "hasAccess": True,
        "hasMinifiedStackTrace": False,
        "hasMonitors": False,
        "hasProfiles": False,
        "hasReplays": False,
        "hasFeedbacks": False,
        "hasNewFeedbacks": False,
        "hasSessions": False,
        "hasLogs": False,
        "isInternal": False,
        "isPublic": False,
        "avatar": _avatar(),
        "color": "#" + hashlib.md5(row["slug"].encode()).hexdigest()[:6],
        "status": "active",
        "environments": envs,
    }
    if teams:
        team = view.row("teams", row["team_id"]) if row["team_id"] else None
        brief = (
            [{"id": str(team["id"]), "slug": team["slug"], "name": team["name"]}] if team else []
        )
        out["team"] = brief[0] if brief else None
        out["teams"] = brief
    return out


def project_brief(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "name": row["name"],
        "slug": row["slug"],
        "platform": row["platform"],
    }


def org_json(view: View, *, detailed: bool = False) -> dict[str, Any]:
    org = view.org
    out: dict[str, Any] = {
        "id": str(org["id"]),
        "slug": org["slug"],
        "name": org["name"],
        "dateCreated": iso(org["date_created"]),
        "status": {"id": "active", "name": "active"},
        "avatar": _avatar(),
        "isEarlyAdopter": False,
        "require2FA": False,
        "allowMemberInvite": True,
        "allowMemberProjectCreation": True,
        "allowSuperuserAccess": False,
        "hasAuthProvider": False,
        "features": ORG_FEATURES,
        "links": {
            "organizationUrl": view.base_url,
            "regionUrl": view.base_url,
        },
    }
    if detailed:
        out["access"] = ORG_ACCESS
        out["role"] = view.user["role"] if view.user else "member"
        out["orgRole"] = out["role"]
        out["projects"] = [
            project_json(view, p) for p in view.db.execute("SELECT * FROM projects ORDER BY slug")
        ]
        out["teams"] = [
            team_json(view, t, projects=False)
            for t in view.db.execute("SELECT * FROM teams ORDER BY slug")
        ]
        out["defaultRole"] = "member"
        out["isDefault"] = True
    return out


def member_json(view: View, row: sqlite3.Row) -> dict[str, Any]:
    teams = json.loads(row["teams"])
    role = row["role"]
    return {
        "id": str(row["id"]),
        "email": row["email"],
        "name": row["name"],
        "user": user_json(row),
        "role": role,
        "roleName": role.title(),
        "orgRole": role,
        "pending": False,
        "expired": False,
        "flags": {"sso:linked": False, "sso:invalid": False, "member-limit:restricted": False},
        "dateCreated": iso(row["date_joined"]),
        "inviteStatus": "approved",
        "inviterName": None,
        "teams": teams,
        "teamRoles": [{"teamSlug": slug, "role": None} for slug in teams],
    }


# -- releases ----------------------------------------------------------------------------------


def release_json(view: View, row: sqlite3.Row) -> dict[str, Any]:
    projects = view.db.execute(
        "SELECT p.*, rp.new_groups FROM release_projects rp JOIN projects p ON p.id = rp.project_id "
        "WHERE rp.release_id = ? ORDER BY p.slug",
        (row["id"],),
    ).fetchall()
    deploy = view.db.execute(
        "SELECT * FROM deploys WHERE release_id = ? ORDER BY date_finished DESC, id DESC LIMIT 1",
        (row["id"],),
    ).fetchone()
    deploy_count = view.db.execute(
        "SELECT COUNT(*) FROM deploys WHERE release_id = ?", (row["id"],)
    ).fetchone()[0]
    author = _commit_author(view, row["commit_author"])
    last_commit = None
    if row["commit_id"]:
        last_commit = {
            "id": row["commit_id"],
            "message": row["commit_message"],
            "dateCreated": iso(row["commit_date"] or row["date_created"]),
            "author": author,
        }
    return {
        "id": row["id"],
        "version": row["version"],
        "shortVersion": row["version"][:12] if _looks_like_sha(row["version"]) else row["version"],
        "status": "open",
        "ref": row["commit_id"],
        "url": None,
        "data": {},
        "dateCreated": iso(row["date_created"]),
        "dateReleased": iso(row["date_released"]),
        "firstEvent": iso(row["first_event"]),
        "lastEvent": iso(row["last_event"]),
        "newGroups": sum(p["new_groups"] for p in projects),
        "owner": None,
        "commitCount": 1 if last_commit else 0,
        "lastCommit": last_commit,
        "deployCount": deploy_count,
        "lastDeploy": deploy_json(deploy) if deploy else None,
        "authors": [author] if author else [],
        "projects": [
            {
                "id": p["id"],
                "slug": p["slug"],
                "name": p["name"],
                "newGroups": p["new_groups"],
                "platform": p["platform"],
                "platforms": [p["platform"]] if p["platform"] else [],
                "hasHealthData": False,
            }
            for p in projects
        ],
        "versionInfo": {
            "package": None,
            "version": {"raw": row["version"]},
            "description": row["version"],
            "buildHash": row["version"] if _looks_like_sha(row["version"]) else None,
        },
        "currentProjectMeta": {},
        "userAgent": None,
    }


def _looks_like_sha(version: str) -> bool:
    return 7 <= len(version) <= 40 and all(c in "0123456789abcdef" for c in version)


def _commit_author(view: View, key: str | None) -> dict[str, Any] | None:
    if not key:
        return None
    row = view.db.execute("SELECT * FROM users WHERE key = ? OR email = ?", (key, key)).fetchone()
    if row is None:
        return {"name": key, "email": None}
    return {
        "id": str(row["id"]),
        "name": row["name"],
        "email": row["email"],
        "username": row["email"],
    }


def deploy_json(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "environment": row["environment"],
        "name": row["name"],
        "url": row["url"],
        "dateStarted": iso(row["date_started"]),
        "dateFinished": iso(row["date_finished"]),
    }


def key_json(view: View, row: sqlite3.Row) -> dict[str, Any]:
    host = view.base_url.split("://", 1)[-1]
    scheme = view.base_url.split("://", 1)[0]
    pid = row["project_id"]
    public = f"{scheme}://{row['public_key']}@{host}/{pid}"
    api = f"{view.base_url}/api/{pid}"
    return {
        "id": row["public_key"],
        "name": row["label"],
        "label": row["label"],
        "public": row["public_key"],
        "secret": row["secret_key"],
        "projectId": pid,
        "isActive": bool(row["is_active"]),
        "rateLimit": None,
        "dsn": {
            "secret": f"{scheme}://{row['public_key']}:{row['secret_key']}@{host}/{pid}",
            "public": public,
            "csp": f"{api}/csp-report/?sentry_key={row['public_key']}",
            "security": f"{api}/security/?sentry_key={row['public_key']}",
            "minidump": f"{api}/minidump/?sentry_key={row['public_key']}",
            "nel": f"{api}/nel/?sentry_key={row['public_key']}",
            "unreal": f"{api}/unreal/{row['public_key']}/",
            "cdn": f"{view.base_url}/js-sdk-loader/{row['public_key']}.min.js",
            "crons": f"{api}/cron/___MONITOR_SLUG___/{row['public_key']}/",
            "otlp_traces": f"{api}/otlp/v1/traces",
        },
        "browserSdkVersion": "8.x",
        "browserSdk": {"choices": [["latest", "latest"], ["8.x", "8.x"]]},
        "dateCreated": iso(row["date_created"]),
        "dynamicSdkLoaderOptions": {
            "hasReplay": False,
            "hasPerformance": False,
            "hasDebug": False,
            "hasFeedback": False,
            "hasLogsAndMetrics": False,
        },
    }


# -- issues ------------------------------------------------------------------------------------


def stats_for(view: View, issue_ids: Sequence[int], period: str) -> dict[int, list[list[int]]]:
    """Event counts per issue in ``period`` buckets ('24h': hourly, '14d': daily)."""
    buckets, width = STATS_PERIODS[period]
    end = (int(view.now) // width + 1) * width
    start = end - buckets * width
    out = {i: [[start + n * width, 0] for n in range(buckets)] for i in issue_ids}
    if not issue_ids:
        return out
    marks = ",".join("?" * len(issue_ids))
    rows = view.db.execute(
        f"SELECT issue_id, CAST((timestamp - ?) / ? AS INTEGER) AS b, COUNT(*) FROM error_events "
        f"WHERE issue_id IN ({marks}) AND timestamp >= ? AND timestamp < ? GROUP BY issue_id, b",
        (start, width, *issue_ids, start, end),
    )
    for issue_id, bucket, count in rows:
        if 0 <= bucket < buckets:
            out[issue_id][bucket][1] = count
    return out


def status_details(view: View, row: sqlite3.Row) -> dict[str, Any]:
    raw = row["status_details"]
    if not raw or raw == "{}":
        return {}
    details = json.loads(raw)
    if details and row["status_actor"] and (actor := view.row("users", row["status_actor"])):
        details["actor"] = user_json(actor)
    return details


def issues_json(
    view: View,
    rows: Iterable[sqlite3.Row],
    *,
    stats_period: str | None = "24h",
) -> list[dict[str, Any]]:
    """The issue-stream shape for a page of issues (stats computed in one query)."""
    rows = list(rows)
    stats = stats_for(view, [r["id"] for r in rows], stats_period) if stats_period else {}
    flags = {}
    if view.user is not None and rows:
        marks = ",".join("?" * len(rows))
        flags = {
            r[0]: (bool(r[1]), bool(r[2]))
            for r in view.db.execute(
                f"SELECT issue_id, bookmarked, seen FROM issue_user_state "
                f"WHERE user_id = ? AND issue_id IN ({marks})",
                (view.user["id"], *[r["id"] for r in rows]),
            )
        }
    out = []
    for row in rows:
        item = issue_json(view, row, flags=flags.get(row["id"], (False, False)))
        if stats_period:
            item["stats"] = {stats_period: stats[row["id"]]}
        out.append(item)
    return out


def issue_json(
    view: View, row: sqlite3.Row, *, flags: tuple[bool, bool] | None = None
) -> dict[str, Any]:
    project = view.row("projects", row["project_id"])
    assert project is not None
    if flags is None:
        flags = (False, False)
        if view.user is not None:
            state = view.db.execute(
                "SELECT bookmarked, seen FROM issue_user_state WHERE issue_id = ? AND user_id = ?",
                (row["id"], view.user["id"]),
            ).fetchone()
            if state is not None:
                flags = (bool(state[0]), bool(state[1]))
    metadata = json.loads(row["metadata"])
    return {
        "id": str(row["id"]),
        "shareId": None,
        "shortId": short_id(project["slug"], row["short_seq"]),
        "title": row["title"],
        "culprit": row["culprit"],
        "permalink": f"{view.base_url}/organizations/{view.org['slug']}/issues/{row['id']}/",
        "logger": row["logger"],
        "level": row["level"],
        "status": row["status"],
        "statusDetails": status_details(view, row),
        "substatus": row["substatus"],
        "isPublic": False,
        "platform": row["platform"],
        "project": project_brief(project),
        "type": row["type"],
        "metadata": metadata,
        "numComments": row["num_comments"],
        "assignedTo": actor_json(view, row["assignee"]),
        "isBookmarked": flags[0],
        "isSubscribed": False,
        "subscriptionDetails": None,
        "hasSeen": flags[1],
        "annotations": [],
        "issueType": "error",
        "issueCategory": "error",
        "priority": row["priority"],
        "priorityLockedAt": None,
        "seerFixabilityScore": None,
        "seerAutofixLastTriggered": None,
        "isUnhandled": bool(row["is_unhandled"]),
        "count": str(row["times_seen"]),
        "userCount": row["user_count"],
        "firstSeen": iso(row["first_seen"]),
        "lastSeen": iso(row["last_seen"]),
    }


def issue_details_json(view: View, row: sqlite3.Row) -> dict[str, Any]:
    """Issue details: the stream shape plus activity, tags, releases and 24h/30d stats."""
    out = issue_json(view, row)
    stats24 = stats_for(view, [row["id"]], "24h")[row["id"]]
    stats30 = stats_for(view, [row["id"]], "30d")[row["id"]]
    out["stats"] = {"24h": stats24, "30d": stats30}
    out["activity"] = activities_json(view, row)
    out["seenBy"] = []
    out["participants"] = []
    out["pluginActions"] = []
    out["pluginIssues"] = []
    out["pluginContexts"] = []
    out["userReportCount"] = 0
    out["sentryAppIssues"] = []
    out["tags"] = tag_keys_json(view, row["id"])
    out["firstRelease"] = _release_brief(view, row["first_release"])
    out["lastRelease"] = _release_brief(view, row["last_release"])
    return out


def _release_brief(view: View, version: str | None) -> dict[str, Any] | None:
    if not version:
        return None
    row = view.db.execute("SELECT * FROM releases WHERE version = ?", (version,)).fetchone()
    return release_json(view, row) if row else None


def activity_json(view: View, row: sqlite3.Row) -> dict[str, Any]:
    user = view.row("users", row["user_id"]) if row["user_id"] else None
    return {
        "id": str(row["id"]),
        "user": user_json(user) if user else None,
        "sentry_app": None,
        "type": row["type"],
        "data": json.loads(row["data"]),
        "dateCreated": iso(row["date_created"]),
    }


def activities_json(view: View, issue: sqlite3.Row, *, limit: int = 100) -> list[dict[str, Any]]:
    """Newest first, ending with the synthetic ``first_seen`` entry Sentry adds."""
    rows = view.db.execute(
        "SELECT * FROM activities WHERE issue_id = ? ORDER BY date_created DESC, id DESC LIMIT ?",
        (issue["id"], limit),
    )
    items = [activity_json(view, r) for r in rows]
    items.append(
        {
            "id": "0",
            "user": None,
            "sentry_app": None,
            "type": "first_seen",
            "data": {"priority": issue["priority"]},
            "dateCreated": iso(issue["first_seen"]),
        }
    )
    return items


def tag_keys_json(view: View, issue_id: int, *, top: int = 9) -> list[dict[str, Any]]:
    keys = view.db.execute(
        "SELECT key, COUNT(*) AS uniq, SUM(times_seen) AS total FROM issue_tags "
        "WHERE issue_id = ? GROUP BY key ORDER BY key",
        (issue_id,),
    ).fetchall()
    return [tag_key_json(view, issue_id, k["key"], k["uniq"], k["total"], top=top) for k in keys]


def tag_key_json(
    view: View, issue_id: int, key: str, unique: int, total: int, *, top: int = 9
) -> dict[str, Any]:
    values = view.db.execute(
        "SELECT * FROM issue_tags WHERE issue_id = ? AND key = ? "
        "ORDER BY times_seen DESC, last_seen DESC, value LIMIT ?",
        (issue_id, key, top),
    )
    return {
        "key": key,
        "name": TAG_LABELS.get(key, key),
        "uniqueValues": unique,
        "totalValues": total,
        "topValues": [tag_value_json(v) for v in values],
    }


def tag_value_json(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "key": row["key"],
        "name": row["value"],
        "value": row["value"],
        "count": row["times_seen"],
        "lastSeen": iso(row["last_seen"]),
        "firstSeen": iso(row["first_seen"]),
    }


# -- events ------------------------------------------------------------------------------------


def _web_frame(frame: dict[str, Any]) -> dict[str, Any]:
    context: list[list[Any]] = []
    lineno = frame.get("lineno")
    if isinstance(lineno, int) and "context_line" in frame:
        pre = frame.get("pre_context", [])
        post = frame.get("post_context", [])
        context += [[lineno - len(pre) + i, line] for i, line in enumerate(pre)]
        context.append([lineno, frame["context_line"]])
        context += [[lineno + 1 + i, line] for i, line in enumerate(post)]
    return {
        "filename": frame.get("filename"),
        "absPath": frame.get("abs_path"),
        "module": frame.get("module"),
        "package": frame.get("package"),
        "platform": frame.get("platform"),
        "instructionAddr": None,
        "symbolAddr": None,
        "function": frame.get("function"),
        "rawFunction": None,
        "symbol": None,
        "context": context,
        "lineNo": lineno,
        "colNo": frame.get("colno"),
        "inApp": bool(frame.get("in_app", False)),
        "trust": None,
        "errors": None,
        "lock": None,
        "sourceLink": None,
        "vars": frame.get("vars"),
    }


def _entries(data: dict[str, Any]) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    if data.get("exception"):
        values = []
        has_system = False
        for exc in data["exception"]["values"]:
            stack = exc.get("stacktrace")
            frames = [_web_frame(f) for f in (stack or {}).get("frames", [])]
            has_system = has_system or any(not f["inApp"] for f in frames)
            values.append(
                {
                    "type": exc.get("type"),
                    "value": exc.get("value"),
                    "module": exc.get("module"),
                    "mechanism": exc.get("mechanism"),
                    "threadId": None,
                    "rawStacktrace": None,
                    "stacktrace": {
                        "frames": frames,
                        "framesOmitted": None,
                        "registers": None,
                        "hasSystemFrames": any(not f["inApp"] for f in frames),
                    }
                    if frames
                    else None,
                }
            )
        entries.append(
            {
                "type": "exception",
                "data": {"values": values, "hasSystemFrames": has_system, "excOmitted": None},
            }
        )
    if data.get("logentry"):
        entry = data["logentry"]
        entries.append(
            {
                "type": "message",
                "data": {
                    "formatted": entry.get("formatted"),
                    "message": entry.get("message"),
                    "params": entry.get("params"),
                },
            }
        )
    if data.get("breadcrumbs"):
        entries.append(
            {
                "type": "breadcrumbs",
                "data": {"values": [{**c, "event_id": None} for c in data["breadcrumbs"]]},
            }
        )
    if data.get("request"):
        req = data["request"]
        entries.append(
            {
                "type": "request",
                "data": {
                    "method": req.get("method"),
                    "url": req.get("url"),
                    "query": req.get("query", []),
                    "fragment": None,
                    "data": req.get("data"),
                    "headers": req.get("headers", []),
                    "cookies": req.get("cookies", []),
                    "env": req.get("env"),
                    "inferredContentType": None,
                    "apiTarget": None,
                },
            }
        )
    return entries


def event_user(data: dict[str, Any]) -> dict[str, Any] | None:
    user = data.get("user")
    if not user:
        return None
    return {
        "id": user.get("id"),
        "email": user.get("email"),
        "username": user.get("username"),
        "ip_address": user.get("ip_address"),
        "name": user.get("name"),
        "geo": user.get("geo"),
        "data": user.get("data"),
    }


def event_brief_json(row: sqlite3.Row, data: dict[str, Any]) -> dict[str, Any]:
    """An item of ``…/issues/{id}/events/`` without ``full=true``."""
    return {
        "id": row["event_id"],
        "eventID": row["event_id"],
        "groupID": str(row["issue_id"]),
        "projectID": str(row["project_id"]),
        "title": data["title"],
        "message": data.get("message") or "",
        "platform": data.get("platform"),
        "event.type": data.get("type", "error"),
        "dateCreated": iso(data["timestamp"]),
        "location": data.get("location"),
        "culprit": data.get("culprit"),
        "user": event_user(data),
        "tags": [{"key": k, "value": v} for k, v in data.get("tags", [])],
        "crashFile": None,
    }


def event_json(
    view: View,
    row: sqlite3.Row,
    data: dict[str, Any],
    *,
    neighbours: tuple[str | None, str | None] = (None, None),
) -> dict[str, Any]:
    """The full web-API event (``…/events/{id}/``)."""
    release = None
    if data.get("release"):
        rel = view.db.execute(
            "SELECT * FROM releases WHERE version = ?", (data["release"],)
        ).fetchone()
        release = release_json(view, rel) if rel else None
    return {
        "id": row["event_id"],
        "eventID": row["event_id"],
        "groupID": str(row["issue_id"]),
        "projectID": str(row["project_id"]),
        "size": row["size"],
        "type": data.get("type", "error"),
        "title": data["title"],
        "message": data.get("message") or "",
        "culprit": data.get("culprit"),
        "location": data.get("location"),
        "platform": data.get("platform"),
        "dateCreated": iso(data["timestamp"]),
        "dateReceived": iso(data.get("received", data["timestamp"])),
        "user": event_user(data),
        "tags": [{"key": k, "value": v} for k, v in data.get("tags", [])],
        "contexts": data.get("contexts") or {},
        "context": data.get("extra") or {},
        "sdk": data.get("sdk"),
        "entries": _entries(data),
        "errors": [],
        "fingerprints": [group_hash(data.get("fingerprint", []))],
        "metadata": data.get("metadata", {}),
        "packages": data.get("modules") or {},
        "release": release,
        "dist": data.get("dist"),
        "environment": data.get("environment"),
        "crashFile": None,
        "occurrence": None,
        "resolvedWith": [],
        "userReport": None,
        "sdkUpdates": [],
        "groupingConfig": {"id": "newstyle:2023-01-11", "enhancements": ""},
        "previousEventID": neighbours[0],
        "nextEventID": neighbours[1],
        "_meta": {},
    }
