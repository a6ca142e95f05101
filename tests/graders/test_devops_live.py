"""grade_devops on a live Acme run: one run for the module, the tests in order.

The agent (the test, with the agent's own credentials) commits an api change, deploys it,
announces it in Slack and flips a flag: full marks. Then it deploys a web change that breaks
the home page; the canary is rolled back and its alert fires: both are deducted.
"""

from __future__ import annotations

import subprocess
import time

import httpx
import pytest
from slack_sdk import WebClient

from environments.acme.environment import ACME
from environments.runs import RunHandle
from environments.runtime.procs import run_processes
from graders.config import DevopsGrading
from graders.devops import agent_last_change, grade_devops
from graders.runview import RunView, TaskState
from graders.scoring import dimension_score
from mcp_servers.configs import CREDENTIALS_FILE, AgentCredentials
from prodbench.session import prepare_run, start_run, stop_run

GRADING = DevopsGrading.model_validate(
    {
        "deploy": {"services": ["api"]},
        "tools": [
            {"kind": "slack_message", "channel": "deploys", "pattern": "served_by is live"},
            {"kind": "flag", "name": "served_by_banner", "value": True},
        ],
    }
)


class Agent:
    """What an agent does to the run, with the agent's own credentials only."""

    def __init__(self, view: RunView):
        self.view = view
        creds = AgentCredentials.read(view.run_dir / CREDENTIALS_FILE)
        self.ops = httpx.Client(
            base_url=view.url("ops"),
            headers={"Authorization": f"Bearer {view.vars['agent_ops_key']}"},
            timeout=60,
        )
        self.slack = WebClient(
            token=creds.tokens["slack"], base_url=view.tool_url("slack") + "/api/"
        )

    def git(self, *args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(self.view.workspace), *args],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()

    def commit(self, rel: str, old: str, new: str, message: str) -> str:
        path = self.view.workspace / rel
        text = path.read_text()
        assert old in text, f"{old!r} not in {rel}"
        path.write_text(text.replace(old, new, 1))
        self.git("commit", "-qam", message)
        return self.git("rev-parse", "HEAD")

    def deploy(self, services: list[str], ref: str, timeout: float = 120) -> dict:
        resp = self.ops.post("/api/v1/deploys", json={"services": services, "ref": ref})
        assert resp.status_code == 202, resp.text
        deploy_id = resp.json()["id"]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            d = self.ops.get(f"/api/v1/deploys/{deploy_id}").json()
            if d["status"] not in ("queued", "running"):
                return d
            time.sleep(0.5)
        raise AssertionError(f"deploy {deploy_id} still running after {timeout}s")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    runs_dir = tmp_path_factory.mktemp("devops-runs")
    paths = prepare_run(ACME, runs_dir, seed=5, run_id="devops-grader")
    result = start_run(paths)
    handle = RunHandle(paths)
    try:
        assert result.status == "healthy", result.error
        view = RunView(paths.root)
        agent = Agent(view)
        state = TaskState(
            task="devops-live",
            base_commit=agent.git("rev-parse", "HEAD"),
            agent_started_at=time.time(),
        )
        view.write_task_state(state)
        yield view, agent, state
    finally:
        stop_run(handle)
        assert run_processes(handle.run_id) == []


def test_a_good_deploy_announced_and_flagged_gets_full_marks(run):
    view, agent, state = run
    before = grade_devops(GRADING, view, state)
    assert dimension_score(before, "devops") == 0  # nothing done yet: nothing earned
    assert agent_last_change(view, state) is None
    sha = agent.commit(
        "acme/api/routes/health.py",
        '"schema_revision": schema,',
        '"schema_revision": schema,\n        "served_by": "devops grader test",',
        "api: say who served the health check",
    )
    d = agent.deploy(["api"], sha)
    assert d["status"] == "succeeded", d
    assert agent.ops.put("/api/v1/flags/served_by_banner", json={"value": True}).status_code == 200
    agent.slack.chat_postMessage(channel="#deploys", text=f"api {sha[:8]}: served_by is live")
    # The flag change came last: it is when production last changed by the agent's hand.
    changed = agent_last_change(view, state)
    assert changed is not None and d["finished_at"] < changed <= time.time()

    started = time.monotonic()
    checks = grade_devops(GRADING, view, state)
    seconds = time.monotonic() - started
    failed = [c for c in checks if c.weight > 0 and c.score < 1]
    assert not failed, failed
    assert dimension_score(checks, "devops") == 1
    live = next(c for c in checks if c.name == "live: api")
    assert live.expected["contains"] == sha and live.observed == {"release": sha}
    assert seconds < 10, f"grading took {seconds:.1f}s"


def test_a_rolled_back_deploy_is_deducted(run):
    view, agent, state = run
    sha = agent.commit(
        "acme/web/views.py",
        "async def home(request: Request) -> Response:\n",
        "async def home(request: Request) -> Response:\n"
        '    raise RuntimeError("home page cache not warmed")\n',
        "web: faster home page",
    )
    d = agent.deploy(["web"], sha)
    assert d["status"] == "rolled_back", d
    checks = grade_devops(GRADING, view, state)
    deploys = next(c for c in checks if c.name.startswith("deploys:"))
    assert deploys.score == 0 and deploys.weight > 0
    assert [f["id"] for f in deploys.observed["failed"]] == [d["id"]]
    assert d["id"] in deploys.detail
    # The canary's errors fire CanaryErrorRatioHigh (`for: 10s`), read from Prometheus' ALERTS;
    # a burn-rate alert may fire first, so wait for this one, not for any.
    deadline = time.monotonic() + 60
    while True:
        checks = grade_devops(GRADING, view, state)
        alerts = next(c for c in checks if c.name.startswith("alerts: no unexpected"))
        fired = (alerts.observed or {}).get("unexpected", {}) if alerts.weight > 0 else {}
        if "CanaryErrorRatioHigh" in fired or time.monotonic() > deadline:
            break
        time.sleep(2)
    assert "CanaryErrorRatioHigh" in alerts.observed["unexpected"], alerts
    assert dimension_score(checks, "devops") == pytest.approx(1 - 0.25 - 0.5)
