"""Linear fixture documents: the typed format and how one is applied to the state.

A document (YAML or JSON; every key optional; later documents add to or update earlier ones)::

    organization: {name: Acme Commerce Inc., url_key: acme, created: 2021-05-10T16:00:00Z}
    company: ../company.yaml          # every employee becomes a user (key = employee id)
    bots:                             # app users; tokens and fields refer to them as bot:<key>
      - {key: agent, name: Acme Agent, display_name: acme-agent, email: agent@acme.dev}
    tokens:                           # lin_api_… = personal API key, lin_oauth_… = OAuth token
      - {token: lin_api_…, user: bot:agent}
    labels:                           # workspace labels (every team can use them)
      - {name: bug, color: "#EB5757", description: Something is broken}
    teams:
      - key: ENG
        name: Engineering
        created: 2021-05-10T16:00:00Z
        members: [team:storefront, daniel.okafor, bot:agent]   # "*", team:<id>, user keys
        states: default               # or a list of {name, type, color, description}
        default_state: Backlog        # where issueCreate puts issues without a stateId
        triage: true
        labels: [{name: flaky-test, color: "#F2C94C"}]          # team labels
        cycles: {first: 38, starts: 2026-08-31T00:00:00Z, weeks: 2, count: 8}
    projects:
      - {key: checkout-v2, name: Checkout v2, teams: [ENG, PAY], lead: jordan.reyes,
         state: started, start_date: 2026-09-01, target_date: 2026-11-24, created: …}
    issues:
      ENG:                            # team key -> issues, oldest first
        - number: 1                   # optional: the team's next number (a new issue)
          title: Cursor pagination for GET /v1/orders
          description: |              # markdown
            ...
          state: Done                 # a state name of the team
          priority: high              # 0-4 or none/urgent/high/medium/low
          assignee: emily.zhang
          creator: jordan.reyes       # default: the assignee, else the team's first member
          labels: [api, performance]  # team labels first, then workspace labels
          project: api-v2             # project key
          cycle: 41                   # cycle number of the team
          parent: 3                   # number (same team) or identifier ENG-3
          estimate: 3
          due: 2026-11-24
          created: 2026-08-03T15:20:00Z
          started: …                  # defaults: created (started/completed states)
          completed: …                # default: updated, else created + 2d
          updated: …                  # default: the latest time above or of a comment
          comments:
            - {user: omar.haddad, body: "...", at: +3h}   # "+…" after the previous one

Ids are UUIDs derived from the seed and a stable key (``team:ENG``, ``issue:ENG-12``…), so the
same documents and seed always give the same state. An entry with the ``number`` of an issue
that exists updates it with the fields the entry sets (its comments are appended); an entry
without a number is always a new issue.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from environments.tools.common import FixtureError, resolve_time, stable_uuid, to_epoch
from environments.tools.common.fixtures import (
    FixtureModel,
    errors_name_source,
    fixture_source,
    load_company_ref,
    suggest,
    validate_document,
)
from environments.tools.linear.model import (
    AVATAR_COLORS,
    PROJECT_STATES,
    iso,
    parse_date,
    split_identifier,
)

TOKEN = r"^lin_(api|oauth)_[A-Za-z0-9]{16,128}$"
PRIORITY_NAMES = {"none": 0, "no priority": 0, "urgent": 1, "high": 2, "medium": 3, "low": 4}
DEFAULT_STATES: list[dict[str, str]] = [
    {"name": "Triage", "type": "triage", "color": "#FC7840"},
    {"name": "Backlog", "type": "backlog", "color": "#BEC2C8"},
    {"name": "Todo", "type": "unstarted", "color": "#E2E2E2"},
    {"name": "In Progress", "type": "started", "color": "#F2C94C"},
    {"name": "In Review", "type": "started", "color": "#0F783C"},
    {"name": "Done", "type": "completed", "color": "#5E6AD2"},
    {"name": "Canceled", "type": "canceled", "color": "#95A2B3"},
    {"name": "Duplicate", "type": "duplicate", "color": "#95A2B3"},
]
DAY = 86400.0


class OrganizationFx(FixtureModel):
    name: str = Field(min_length=1)
    url_key: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,47}$")
    created: Any = None


class UserFx(FixtureModel):
    key: str = Field(min_length=1, max_length=100)
    name: str = Field(min_length=1)
    display_name: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,79}$")
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    title: str | None = None
    description: str | None = None
    timezone: str | None = None
    admin: bool = False
    owner: bool = False
    guest: bool = False
    active: bool = True
    created: Any = None


class TokenFx(FixtureModel):
    token: str = Field(pattern=TOKEN)
    user: str


class LabelFx(FixtureModel):
    name: str = Field(min_length=1, max_length=80)
    color: str = Field(default="#95A2B3", pattern=r"^#[0-9A-Fa-f]{6}$")
    description: str | None = None
    parent: str | None = None
    group: bool = False
    creator: str | None = None
    created: Any = None


class StateFx(FixtureModel):
    name: str = Field(min_length=1, max_length=80)
    type: Literal["triage", "backlog", "unstarted", "started", "completed", "canceled", "duplicate"]
    color: str = Field(default="#95A2B3", pattern=r"^#[0-9A-Fa-f]{6}$")
    description: str | None = None


class CycleRunFx(FixtureModel):
    first: int = Field(ge=1)
    starts: Any
    weeks: int = Field(default=2, ge=1, le=8)
    count: int = Field(ge=1, le=200)


class CycleFx(FixtureModel):
    number: int = Field(ge=1)
    starts: Any
    ends: Any
    name: str | None = None
    description: str | None = None


class TeamFx(FixtureModel):
    key: str = Field(pattern=r"^[A-Z][A-Z0-9]{0,6}$")
    name: str | None = None
    description: str | None = None
    icon: str | None = None
    color: str | None = Field(default=None, pattern=r"^#[0-9A-Fa-f]{6}$")
    private: bool | None = None
    timezone: str | None = None
    created: Any = None
    members: list[str] = Field(default_factory=list)
    states: Literal["default"] | list[StateFx] | None = None
    default_state: str | None = None
    triage: bool | None = None
    labels: list[LabelFx] = Field(default_factory=list)
    cycles: CycleRunFx | list[CycleFx] | None = None


class ProjectFx(FixtureModel):
    key: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,60}$")
    name: str = Field(min_length=1)
    description: str = ""
    content: str | None = None
    icon: str | None = None
    color: str = Field(default="#5E6AD2", pattern=r"^#[0-9A-Fa-f]{6}$")
    state: str = "planned"
    priority: int | str = 0
    teams: list[str] = Field(default_factory=list)
    lead: str | None = None
    creator: str | None = None
    members: list[str] = Field(default_factory=list)
    start_date: Any = None
    target_date: Any = None
    created: Any = None
    started: Any = None
    completed: Any = None
    canceled: Any = None
    archived: Any = None
    updated: Any = None


class CommentFx(FixtureModel):
    user: str
    body: str = Field(min_length=1)
    at: Any = None
    edited: Any = None
    replies: list[CommentFx] = Field(default_factory=list)


class IssueFx(FixtureModel):
    number: int | None = Field(default=None, ge=1, le=999_999)
    title: str | None = Field(default=None, min_length=1, max_length=512)
    description: str | None = None
    state: str | None = None
    priority: int | str | None = None
    assignee: str | None = None
    creator: str | None = None
    labels: list[str] | None = None
    project: str | None = None
    cycle: int | None = None
    parent: int | str | None = None
    estimate: float | None = None
    due: Any = None
    created: Any = None
    updated: Any = None
    started: Any = None
    completed: Any = None
    canceled: Any = None
    archived: Any = None
    comments: list[CommentFx] = Field(default_factory=list)


class LinearFixtures(FixtureModel):
    organization: OrganizationFx | None = None
    company: str | None = None
    bots: list[UserFx] = Field(default_factory=list)
    users: list[UserFx] = Field(default_factory=list)
    tokens: list[TokenFx] = Field(default_factory=list)
    labels: list[LabelFx] = Field(default_factory=list)
    teams: list[TeamFx] = Field(default_factory=list)
    projects: list[ProjectFx] = Field(default_factory=list)
    issues: dict[str, list[IssueFx]] = Field(default_factory=dict)


class FixtureApplier:
    """Applies one validated document, resolving names (keys, team keys, state names) to ids."""

    def __init__(self, db: sqlite3.Connection, seed: int, origin: Path | None):
        self.db = db
        self.seed = seed
        self.origin = origin
        self.counts: dict[str, int] = {}

    def _count(self, what: str, n: int = 1) -> None:
        self.counts[what] = self.counts.get(what, 0) + n

    def uid(self, *parts: object) -> str:
        return stable_uuid(self.seed, *parts)

    def time(self, value: Any, what: str, previous: float | None = None) -> float:
        return resolve_time(value, previous, what=what)

    def org_created(self) -> str:
        row = self.db.execute("SELECT created_at FROM organization").fetchone()
        if row is None:
            raise FixtureError("organization: give the organization before anything else")
        return row[0]

    # -- references --------------------------------------------------------------------------

    def user_id(self, ref: str, *, where: str) -> str:
        row = self.db.execute("SELECT id FROM users WHERE key = ?", (ref,)).fetchone()
        if row is None:
            known = [r[0] for r in self.db.execute("SELECT key FROM users ORDER BY key")]
            raise FixtureError(f"{where}: unknown user {ref!r}{suggest(ref, known)}")
        return row[0]

    def team(self, key: str, *, where: str) -> sqlite3.Row:
        row = self.db.execute("SELECT * FROM teams WHERE key = ?", (key,)).fetchone()
        if row is None:
            known = [r[0] for r in self.db.execute("SELECT key FROM teams ORDER BY key")]
            raise FixtureError(f"{where}: unknown team {key!r}{suggest(key, known)}")
        return row

    def state(self, team: sqlite3.Row, name: str, *, where: str) -> sqlite3.Row:
        row = self.db.execute(
            "SELECT * FROM states WHERE team_id = ? AND name = ?", (team["id"], name)
        ).fetchone()
        if row is None:
            known = [
                r[0]
                for r in self.db.execute(
                    "SELECT name FROM states WHERE team_id = ? ORDER BY position", (team["id"],)
                )
            ]
            raise FixtureError(
                f"{where}: team {team['key']} has no state {name!r}{suggest(name, known)}"
            )
        return row

    def label_id(self, team_id: str | None, name: str, *, where: str) -> str:
        row = None
        if team_id is not None:
            row = self.db.execute(
                "SELECT id FROM labels WHERE team_id = ? AND name = ?", (team_id, name)
            ).fetchone()
        if row is None:
            row = self.db.execute(
                "SELECT id FROM labels WHERE team_id IS NULL AND name = ?", (name,)
            ).fetchone()
        if row is None:
            known = [
                r[0]
                for r in self.db.execute(
                    "SELECT name FROM labels WHERE team_id IS NULL OR team_id = ? ORDER BY name",
                    (team_id,),
                )
            ]
            raise FixtureError(f"{where}: unknown label {name!r}{suggest(name, known)}")
        return row[0]

    def project_id(self, key: str, *, where: str) -> str:
        row = self.db.execute("SELECT id FROM projects WHERE key = ?", (key,)).fetchone()
        if row is None:
            known = [r[0] for r in self.db.execute("SELECT key FROM projects ORDER BY key")]
            raise FixtureError(f"{where}: unknown project {key!r}{suggest(key, known)}")
        return row[0]

    def member_ids(self, refs: list[str], *, where: str) -> list[str]:
        ids: list[str] = []
        for ref in refs:
            if ref == "*":
                rows = self.db.execute(
                    "SELECT id FROM users WHERE app = 0 AND active = 1 ORDER BY key"
                ).fetchall()
                ids.extend(r[0] for r in rows)
            elif ref.startswith("team:"):
                keys = self.company_teams.get(ref.removeprefix("team:"))
                if not keys:
                    raise FixtureError(f"{where}: no company team {ref!r} (needs `company:`)")
                ids.extend(self.user_id(k, where=where) for k in keys)
            else:
                ids.append(self.user_id(ref, where=where))
        return ids

    # -- sections ----------------------------------------------------------------------------

    def apply(self, doc: LinearFixtures) -> dict[str, int]:
        self.company_teams: dict[str, list[str]] = {}
        if doc.organization:
            self.organization(doc.organization)
        if doc.company:
            self.company(doc.company)
        for bot in doc.bots:
            self.upsert_user(bot, app=True)
        for user in doc.users:
            self.upsert_user(user, app=False)
        for token in doc.tokens:
            self.token(token)
        for label in doc.labels:
            self.label(None, label, where=f"labels[{label.name}]")
        for team in doc.teams:
            self.apply_team(team)
        for project in doc.projects:
            self.project(project)
        for team_key, issues in doc.issues.items():
            self.team_issues(team_key, issues)
        return dict(sorted(self.counts.items()))

    def organization(self, org: OrganizationFx) -> None:
        created = iso(to_epoch(org.created, what="organization.created")) if org.created else None
        current = self.db.execute("SELECT created_at FROM organization").fetchone()
        created = created or (current[0] if current else iso(to_epoch("2021-01-01")))
        self.db.execute("DELETE FROM organization")
        self.db.execute(
            "INSERT INTO organization(id, name, url_key, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (self.uid("organization"), org.name, org.url_key, created, created),
        )
        self._count("organization")

    def company(self, ref: str) -> None:
        company = load_company_ref(ref, self.origin)
        for emp in company.employees:
            self.upsert_user(
                UserFx(
                    key=emp.id,
                    name=emp.name,
                    display_name=emp.slack,
                    email=emp.email,
                    title=emp.title,
                    timezone=emp.timezone,
                    admin=emp.role in ("executive", "manager"),
                    owner=emp.role == "executive" and emp.manager is None,
                ),
                app=False,
            )
        for team in company.teams:
            self.company_teams[team.id] = [e.id for e in company.members(team.id)]

    def upsert_user(self, user: UserFx, *, app: bool) -> None:
        key = f"bot:{user.key}" if app else user.key
        created = iso(to_epoch(user.created, what=f"{key}.created")) if user.created else None
        user_id = self.uid("user", key)
        color = AVATAR_COLORS[int(hashlib.sha256(key.encode()).hexdigest(), 16) % 8]
        self.db.execute(
            "INSERT INTO users(id, key, name, display_name, email, title, description, timezone, "
            "admin, owner, app, guest, active, avatar_color, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET name=excluded.name, display_name=excluded.display_name, "
            "email=excluded.email, title=excluded.title, description=excluded.description, "
            "timezone=excluded.timezone, admin=excluded.admin, owner=excluded.owner, "
            "guest=excluded.guest, active=excluded.active",
            (
                user_id,
                key,
                user.name,
                user.display_name,
                user.email,
                user.title,
                user.description,
                user.timezone,
                int(user.admin),
                int(user.owner),
                int(app),
                int(user.guest),
                int(user.active),
                color,
                created or self.org_created(),
                created or self.org_created(),
            ),
        )
        self._count("users")

    def token(self, token: TokenFx) -> None:
        user_id = self.user_id(token.user, where=f"tokens[{token.token[:12]}…]")
        kind = "api_key" if token.token.startswith("lin_api_") else "oauth"
        self.db.execute(
            "INSERT INTO tokens(token, user_id, kind) VALUES (?, ?, ?) "
            "ON CONFLICT(token) DO UPDATE SET user_id = excluded.user_id, kind = excluded.kind",
            (token.token, user_id, kind),
        )
        self._count("tokens")

    def label(self, team: sqlite3.Row | None, label: LabelFx, *, where: str) -> None:
        team_id = team["id"] if team is not None else None
        scope = team["key"] if team is not None else ""
        created = (
            iso(to_epoch(label.created, what=f"{where}.created"))
            if label.created
            else (team["created_at"] if team is not None else self.org_created())
        )
        parent = self.label_id(team_id, label.parent, where=where) if label.parent else None
        creator = self.user_id(label.creator, where=where) if label.creator else None
        self.db.execute(
            "INSERT INTO labels(id, team_id, name, color, description, parent_id, is_group, "
            "creator_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET color=excluded.color, description=excluded.description, "
            "parent_id=excluded.parent_id, is_group=excluded.is_group",
            (
                self.uid("label", scope, label.name),
                team_id,
                label.name,
                label.color.upper(),
                label.description,
                parent,
                int(label.group),
                creator,
                created,
                created,
            ),
        )
        self._count("labels")

    def apply_team(self, fx: TeamFx) -> None:
        where = f"teams[{fx.key}]"
        current = self.db.execute("SELECT * FROM teams WHERE key = ?", (fx.key,)).fetchone()
        created = iso(to_epoch(fx.created, what=f"{where}.created")) if fx.created else None
        if current is None:
            created = created or self.org_created()
            self.db.execute(
                "INSERT INTO teams(id, key, name, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                (self.uid("team", fx.key), fx.key, fx.name or fx.key, created, created),
            )
        updates: dict[str, Any] = {}
        for attr, column in (
            ("name", "name"),
            ("description", "description"),
            ("icon", "icon"),
            ("color", "color"),
            ("timezone", "timezone"),
        ):
            if getattr(fx, attr) is not None:
                updates[column] = getattr(fx, attr)
        if fx.private is not None:
            updates["private"] = int(fx.private)
        if fx.triage is not None:
            updates["triage_enabled"] = int(fx.triage)
        if created and current is not None:
            updates["created_at"] = created
        if updates:
            sets = ", ".join(f"{col} = :{col}" for col in updates)
            self.db.execute(f"UPDATE teams SET {sets} WHERE key = :key", {**updates, "key": fx.key})
        team = self.team(fx.key, where=where)
        states = DEFAULT_STATES if fx.states == "default" else fx.states
        if states is None and current is None:
            states = DEFAULT_STATES
        for position, state in enumerate(states or ()):
            spec = state if isinstance(state, dict) else state.model_dump()
            # A second apart, in workflow order, like a team created in the app.
            created = iso(to_epoch(team["created_at"]) + position)
            self.db.execute(
                "INSERT INTO states(id, team_id, name, type, color, position, description, "
                "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET type=excluded.type, color=excluded.color, "
                "position=excluded.position, description=excluded.description",
                (
                    self.uid("state", fx.key, spec["name"]),
                    team["id"],
                    spec["name"],
                    spec["type"],
                    spec["color"].upper(),
                    float(position),
                    spec.get("description"),
                    created,
                    created,
                ),
            )
            self._count("states")
        if fx.default_state is not None or team["default_state_id"] is None:
            name = fx.default_state or self._first_backlog(team)
            state = self.state(team, name, where=f"{where}.default_state")
            self.db.execute(
                "UPDATE teams SET default_state_id = ? WHERE id = ?", (state["id"], team["id"])
            )
        for user_id in self.member_ids(fx.members, where=f"{where}.members"):
            self.db.execute(
                "INSERT OR IGNORE INTO team_members(team_id, user_id) VALUES (?, ?)",
                (team["id"], user_id),
            )
        for label in fx.labels:
            self.label(team, label, where=f"{where}.labels[{label.name}]")
        if fx.cycles is not None:
            self.cycles(team, fx.cycles, where=f"{where}.cycles")
        self._count("teams")

    def _first_backlog(self, team: sqlite3.Row) -> str:
        row = self.db.execute(
            "SELECT name FROM states WHERE team_id = ? ORDER BY "
            "CASE type WHEN 'backlog' THEN 0 WHEN 'unstarted' THEN 1 ELSE 2 END, position LIMIT 1",
            (team["id"],),
        ).fetchone()
        if row is None:
            raise FixtureError(f"teams[{team['key']}]: the team has no workflow states")
        return row[0]

    def cycles(self, team: sqlite3.Row, spec: CycleRunFx | list[CycleFx], *, where: str) -> None:
        if isinstance(spec, CycleRunFx):
            start = to_epoch(spec.starts, what=f"{where}.starts")
            length = spec.weeks * 7 * DAY
            runs = [
                (spec.first + i, start + i * length, start + (i + 1) * length, None, None)
                for i in range(spec.count)
            ]
        else:
            runs = [
                (
                    c.number,
                    to_epoch(c.starts, what=f"{where}[{c.number}].starts"),
                    to_epoch(c.ends, what=f"{where}[{c.number}].ends"),
                    c.name,
                    c.description,
                )
                for c in spec
            ]
        for number, starts, ends, name, description in runs:
            if ends <= starts:
                raise FixtureError(f"{where}[{number}]: a cycle must end after it starts")
            created = max(iso(starts - 7 * DAY), team["created_at"])
            self.db.execute(
                "INSERT INTO cycles(id, team_id, number, name, description, starts_at, ends_at, "
                "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET name=excluded.name, "
                "description=excluded.description, starts_at=excluded.starts_at, "
                "ends_at=excluded.ends_at",
                (
                    self.uid("cycle", team["key"], number),
                    team["id"],
                    number,
                    name,
                    description,
                    iso(starts),
                    iso(ends),
                    created,
                    created,
                ),
            )
            self._count("cycles")

    def project(self, fx: ProjectFx) -> None:
        where = f"projects[{fx.key}]"
        if fx.state not in PROJECT_STATES:
            raise FixtureError(f"{where}.state: one of {', '.join(PROJECT_STATES)}")
        created = iso(to_epoch(fx.created, what=f"{where}.created")) if fx.created else None
        created = created or self.org_created()

        def when(value: Any, what: str) -> str | None:
            return iso(to_epoch(value, what=f"{where}.{what}")) if value else None

        def day(value: Any, what: str) -> str | None:
            if value is None:
                return None
            try:
                return parse_date(str(value))
            except ValueError:
                raise FixtureError(f"{where}.{what}: {value!r} is not a date") from None

        project_id = self.uid("project", fx.key)
        slug = self.uid("project-slug", fx.key).replace("-", "")[:12]
        started = when(fx.started, "started")
        completed = when(fx.completed, "completed")
        canceled = when(fx.canceled, "canceled")
        moments = [t for t in (created, started, completed, canceled) if t]
        updated = when(fx.updated, "updated") or max(moments)
        creator = fx.creator or fx.lead
        self.db.execute(
            "INSERT OR REPLACE INTO projects(id, key, slug_id, name, description, content, icon, "
            "color, state, priority, lead_id, creator_id, start_date, target_date, started_at, "
            "completed_at, canceled_at, archived_at, sort_order, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                project_id,
                fx.key,
                slug,
                fx.name,
                fx.description,
                fx.content,
                fx.icon,
                fx.color.upper(),
                fx.state,
                self.priority(fx.priority, where=where),
                self.user_id(fx.lead, where=f"{where}.lead") if fx.lead else None,
                self.user_id(creator, where=f"{where}.creator") if creator else None,
                day(fx.start_date, "start_date"),
                day(fx.target_date, "target_date"),
                started,
                completed,
                canceled,
                when(fx.archived, "archived"),
                float(self.counts.get("projects", 0)),
                created,
                updated,
            ),
        )
        for key in fx.teams:
            team = self.team(key, where=f"{where}.teams")
            self.db.execute(
                "INSERT OR IGNORE INTO project_teams(project_id, team_id) VALUES (?, ?)",
                (project_id, team["id"]),
            )
        members = self.member_ids(fx.members, where=f"{where}.members")
        if fx.lead:
            members.append(self.user_id(fx.lead, where=f"{where}.lead"))
        for user_id in members:
            self.db.execute(
                "INSERT OR IGNORE INTO project_members(project_id, user_id) VALUES (?, ?)",
                (project_id, user_id),
            )
        self._count("projects")

    @staticmethod
    def priority(value: int | str | None, *, where: str) -> int:
        if value is None:
            return 0
        if isinstance(value, str):
            if value.strip().lower() not in PRIORITY_NAMES:
                raise FixtureError(
                    f"{where}.priority: {value!r} is not none/urgent/high/medium/low"
                )
            return PRIORITY_NAMES[value.strip().lower()]
        if not 0 <= value <= 4:
            raise FixtureError(f"{where}.priority: {value} is not 0..4")
        return value

    # -- issues ------------------------------------------------------------------------------

    def team_issues(self, team_key: str, issues: list[IssueFx]) -> None:
        team = self.team(team_key, where=f"issues[{team_key}]")
        for position, fx in enumerate(issues):
            number = fx.number or team["issue_seq"] + 1  # no number: a new issue
            where = f"issues[{team_key}][{position}] ({team_key}-{number})"
            self.issue(team, number, fx, where=where)
            top = self.db.execute(
                "SELECT MAX(number) FROM issues WHERE team_id = ?", (team["id"],)
            ).fetchone()[0]
            self.db.execute(
                "UPDATE teams SET issue_seq = MAX(issue_seq, ?) WHERE id = ?", (top, team["id"])
            )
            team = self.team(team_key, where=where)

    def issue(self, team: sqlite3.Row, number: int, fx: IssueFx, *, where: str) -> None:
        identifier = f"{team['key']}-{number}"
        current = self.db.execute(
            "SELECT * FROM issues WHERE identifier = ?", (identifier,)
        ).fetchone()
        given = fx.model_fields_set
        if current is None:
            if fx.title is None or fx.created is None:
                raise FixtureError(f"{where}: a new issue needs a title and a created time")
            values: dict[str, Any] = {}
        else:
            values = dict(current)
        issue_id = current["id"] if current else self.uid("issue", identifier)

        created = to_epoch(fx.created, what=f"{where}.created") if fx.created else None
        created = created if created is not None else to_epoch(values["created_at"])
        state = (
            self.state(team, fx.state, where=f"{where}.state")
            if fx.state is not None
            else (
                self.db.execute(
                    "SELECT * FROM states WHERE id = ?", (values["state_id"],)
                ).fetchone()
                if current
                else self.db.execute(
                    "SELECT * FROM states WHERE id = ?", (team["default_state_id"],)
                ).fetchone()
            )
        )
        assignee = self.user_id(fx.assignee, where=f"{where}.assignee") if fx.assignee else None
        if current is None or "assignee" in given:
            values["assignee_id"] = assignee
        if current is None or "creator" in given:
            creator_ref = fx.creator
            values["creator_id"] = (
                self.user_id(creator_ref, where=f"{where}.creator")
                if creator_ref
                else values.get("assignee_id") or self._first_member(team)
            )
        values.update(
            id=issue_id,
            team_id=team["id"],
            number=number,
            identifier=identifier,
            state_id=state["id"],
            created_at=iso(created),
        )
        if fx.title is not None:
            values["title"] = fx.title
        if "description" in given:
            values["description"] = fx.description
        if current is None or "priority" in given:
            values["priority"] = self.priority(fx.priority, where=where)
        if "estimate" in given or current is None:
            values["estimate"] = fx.estimate
        if "due" in given or current is None:
            values["due_date"] = self._date(fx.due, f"{where}.due")
        if "project" in given or current is None:
            values["project_id"] = (
                self.project_id(fx.project, where=f"{where}.project") if fx.project else None
            )
            values["added_to_project_at"] = iso(created) if fx.project else None
        if "cycle" in given or current is None:
            values["cycle_id"] = self._cycle(team, fx.cycle, where) if fx.cycle else None
            values["added_to_cycle_at"] = iso(created) if fx.cycle else None
        if "parent" in given or current is None:
            values["parent_id"] = self._parent(team, fx.parent, where) if fx.parent else None
        values.setdefault("sort_order", float(number))
        values.setdefault("previous_identifiers", "[]")
        values["added_to_team_at"] = values.get("added_to_team_at") or iso(created)

        last_comment = self._comments_end(fx.comments, created, where)
        kind = state["type"]
        started = self._when(fx.started, f"{where}.started")
        completed = self._when(fx.completed, f"{where}.completed")
        canceled = self._when(fx.canceled, f"{where}.canceled")
        updated_given = self._when(fx.updated, f"{where}.updated")
        if started is None and values.get("started_at"):
            started = to_epoch(values["started_at"])
        if started is None and kind in ("started", "completed"):
            started = created
        if kind in ("triage", "backlog", "unstarted"):
            started = None
        if kind == "completed" and completed is None:
            old = values.get("completed_at")
            completed = to_epoch(old) if old else (updated_given or created + 2 * DAY)
        if kind in ("canceled", "duplicate") and canceled is None:
            old = values.get("canceled_at")
            canceled = to_epoch(old) if old else (updated_given or created + 2 * DAY)
        if kind != "completed":
            completed = None
        if kind not in ("canceled", "duplicate"):
            canceled = None
        values["started_at"] = iso(started) if started is not None else None
        values["completed_at"] = iso(completed) if completed is not None else None
        values["canceled_at"] = iso(canceled) if canceled is not None else None
        archived = self._when(fx.archived, f"{where}.archived")
        if "archived" in given or current is None:
            values["archived_at"] = iso(archived) if archived is not None else None
        moments = [
            t
            for t in (created, started, completed, canceled, last_comment, archived)
            if t is not None
        ]
        if current is not None:
            moments.append(to_epoch(values["updated_at"]))
        updated = updated_given if updated_given is not None else max(moments)
        if updated < created:
            raise FixtureError(f"{where}.updated: before the issue was created")
        values["updated_at"] = iso(updated)
        for column in (
            "description",
            "estimate",
            "due_date",
            "project_id",
            "cycle_id",
            "parent_id",
            "triaged_at",
            "started_triage_at",
            "added_to_cycle_at",
            "added_to_project_at",
            "sub_issue_sort_order",
            "trashed",
        ):
            values.setdefault(column, None)
        columns = ", ".join(values)
        marks = ", ".join(f":{c}" for c in values)
        self.db.execute(f"INSERT OR REPLACE INTO issues({columns}) VALUES ({marks})", values)

        if fx.labels is not None:
            self.db.execute("DELETE FROM issue_labels WHERE issue_id = ?", (issue_id,))
            for name in fx.labels:
                self.db.execute(
                    "INSERT OR IGNORE INTO issue_labels(issue_id, label_id) VALUES (?, ?)",
                    (issue_id, self.label_id(team["id"], name, where=f"{where}.labels")),
                )
        self._insert_comments(issue_id, identifier, fx.comments, created, where)
        self._count("issues")

    def _first_member(self, team: sqlite3.Row) -> str | None:
        row = self.db.execute(
            "SELECT u.id FROM team_members m JOIN users u ON u.id = m.user_id "
            "WHERE m.team_id = ? AND u.app = 0 ORDER BY u.key LIMIT 1",
            (team["id"],),
        ).fetchone()
        return row[0] if row else None

    def _when(self, value: Any, what: str) -> float | None:
        return to_epoch(value, what=what) if value is not None else None

    def _date(self, value: Any, what: str) -> str | None:
        if value is None:
            return None
        try:
            return parse_date(str(value))
        except ValueError:
            raise FixtureError(f"{what}: {value!r} is not a date (YYYY-MM-DD)") from None

    def _cycle(self, team: sqlite3.Row, number: int, where: str) -> str:
        row = self.db.execute(
            "SELECT id FROM cycles WHERE team_id = ? AND number = ?", (team["id"], number)
        ).fetchone()
        if row is None:
            raise FixtureError(f"{where}.cycle: team {team['key']} has no cycle {number}")
        return row[0]

    def _parent(self, team: sqlite3.Row, ref: int | str, where: str) -> str:
        if isinstance(ref, int):
            identifier = f"{team['key']}-{ref}"
        else:
            parts = split_identifier(ref)
            if parts is None:
                raise FixtureError(f"{where}.parent: {ref!r} is not a number or ENG-123")
            identifier = f"{parts[0]}-{parts[1]}"
        row = self.db.execute(
            "SELECT id FROM issues WHERE identifier = ?", (identifier,)
        ).fetchone()
        if row is None:
            raise FixtureError(f"{where}.parent: no issue {identifier} (parents come first)")
        return row[0]

    def _comments_end(self, comments: list[CommentFx], start: float, where: str) -> float | None:
        previous, last = start, None
        for i, comment in enumerate(comments):
            at = self.time(comment.at or "+1h", f"{where}.comments[{i}].at", previous)
            previous = last = at
            for j, reply in enumerate(comment.replies):
                reply_at = self.time(reply.at or "+1h", f"{where}.comments[{i}][{j}].at", previous)
                previous = last = reply_at
        return last

    def _insert_comments(
        self, issue_id: str, identifier: str, comments: list[CommentFx], start: float, where: str
    ) -> None:
        existing = self.db.execute(
            "SELECT COUNT(*) FROM comments WHERE issue_id = ?", (issue_id,)
        ).fetchone()[0]
        previous = start
        index = existing

        def insert(comment: CommentFx, parent_id: str | None, what: str) -> str:
            nonlocal previous, index
            at = self.time(comment.at or "+1h", f"{what}.at", previous)
            if at < start:
                raise FixtureError(f"{what}.at: before the issue was created")
            previous = at
            comment_id = self.uid("comment", identifier, index)
            index += 1
            edited = self._when(comment.edited, f"{what}.edited") if comment.edited else None
            self.db.execute(
                "INSERT INTO comments(id, issue_id, user_id, parent_id, body, created_at, "
                "updated_at, edited_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    comment_id,
                    issue_id,
                    self.user_id(comment.user, where=f"{what}.user"),
                    parent_id,
                    comment.body,
                    iso(at),
                    iso(edited or at),
                    iso(edited) if edited else None,
                ),
            )
            self._count("comments")
            return comment_id

        for i, comment in enumerate(comments):
            what = f"{where}.comments[{i}]"
            top = insert(comment, None, what)
            for j, reply in enumerate(comment.replies):
                if reply.replies:
                    raise FixtureError(f"{what}.replies[{j}]: replies cannot have replies")
                insert(reply, top, f"{what}.replies[{j}]")


def apply_document(
    db: sqlite3.Connection, doc: Mapping[str, Any], *, seed: int, origin: Path | None
) -> dict[str, int]:
    """Validate and apply a document; FixtureError (naming the file) on any problem."""
    parsed = validate_document(LinearFixtures, doc, origin)
    with errors_name_source(fixture_source(origin)):
        return FixtureApplier(db, seed, origin).apply(parsed)


__all__ = ["DEFAULT_STATES", "LinearFixtures", "apply_document"]
