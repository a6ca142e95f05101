"""Sentry fixture documents: the typed format and how one is applied to the state.

A document (YAML or JSON; every key optional, later documents add to earlier ones)::

    organization: {id: 1, slug: acme, name: Acme Commerce Inc., created: 2021-05-03T16:00:00Z}
    company: ../company.yaml          # teams and every employee as a member (ids in roster order)
    users:                            # more members: {key, name, email, role, teams}
      - {key: agent, name: Acme Agent, email: agent@acme.dev, teams: [platform]}
    teams: [{slug: sre, name: SRE}]   # beyond the company's teams
    projects:
      - id: 2                         # DSNs carry this id: http://<public>@host:port/2
        slug: acme-api
        platform: python
        team: storefront
        created: 2021-05-10T09:00:00Z
        keys: [{public: <32 hex>, secret: <32 hex>}]
    tokens:                           # Bearer tokens for the web API, acting as a member
      - {token: sntryu_<64 hex>, user: agent}
    releases:
      - version: 9ab576e
        projects: [acme-api]
        created: 2026-09-01T15:10:00Z
        commit: {message: "api: cursor pagination", author: emily.zhang}
        deploys: [{environment: production, finished: 2026-09-01T15:28:00Z}]
    issues:
      - key: payments-queuepool       # stable name; later documents may update the same issue
        project: acme-payments
        event: {exception: {values: [...]}, tags: {...}, request: {...}}   # an SDK payload
        first_seen: 2026-10-14T04:45:10Z
        last_seen: 2026-10-14T05:31:40Z
        times_seen: 1893              # the issue's count (>= stored samples)
        users: 1204                   # its userCount
        samples: 5                    # events stored, spread first_seen..last_seen
        releases: [2382476]           # the samples' releases, in order
        status: resolved              # unresolved | resolved | resolvedInNextRelease | ignored
        resolved_at: 2026-10-14T05:46:00Z
        resolved_by: kenji.watanabe
        assigned_to: nikolai.petrov   # or team:payments
        notes: [{user: kenji.watanabe, at: 2026-10-14T05:47:00Z, text: "..."}]

Issues are built by ingesting their sample events through the same normalization and grouping
as live traffic, so an SDK reporting the same exception from the same frame later joins (and
regresses) the fixture issue. Event ids derive from the seed and the issue key.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from environments.tools.common import FixtureError, stable_uuid, to_epoch
from environments.tools.common.fixtures import (
    FixtureModel,
    load_company_ref,
    suggest,
    validate_document,
)
from environments.tools.common.params import clean_json
from environments.tools.sentry.ingest import add_activity, ensure_release, store_event
from environments.tools.sentry.normalize import dumps, normalize

SLUG = r"^[a-z0-9][a-z0-9_-]{0,49}$"
HEX32 = r"^[0-9a-f]{32}$"
DEFAULT_SCOPES = [
    "org:read",
    "project:read",
    "project:write",
    "project:releases",
    "team:read",
    "member:read",
    "event:read",
    "event:write",
    "event:admin",
]


def _number_as_text(value: Any) -> Any:
    """YAML reads an all-digit git sha (``9736705``) as a number; a version is text."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


Version = Annotated[str, BeforeValidator(_number_as_text)]


class OrgFx(FixtureModel):
    id: int = Field(default=1, ge=1)
    slug: str = Field(pattern=SLUG)
    name: str = Field(min_length=1)
    created: Any = "2021-05-03T16:00:00Z"


class UserFx(FixtureModel):
    key: str = Field(min_length=1, max_length=100)
    name: str = Field(min_length=1)
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    role: Literal["owner", "manager", "admin", "member"] = "member"
    teams: list[str] = Field(default_factory=list)
    joined: Any = None


class TeamFx(FixtureModel):
    slug: str = Field(pattern=SLUG)
    name: str = Field(min_length=1)
    created: Any = None


class KeyFx(FixtureModel):
    public: str = Field(pattern=HEX32)
    secret: str = Field(pattern=HEX32)
    label: str = "Default"
    active: bool = True


class ProjectFx(FixtureModel):
    id: int = Field(ge=1, le=2**31)
    slug: str = Field(pattern=SLUG)
    name: str | None = None
    platform: str | None = "python"
    team: str | None = None
    created: Any = None
    keys: list[KeyFx] = Field(default_factory=list)


class TokenFx(FixtureModel):
    token: str = Field(pattern=r"^[A-Za-z0-9_\-.=+/]{16,300}$")
    user: str
    scopes: list[str] = Field(default_factory=lambda: list(DEFAULT_SCOPES))


class CommitFx(FixtureModel):
    id: str | None = None
    message: str
    author: str | None = None
    at: Any = None


class DeployFx(FixtureModel):
    environment: str = "production"
    started: Any = None
    finished: Any
    name: str | None = None
    url: str | None = None


class ReleaseFx(FixtureModel):
    version: Version = Field(min_length=1, max_length=200, pattern=r"^[^\s/\\]+$")
    projects: list[str] = Field(default_factory=list)
    created: Any
    released: Any = None
    commit: CommitFx | None = None
    deploys: list[DeployFx] = Field(default_factory=list)


class NoteFx(FixtureModel):
    user: str
    at: Any
    text: str = Field(min_length=1)


class ActivityFx(FixtureModel):
    type: str = Field(pattern=r"^[a-z_]{1,40}$")
    user: str | None = None
    at: Any
    data: dict[str, Any] = Field(default_factory=dict)


class IssueFx(FixtureModel):
    key: str = Field(min_length=1, max_length=100)
    project: str
    event: dict[str, Any]
    first_seen: Any
    last_seen: Any = None
    times_seen: int | None = Field(default=None, ge=1)
    users: int | None = Field(default=None, ge=0)
    samples: int = Field(default=3, ge=1, le=50)
    releases: list[Version] = Field(default_factory=list)
    environment: str = "production"
    status: Literal["unresolved", "resolved", "resolvedInNextRelease", "ignored"] = "unresolved"
    substatus: str | None = None
    status_details: dict[str, Any] = Field(default_factory=dict)
    resolved_at: Any = None
    resolved_by: str | None = None
    assigned_to: str | None = None
    assigned_at: Any = None
    assigned_by: str | None = None
    priority: Literal["high", "medium", "low"] | None = None
    bookmarked_by: list[str] = Field(default_factory=list)
    seen_by: list[str] = Field(default_factory=list)
    notes: list[NoteFx] = Field(default_factory=list)
    activity: list[ActivityFx] = Field(default_factory=list)


class SentryFixtures(FixtureModel):
    anchors: Any = None  # a home for YAML anchors (&name) the document reuses; not applied
    organization: OrgFx | None = None
    company: str | None = None
    users: list[UserFx] = Field(default_factory=list)
    teams: list[TeamFx] = Field(default_factory=list)
    projects: list[ProjectFx] = Field(default_factory=list)
    tokens: list[TokenFx] = Field(default_factory=list)
    releases: list[ReleaseFx] = Field(default_factory=list)
    issues: list[IssueFx] = Field(default_factory=list)


def _time(value: Any, what: str, default: float | None = None) -> float:
    if value is None:
        if default is None:
            raise FixtureError(f"{what}: a time is required")
        return default
    return to_epoch(value, what=what)


class FixtureApplier:
    """Applies one validated document to the database, resolving names to ids."""

    def __init__(self, db: sqlite3.Connection, seed: int, origin: Path | None):
        self.db = db
        self.seed = seed
        self.origin = origin
        self.counts: dict[str, int] = {}

    def _count(self, what: str, n: int = 1) -> None:
        self.counts[what] = self.counts.get(what, 0) + n

    # -- references ------------------------------------------------------------------------

    def org_created(self) -> float:
        row = self.db.execute("SELECT date_created FROM org").fetchone()
        if row is None:
            raise FixtureError("organization: define the organization before anything else")
        return row[0]

    def user(self, ref: str, where: str) -> sqlite3.Row:
        row = self.db.execute(
            "SELECT * FROM users WHERE key = ? OR email = ?", (ref, ref)
        ).fetchone()
        if row is None:
            known = [r[0] for r in self.db.execute("SELECT key FROM users ORDER BY key")]
            raise FixtureError(f"{where}: unknown user {ref!r}{suggest(ref, known)}")
        return row

    def team(self, slug: str, where: str) -> sqlite3.Row:
        row = self.db.execute("SELECT * FROM teams WHERE slug = ?", (slug,)).fetchone()
        if row is None:
            known = [r[0] for r in self.db.execute("SELECT slug FROM teams ORDER BY slug")]
            raise FixtureError(f"{where}: unknown team {slug!r}{suggest(slug, known)}")
        return row

    def project(self, slug: str, where: str) -> sqlite3.Row:
        row = self.db.execute("SELECT * FROM projects WHERE slug = ?", (slug,)).fetchone()
        if row is None:
            known = [r[0] for r in self.db.execute("SELECT slug FROM projects ORDER BY slug")]
            raise FixtureError(f"{where}: unknown project {slug!r}{suggest(slug, known)}")
        return row

    def assignee(self, ref: str, where: str) -> str:
        if ref.startswith(("team:", "#")):
            return f"team:{self.team(ref.removeprefix('team:').removeprefix('#'), where)['id']}"
        return f"user:{self.user(ref.removeprefix('user:'), where)['id']}"

    # -- sections --------------------------------------------------------------------------

    def apply(self, doc: SentryFixtures) -> dict[str, int]:
        if doc.organization:
            self.organization(doc.organization)
        if doc.company:
            self.company(doc.company)
        for team in doc.teams:
            self.upsert_team(team.slug, team.name, team.created)
        for user in doc.users:
            self.upsert_user(user)
        for project in doc.projects:
            self.project_fx(project)
        for token in doc.tokens:
            self.token(token)
        for release in doc.releases:
            self.release(release)
        for index, issue in enumerate(doc.issues):
            self.issue(issue, f"issues[{index}] ({issue.key})")
        return dict(sorted(self.counts.items()))

    def organization(self, org: OrgFx) -> None:
        current = self.db.execute("SELECT * FROM org").fetchone()
        if current is not None and current["slug"] != org.slug:
            raise FixtureError(
                f"organization: this state already holds organization {current['slug']!r}; "
                "one organization per run"
            )
        self.db.execute(
            "INSERT INTO org(id, slug, name, date_created) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(slug) DO UPDATE SET name = excluded.name",
            (org.id, org.slug, org.name, _time(org.created, "organization.created")),
        )
        self._count("organization")

    def company(self, ref: str) -> None:
        company = load_company_ref(ref, self.origin)
        joined = self.org_created()
        for team in company.teams:
            self.upsert_team(team.id, team.name, None)
        for emp in company.employees:
            role = {"executive": "owner", "manager": "manager"}.get(emp.role, "member")
            self.upsert_user(
                UserFx(key=emp.id, name=emp.name, email=emp.email, role=role, teams=[emp.team]),
                default_joined=joined,
            )

    def upsert_team(self, slug: str, name: str, created: Any) -> None:
        when = _time(created, f"teams.{slug}.created", self.org_created())
        self.db.execute(
            "INSERT INTO teams(slug, name, date_created) VALUES (?, ?, ?) "
            "ON CONFLICT(slug) DO UPDATE SET name = excluded.name",
            (slug, name, when),
        )
        self._count("teams")

    def upsert_user(self, user: UserFx, *, default_joined: float | None = None) -> None:
        for slug in user.teams:
            self.team(slug, f"users.{user.key}.teams")
        joined = _time(
            user.joined, f"users.{user.key}.joined", default_joined or self.org_created()
        )
        clash = self.db.execute(
            "SELECT key FROM users WHERE email = ? AND key != ?", (user.email, user.key)
        ).fetchone()
        if clash:
            raise FixtureError(f"users.{user.key}: email {user.email!r} belongs to {clash[0]!r}")
        self.db.execute(
            "INSERT INTO users(key, name, email, role, teams, date_joined) VALUES (?,?,?,?,?,?) "
            "ON CONFLICT(key) DO UPDATE SET name = excluded.name, email = excluded.email, "
            "role = excluded.role, teams = excluded.teams",
            (user.key, user.name, user.email, user.role, json.dumps(user.teams), joined),
        )
        self._count("users")

    def project_fx(self, project: ProjectFx) -> None:
        where = f"projects.{project.slug}"
        team_id = self.team(project.team, f"{where}.team")["id"] if project.team else None
        clash = self.db.execute(
            "SELECT slug FROM projects WHERE id = ? AND slug != ?", (project.id, project.slug)
        ).fetchone()
        if clash:
            raise FixtureError(f"{where}: id {project.id} is already project {clash[0]!r}")
        when = _time(project.created, f"{where}.created", self.org_created())
        self.db.execute(
            "INSERT INTO projects(id, slug, name, platform, team_id, date_created) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(slug) DO UPDATE SET name = excluded.name, "
            "platform = excluded.platform, team_id = excluded.team_id",
            (
                project.id,
                project.slug,
                project.name or project.slug,
                project.platform,
                team_id,
                when,
            ),
        )
        project_id = self.db.execute(
            "SELECT id FROM projects WHERE slug = ?", (project.slug,)
        ).fetchone()[0]
        for key in project.keys:
            owner = self.db.execute(
                "SELECT project_id FROM keys WHERE public_key = ?", (key.public,)
            ).fetchone()
            if owner is not None and owner[0] != project_id:
                raise FixtureError(f"{where}.keys: {key.public} already belongs to another project")
            self.db.execute(
                "INSERT INTO keys(public_key, secret_key, project_id, label, is_active, date_created) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(public_key) DO UPDATE SET "
                "secret_key = excluded.secret_key, label = excluded.label, is_active = excluded.is_active",
                (key.public, key.secret, project_id, key.label, int(key.active), when),
            )
            self._count("keys")
        self._count("projects")

    def token(self, token: TokenFx) -> None:
        user = self.user(token.user, f"tokens[{token.token[:10]}…]")
        self.db.execute(
            "INSERT INTO tokens(token, user_id, scopes, date_created) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(token) DO UPDATE SET user_id = excluded.user_id, scopes = excluded.scopes",
            (token.token, user["id"], json.dumps(token.scopes), self.org_created()),
        )
        self._count("tokens")

    def release(self, release: ReleaseFx) -> None:
        where = f"releases.{release.version}"
        created = _time(release.created, f"{where}.created")
        released = _time(release.released, f"{where}.released", created)
        commit = release.commit
        if commit and commit.author:
            self.user(commit.author, f"{where}.commit.author")
        self.db.execute(
            "INSERT INTO releases(version, date_created, date_released, commit_id, commit_message, "
            "commit_author, commit_date) VALUES (?,?,?,?,?,?,?) ON CONFLICT(version) DO UPDATE SET "
            "date_created = excluded.date_created, date_released = excluded.date_released, "
            "commit_id = excluded.commit_id, commit_message = excluded.commit_message, "
            "commit_author = excluded.commit_author, commit_date = excluded.commit_date",
            (
                release.version,
                created,
                released,
                (commit.id or _commit_sha(release.version)) if commit else None,
                commit.message if commit else None,
                commit.author if commit else None,
                _time(commit.at, f"{where}.commit.at", created) if commit else None,
            ),
        )
        release_id = self.db.execute(
            "SELECT id FROM releases WHERE version = ?", (release.version,)
        ).fetchone()[0]
        for slug in release.projects:
            project = self.project(slug, f"{where}.projects")
            self.db.execute(
                "INSERT OR IGNORE INTO release_projects(release_id, project_id) VALUES (?, ?)",
                (release_id, project["id"]),
            )
        for index, deploy in enumerate(release.deploys):
            finished = _time(deploy.finished, f"{where}.deploys[{index}].finished")
            self.db.execute(
                "INSERT INTO deploys(release_id, environment, name, url, date_started, date_finished) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    release_id,
                    deploy.environment,
                    deploy.name,
                    deploy.url,
                    _time(deploy.started, f"{where}.deploys[{index}].started", finished),
                    finished,
                ),
            )
            self._count("deploys")
        self._count("releases")

    # -- issues ----------------------------------------------------------------------------

    def issue(self, fx: IssueFx, where: str) -> None:
        project = self.project(fx.project, f"{where}.project")
        first = _time(fx.first_seen, f"{where}.first_seen")
        last = _time(fx.last_seen, f"{where}.last_seen", first)
        if last < first:
            raise FixtureError(f"{where}: last_seen is before first_seen")
        existing = self.db.execute(
            "SELECT id FROM issues WHERE fixture_key = ?", (fx.key,)
        ).fetchone()
        if existing is None:
            issue_id = self._ingest_samples(fx, project, first, last, where)
        else:
            issue_id = existing[0]
        self._issue_state(issue_id, fx, first, where)
        self._count("issues")

    def _ingest_samples(
        self, fx: IssueFx, project: sqlite3.Row, first: float, last: float, where: str
    ) -> int:
        template = clean_json(fx.event)
        issue_id: int | None = None
        n = fx.samples
        for i in range(n):
            at = first if n == 1 else first + (last - first) * i / (n - 1)
            if n == 1:
                at = last
            payload = dict(template)
            payload["timestamp"] = at
            payload.setdefault("environment", fx.environment)
            payload.setdefault("platform", project["platform"] or "python")
            if fx.releases:
                payload["release"] = fx.releases[
                    min(len(fx.releases) - 1, i * len(fx.releases) // n)
                ]
            if "user" not in template:
                payload["user"] = {"id": f"cust_{stable_uuid(self.seed, fx.key, 'user', i)[:8]}"}
            payload["event_id"] = stable_uuid(self.seed, "sentry-event", fx.key, i).replace("-", "")
            ev = normalize(
                payload,
                received=at,
                clamp_future=False,
                platform_default=project["platform"] or "other",
            )
            stored = store_event(
                self.db,
                ev,
                project,
                received=at,
                size=len(dumps(payload)),
                fixture_key=fx.key if issue_id is None else None,
            )
            if issue_id is None:
                if not stored.created:
                    other = self.db.execute(
                        "SELECT fixture_key FROM issues WHERE id = ?", (stored.issue_id,)
                    ).fetchone()[0]
                    raise FixtureError(
                        f"{where}: its event groups into issue {other!r} (same exception type "
                        "and top in-app frame, or message); change the event or add a fingerprint"
                    )
                issue_id = stored.issue_id
            elif stored.issue_id != issue_id:
                raise FixtureError(f"{where}: its sample events group into different issues")
        assert issue_id is not None
        count = max(fx.times_seen or n, n)
        sets, args = ["times_seen = ?"], [count]
        if fx.users is not None:
            sets.append("user_count = ?")
            args.append(fx.users)
        self.db.execute(f"UPDATE issues SET {', '.join(sets)} WHERE id = ?", (*args, issue_id))
        self._count("events", n)
        return issue_id

    def _issue_state(self, issue_id: int, fx: IssueFx, first: float, where: str) -> None:
        issue = self.db.execute("SELECT * FROM issues WHERE id = ?", (issue_id,)).fetchone()
        sets: list[str] = []
        args: list[Any] = []
        if fx.priority:
            sets.append("priority = ?")
            args.append(fx.priority)
        status = "resolved" if fx.status == "resolvedInNextRelease" else fx.status
        details = dict(fx.status_details)
        if fx.status == "resolvedInNextRelease":
            details.setdefault("inNextRelease", True)
        substatus = fx.substatus or {"unresolved": "ongoing", "ignored": "archived_forever"}.get(
            status
        )
        actor = self.user(fx.resolved_by, f"{where}.resolved_by") if fx.resolved_by else None
        sets += ["status = ?", "substatus = ?", "status_details = ?", "status_actor = ?"]
        args += [
            status,
            substatus if status != "resolved" else None,
            dumps(details),
            actor["id"] if actor else None,
        ]
        if status == "resolved":
            when = _time(fx.resolved_at, f"{where}.resolved_at", issue["last_seen"])
            sets += ["resolved_at = ?", "resolved_release = ?"]
            args += [when, details.get("inRelease") or issue["last_release"]]
            kind = (
                "set_resolved_in_release"
                if ("inNextRelease" in details or "inRelease" in details)
                else "set_resolved"
            )
            data = {"version": details.get("inRelease", "")} if kind != "set_resolved" else {}
            self._activity_once(issue_id, kind, actor, data, when)
        elif status == "ignored":
            when = _time(fx.resolved_at, f"{where}.resolved_at", issue["last_seen"])
            self._activity_once(issue_id, "set_ignored", actor, details, when)
        if fx.assigned_to:
            assignee = self.assignee(fx.assigned_to, f"{where}.assigned_to")
            sets.append("assignee = ?")
            args.append(assignee)
            by = self.user(fx.assigned_by, f"{where}.assigned_by") if fx.assigned_by else None
            when = _time(fx.assigned_at, f"{where}.assigned_at", first + 600)
            kind, _, raw = assignee.partition(":")
            target = self.db.execute(
                f"SELECT * FROM {'users' if kind == 'user' else 'teams'} WHERE id = ?", (int(raw),)
            ).fetchone()
            data = {"assignee": raw, "assigneeType": kind}
            if kind == "user":
                data["assigneeEmail"] = target["email"]
            else:
                data["assigneeName"] = target["slug"]
            self._activity_once(issue_id, "assigned", by, data, when)
        self.db.execute(f"UPDATE issues SET {', '.join(sets)} WHERE id = ?", (*args, issue_id))
        for index, note in enumerate(fx.notes):
            author = self.user(note.user, f"{where}.notes[{index}].user")
            when = _time(note.at, f"{where}.notes[{index}].at")
            if self._activity_once(issue_id, "note", author, {"text": note.text}, when):
                self.db.execute(
                    "UPDATE issues SET num_comments = num_comments + 1 WHERE id = ?", (issue_id,)
                )
        for index, act in enumerate(fx.activity):
            who = self.user(act.user, f"{where}.activity[{index}].user") if act.user else None
            when = _time(act.at, f"{where}.activity[{index}].at")
            self._activity_once(issue_id, act.type, who, clean_json(act.data), when)
        for column, refs in (("bookmarked", fx.bookmarked_by), ("seen", fx.seen_by)):
            for ref in refs:
                user = self.user(ref, f"{where}.{column}_by")
                self.db.execute(
                    f"INSERT INTO issue_user_state(issue_id, user_id, {column}) VALUES (?, ?, 1) "
                    f"ON CONFLICT(issue_id, user_id) DO UPDATE SET {column} = 1",
                    (issue_id, user["id"]),
                )

    def _activity_once(
        self, issue_id: int, kind: str, user: sqlite3.Row | None, data: dict, when: float
    ) -> bool:
        """Add an activity unless the same one exists (documents may be applied twice)."""
        payload = dumps(data)
        same = self.db.execute(
            "SELECT 1 FROM activities WHERE issue_id = ? AND type = ? AND data = ? "
            "AND date_created = ?",
            (issue_id, kind, payload, when),
        ).fetchone()
        if same:
            return False
        add_activity(self.db, issue_id, kind, user["id"] if user else None, data, when)
        return True


def _commit_sha(version: str) -> str:
    """A full-length commit id for a short sha-like version (stable padding)."""
    if all(c in "0123456789abcdef" for c in version) and len(version) <= 40:
        return (version + stable_uuid(0, "commit", version).replace("-", ""))[:40]
    return version


def apply_document(
    db: sqlite3.Connection, doc: Mapping[str, Any], *, seed: int, origin: Path | None
) -> dict[str, int]:
    parsed = validate_document(SentryFixtures, doc, origin)
    return FixtureApplier(db, seed, origin).apply(parsed)


__all__ = ["SentryFixtures", "apply_document", "ensure_release"]
