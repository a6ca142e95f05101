"""Who works at Acme: the typed view of ``seed/company.yaml``.

The same people appear in Slack, Linear, Notion, Sentry and the git history of the monorepo,
so everything that needs a person asks this module::

    company = load_company()
    maya = company.employee("maya.chen")
    payments_people = company.owners_of("payments")
"""

from __future__ import annotations

import datetime as dt
import difflib
import zoneinfo
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

__all__ = ["DEFAULT_COMPANY_PATH", "Company", "CompanyError", "Employee", "Team", "load_company"]

DEFAULT_COMPANY_PATH = Path(__file__).resolve().parent / "seed" / "company.yaml"

_SLUG = r"^[a-z][a-z0-9]*(?:[.-][a-z0-9]+)*$"

# libyaml's loader when PyYAML has it: same results, ten times faster than the pure-Python one.
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

Role = Literal["executive", "manager", "engineer", "designer", "product", "support", "writer"]


class CompanyError(ValueError):
    """company.yaml is missing, unreadable or inconsistent; the message says where and why."""


class Employee(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=_SLUG, description="Stable slug, e.g. 'maya.chen'. Never renamed.")
    name: str = Field(min_length=1, description="Full name as shown in every tool.")
    display_name: str = Field(min_length=1, description="Short name (Slack display name).")
    email: str = Field(pattern=r"^[a-z0-9._+-]+@[a-z0-9.-]+\.[a-z]{2,}$")
    title: str = Field(min_length=1)
    team: str = Field(description="Id of the team the employee belongs to.")
    role: Role
    timezone: str = Field(description="IANA zone, e.g. 'Europe/Berlin'.")
    slack: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$", description="Slack handle, no '@'.")
    github: str = Field(pattern=r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$", description="GitHub login.")
    is_oncall_rotation: bool = False
    manager: str | None = Field(default=None, description="Employee id of the manager.")

    @property
    def git_identity(self) -> str:
        """``Name <email>`` as git writes it."""
        return f"{self.name} <{self.email}>"


class Team(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=_SLUG)
    name: str = Field(min_length=1)
    lead: str = Field(description="Employee id of the team lead; must be a member.")
    slack_channel: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    components: list[str] = Field(default_factory=list, description="Components the team owns.")
    description: str = ""


class Company(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    short_name: str
    domain: str = Field(pattern=r"^[a-z0-9-]+(?:\.[a-z0-9-]+)+$")
    product: str
    description: str = ""
    founded: dt.date
    headquarters: str = ""
    github_org: str
    slack_workspace: str
    components: list[str] = Field(min_length=1)
    teams: list[Team] = Field(min_length=1)
    employees: list[Employee] = Field(min_length=1)
    oncall_rotation: list[str] = Field(
        description="Ordered employee ids; week N is entry N mod len."
    )

    _employees: dict[str, Employee] = PrivateAttr(default_factory=dict)
    _teams: dict[str, Team] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _check_references(self) -> Company:
        problems = _consistency_problems(self)
        if problems:
            raise ValueError("\n".join(problems))
        self._employees = {e.id: e for e in self.employees}
        self._teams = {t.id: t for t in self.teams}
        return self

    # -- lookups ---------------------------------------------------------------------------

    def employee(self, employee_id: str) -> Employee:
        """The employee with this id; KeyError (with a suggestion) if there is none."""
        try:
            return self._employees[employee_id]
        except KeyError:
            raise KeyError(_unknown("employee", employee_id, self._employees)) from None

    def team(self, team_id: str) -> Team:
        try:
            return self._teams[team_id]
        except KeyError:
            raise KeyError(_unknown("team", team_id, self._teams)) from None

    def members(self, team_id: str) -> list[Employee]:
        """Members of a team, lead first, then in file order."""
        team = self.team(team_id)
        people = [e for e in self.employees if e.team == team.id]
        return sorted(people, key=lambda e: e.id != team.lead)

    def owning_team(self, component: str) -> Team:
        """The team that owns a component (every component has exactly one)."""
        for team in self.teams:
            if component in team.components:
                return team
        raise KeyError(_unknown("component", component, self.components))

    def owners_of(self, component: str) -> list[Employee]:
        """The people who own a component: the members of its owning team, lead first."""
        return self.members(self.owning_team(component).id)

    def oncall_for_week(self, week: int) -> Employee:
        """Who is on call in rotation week ``week`` (0-based, wraps around)."""
        return self.employee(self.oncall_rotation[week % len(self.oncall_rotation)])


def load_company(path: str | Path | None = None) -> Company:
    """Read and validate company.yaml (default: ``seed/company.yaml`` beside this module).

    Raises CompanyError naming the file and every inconsistency found.
    """
    path = Path(path) if path is not None else DEFAULT_COMPANY_PATH
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=YAML_LOADER)
    except FileNotFoundError:
        raise CompanyError(f"{path}: file not found") from None
    except yaml.YAMLError as exc:
        raise CompanyError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise CompanyError(
            f"{path}: expected a mapping at the top level, got {type(data).__name__}"
        )
    try:
        return Company.model_validate(data)
    except ValidationError as exc:
        raise CompanyError(f"{path} is invalid:\n{_describe(exc)}") from None


# -- validation helpers ---------------------------------------------------------------------


def _consistency_problems(c: Company) -> list[str]:
    problems: list[str] = []
    employee_ids = {e.id for e in c.employees}
    team_ids = {t.id for t in c.teams}
    by_id = {e.id: e for e in c.employees}

    for label, values in (
        ("employee id", [e.id for e in c.employees]),
        ("email", [e.email for e in c.employees]),
        ("slack handle", [e.slack for e in c.employees]),
        ("github login", [e.github.lower() for e in c.employees]),
        ("team id", [t.id for t in c.teams]),
        ("component", c.components),
        ("on-call rotation entry", c.oncall_rotation),
    ):
        problems += [f"duplicate {label} {v!r}" for v in _duplicates(values)]

    zones = zoneinfo.available_timezones()  # empty when the host has no tz database: skip then
    for e in c.employees:
        where = f"employee {e.id!r}"
        if e.team not in team_ids:
            problems.append(f"{where}: unknown team {e.team!r} (teams: {_listing(team_ids)})")
        if e.manager is not None:
            if e.manager == e.id:
                problems.append(f"{where}: is their own manager")
            elif e.manager not in employee_ids:
                problems.append(
                    f"{where}: unknown manager {e.manager!r}{_hint(e.manager, employee_ids)}"
                )
        if not e.email.endswith("@" + c.domain):
            problems.append(f"{where}: email {e.email!r} is not on the company domain {c.domain!r}")
        if zones and e.timezone not in zones:
            problems.append(f"{where}: unknown timezone {e.timezone!r} (use an IANA name)")

    problems += _manager_cycles(by_id)

    owners: dict[str, list[str]] = {comp: [] for comp in c.components}
    for t in c.teams:
        where = f"team {t.id!r}"
        lead = by_id.get(t.lead)
        if lead is None:
            problems.append(f"{where}: unknown lead {t.lead!r}{_hint(t.lead, employee_ids)}")
        elif lead.team != t.id:
            problems.append(
                f"{where}: lead {t.lead!r} is not a member (they are in team {lead.team!r})"
            )
        for comp in t.components:
            if comp not in owners:
                problems.append(
                    f"{where}: unknown component {comp!r} (components: {_listing(c.components)})"
                )
            else:
                owners[comp].append(t.id)
    for comp, teams in owners.items():
        if not teams:
            problems.append(f"component {comp!r} is owned by no team")
        elif len(teams) > 1:
            problems.append(f"component {comp!r} is owned by several teams: {', '.join(teams)}")

    if not c.oncall_rotation:
        problems.append("on-call rotation is empty")
    for member in c.oncall_rotation:
        if member not in employee_ids:
            problems.append(
                f"on-call rotation: unknown employee {member!r}{_hint(member, employee_ids)}"
            )
        elif not by_id[member].is_oncall_rotation:
            problems.append(
                f"on-call rotation: {member!r} is listed but has is_oncall_rotation: false"
            )
    in_rotation = set(c.oncall_rotation)
    for e in c.employees:
        if e.is_oncall_rotation and e.id not in in_rotation:
            problems.append(
                f"employee {e.id!r}: is_oncall_rotation is true but they are not in oncall_rotation"
            )
    return problems


def _manager_cycles(by_id: dict[str, Employee]) -> list[str]:
    problems: list[str] = []
    reported: set[str] = set()
    for start in sorted(by_id):
        chain = [start]
        current = by_id[start].manager
        while current in by_id and current not in chain:
            chain.append(current)
            current = by_id[current].manager
        if current == start and start not in reported and len(chain) > 1:
            reported.update(chain)
            problems.append("management cycle: " + " -> ".join([*chain, start]))
    return problems


def _duplicates(values: Iterable[str]) -> list[str]:
    return sorted(v for v, n in Counter(values).items() if n > 1)


def _listing(values: Iterable[str]) -> str:
    return ", ".join(sorted(values))


def _hint(value: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(value, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _unknown(kind: str, value: str, known: Iterable[str]) -> str:
    return f"no {kind} {value!r} at Acme{_hint(value, known)}"


def _describe(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        msg = err["msg"].removeprefix("Value error, ")
        loc = ".".join(str(p) for p in err["loc"])
        for line in msg.splitlines():
            lines.append(f"  - {loc}: {line}" if loc else f"  - {line}")
    return "\n".join(lines)
