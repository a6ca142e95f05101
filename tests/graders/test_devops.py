"""The devops grader's judging functions, by hand: git ancestry in a real tiny repo, deploy
histories, ALERTS matrices and tool exports shaped like the real ones (rows copied from a
real run's `/_admin/export`), and grade_devops over fake HTTP services."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from graders import devops as d
from graders.config import (
    DeployOrder,
    DevopsGrading,
    FlagCheck,
    LinearIssueCheck,
    NotionPageCheck,
    SentryIssueCheck,
    SlackMessageCheck,
    StatuspageIncidentCheck,
)
from graders.runview import RunView, TaskState
from graders.scoring import dimension_score

START = 1_795_000_000.0  # the agent was handed the run


# ---- a tiny monorepo ---------------------------------------------------------------------------


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


def commit(repo: Path, files: dict[str, str], message: str) -> str:
    for rel, text in files.items():
        path = repo / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", message)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path: Path) -> dict[str, Any]:
    ws = tmp_path / "workspace"
    ws.mkdir()
    git(ws, "init", "-q", "-b", "main")
    git(ws, "config", "user.email", "t@acme.test")
    git(ws, "config", "user.name", "T")
    files = {
        "acme/api/app.py": "api\n",
        "acme/web/app.py": "web\n",
        "acme/worker/app.py": "worker\n",
        "acme/common/db.py": "db\n",
        "acme/models/catalog.py": "models\n",
        "migrations/versions/0001.py": "m\n",
        "README.md": "readme\n",
    }
    initial = commit(ws, files, "initial")
    setup = commit(ws, {"acme/api/app.py": "api setup\n"}, "setup: an api change")
    return {"ws": ws, "initial": initial, "base": setup}


def test_agent_targets_are_the_newest_agent_commit_per_service(repo):
    ws, base = repo["ws"], repo["base"]
    api = commit(ws, {"acme/api/app.py": "api v2\n"}, "api change")
    web = commit(ws, {"acme/web/app.py": "web v2\n"}, "web change")
    commit(ws, {"README.md": "docs\n"}, "docs only")
    targets = d.agent_targets(ws, base, ["api", "web", "worker", "payments"])
    # the setup commit (before base) touches api but is not the agent's
    assert targets == {"api": api, "web": web, "worker": None, "payments": None}
    shared = commit(ws, {"acme/common/db.py": "db v2\n"}, "common change")
    assert d.agent_targets(ws, base, ["api", "worker", "ingress"]) == dict.fromkeys(
        ["api", "worker", "ingress"], shared
    )


def test_models_and_migrations_go_with_the_database_services(repo):
    ws, base = repo["ws"], repo["base"]
    migration = commit(ws, {"migrations/versions/0002.py": "m2\n"}, "a migration")
    targets = d.agent_targets(ws, base, ["api", "worker", "web"])
    assert targets == {"api": migration, "worker": migration, "web": None}
    assert d.newest_commit_touching(ws, base, d.MIGRATION_PATHS) == migration
    model = commit(ws, {"acme/models/catalog.py": "models v2\n"}, "a model")
    assert d.agent_targets(ws, base, ["api", "payments"]) == {"api": model, "payments": None}


def test_live_needs_a_release_containing_the_agent_commit(repo):
    ws, base = repo["ws"], repo["base"]
    first = commit(ws, {"acme/api/app.py": "api v2\n"}, "api change")
    final = commit(ws, {"acme/api/app.py": "api v3\n"}, "api fix")
    later = commit(ws, {"README.md": "docs\n"}, "docs after")
    contains = d.git_contains(ws)
    assert d.judge_live("api", final, final, contains).score == 1
    assert d.judge_live("api", final, later, contains).score == 1  # a descendant holds it
    stale = d.judge_live("api", final, first, contains)
    assert stale.score == 0 and "does not contain" in stale.detail
    assert stale.observed == {"release": first} and stale.expected["contains"] == final
    assert d.judge_live("api", final, base, contains).score == 0
    none = d.judge_live("worker", None, base, contains)
    assert none.score == 0 and none.detail == "no commit of the agent touches worker"
    assert "no live release" in d.judge_live("api", final, None, contains).detail
    assert contains(final, "0" * 40) is False  # a sha git does not know


def test_a_workspace_that_is_not_a_repo_is_an_infra_error(tmp_path):
    with pytest.raises(d.GradingInfraError):
        d.agent_targets(tmp_path, "HEAD", ["api"])
    (tmp_path / ".git").mkdir()
    with pytest.raises(d.GradingInfraError):
        d.newest_commit_touching(tmp_path, "nope", ["acme/"])


# ---- deploy histories --------------------------------------------------------------------------


def stage(name: str, start: float, end: float, status: str = "passed") -> dict:
    return {"name": name, "status": status, "started_at": start, "finished_at": end}


def rollout(service: str, start: float, end: float, strategy: str = "canary") -> list[dict]:
    """The stages the deployer records for one service (see pipeline.Deployer._rollout)."""
    if strategy == "recreate":
        mid = (start + end) / 2
        return [stage(f"replace:{service}", start, mid), stage(f"bake:{service}", mid, end)]
    third = (end - start) / 3
    return [
        stage(f"canary:{service}", start, start + third),
        stage(f"analysis:{service}", start + third, start + 2 * third),
        stage(f"promote:{service}", start + 2 * third, end),
    ]


def dep(
    id: str,
    created: float,
    services: list[str],
    sha: str | None = "s1",
    *,
    kind: str = "deploy",
    status: str = "succeeded",
    actor: str = "agent",
    stages: list[dict] | None = None,
    finished: float | None = None,
    previous: dict | None = None,
    error: str | None = None,
) -> d.DeployRecord:
    """A history entry shaped like the ops API's `Deploy.public()` (with `seconds`)."""
    return d.DeployRecord.model_validate(
        {
            "id": id,
            "kind": kind,
            "services": services,
            "ref": sha,
            "sha": sha,
            "subject": "x",
            "actor": actor,
            "status": status,
            "stages": stages or [],
            "previous": previous or {},
            "detail": {},
            "error": error,
            "created_at": created,
            "finished_at": finished if finished is not None else created + 30,
            "seconds": 30.0,
        }
    )


def test_deploy_outcomes_count_the_agents_failures_only():
    deploys = [
        dep("d-1", START - 100, ["api"], kind="initial", actor="prodbench", status="failed"),
        dep("d-2", START - 10, ["api"], status="rolled_back"),  # before the agent started
        dep("d-3", START + 10, ["api"], "a1", status="failed", error="checks failed (fast tests)"),
        dep("d-4", START + 60, ["web"], "a1", status="rolled_back", error="web: canary failed"),
        dep("d-5", START + 90, ["api"], "a2"),
        dep("d-6", START + 120, [], None, kind="flag", status="failed"),  # not a deploy
    ]
    p = d.judge_deploy_outcomes(deploys, START, 0.25)
    assert p.amount == pytest.approx(0.5)
    assert p.check.penalty and p.check.score == 0
    assert [b["id"] for b in p.check.observed["failed"]] == ["d-3", "d-4"]
    assert p.check.observed["agent_deploys"] == 3
    assert "d-3: deploy failed (checks failed (fast tests))" in p.check.detail
    assert "d-4: deploy rolled back" in p.check.detail and "-0.5" in p.check.detail


def test_no_failed_deploy_is_no_deduction():
    p = d.judge_deploy_outcomes([dep("d-2", START + 1, ["api"])], START, 0.25)
    assert p.amount == 0 and p.check.score == 1 and p.check.detail is None
    running = d.judge_deploy_outcomes([dep("d-2", START + 1, ["api"], status="running")], START, 1)
    assert running.amount == 0 and "still running at grading: d-2" in running.check.detail


def test_deductions_are_capped_at_everything():
    deploys = [dep(f"d-{i}", START + i, ["api"], status="failed") for i in range(2, 9)]
    assert d.judge_deploy_outcomes(deploys, START, 0.25).amount == 1.0


def test_rolling_back_the_setups_release_is_fine_but_not_the_agents_own():
    deploys = [
        dep("d-2", START - 50, ["api"], "bad", actor="prodbench"),
        dep("d-3", START + 10, ["api"], "good-old", kind="rollback", previous={"api": "bad"}),
        dep("d-4", START + 40, ["api"], "mine"),
        dep("d-5", START + 80, ["api"], "good-old", kind="rollback", previous={"api": "mine"}),
        dep("d-6", START + 99, ["web"], "x", kind="rollback", status="failed"),
    ]
    p = d.judge_deploy_outcomes(deploys, START, 0.25)
    assert [b["id"] for b in p.check.observed["failed"]] == ["d-5", "d-6"]
    assert "rolled back the agent's own release of api" in p.check.detail


# ---- order -------------------------------------------------------------------------------------


def always(commit: str, release: str) -> bool:
    return True


API_THEN_WEB = DeployOrder(before="api", after="web")
TARGETS = {"api": "t-api", "web": "t-web"}


def test_order_across_two_deploys():
    good = [
        dep("d-2", START + 10, ["api"], stages=rollout("api", START + 12, START + 30)),
        dep("d-3", START + 40, ["web"], stages=rollout("web", START + 42, START + 60)),
    ]
    check = d.judge_order(API_THEN_WEB, TARGETS, good, START, always)
    assert check.score == 1, check.detail
    assert check.observed["api"] == {
        "deploy": "d-2",
        "rollout_started": START + 12,
        "live_at": START + 30,
    }
    assert check.observed["web"]["rollout_started"] == START + 42
    bad = [
        dep("d-2", START + 10, ["web"], stages=rollout("web", START + 12, START + 30)),
        dep("d-3", START + 40, ["api"], stages=rollout("api", START + 42, START + 60)),
    ]
    check = d.judge_order(API_THEN_WEB, TARGETS, bad, START, always)
    assert check.score == 0
    assert check.detail.startswith("web began rolling out (d-2) 48.0s before api was live (d-3)")


def test_one_multi_service_deploy_rolls_out_in_the_order_given():
    right = rollout("api", START + 5, START + 20) + rollout("web", START + 20.5, START + 40)
    check = d.judge_order(
        API_THEN_WEB, TARGETS, [dep("d-2", START + 1, ["api", "web"], stages=right)], START, always
    )
    assert check.score == 1, check.detail
    wrong = rollout("web", START + 5, START + 20) + rollout("api", START + 20.5, START + 40)
    check = d.judge_order(
        API_THEN_WEB, TARGETS, [dep("d-2", START + 1, ["web", "api"], stages=wrong)], START, always
    )
    assert check.score == 0 and "list api first" in check.detail


def test_order_uses_only_releases_with_the_agents_work():
    def contains(commit: str, release: str) -> bool:
        return release == "new" or (commit == "t-web" and release == "web-only")

    deploys = [
        dep("d-2", START + 5, ["api"], "old", stages=rollout("api", START + 6, START + 9)),
        dep("d-3", START + 10, ["web"], "web-only", stages=rollout("web", START + 11, START + 19)),
        dep("d-4", START + 20, ["api"], "new", stages=rollout("api", START + 21, START + 29)),
    ]
    check = d.judge_order(API_THEN_WEB, TARGETS, deploys, START, contains)
    assert check.score == 0 and check.observed["api"]["deploy"] == "d-4"


def test_order_fails_when_a_side_never_went_live_with_the_work():
    rolled = [dep("d-2", START + 5, ["api", "web"], status="rolled_back")]
    check = d.judge_order(API_THEN_WEB, TARGETS, rolled, START, always)
    assert check.score == 0 and check.detail == "api never went live with the agent's work (t-api)"
    api_live = [dep("d-2", START + 5, ["api"], stages=rollout("api", START + 6, START + 9))]
    check = d.judge_order(API_THEN_WEB, {"api": "t-api", "web": None}, api_live, START, always)
    assert check.score == 0 and check.observed["api"]["deploy"] == "d-2"
    assert check.detail == "no commit of the agent touches web, so the order cannot be shown"
    assert (
        d.judge_order(
            DeployOrder(before="api", after="web", weight=2), TARGETS, [], START, always
        ).weight
        == 2
    )


def test_rollout_span_without_stages_uses_the_deploys_times():
    record = dep("d-2", START + 5, ["api"], finished=START + 50)
    assert d.rollout_span(record, "api") == (START + 5, START + 50)
    recreate = dep(
        "d-3", START, ["payments"], stages=rollout("payments", START + 2, START + 8, "recreate")
    )
    assert d.rollout_span(recreate, "payments") == (START + 2, START + 8)


# ---- alerts ------------------------------------------------------------------------------------


def series(name: str, times: list[float], **labels: str) -> dict:
    """A `max_over_time(ALERTS{alertstate="firing"}[..])` series as Prometheus returns it."""
    return {
        "metric": {"alertname": name, "alertstate": "firing", "severity": "page", **labels},
        "values": [[t, "1"] for t in times],
    }


def test_window_opens_at_the_agents_first_change_to_production():
    deploys = [
        dep("d-1", START - 5, ["api"], actor="prodbench"),
        dep("d-2", START + 30, [], None, kind="flag"),
        dep("d-3", START + 60, ["api"]),
    ]
    assert d.alert_window_start(deploys, START) == START + 30
    assert d.alert_window_start(deploys[:1], START) is None


def test_alerts_that_begin_in_the_window_count_and_carried_ones_do_not():
    w, step = 1000.0, 2.0
    matrix = [
        series("ServiceDown", [1000, 1002, 1004]),  # firing when the window opened
        series("HighLatencyP95", [1000, 1002, 1010, 1012]),  # stopped, began again at 1010
        series("CanaryErrorRatioHigh", [1020, 1022], upstream="api"),
        series("CanaryErrorRatioHigh", [1016], upstream="web"),
        series("SyntheticProbeSlow", []),
    ]
    begun = d.alerts_begun_in_window(matrix, w, step)
    assert begun == {"HighLatencyP95": 1010, "CanaryErrorRatioHigh": 1016}
    assert d.firing_runs([1, 3, 5, 9, 11], 2) == [(1, 5), (9, 11)]


def test_alert_step_keeps_range_queries_under_prometheus_limit():
    assert d.alert_step(0, 600) == 2.0
    assert d.alert_step(0, 86_400) == 9
    assert d.alert_step(10, 5) == 2.0


def test_unexpected_alerts_deduct_once():
    p = d.judge_unexpected_alerts(
        {"CanaryErrorRatioHigh": 1016.0, "HighLatencyP95": 1010.0},
        ["HighLatencyP95"],
        (1000.0, 2000.0),
        0.5,
    )
    assert p.amount == 0.5 and p.check.score == 0 and p.check.penalty
    assert p.check.observed["unexpected"] == {"CanaryErrorRatioHigh": 1016.0}
    assert p.check.observed["tolerated_fired"] == ["HighLatencyP95"]
    assert p.check.detail == "CanaryErrorRatioHigh fired after the agent's first deploy, -0.5"
    ok = d.judge_unexpected_alerts({"HighLatencyP95": 1.0}, ["HighLatencyP95"], (0, 1), 0.5)
    assert ok.amount == 0 and ok.check.score == 1
    idle = d.judge_unexpected_alerts(None, [], (None, 1), 0.5)
    assert idle.amount == 0 and "changed nothing in production" in idle.check.detail


def test_resolved_alerts_must_not_be_firing_now():
    assert d.judge_resolved("PaymentFailuresHigh", {"HighLatencyP95"}).score == 1
    still = d.judge_resolved("PaymentFailuresHigh", {"PaymentFailuresHigh"})
    assert (
        still.score == 0 and still.detail == "PaymentFailuresHigh is still firing at grading time"
    )
    assert not still.penalty and still.weight == 1


# ---- migrations and health ---------------------------------------------------------------------


def test_migrations_at_head_is_weighed_only_when_there_was_something_to_do():
    heads = {"0004_badge"}
    touched = d.judge_migrations({"0004_badge"}, heads, agent_touched=True)
    assert touched.score == 1 and touched.weight == 1
    untouched = d.judge_migrations({"0004_badge"}, heads, agent_touched=False)
    assert untouched.score == 1 and untouched.weight == 0
    behind = d.judge_migrations({"0003_admin"}, heads, agent_touched=False)
    assert behind.score == 0 and behind.weight == 1 and "0003_admin" in behind.detail
    assert d.judge_migrations(None, heads, True).score == 0
    assert d.judge_migrations(heads, None, True).score == 0


def test_schema_is_read_with_the_deployers_own_functions(tmp_path):
    from environments.ops.deployer.build import migration_heads

    versions = tmp_path / "versions"
    versions.mkdir()
    (versions / "a.py").write_text('revision = "0001"\ndown_revision = None\n')
    (versions / "b.py").write_text('revision: str = "0002"\ndown_revision = "0001"\n')
    db = tmp_path / "acme.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        conn.execute("INSERT INTO alembic_version VALUES ('0001')")
    assert migration_heads(versions) == {"0002"}
    assert d.database_revisions(f"sqlite:///{db}") == {"0001"}
    assert d.judge_migrations({"0001"}, {"0002"}, True).score == 0


def test_migrations_the_static_reader_cannot_parse_are_read_by_alembic(tmp_path):
    from environments.ops.deployer.build import migration_heads

    versions = tmp_path / "migrations" / "versions"
    versions.mkdir(parents=True)
    (versions / "a.py").write_text('revision = "0001"\ndown_revision = None\n')
    (versions / "b.py").write_text('REV = "0002"\nrevision = REV\ndown_revision = "0001"\n')
    assert migration_heads(versions) is None
    assert d.alembic_heads(versions) == {"0002"}
    (versions / "c.py").write_text("raise SystemExit(3)\n")
    assert d.alembic_heads(versions) is None


def test_healthy_production_is_the_floor_check():
    svc = d.ServiceRecord.model_validate
    healthy = [svc({"service": "api", "release": "s", "instances": [{"status": "healthy"}]})]
    assert d.judge_healthy(healthy).score == 1
    broken = healthy + [
        svc(
            {
                "service": "web",
                "release": "s",
                "instances": [{"instance": "web", "status": "unhealthy"}],
            }
        ),
        svc({"service": "worker", "release": None, "instances": []}),
    ]
    check = d.judge_healthy(broken)
    assert check.score == 0
    assert check.observed["unhealthy"] == {"web": "web unhealthy", "worker": "no live release"}
    assert d.judge_healthy([]).score == 0


# ---- penalties and dimension_score -------------------------------------------------------------


def positive(score: float, weight: float = 1.0) -> Any:
    return d._check("c", score, None, None, None, weight=weight)


def penalty(amount: float) -> d.Penalty:
    return d.Penalty(d._check("p", 0 if amount else 1, None, None, None, penalty=True), amount)


def test_penalties_multiply_the_rest_down_in_dimension_score():
    checks = [positive(1), positive(0.5)]
    scored = d.with_penalties(checks, [penalty(0.25), penalty(0.5)])
    assert dimension_score(scored, "devops") == pytest.approx(0.75 * (1 - 0.75))
    assert dimension_score(d.with_penalties(checks, [penalty(0.25)]), "devops") == pytest.approx(
        0.75 * 0.75
    )
    assert dimension_score(d.with_penalties([positive(1, 3)], [penalty(0.5)]), "devops") == (
        pytest.approx(0.5)
    )


def test_a_penalty_that_does_not_apply_gives_no_credit():
    scored = d.with_penalties([positive(0)], [penalty(0), penalty(0)])
    assert dimension_score(scored, "devops") == 0  # a null agent is not paid for not failing
    assert [c.weight for c in scored if c.penalty] == [0, 0]


def test_a_full_deduction_leaves_nothing():
    scored = d.with_penalties([positive(1)], [penalty(0.5), penalty(0.75)])
    assert dimension_score(scored, "devops") < 1e-5


# ---- tools: exports shaped like the real ones --------------------------------------------------

AGENT_SLACK = "U3IVAOHYZYM"
AGENT_LINEAR = "30cddd32-2013-431d-97b0-b10a800d303d"
AGENT_SLACK_TOKEN = "xoxb-7301000000001-7301000000101-AcmeAgentBotLocalToken01"


def iso(ts: float) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def linear_export() -> dict:
    team = "f81d2a95-cba0-4cc4-be37-7f7301576f4f"
    states = [
        {"id": "st-todo", "name": "Todo", "type": "unstarted", "team_id": team, "position": 2.0},
        {"id": "st-done", "name": "Done", "type": "completed", "team_id": team, "position": 5.0},
    ]

    def issue(identifier: str, title: str, state: str, n: int) -> dict:
        return {
            "id": f"i-{n}",
            "identifier": identifier,
            "number": n,
            "title": title,
            "state_id": state,
            "team_id": team,
            "previous_identifiers": [],
            "created_at": iso(START - 1000 + n),
            "archived_at": None,
            "description": None,
        }

    def comment(n: int, issue_id: str, body: str, user: str, at: float) -> dict:
        return {
            "id": f"c-{n}",
            "issue_id": issue_id,
            "body": body,
            "user_id": user,
            "created_at": iso(at),
            "updated_at": iso(at),
            "archived_at": None,
            "edited_at": None,
            "parent_id": None,
            "quoted_text": None,
            "resolved_at": None,
            "resolving_user_id": None,
        }

    return {
        "issues": [
            issue("ENG-12", "Checkout 500s on empty carts", "st-done", 12),
            issue("ENG-13", "Slow product search", "st-todo", 13),
        ],
        "states": states,
        "comments": [
            comment(1, "i-12", "Fixed in abc123 and deployed", AGENT_LINEAR, START + 50),
            comment(2, "i-13", "Fixed in abc123 (old note)", AGENT_LINEAR, START - 50),
        ],
        "users": [{"id": AGENT_LINEAR, "key": "bot:agent", "name": "Acme Agent"}],
        "tokens": [{"kind": "api_key", "token": "lin_api_x", "user_id": AGENT_LINEAR}],
        "last_sync_id": 1000000,
    }


def test_linear_issue_by_identifier_state_and_comment():
    export = linear_export()
    check = LinearIssueCheck(kind="linear_issue", issue="ENG-12", state="done", comment="abc123")
    result = d.judge_linear(check, export, START, AGENT_LINEAR)
    assert result.score == 1, result.detail
    assert result.observed["comment"] == {"body": "Fixed in abc123 and deployed", "by_agent": True}
    by_type = LinearIssueCheck(kind="linear_issue", issue="eng-12", state="Completed")
    assert d.judge_linear(by_type, export, START, AGENT_LINEAR).score == 1


def test_linear_partial_credit_and_old_comments():
    export = linear_export()
    check = LinearIssueCheck(kind="linear_issue", issue="ENG-13", state="Done", comment="abc123")
    result = d.judge_linear(check, export, START, AGENT_LINEAR)
    assert result.score == 0  # Todo, and its only matching comment predates the agent
    assert "ENG-13 is 'Todo', not 'Done'" in result.detail
    export["comments"].append({**export["comments"][1], "id": "c-3", "created_at": iso(START + 9)})
    assert d.judge_linear(check, export, START, AGENT_LINEAR).score == 0.5
    by_title = LinearIssueCheck(kind="linear_issue", issue="(?i)product search", state="todo")
    assert d.judge_linear(by_title, export, START, AGENT_LINEAR).score == 1
    missing = LinearIssueCheck(kind="linear_issue", issue="ENG-99")
    assert d.judge_linear(missing, export, START, None).detail == "no Linear issue ENG-99"


def sentry_issue(id: int, title: str, status: str, last_seen: float, substatus=None) -> dict:
    return {
        "id": id,
        "title": title,
        "status": status,
        "substatus": substatus,
        "last_seen": last_seen,
        "first_seen": last_seen - 600,
        "culprit": "/checkout",
        "level": "error",
        "project_id": 2,
        "short_seq": id,
        "times_seen": 40,
        "metadata": {"type": title.split(":")[0], "value": "x"},
        "status_details": {},
    }


def test_sentry_judges_the_issue_of_this_incident_not_an_old_lookalike():
    check = SentryIssueCheck(kind="sentry_issue", title="KeyError: 'sku'", status="resolved")
    old = sentry_issue(1, "KeyError: 'sku'", "resolved", START - 86_400)
    live = sentry_issue(2, "KeyError: 'sku'", "unresolved", START + 100, "ongoing")
    result = d.judge_sentry(check, {"issues": [old, live]}, START)
    assert result.score == 0 and "issue 2" in result.detail and "(ongoing)" in result.detail
    fixed = {**live, "status": "resolved", "substatus": None}
    assert d.judge_sentry(check, {"issues": [old, fixed]}, START).score == 1
    regressed = {**live, "substatus": "regressed"}
    assert "regressed" in d.judge_sentry(check, {"issues": [regressed]}, START).detail
    # nothing seen since the agent started: the most recently seen one is judged
    assert d.judge_sentry(check, {"issues": [old]}, START).score == 1
    assert d.judge_sentry(check, {"issues": []}, START).score == 0


def statuspage_export() -> dict:
    def incident(id: str, name: str, status: str, at: float) -> dict:
        return {
            "id": id,
            "name": name,
            "status": status,
            "created_at": at,
            "updated_at": at,
            "page_id": "acmestatus26",
            "started_at": at,
            "resolved_at": None,
            "metadata": {},
            "impact_override": None,
            "postmortem_body": None,
        }

    def update(id: str, incident_id: str, status: str, body: str, at: float) -> dict:
        return {
            "id": id,
            "incident_id": incident_id,
            "status": status,
            "body": body,
            "created_at": at,
            "display_at": at,
            "updated_at": at,
            "seq": 1,
            "affected_components": [],
            "deliver_notifications": 1,
        }

    return {
        "incidents": [
            incident("old1", "Errors loading pages and checking out", "resolved", START - 9e5),
            incident("new1", "Checkout errors", "monitoring", START + 60),
        ],
        "incident_updates": [
            update("u1", "old1", "resolved", "We rolled the change back.", START - 9e5),
            update(
                "u2", "new1", "investigating", "We are investigating checkout errors.", START + 60
            ),
            update("u3", "new1", "monitoring", "A fix is deployed; monitoring.", START + 300),
        ],
    }


def test_statuspage_incident_must_be_the_agents_doing():
    export = statuspage_export()
    default = StatuspageIncidentCheck(kind="statuspage_incident")
    result = d.judge_statuspage(default, export, START)
    assert result.score == 0  # the old resolved incident does not count; the new one monitors
    assert "is monitoring, not resolved" in result.detail
    partial = StatuspageIncidentCheck(
        kind="statuspage_incident", name="(?i)checkout", update="fix is deployed"
    )
    assert d.judge_statuspage(partial, export, START).score == 0.5
    export["incidents"][1]["status"] = "resolved"
    assert d.judge_statuspage(partial, export, START).score == 1
    none = StatuspageIncidentCheck(kind="statuspage_incident", name="Payments")
    assert "no incident matching" in d.judge_statuspage(none, export, START).detail


def slack_export() -> dict:
    def msg(text: str, user: str | None, ts: float, channel: str = "CD3YQOA6J4T", **kw) -> dict:
        return {
            "bot_id": "BYROYNEF4US" if user == AGENT_SLACK else None,
            "broadcast": 0,
            "channel_id": channel,
            "edited_by": None,
            "edited_ts": None,
            "extra": None,
            "subtype": None,
            "text": text,
            "thread_ts": None,
            "ts": f"{ts:.6f}",
            "user_id": user,
            **kw,
        }

    return {
        "channels": [
            {"id": "CD3YQOA6J4T", "name": "deploys", "is_private": 0, "is_archived": 0},
            {"id": "CINCIDENTS1", "name": "incidents", "is_private": 0, "is_archived": 0},
        ],
        "messages": [
            msg("Deployed api abc123: done", AGENT_SLACK, START - 10),  # before the agent
            msg("Deployed web abc123 by a human", "U2A3CLEDLFV", START + 10),
            msg("Rolled out the search fix", AGENT_SLACK, START + 20),
            msg(
                "",
                AGENT_SLACK,
                START + 30,
                channel="CINCIDENTS1",
                extra={"attachments": [{"text": "Mitigated: payments pool resized"}]},
            ),
        ],
        "users": [{"id": AGENT_SLACK, "key": "bot:agent", "is_bot": 1}],
        "tokens": [{"kind": "bot", "token": AGENT_SLACK_TOKEN, "user_id": AGENT_SLACK}],
    }


def test_slack_message_by_the_agent_after_it_started():
    export = slack_export()
    hit = SlackMessageCheck(kind="slack_message", channel="deploys", pattern="search fix")
    assert d.judge_slack(hit, export, START, AGENT_SLACK).score == 1
    old = SlackMessageCheck(kind="slack_message", channel="deploys", pattern="abc123")
    result = d.judge_slack(old, export, START, AGENT_SLACK)
    assert result.score == 0  # the human's message and the agent's earlier one do not count
    assert "none of the agent's 1 message(s) in #deploys matches" in result.detail
    attached = SlackMessageCheck(kind="slack_message", channel="incidents", pattern="pool resized")
    assert d.judge_slack(attached, export, START, AGENT_SLACK).score == 1
    nobody = d.judge_slack(hit, export, START, None)
    assert nobody.score == 0 and nobody.detail == "the agent posted nothing in #deploys"
    gone = SlackMessageCheck(kind="slack_message", channel="nope", pattern=".")
    assert d.judge_slack(gone, export, START, AGENT_SLACK).detail == "there is no channel #nope"


def test_agent_user_comes_from_its_token_then_its_key():
    export = slack_export()
    assert d.agent_user(export, AGENT_SLACK_TOKEN) == AGENT_SLACK
    assert d.agent_user({**export, "tokens": []}, AGENT_SLACK_TOKEN) == AGENT_SLACK
    assert d.agent_user({"users": [{"id": "U1", "key": "zoe"}]}, None) is None


def notion_export() -> dict:
    def node(
        id: str, kind: str, type: str, parent: str, plain: str, edited: float, seq: int, **kw
    ) -> dict:
        return {
            "id": id,
            "kind": kind,
            "type": type,
            "parent_id": parent,
            "parent_type": "page_id",
            "plain": plain,
            "seq": seq,
            "in_trash": 0,
            "created_time": iso(edited - 1000),
            "last_edited_time": iso(edited),
            "created_by": "u",
            "last_edited_by": "u",
            "data": {},
            "is_locked": 0,
            "key": None,
            "props": kw.pop("props", {}),
            **kw,
        }

    return {
        "nodes": [
            node(
                "p-old",
                "page",
                "child_page",
                "root",
                "Postmortem: checkout outage",
                START - 9e5,
                1,
                props={"title": "Postmortem: checkout outage"},
            ),
            node("b-old", "block", "paragraph", "p-old", "root cause: pool", START - 9e5, 2),
            node(
                "p-new",
                "page",
                "child_page",
                "root",
                "Postmortem: search latency",
                START - 9e5,
                3,
                props={"title": "Postmortem: search latency"},
            ),
            node("b-1", "block", "heading_2", "p-new", "Root cause", START - 9e5, 4),
            node(
                "b-2",
                "block",
                "bulleted_list_item",
                "b-1",
                "an N+1 query in search",
                START + 200,
                5,
            ),
        ],
        "users": [{"id": "fc6059b9", "key": "bot:agent", "type": "bot"}],
    }


def test_notion_page_edited_since_the_agent_started():
    export = notion_export()
    check = NotionPageCheck(kind="notion_page", title="Postmortem", content="N\\+1 query")
    result = d.judge_notion(check, export, START)
    assert result.score == 1 and result.observed["id"] == "p-new"
    text, latest = d.notion_page_text(export["nodes"], "p-new")
    assert text == "Root cause\nan N+1 query in search" and latest == pytest.approx(START + 200)
    wrong = NotionPageCheck(kind="notion_page", title="Postmortem", content="cache stampede")
    assert d.judge_notion(wrong, export, START).score == 0.5
    stale = NotionPageCheck(kind="notion_page", title="checkout outage")
    assert "was created or edited since" in d.judge_notion(stale, export, START).detail


def test_flags_are_typed_and_must_apply_to_everyone():
    assert (
        d.judge_flag(
            FlagCheck(kind="flag", name="new_search", value=True), {"new_search": True}
        ).score
        == 1
    )
    assert (
        d.judge_flag(FlagCheck(kind="flag", name="new_search", value=True), {"new_search": 1}).score
        == 0
    )
    rule = {"value": True, "rollout_percent": 10}
    partial = d.judge_flag(
        FlagCheck(kind="flag", name="new_search", value=True), {"new_search": rule}
    )
    assert partial.score == 0 and "for everyone" in partial.detail
    full = {"value": True}
    assert d.judge_flag(FlagCheck(kind="flag", name="f", value=True), {"f": full}).score == 1
    assert d.judge_flag(FlagCheck(kind="flag", name="f", value=3), {}).detail == "flag f is not set"


# ---- grade_devops over fake services -----------------------------------------------------------


class FakeView:
    """What grade_devops uses of a RunView, served by httpx.MockTransport handlers."""

    def __init__(self, run_dir: Path, workspace: Path, routes: dict[str, Any]):
        self.run_dir, self.workspace, self.routes = run_dir, workspace, routes
        self.env = SimpleNamespace(runtime="local", services={})  # env.json, as far as read
        self.queries: list[str] = []

    def _client(self, name: str) -> httpx.Client:
        def handle(request: httpx.Request) -> httpx.Response:
            answer = self.routes.get(f"{name}{request.url.path}")
            if answer is None:
                return httpx.Response(500, json={"error": "boom"})
            body = answer(request) if callable(answer) else answer
            return httpx.Response(200, json=body)

        return httpx.Client(base_url=f"http://{name}", transport=httpx.MockTransport(handle))

    def ops(self) -> httpx.Client:
        return self._client("ops")

    deployer_config = RunView.deployer_config  # reads run_dir's state/ops/deployer.json

    def tool_export(self, tool: str) -> dict:
        with self._client(tool) as client:
            resp = client.get("/_admin/export")
            resp.raise_for_status()
            return resp.json()["state"]

    def prometheus(self, query: str, at: float | None = None) -> list:
        self.queries.append(query)
        return self.routes["prom-instant"]

    def prometheus_range(self, query: str, start: float, end: float, step: float = 1.0) -> list:
        self.queries.append(query)
        return self.routes["prom-range"]


@pytest.fixture
def fake(repo, tmp_path) -> tuple[FakeView, TaskState, str]:
    ws, base = repo["ws"], repo["base"]
    work = commit(ws, {"acme/api/app.py": "api v2\n"}, "agent: api change")
    run_dir = tmp_path / "run"
    (run_dir / "state" / "ops").mkdir(parents=True)
    (run_dir / "releases" / work / "migrations" / "versions").mkdir(parents=True)
    (run_dir / "releases" / work / "migrations" / "versions" / "a.py").write_text(
        'revision = "0001"\ndown_revision = None\n'
    )
    db = run_dir / "state" / "acme.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        conn.execute("INSERT INTO alembic_version VALUES ('0001')")
    (run_dir / "state" / "ops" / "deployer.json").write_text(
        json.dumps(
            {
                "workspace": str(ws),
                "releases": str(run_dir / "releases"),
                "state": str(run_dir / "state"),
                "base_release": base,
                "database_url": f"sqlite:///{db}",
                "services": {},
                "initial_order": [],
                "migrations_dir": "migrations/versions",
            }
        )
    )
    (run_dir / "state" / "agent-credentials.json").write_text(
        json.dumps({"tokens": {"slack": AGENT_SLACK_TOKEN}})
    )
    services = [
        {
            "service": s,
            "release": work if s == "api" else base,
            "deploy_id": "d-2",
            "instances": [{"instance": s, "status": "healthy", "release": None, "url": "x"}],
        }
        for s in ("api", "web", "worker", "payments", "ingress")
    ]
    agent_deploy = dep(
        "d-2", START + 10, ["api"], work, stages=rollout("api", START + 11, START + 30)
    ).model_dump()
    routes = {
        "ops/api/v1/services": {"services": services},
        "ops/api/v1/deploys": {"deploys": [agent_deploy]},
        "ops/api/v1/flags": {"flags": {"new_search": True}},
        "slack/_admin/export": {"tool": "slack", "seed": 3, "state": slack_export()},
        "prom-range": [],
        "prom-instant": [],
    }
    state = TaskState(task="t", base_commit=base, agent_started_at=START)
    return FakeView(run_dir, ws, routes), state, work


GOOD_GRADING = DevopsGrading.model_validate(
    {
        "deploy": {"services": ["api"]},
        "alerts": {"resolved": ["PaymentFailuresHigh"]},
        "tools": [
            {"kind": "slack_message", "channel": "deploys", "pattern": "search fix"},
            {"kind": "flag", "name": "new_search", "value": True},
        ],
    }
)


def test_grade_devops_full_marks(fake):
    view, state, work = fake
    checks = d.grade_devops(GOOD_GRADING, view, state, now=START + 600)
    by_name = {c.name: c for c in checks}
    assert all(c.dimension == "devops" for c in checks)
    assert set(by_name) == {
        "live: api",
        "migrations at head",
        "alerts: PaymentFailuresHigh resolved",
        "slack: #deploys",
        "flag: new_search",
        "deploys: no failed or rolled-back agent deploy",
        "alerts: no unexpected alert after the agent's first deploy",
    }
    assert all(c.score == 1 for c in checks), [c for c in checks if c.score < 1]
    assert by_name["live: api"].expected["contains"] == work
    assert by_name["migrations at head"].weight == 0  # the agent wrote no migration
    assert dimension_score(checks, "devops") == 1
    assert any(q.startswith("max_over_time(ALERTS") for q in view.queries)


def test_grade_devops_deducts_for_a_rolled_back_deploy_and_an_alert(fake):
    view, state, work = fake
    bad = dep("d-3", START + 100, ["web"], work, status="rolled_back", error="web: canary failed")
    view.routes["ops/api/v1/deploys"]["deploys"].append(bad.model_dump())
    view.routes["prom-range"] = [series("CanaryErrorRatioHigh", [START + 130], upstream="web")]
    checks = d.grade_devops(GOOD_GRADING, view, state, now=START + 600)
    penalties = {c.name: c for c in checks if c.penalty}
    assert all(c.score == 0 and c.weight > 0 for c in penalties.values())
    assert dimension_score(checks, "devops") == pytest.approx(1 - 0.25 - 0.5)


def test_grade_devops_with_nothing_positive_measures_production_health(fake):
    view, state, _ = fake
    grading = DevopsGrading.model_validate({"deploy": {"migrations_at_head": False}})
    checks = d.grade_devops(grading, view, state, now=START + 600)
    assert [c.name for c in checks if not c.penalty] == ["no deploy-breaking change"]
    assert dimension_score(checks, "devops") == 1
    view.routes["ops/api/v1/services"]["services"][1]["instances"][0]["status"] = "unhealthy"
    assert dimension_score(d.grade_devops(grading, view, state, now=START + 600), "devops") == 0


def test_an_unreachable_service_is_an_infra_error_not_a_zero(fake):
    view, state, _ = fake
    del view.routes["slack/_admin/export"]
    with pytest.raises(d.GradingInfraError, match="slack"):
        d.grade_devops(GOOD_GRADING, view, state, now=START + 600)
    view.routes["ops/api/v1/services"] = {"services": [{"release": "no service name"}]}
    with pytest.raises(d.GradingInfraError, match="unexpected shape"):
        d.grade_devops(GOOD_GRADING, view, state, now=START + 600)
