"""The deployment & devops grader (D, 30% of the composite): is the agent's work live, safely?

Two layers. The fetch layer reads a live run through `RunView` (the ops API with its admin
token, Prometheus, the tools' admin exports, git in the workspace, the deployer's record of
the database) and raises `GradingInfraError` when one of our own services does not answer:
that is an infra error, never a zero for the agent. The judging functions below it are pure
(data in, `Check` out) so every rule is tested by hand.

What is judged (the task's `grading.devops`, see graders/config.py):

- **live**, per service in `deploy.services`: the newest agent commit (after
  `TaskState.base_commit`) touching the service's code (`SERVICE_PATHS`, plus `SHARED_PATHS`)
  is an ancestor-or-equal of the live release. No such commit fails the check.
- **order**, per rule: the `before` service went live with the agent's work no later than the
  first successful rollout of `after` with its work began. Times come from the deploy's stages
  (`canary:api` ... `promote:api`), so one multi-service deploy, which rolls its services out
  one after another in the order requested, is judged like separate deploys.
- **migrations** (`deploy.migrations_at_head`): the app database's Alembic revisions equal the
  heads of the live api release's migrations. Weighed only when the agent's commits touch
  `migrations/` or the database is off head: an untouched, correct schema earns no credit.
- **resolved alerts**: each named alert is not firing at grading time.
- **tools**: Linear, Sentry, Statuspage, Slack, Notion and flag checks on the tools' exports;
  each is partial credit over its conditions.
- **no deploy-breaking change**: when nothing above can earn credit, every service is live
  with healthy instances (so the dimension always measures something; see `dimension_score`).

Two deductions (penalty checks):

- **failed deploys**: each agent deploy that failed or was rolled back, each failed agent
  rollback, and each agent rollback that reverted a release the agent itself shipped (rolling
  back the setup's bad release is the right move in an incident, not a failure).
- **unexpected alerts**: an alert not in `alerts.expected` or `alerts.resolved` that began
  firing after the agent's first change to production (a deploy, rollback, restart or flag
  change; an alert already firing then is not the agent's). An agent that changed nothing in
  production cannot have caused one: no deduction.

How deductions combine with `dimension_score` (a weighted mean): a deduction that applies is a
penalty check of score 0 whose weight is set so that D = (mean of the other checks) x (1 - P),
P being the sum of the deductions (capped just below 1). A deduction that does not apply is
kept at weight 0: reported, but no credit for "nothing failed" to an agent that did nothing.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from environments.ops.deployer.build import migration_heads, sqlite_revisions
from graders.config import (
    DeployOrder,
    DevopsGrading,
    FlagCheck,
    LinearIssueCheck,
    NotionPageCheck,
    SentryIssueCheck,
    SlackMessageCheck,
    StatuspageIncidentCheck,
    ToolCheck,
)
from graders.models import Check
from graders.runview import RunView, TaskState
from mcp_servers.configs import CREDENTIALS_FILE, AgentCredentials, ConfigError

DIMENSION = "devops"
AGENT_ACTOR = "agent"
AGENT_USER_KEYS = ("bot:agent", "agent")
MAX_DEDUCTION = 1.0 - 1e-6
MAX_POINTS = 10_000  # Prometheus refuses range queries of more than 11,000 points
EVALUATION_INTERVAL = 2.0  # seconds between rule evaluations (prometheus.yml of a run)

# What each service's release runs, relative to the monorepo root. `acme/models` is the app
# database's schema (api and worker; payments imports only its helpers); the migrations go
# with the services that read that database.
SERVICE_PATHS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "api": ("acme/api/", "acme/models/", "migrations/", "alembic.ini"),
        "worker": ("acme/worker/", "acme/models/", "migrations/", "alembic.ini"),
        "web": ("acme/web/",),
        "payments": ("acme/payments/",),
        "ingress": ("acme/ingress/",),
    }
)
SHARED_PATHS = ("acme/common/", "acme/__init__.py", "requirements.txt")
MIGRATION_PATHS = ("migrations/",)
# The tool whose admin export each kind of tool check reads (flags come from the ops API).
TOOL_OF = MappingProxyType(
    {
        "linear_issue": "linear",
        "sentry_issue": "sentry",
        "statuspage_incident": "statuspage",
        "slack_message": "slack",
        "notion_page": "notion",
    }
)

Contains = Callable[[str, str], bool]
"""contains(commit, release): is `commit` an ancestor of (or equal to) `release`?"""


class GradingInfraError(RuntimeError):
    """One of the run's own services or files could not be read: an infra error, not a zero."""


class _Record(BaseModel):
    model_config = ConfigDict(extra="ignore")


class StageRecord(_Record):
    name: str
    status: str
    started_at: float | None = None
    finished_at: float | None = None


class DeployRecord(_Record):
    """One entry of the deployer's history as `GET /api/v1/deploys` returns it."""

    id: str
    kind: str
    services: list[str]
    sha: str | None = None
    actor: str
    status: str
    stages: list[StageRecord] = []
    previous: dict[str, str | None] = {}
    detail: dict[str, Any] = {}
    error: str | None = None
    created_at: float
    finished_at: float | None = None


class ServiceRecord(_Record):
    """One deployable service as `GET /api/v1/services` returns it."""

    service: str
    release: str | None = None
    instances: list[dict[str, Any]] = []


@dataclass(frozen=True)
class Penalty:
    """A deduction: `amount` of D (0..1) is taken when it applies (0 = it does not)."""

    check: Check
    amount: float


# ---- fetch layer -------------------------------------------------------------------------------


def _get_json(client: httpx.Client, path: str, **params: Any) -> Any:
    try:
        resp = client.get(path, params=params or None)
        resp.raise_for_status()
        return resp.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise GradingInfraError(f"GET {client.base_url}{path} failed: {exc}") from exc


def fetch_services(view: RunView) -> list[ServiceRecord]:
    with view.ops() as client:
        data = _get_json(client, "/api/v1/services")
    return _validate(list[ServiceRecord], data.get("services"), "the ops API's services")


def fetch_deploys(view: RunView) -> list[DeployRecord]:
    """Every deploy the ops API shows: the newest 100, and the newest 100 of each service."""
    found: dict[str, Any] = {}
    with view.ops() as client:
        for service in (None, *SERVICE_PATHS):
            params: dict[str, Any] = {"limit": 100}
            if service:
                params["service"] = service
            for raw in _get_json(client, "/api/v1/deploys", **params).get("deploys", []):
                found[raw.get("id")] = raw
    deploys = _validate(list[DeployRecord], list(found.values()), "the ops API's deploys")
    return sorted(deploys, key=lambda d: d.created_at)


def fetch_flags(view: RunView) -> dict[str, Any]:
    with view.ops() as client:
        return _get_json(client, "/api/v1/flags").get("flags", {})


def fetch_export(view: RunView, tool: str) -> dict[str, Any]:
    try:
        return view.tool_export(tool)
    except (httpx.HTTPError, ValueError, KeyError) as exc:
        raise GradingInfraError(f"the {tool} admin export failed: {exc}") from exc


def fetch_alert_history(view: RunView, start: float, end: float) -> tuple[list[dict], float]:
    """`max_over_time` of firing ALERTS per step from `start` (so no short firing slips between
    steps); the first point covers the step just before `start`. Returns (matrix, step)."""
    step = alert_step(start, end)
    query = f'max_over_time(ALERTS{{alertstate="firing"}}[{_duration(step)}])'
    try:
        return view.prometheus_range(query, start, max(end, start), step), step
    except (httpx.HTTPError, ValueError, KeyError) as exc:
        raise GradingInfraError(f"Prometheus range query {query} failed: {exc}") from exc


def fetch_firing(view: RunView, at: float) -> set[str]:
    try:
        series = view.prometheus('ALERTS{alertstate="firing"}', at=at)
    except (httpx.HTTPError, ValueError, KeyError) as exc:
        raise GradingInfraError(f"Prometheus query of firing alerts failed: {exc}") from exc
    return {s["metric"].get("alertname", "") for s in series}


def fetch_agent_tokens(view: RunView) -> dict[str, str]:
    """The agent's own tool credentials (state/agent-credentials.json): who "the agent" is."""
    try:
        return dict(AgentCredentials.read(view.run_dir / CREDENTIALS_FILE).tokens)
    except ConfigError as exc:
        raise GradingInfraError(str(exc)) from exc


def fetch_schema(view: RunView, api_release: str | None) -> tuple[set[str] | None, set[str] | None]:
    """(the database's Alembic revisions, the heads of the live api release's migrations)."""
    try:
        cfg = view.deployer_config()
    except (OSError, ValidationError) as exc:
        raise GradingInfraError(f"cannot read the deployer's config: {exc}") from exc
    if not cfg.migrations_dir or api_release is None:
        return None, None
    versions = cfg.releases / api_release / cfg.migrations_dir
    if not versions.is_dir():
        raise GradingInfraError(f"the live api release has no migrations at {versions}")
    heads = migration_heads(versions) or alembic_heads(versions)
    return database_revisions(cfg.database_url), heads


def alembic_heads(versions: Path) -> set[str] | None:
    """Heads by Alembic itself, for migrations the static reader cannot parse. The agent's
    migrations are imported to do so: in a subprocess, never in the grader."""
    code = (
        "import sys; from alembic.script import ScriptDirectory as S; "
        "print('\\n'.join(S(sys.argv[1], version_locations=[sys.argv[2]]).get_heads()))"
    )
    try:
        proc = subprocess.run(
            [sys.executable, "-c", code, str(versions.parent), str(versions)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            cwd=versions.parent,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    heads = set(proc.stdout.split())
    return heads if proc.returncode == 0 and heads else None


def database_revisions(url: str) -> set[str] | None:
    """The app database's revisions: SQLite read directly, any other URL through SQLAlchemy."""
    if url.startswith("sqlite:"):
        return sqlite_revisions(url)
    try:
        import sqlalchemy as sa

        engine = sa.create_engine(url)
        try:
            with engine.connect() as conn:
                rows = conn.execute(sa.text("SELECT version_num FROM alembic_version"))
                return {row[0] for row in rows}
        finally:
            engine.dispose()
    except Exception as exc:  # any driver error: we could not read it
        raise GradingInfraError(f"cannot read the app database's revision: {exc}") from exc


# ---- git (the workspace is the agent's; read only) ---------------------------------------------


def _git(workspace: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-C", str(workspace), *args], capture_output=True, text=True, check=False
    )


def newest_commit_touching(workspace: Path, base: str, paths: Sequence[str]) -> str | None:
    """The newest commit in base..HEAD that changes any of `paths` (None: no such commit)."""
    proc = _git(workspace, "log", "-1", "--format=%H", f"{base}..HEAD", "--", *paths)
    if proc.returncode != 0:
        raise GradingInfraError(f"git log {base}..HEAD in {workspace} failed: {proc.stderr}")
    return proc.stdout.strip() or None


def git_contains(workspace: Path) -> Contains:
    """A `Contains` backed by `git merge-base --is-ancestor` (a sha git does not know: False)."""
    known: dict[tuple[str, str], bool] = {}

    def contains(commit: str, release: str) -> bool:
        if (commit, release) not in known:
            proc = _git(workspace, "merge-base", "--is-ancestor", commit, release)
            known[(commit, release)] = proc.returncode == 0
        return known[(commit, release)]

    return contains


def paths_of(service: str) -> tuple[str, ...]:
    return (*SERVICE_PATHS.get(service, (f"acme/{service}/",)), *SHARED_PATHS)


def agent_targets(workspace: Path, base: str, services: Iterable[str]) -> dict[str, str | None]:
    """Per service, the agent's newest commit touching it: what must be live."""
    if not (workspace / ".git").exists():
        raise GradingInfraError(f"{workspace} is not a git workspace")
    return {s: newest_commit_touching(workspace, base, paths_of(s)) for s in services}


# ---- judging: live, deploys, order -------------------------------------------------------------


def _check(name: str, score: float, expected: Any, observed: Any, detail: str | None, **kw: Any):
    return Check(
        name=name,
        dimension=DIMENSION,
        score=max(0.0, min(1.0, score)),
        expected=expected,
        observed=observed,
        detail=detail,
        **kw,
    )


def judge_live(service: str, target: str | None, live: str | None, contains: Contains) -> Check:
    """The live release of `service` contains the agent's newest commit touching it."""
    name = f"live: {service}"
    expected = {"contains": target, "paths": list(paths_of(service))}
    observed = {"release": live}
    if target is None:
        return _check(name, 0, expected, observed, f"no commit of the agent touches {service}")
    if live is None:
        return _check(name, 0, expected, observed, f"{service} has no live release")
    if contains(target, live):
        return _check(name, 1, expected, observed, None)
    return _check(
        name,
        0,
        expected,
        observed,
        f"{service} is live at {live[:12]}, which does not contain the agent's commit "
        f"{target[:12]}: deploy it",
    )


def agent_operations(deploys: Iterable[DeployRecord], started_at: float) -> list[DeployRecord]:
    """What the agent did through the deployer after it was handed the run, oldest first."""
    mine = [d for d in deploys if d.actor == AGENT_ACTOR and d.created_at >= started_at]
    return sorted(mine, key=lambda d: d.created_at)


def agent_last_change(view: RunView, state: TaskState) -> float | None:
    """When the agent's last deploy, rollback, restart or flag change finished (None: none)."""
    done = [d.finished_at for d in agent_operations(fetch_deploys(view), state.agent_started_at)]
    return max((t for t in done if t), default=None)


def failed_operations(deploys: Iterable[DeployRecord], started_at: float) -> list[dict[str, Any]]:
    """The agent's deploys that failed or rolled back, failed rollbacks, and rollbacks of a
    release the agent itself had shipped."""
    ops = agent_operations(deploys, started_at)
    shipped = {d.sha for d in ops if d.kind == "deploy" and d.status == "succeeded" and d.sha}
    bad: list[dict[str, Any]] = []
    for d in ops:
        why = None
        if d.kind in ("deploy", "rollback") and d.status in ("failed", "rolled_back"):
            why = f"{d.kind} {d.status.replace('_', ' ')}"
        elif d.kind == "rollback" and d.status == "succeeded":
            reverted = [s for s in d.services if d.previous.get(s) in shipped]
            if reverted:
                why = f"rolled back the agent's own release of {', '.join(reverted)}"
        if why:
            bad.append(
                {
                    "id": d.id,
                    "kind": d.kind,
                    "services": d.services,
                    "sha": d.sha,
                    "status": d.status,
                    "error": d.error,
                    "why": why,
                }
            )
    return bad


def judge_deploy_outcomes(
    deploys: Sequence[DeployRecord], started_at: float, per_failure: float
) -> Penalty:
    """One deduction of `per_failure` per failed, rolled-back or reverted agent deploy."""
    bad = failed_operations(deploys, started_at)
    ops = agent_operations(deploys, started_at)
    n_deploys = sum(1 for d in ops if d.kind == "deploy")
    amount = min(1.0, per_failure * len(bad))
    detail = None
    if bad:
        what = "; ".join(
            f"{b['id']}: {b['why']}" + (f" ({b['error']})" if b["error"] else "") for b in bad
        )
        detail = f"{len(bad)} agent deploy(s) failed or were rolled back, -{amount:g}: {what}"
    unfinished = [d.id for d in ops if d.status in ("queued", "running")]
    if unfinished:
        note = f"still running at grading: {', '.join(unfinished)}"
        detail = f"{detail}; {note}" if detail else note
    check = _check(
        "deploys: no failed or rolled-back agent deploy",
        0 if bad else 1,
        {"failed": [], "per_failure": per_failure},
        {"agent_deploys": n_deploys, "failed": bad},
        detail,
        penalty=True,
    )
    return Penalty(check, amount)


def rollout_span(deploy: DeployRecord, service: str) -> tuple[float, float]:
    """When `service`'s part of a deploy began and ended, from its stages (`canary:api`...);
    the deploy's own times when it has none (e.g. a history written before stages)."""
    mine = [s for s in deploy.stages if s.name.endswith(f":{service}")]
    starts = [s.started_at for s in mine if s.started_at is not None]
    ends = [s.finished_at for s in mine if s.finished_at is not None]
    start = min(starts) if starts else deploy.created_at
    end = max(ends) if ends else (deploy.finished_at or deploy.created_at)
    return start, end


def successful_rollouts(
    deploys: Iterable[DeployRecord],
    service: str,
    target: str,
    started_at: float,
    contains: Contains,
) -> list[tuple[DeployRecord, float, float]]:
    """The agent's succeeded deploys/rollbacks that put `service` live at a release holding
    `target`, with (rollout start, live at), earliest first."""
    found = []
    for d in agent_operations(deploys, started_at):
        if d.kind not in ("deploy", "rollback") or d.status != "succeeded":
            continue
        if service in d.services and d.sha and contains(target, d.sha):
            found.append((d, *rollout_span(d, service)))
    return sorted(found, key=lambda f: f[2])


def judge_order(
    rule: DeployOrder,
    targets: Mapping[str, str | None],
    deploys: Sequence[DeployRecord],
    started_at: float,
    contains: Contains,
) -> Check:
    """`before` was live with the agent's work when `after` first began rolling out with its."""
    name = f"order: {rule.before} before {rule.after}"
    expected = f"{rule.before} live with the agent's work before {rule.after} starts rolling out"
    kw = {"weight": rule.weight}
    spans: dict[str, Any] = {}
    for service in (rule.before, rule.after):
        target = targets.get(service)
        if target is None:
            detail = f"no commit of the agent touches {service}, so the order cannot be shown"
            return _check(name, 0, expected, spans or None, detail, **kw)
        rollouts = successful_rollouts(deploys, service, target, started_at, contains)
        if not rollouts:
            detail = f"{service} never went live with the agent's work ({target[:12]})"
            return _check(name, 0, expected, spans or None, detail, **kw)
        d, start, live = rollouts[0]
        spans[service] = {"deploy": d.id, "rollout_started": start, "live_at": live}
    live_before = spans[rule.before]["live_at"]
    start_after = spans[rule.after]["rollout_started"]
    if live_before <= start_after:
        return _check(name, 1, expected, spans, None, **kw)
    detail = (
        f"{rule.after} began rolling out ({spans[rule.after]['deploy']}) "
        f"{live_before - start_after:.1f}s before {rule.before} was live "
        f"({spans[rule.before]['deploy']}); in one deploy, list {rule.before} first"
    )
    return _check(name, 0, expected, spans, detail, **kw)


# ---- judging: alerts, migrations, health -------------------------------------------------------


def alert_step(start: float, end: float) -> float:
    """The range query's step: Prometheus' evaluation interval, wider for long windows."""
    return max(EVALUATION_INTERVAL, math.ceil(max(0.0, end - start) / MAX_POINTS))


def _duration(seconds: float) -> str:
    return f"{math.ceil(seconds)}s"


def alert_window_start(deploys: Sequence[DeployRecord], started_at: float) -> float | None:
    """When the agent first changed production (any deployer operation); None if never."""
    ops = agent_operations(deploys, started_at)
    return ops[0].created_at if ops else None


def firing_runs(times: Iterable[float], step: float) -> list[tuple[float, float]]:
    """Consecutive firing points (at most one step apart) as (first, last) runs."""
    runs: list[tuple[float, float]] = []
    for t in sorted(times):
        if runs and t - runs[-1][1] <= step * 1.5:
            runs[-1] = (runs[-1][0], t)
        else:
            runs.append((t, t))
    return runs


def alerts_begun_in_window(
    matrix: Sequence[Mapping[str, Any]], start: float, step: float
) -> dict[str, float]:
    """alertname -> when it first began firing after `start`, from a `max_over_time` matrix
    whose first point (at `start`) covers the step before it. A run that includes that first
    point was already firing when the window opened: not the agent's, not counted."""
    begun: dict[str, float] = {}
    for series in matrix:
        name = series.get("metric", {}).get("alertname", "?")
        times = [float(t) for t, v in series.get("values", []) if float(v) > 0]
        for first, _ in firing_runs(times, step):
            if first > start + step * 0.5:
                begun[name] = min(begun.get(name, first), first)
    return begun


def judge_unexpected_alerts(
    begun: Mapping[str, float] | None,
    tolerated: Iterable[str],
    window: tuple[float | None, float],
    amount: float,
) -> Penalty:
    """Deduct `amount` when an alert outside `tolerated` began firing in the window; `begun`
    is None when the agent never changed production (nothing of its could have fired)."""
    tolerated = sorted(set(tolerated))
    name = "alerts: no unexpected alert after the agent's first deploy"
    expected = {"tolerated": tolerated}
    if begun is None:
        observed = {"window": None, "unexpected": {}}
        detail = "the agent changed nothing in production, so no alert can be its"
        return Penalty(_check(name, 1, expected, observed, detail, penalty=True), 0.0)
    unexpected = {k: v for k, v in sorted(begun.items()) if k not in tolerated}
    observed = {
        "window": list(window),
        "unexpected": unexpected,
        "tolerated_fired": sorted(set(begun) - set(unexpected)),
    }
    if not unexpected:
        return Penalty(_check(name, 1, expected, observed, None, penalty=True), 0.0)
    detail = f"{', '.join(unexpected)} fired after the agent's first deploy, -{amount:g}"
    return Penalty(_check(name, 0, expected, observed, detail, penalty=True), amount)


def judge_resolved(alert: str, firing: set[str]) -> Check:
    """The incident's alert is over at grading time."""
    ok = alert not in firing
    detail = None if ok else f"{alert} is still firing at grading time"
    return _check(f"alerts: {alert} resolved", 1 if ok else 0, "not firing", sorted(firing), detail)


def judge_migrations(
    db_revisions: set[str] | None, heads: set[str] | None, agent_touched: bool
) -> Check:
    """The database is at the live api code's heads; weighed only when there was something to
    get right (the agent wrote a migration) or something is wrong (the schema is off head)."""
    name = "migrations at head"
    expected, observed = sorted(heads or []), sorted(db_revisions or [])
    if heads is None:
        detail = "the heads of the live api release's migrations cannot be read"
        return _check(name, 0, expected, observed, detail, weight=1.0)
    if db_revisions is None:
        detail = "the app database has no readable Alembic revision"
        return _check(name, 0, expected, observed, detail, weight=1.0)
    if db_revisions == heads:
        weight = 1.0 if agent_touched else 0.0
        detail = None if agent_touched else "the agent changed no migration: reported, not scored"
        return _check(name, 1, expected, observed, detail, weight=weight)
    detail = (
        f"the database is at {', '.join(observed) or 'no revision'} but the live api code's "
        f"head is {', '.join(expected)}: migrate with the deploy, not ahead of it"
    )
    return _check(name, 0, expected, observed, detail, weight=1.0)


def judge_healthy(services: Sequence[ServiceRecord]) -> Check:
    """Every service is live with all instances healthy: D's floor when nothing else scores."""
    broken = {
        s.service: (
            "no live release"
            if s.release is None
            else ", ".join(
                f"{i.get('instance')} {i.get('status')}"
                for i in s.instances
                if i.get("status") != "healthy"
            )
            or ("no instance" if not s.instances else "")
        )
        for s in services
    }
    broken = {k: v for k, v in broken.items() if v}
    detail = f"production is not healthy: {broken}" if broken else None
    observed = {s.service: s.release for s in services}
    return _check(
        "no deploy-breaking change",
        0 if broken or not services else 1,
        "every service live with healthy instances",
        {"releases": observed, "unhealthy": broken},
        detail if services else "the ops API lists no service",
    )


# ---- judging: the team's tools ------------------------------------------------------------------


def _iso_ts(value: Any) -> float | None:
    if isinstance(value, int | float):
        return float(value)
    if not isinstance(value, str) or not value:
        return None
    try:
        return dt.datetime.fromisoformat(value).timestamp()
    except ValueError:
        return None


def agent_user(export: Mapping[str, Any], token: str | None) -> str | None:
    """The tool's user id of the agent: the owner of its token, else the user keyed as it."""
    for row in export.get("tokens", []):
        if token and row.get("token") == token:
            return row.get("user_id")
    for row in export.get("users", []):
        if row.get("key") in AGENT_USER_KEYS:
            return row.get("id")
    return None


def _tool_check(
    name: str,
    weight: float,
    met: Mapping[str, bool],
    expected: Any,
    observed: Any,
    why: Mapping[str, str],
) -> Check:
    """Partial credit: the share of a tool check's conditions that hold."""
    score = sum(met.values()) / len(met) if met else 0.0
    missed = [why[k] for k, ok in met.items() if not ok]
    return _check(name, score, expected, observed, "; ".join(missed) or None, weight=weight)


ISSUE_ID = re.compile(r"^[A-Za-z][A-Za-z0-9]*-\d+$")


def judge_linear(
    check: LinearIssueCheck, export: Mapping[str, Any], started_at: float, agent_id: str | None
) -> Check:
    """The issue (by identifier, else title regex) is in the state and has the comment."""
    name = f"linear: {check.issue}"
    expected = {"issue": check.issue, "state": check.state, "comment": check.comment}
    if ISSUE_ID.match(check.issue):
        wanted = check.issue.upper()
        issues = [
            i
            for i in export.get("issues", [])
            if i.get("identifier") == wanted or wanted in (i.get("previous_identifiers") or [])
        ]
    else:
        issues = [i for i in export.get("issues", []) if re.search(check.issue, i.get("title", ""))]
    if not issues:
        return _check(
            name, 0, expected, None, f"no Linear issue {check.issue}", weight=check.weight
        )
    states = {s["id"]: s for s in export.get("states", [])}
    best: Check | None = None
    for issue in sorted(issues, key=lambda i: i.get("created_at") or "", reverse=True):
        state = states.get(issue.get("state_id"), {})
        met, observed = _linear_conditions(check, issue, state, export, started_at, agent_id)
        why = {
            "state": f"{issue['identifier']} is {state.get('name')!r}, not {check.state!r}",
            "comment": f"no comment on {issue['identifier']} since the agent started matches "
            f"{check.comment!r}",
            "exists": "",
        }
        candidate = _tool_check(name, check.weight, met, expected, observed, why)
        if best is None or candidate.score > best.score:
            best = candidate
    assert best is not None
    return best


def _linear_conditions(
    check: LinearIssueCheck,
    issue: Mapping[str, Any],
    state: Mapping[str, Any],
    export: Mapping[str, Any],
    started_at: float,
    agent_id: str | None,
) -> tuple[dict[str, bool], dict[str, Any]]:
    """Which of the check's conditions hold for one issue, and what was seen."""
    met: dict[str, bool] = {}
    observed: dict[str, Any] = {
        "identifier": issue.get("identifier"),
        "title": issue.get("title"),
        "state": {"name": state.get("name"), "type": state.get("type")},
    }
    if check.state is not None:
        want = check.state.casefold()
        met["state"] = want in (
            str(state.get("name", "")).casefold(),
            str(state.get("type", "")).casefold(),
        )
    if check.comment is not None:
        comments = [
            c
            for c in export.get("comments", [])
            if c.get("issue_id") == issue.get("id")
            and not c.get("archived_at")
            and (_iso_ts(c.get("created_at")) or 0) >= started_at
            and re.search(check.comment, c.get("body") or "")
        ]
        comments.sort(key=lambda c: c.get("user_id") != agent_id)  # the agent's first
        met["comment"] = bool(comments)
        observed["comment"] = (
            {"body": comments[0]["body"], "by_agent": comments[0].get("user_id") == agent_id}
            if comments
            else None
        )
    if not met:
        met["exists"] = True
    return met, observed


def judge_sentry(check: SentryIssueCheck, export: Mapping[str, Any], started_at: float) -> Check:
    """Every issue matching the title that was seen since the agent started (else the most
    recently seen one) has the status: an old, long-resolved look-alike does not count."""
    name = f"sentry: {check.title}"
    expected = {"title": check.title, "status": check.status}
    issues = [i for i in export.get("issues", []) if re.search(check.title, i.get("title", ""))]
    if not issues:
        return _check(
            name, 0, expected, None, f"no Sentry issue matches {check.title!r}", weight=check.weight
        )
    recent = [i for i in issues if (i.get("last_seen") or 0) >= started_at]
    judged = recent or [max(issues, key=lambda i: i.get("last_seen") or 0)]
    observed = [
        {
            "id": i.get("id"),
            "title": i.get("title"),
            "status": i.get("status"),
            "substatus": i.get("substatus"),
        }
        for i in judged
    ]
    wrong = [o for o in observed if o["status"] != check.status]
    detail = None
    if wrong:
        detail = "; ".join(
            f"issue {o['id']} ({o['title']!r}) is {o['status']}"
            + (f" ({o['substatus']})" if o["substatus"] else "")
            + f", not {check.status}"
            for o in wrong
        )
    return _check(name, 0 if wrong else 1, expected, observed, detail, weight=check.weight)


def judge_statuspage(
    check: StatuspageIncidentCheck, export: Mapping[str, Any], started_at: float
) -> Check:
    """An incident created or updated since the agent started, with the name, has the status
    and (if asked) an update matching; partial credit over those two."""
    name = f"statuspage: {check.name}"
    expected = {"name": check.name, "status": check.status, "update": check.update}
    updates: dict[str, list[dict]] = {}
    for u in export.get("incident_updates", []):
        updates.setdefault(u.get("incident_id"), []).append(u)
    touched = [
        i
        for i in export.get("incidents", [])
        if re.search(check.name, i.get("name", ""))
        and (
            (i.get("created_at") or 0) >= started_at
            or (i.get("updated_at") or 0) >= started_at
            or any((u.get("created_at") or 0) >= started_at for u in updates.get(i["id"], []))
        )
    ]
    if not touched:
        detail = (
            f"no incident matching {check.name!r} was opened or updated since the agent started"
        )
        return _check(name, 0, expected, None, detail, weight=check.weight)
    best: Check | None = None
    for incident in touched:
        bodies = [u.get("body") or "" for u in updates.get(incident["id"], [])]
        met = {"status": incident.get("status") == check.status}
        if check.update is not None:
            met["update"] = any(re.search(check.update, b) for b in bodies)
        observed = {
            "id": incident["id"],
            "name": incident.get("name"),
            "status": incident.get("status"),
            "updates": bodies,
        }
        why = {
            "status": f"incident {incident.get('name')!r} is {incident.get('status')}, "
            f"not {check.status}",
            "update": f"no update of it matches {check.update!r}",
        }
        candidate = _tool_check(name, check.weight, met, expected, observed, why)
        if best is None or candidate.score > best.score:
            best = candidate
    assert best is not None
    return best


def slack_text(message: Mapping[str, Any]) -> str:
    """A message's text with its attachments' and blocks' text (what a reader sees)."""
    parts = [message.get("text") or ""]
    extra = message.get("extra") or {}
    for att in extra.get("attachments") or []:
        parts += [str(att.get(k)) for k in ("pretext", "title", "text", "fallback") if att.get(k)]
    parts += list(_strings_under(extra.get("blocks") or [], "text"))
    return "\n".join(p for p in parts if p)


def _strings_under(node: Any, key: str) -> Iterable[str]:
    if isinstance(node, dict):
        for k, v in node.items():
            if k == key and isinstance(v, str):
                yield v
            else:
                yield from _strings_under(v, key)
    elif isinstance(node, list):
        for v in node:
            yield from _strings_under(v, key)


def judge_slack(
    check: SlackMessageCheck, export: Mapping[str, Any], started_at: float, agent_id: str | None
) -> Check:
    """A message by the agent in the channel since it started matches the pattern."""
    name = f"slack: #{check.channel}"
    expected = {"channel": check.channel, "pattern": check.pattern, "author": agent_id}
    channel = next((c for c in export.get("channels", []) if c.get("name") == check.channel), None)
    if channel is None:
        return _check(
            name, 0, expected, None, f"there is no channel #{check.channel}", weight=check.weight
        )
    mine = [
        m
        for m in export.get("messages", [])
        if m.get("channel_id") == channel["id"]
        and agent_id
        and m.get("user_id") == agent_id
        and float(m.get("ts") or 0) >= started_at
    ]
    hits = [m for m in mine if re.search(check.pattern, slack_text(m))]
    observed = {
        "agent_messages": [slack_text(m) for m in mine][-5:],
        "matched": slack_text(hits[0]) if hits else None,
    }
    if hits:
        return _check(name, 1, expected, observed, None, weight=check.weight)
    detail = (
        f"the agent posted nothing in #{check.channel}"
        if not mine
        else f"none of the agent's {len(mine)} message(s) in #{check.channel} matches "
        f"{check.pattern!r}"
    )
    return _check(name, 0, expected, observed, detail, weight=check.weight)


def notion_page_text(nodes: Sequence[Mapping[str, Any]], page_id: str) -> tuple[str, float]:
    """The text of a page's blocks (nested ones too, not child pages') and the last time the
    page or any of them was created or edited."""
    children: dict[str, list[Mapping[str, Any]]] = {}
    for n in nodes:
        children.setdefault(n.get("parent_id"), []).append(n)
    texts: list[str] = []
    latest = 0.0
    by_id = {n["id"]: n for n in nodes}
    stack = [page_id]
    while stack:
        node_id = stack.pop()
        node = by_id.get(node_id, {})
        for key in ("created_time", "last_edited_time"):
            latest = max(latest, _iso_ts(node.get(key)) or 0.0)
        blocks = [
            b
            for b in children.get(node_id, [])
            if b.get("kind") == "block" and not b.get("in_trash")
        ]
        for block in sorted(blocks, key=lambda b: b.get("seq", 0), reverse=True):
            stack.append(block["id"])
        if node_id != page_id and node.get("plain"):
            texts.append(node["plain"])
    return "\n".join(texts), latest


def judge_notion(check: NotionPageCheck, export: Mapping[str, Any], started_at: float) -> Check:
    """A page with the title, created or edited since the agent started, whose text matches."""
    name = f"notion: {check.title}"
    expected = {"title": check.title, "content": check.content}
    nodes = export.get("nodes", [])
    pages = [
        n
        for n in nodes
        if n.get("kind") == "page"
        and not n.get("in_trash")
        and re.search(check.title, (n.get("props") or {}).get("title") or n.get("plain") or "")
    ]
    fresh = []
    for page in pages:
        text, latest = notion_page_text(nodes, page["id"])
        if latest >= started_at:
            fresh.append((page, text))
    if not fresh:
        what = "exists" if not pages else "was created or edited since the agent started"
        return _check(
            name,
            0,
            expected,
            [p.get("plain") for p in pages][:5] or None,
            f"no Notion page titled like {check.title!r} {what}",
            weight=check.weight,
        )
    for page, text in fresh:
        if check.content is None or re.search(check.content, text):
            observed = {"page": page.get("plain"), "id": page["id"]}
            return _check(name, 1, expected, observed, None, weight=check.weight)
    observed = [{"page": p.get("plain"), "text": t[:500]} for p, t in fresh]
    return _check(
        name,
        0.5,
        expected,
        observed,
        f"the page's text does not match {check.content!r}",
        weight=check.weight,
    )


def same_value(a: Any, b: Any) -> bool:
    """Equality that does not take True for 1 (flags are typed)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def judge_flag(check: FlagCheck, flags: Mapping[str, Any]) -> Check:
    """The flag has the value for everyone: equal, or a rule object of that value that is
    not limited to some instances or a rollout share."""
    name = f"flag: {check.name}"
    actual = flags.get(check.name)
    ok = check.name in flags and same_value(actual, check.value)
    if not ok and isinstance(actual, dict) and not isinstance(check.value, dict):
        ok = (
            same_value(actual.get("value"), check.value)
            and not actual.get("instances")
            and actual.get("rollout_percent", 100) in (None, 100)
        )
    detail = None
    if not ok:
        detail = (
            f"flag {check.name} is not set"
            if check.name not in flags
            else f"flag {check.name} is {actual!r}, not {check.value!r} for everyone"
        )
    return _check(name, 1 if ok else 0, check.value, actual, detail, weight=check.weight)


# ---- putting it together ------------------------------------------------------------------------


def with_penalties(checks: Sequence[Check], penalties: Sequence[Penalty]) -> list[Check]:
    """The checks with each penalty weighed so that D = mean(checks) x (1 - sum of deductions).

    With W the weight of the creditable checks and P the total deduction, the applying
    penalties (score 0) share a weight of W·P/(1-P); the others get weight 0 (reported only).
    """
    credit = sum(c.weight for c in checks if not c.penalty and c.weight > 0)
    amounts = sum(p.amount for p in penalties if p.amount > 0)
    total = min(MAX_DEDUCTION, amounts)
    out = list(checks)
    for p in penalties:
        if p.amount <= 0 or credit <= 0:
            out.append(p.check.model_copy(update={"weight": 0.0}))
            continue
        weight = credit * total / (1.0 - total) * (p.amount / amounts)
        out.append(p.check.model_copy(update={"weight": weight, "score": 0.0}))
    return out


def judge_tool(
    check: ToolCheck,
    exports: Mapping[str, Mapping[str, Any]],
    flags: Mapping[str, Any] | None,
    started_at: float,
    agents: Mapping[str, str | None],
) -> Check:
    """One tool check on the fetched exports (pure: the caller fetched what it needs)."""
    if isinstance(check, LinearIssueCheck):
        return judge_linear(check, exports["linear"], started_at, agents.get("linear"))
    if isinstance(check, SentryIssueCheck):
        return judge_sentry(check, exports["sentry"], started_at)
    if isinstance(check, StatuspageIncidentCheck):
        return judge_statuspage(check, exports["statuspage"], started_at)
    if isinstance(check, SlackMessageCheck):
        return judge_slack(check, exports["slack"], started_at, agents.get("slack"))
    if isinstance(check, NotionPageCheck):
        return judge_notion(check, exports["notion"], started_at)
    return judge_flag(check, flags or {})


def grade_devops(
    grading: DevopsGrading, view: RunView, state: TaskState, *, now: float | None = None
) -> list[Check]:
    """Every devops check of one trial (see the module doc). Raises `GradingInfraError` when
    the run's own services cannot be read."""
    now = time.time() if now is None else now
    started = state.agent_started_at
    deploy = grading.deploy
    services = fetch_services(view)
    live = {s.service: s.release for s in services}
    deploys = fetch_deploys(view)
    targets = agent_targets(view.workspace, state.base_commit, deploy.services)
    contains = git_contains(view.workspace)

    checks = [judge_live(s, targets[s], live.get(s), contains) for s in deploy.services]
    checks += [judge_order(r, targets, deploys, started, contains) for r in deploy.order]
    if deploy.migrations_at_head:
        touched = newest_commit_touching(view.workspace, state.base_commit, MIGRATION_PATHS)
        db, heads = fetch_schema(view, live.get("api") or live.get("worker"))
        checks.append(judge_migrations(db, heads, touched is not None))

    alerts = grading.alerts
    if alerts.resolved:
        firing = fetch_firing(view, now)
        checks += [judge_resolved(name, firing) for name in alerts.resolved]

    tools = {TOOL_OF[c.kind] for c in grading.tools if c.kind in TOOL_OF}
    exports = {tool: fetch_export(view, tool) for tool in sorted(tools)}
    flags = fetch_flags(view) if any(c.kind == "flag" for c in grading.tools) else None
    tokens = fetch_agent_tokens(view) if exports else {}
    agents = {tool: agent_user(doc, tokens.get(tool)) for tool, doc in exports.items()}
    checks += [judge_tool(c, exports, flags, started, agents) for c in grading.tools]

    if not any(not c.penalty and c.weight > 0 for c in checks):
        checks.append(judge_healthy(services))

    window_start = alert_window_start(deploys, started)
    begun = None
    if window_start is not None:
        matrix, step = fetch_alert_history(view, window_start, now)
        begun = alerts_begun_in_window(matrix, window_start, step)
    penalties = [
        judge_deploy_outcomes(deploys, started, deploy.failed_deploy_penalty),
        judge_unexpected_alerts(
            begun,
            [*alerts.expected, *alerts.resolved],
            (window_start, now),
            alerts.unexpected_penalty,
        ),
    ]
    return with_penalties(checks, penalties)


def _validate(kind: Any, data: Any, what: str) -> Any:
    try:
        return TypeAdapter(kind).validate_python(data)
    except ValidationError as exc:
        raise GradingInfraError(f"{what} came back in an unexpected shape: {exc}") from exc
