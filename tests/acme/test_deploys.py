"""Deploys in a live Acme run: the deployer's canary, analysis, promotion and rollback.

One run for the module; the tests go in order (good deploy, a deploy missing its migration,
a deploy breaking a hot path, flags, faults), each judged by what production, Prometheus and
Slack show, the way an on-call engineer would see it.
"""

from __future__ import annotations

import json
import re
import subprocess
import time

import httpx
import pytest
from slack_sdk import WebClient

from environments.acme.environment import ACME
from environments.runs import RunHandle, RunRequest
from environments.runtime.procs import run_processes
from mcp_servers.configs import CREDENTIALS_FILE, AgentCredentials
from prodbench.session import prepare_run, start_run, stop_run

SLACK_BOT = "xoxb-7301000000001-7301000000101-AcmeAgentBotLocalToken01"


class Ops:
    """The run as a test drives it: commits in the workspace, the deployer's API, what shows."""

    def __init__(self, env, paths):
        self.env, self.paths = env, paths
        request = RunRequest.model_validate_json(paths.request.read_text())
        self.vars = request.vars
        creds = AgentCredentials.read(paths.root / CREDENTIALS_FILE)
        self.ops = httpx.Client(
            base_url=env.services["ops"].url,
            headers={"Authorization": f"Bearer {creds.tokens['deploy']}"},
            timeout=60,
        )
        self.admin = httpx.Client(
            base_url=env.services["ops"].url,
            headers={"Authorization": f"Bearer {self.vars['ops_admin_token']}"},
            timeout=60,
        )
        self.prom = httpx.Client(base_url=env.services["prometheus"].url, timeout=10)
        tools = env.services["tools"]
        self.slack = WebClient(
            token=SLACK_BOT, base_url=f"http://{tools.host}:{tools.ports['slack']}/api/"
        )

    def git(self, *args: str) -> str:
        ws = self.paths.workspace
        return subprocess.run(
            ["git", "-C", str(ws), *args], check=True, capture_output=True, text=True
        ).stdout.strip()

    def commit(self, message: str, edits: dict[str, tuple[str, str]]) -> str:
        """Apply (old, new) replacements to files of the workspace and commit them."""
        for rel, (old, new) in edits.items():
            path = self.paths.workspace / rel
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
        raise AssertionError(f"deploy {deploy_id} still {d['status']} after {timeout}s")

    def live_release(self, service: str) -> str:
        return httpx.get(self.env.services[service].url + "/healthz", timeout=5).json()["release"]

    def firing(self, alert: str, since: float, labels: str = "") -> bool:
        resp = self.prom.get(
            "/api/v1/query_range",
            params={
                "query": f'ALERTS{{alertname="{alert}",alertstate="firing"{labels}}}',
                "start": since,
                "end": time.time(),
                "step": "1s",
            },
        )
        return bool(resp.json()["data"]["result"])

    def wait_firing(self, alert: str, since: float, labels: str = "", timeout: float = 90):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.firing(alert, since, labels):
                return time.time()
            time.sleep(1)
        raise AssertionError(f"{alert}{{{labels}}} did not fire within {timeout}s")

    def channel(self, name: str) -> list[str]:
        """Every message of a channel as text (attachments included), newest first."""
        channels = self.slack.conversations_list(types="public_channel", limit=200)["channels"]
        cid = next(c["id"] for c in channels if c["name"] == name)
        history = self.slack.conversations_history(channel=cid, limit=200)["messages"]
        return [json.dumps(m) for m in history]

    def wait_message(self, channel: str, pattern: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [m for m in self.channel(channel) if re.search(pattern, m)]
            if found:
                return found[0]
            time.sleep(1)
        raise AssertionError(f"no message matching {pattern!r} in #{channel}")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    runs_dir = tmp_path_factory.mktemp("deploy-runs")
    paths = prepare_run(ACME, runs_dir, seed=3, run_id="acme-deploys")
    result = start_run(paths)
    handle = RunHandle(paths)
    try:
        assert result.status == "healthy", result.error
        yield Ops(result.env, paths)
    finally:
        stop_run(handle)
        assert run_processes(handle.run_id) == []


def test_the_initial_deploy_went_through_the_deployer(run):
    deploys = run.ops.get("/api/v1/deploys").json()["deploys"]
    initial = deploys[-1]
    assert initial["id"] == "d-1" and initial["kind"] == "initial"
    assert initial["status"] == "succeeded"
    assert [s["name"] for s in initial["stages"]] == ["build", "checks", "migrate", "start"]
    assert all(s["status"] == "passed" and s["seconds"] is not None for s in initial["stages"])
    services = {s["service"]: s for s in run.ops.get("/api/v1/services").json()["services"]}
    assert set(services) == {"payments", "api", "worker", "web", "ingress"}
    assert {s["release"] for s in services.values()} == {run.vars["release"]}
    assert run.live_release("api") == run.vars["release"]
    run.wait_message("deploys", r"Initial deploy d-1 .* succeeded")


def test_bad_requests_get_clear_errors(run):
    assert run.ops.post("/api/v1/deploys", json={"services": ["nope"]}).status_code == 404
    bad_ref = run.ops.post("/api/v1/deploys", json={"services": ["api"], "ref": "no-such"})
    assert bad_ref.status_code == 400 and "names no commit" in bad_ref.json()["error"]
    empty = run.ops.post("/api/v1/deploys", json={"services": []})
    assert empty.status_code == 400 and "services" in empty.json()["error"]
    not_json = run.ops.post("/api/v1/deploys", content=b"{")
    assert not_json.status_code == 400
    assert httpx.get(run.env.services["ops"].url + "/api/v1/deploys").status_code == 401
    assert run.ops.get("/api/v1/deploys/d-999").status_code == 404
    assert run.ops.get("/api/v1/deploys", params={"limit": "x"}).status_code == 400


def test_a_good_commit_is_promoted_with_no_alert(run):
    sha = run.commit(
        "Products: say which release served the list",
        {
            "acme/api/routes/health.py": (
                '"schema_revision": schema,',
                '"schema_revision": schema,\n        "served_by": "canary-tested build",',
            )
        },
    )
    started = time.time()
    d = run.deploy(["api"], sha)
    assert d["status"] == "succeeded", (d, run.ops.get(f"/api/v1/deploys/{d['id']}/logs").json())
    names = [s["name"] for s in d["stages"]]
    assert names == ["build", "checks", "migrate", "canary:api", "analysis:api", "promote:api"]
    assert run.live_release("api") == sha
    logs = run.ops.get(f"/api/v1/deploys/{d['id']}/logs", params={"tail": 500}).json()["lines"]
    # The canary answered its hot paths once, directly, before taking any traffic.
    warm = [line for line in logs if "warm-up:" in line]
    assert warm and re.search(r"warm-up: (\d+)/\1 hot paths", warm[0]), logs
    assert logs.index(warm[0]) < next(i for i, line in enumerate(logs) if "check 1/" in line)
    health = httpx.get(run.env.services["api"].url + "/healthz").json()
    assert health["served_by"] == "canary-tested build"
    instances = [
        i["instance"]
        for s in run.ops.get("/api/v1/services").json()["services"]
        for i in s["instances"]
    ]
    assert "api-canary" not in instances
    assert d["seconds"] < 60
    run.wait_message("deploys", rf"Deploy {d['id']} of api at `{sha[:8]}` succeeded")
    time.sleep(3)
    firing = run.prom.get("/api/v1/query", params={"query": 'ALERTS{alertstate="firing"}'}).json()[
        "data"
    ]["result"]
    assert firing == [], f"alerts fired after a good deploy: {firing}"
    assert not run.firing("CanaryErrorRatioHigh", started)


def test_a_commit_missing_its_migration_errors_in_production_and_alerts(run):
    good = run.live_release("api")
    sha = run.commit(
        "Products: a badge for featured products",
        {
            "acme/models/catalog.py": (
                "    rating_count: Mapped[int] = mapped_column(Integer, default=0)\n",
                (
                    "    rating_count: Mapped[int] = mapped_column(Integer, default=0)\n"
                    "    badge: Mapped[str | None] = mapped_column(String(40), nullable=True)\n"
                ),
            )
        },
    )
    started = time.time()
    d = run.deploy(["api"], sha)
    logs = run.ops.get(f"/api/v1/deploys/{d['id']}/logs", params={"tail": 500}).json()["lines"]
    assert d["status"] == "rolled_back", (d, logs)
    analysis = next(s for s in d["stages"] if s["name"] == "analysis:api")
    assert analysis["status"] == "failed" and "error ratio" in analysis["detail"]
    assert run.live_release("api") == good
    canary_log = (run.paths.logs / "api-canary.log").read_text()
    assert "no such column: products.badge" in canary_log
    run.wait_firing("CanaryErrorRatioHigh", started, ',upstream="api"')
    run.wait_message("alerts", r"CanaryErrorRatioHigh")
    run.wait_message("deploys", rf"Deploy {d['id']} of api .* rolled back")


def test_a_commit_breaking_a_hot_path_is_rolled_back_and_alerts(run):
    sha = run.commit(
        "Web: faster home page",
        {
            "acme/web/views.py": (
                "async def home(request: Request) -> Response:\n",
                (
                    "async def home(request: Request) -> Response:\n"
                    '    raise RuntimeError("home page cache not warmed")\n'
                ),
            )
        },
    )
    before = run.live_release("web")
    started = time.time()
    d = run.deploy(["web"], sha)
    logs = run.ops.get(f"/api/v1/deploys/{d['id']}/logs", params={"tail": 500}).json()["lines"]
    assert d["status"] == "rolled_back", "\n".join(logs)
    assert run.live_release("web") == before
    assert "web: canary analysis failed" in d["error"]
    # The load tester reached the canary on the home page, whatever live traffic did.
    load = [line for line in logs if "load test:" in line]
    assert load and not load[0].endswith(" 0 failed"), logs
    # Its warm-up met the broken home page too; the warm-up judges nothing, the analysis does.
    warm = [m for line in logs if (m := re.search(r"warm-up: (\d+)/(\d+)", line))]
    assert warm and warm[0][1] != warm[0][2], logs
    run.wait_firing("CanaryErrorRatioHigh", started, ',upstream="web"')
    run.wait_message("deploys", rf"Deploy {d['id']} of web .* rolled back")
    home = httpx.get(run.env.services["ingress"].url + "/", timeout=10)
    assert home.status_code == 200  # stable serves the home page again


def test_flag_changes_and_restarts_go_through_the_deployer_audited(run):
    resp = run.ops.put("/api/v1/flags/reviews_enabled", json={"value": False})
    assert resp.status_code == 200, resp.text
    flags_file = json.loads((run.paths.state / "flags.json").read_text())
    assert flags_file["flags"]["reviews_enabled"] is False
    assert run.ops.get("/api/v1/flags").json()["flags"]["reviews_enabled"] is False
    assert run.ops.put("/api/v1/flags/bad name", json={"value": 1}).status_code in (400, 404)
    restart = run.ops.post("/api/v1/services/worker/restart").json()
    assert restart["status"] == "succeeded" and restart["kind"] == "restart"
    kinds = [d["kind"] for d in run.ops.get("/api/v1/deploys").json()["deploys"][:2]]
    assert kinds == ["restart", "flag"]
    run.wait_message("deploys", r"Flag reviews_enabled set to `False`")


def test_worker_and_payments_roll_out_with_their_own_strategies(run):
    sha = run.commit(
        "Docs: how payments and the worker are deployed",
        {"README.md": ("# ", "# Deploys: worker canaries, payments in place.\n\n# ")},
    )
    d = run.deploy(["worker", "payments"], sha)
    logs = run.ops.get(f"/api/v1/deploys/{d['id']}/logs", params={"tail": 500}).json()["lines"]
    assert d["status"] == "succeeded", (d, logs)
    names = [s["name"] for s in d["stages"]]
    assert names[3:] == [
        "canary:worker",
        "analysis:worker",
        "promote:worker",
        "replace:payments",
        "bake:payments",
    ]
    assert run.live_release("worker") == sha and run.live_release("payments") == sha
    services = {s["service"]: s for s in run.ops.get("/api/v1/services").json()["services"]}
    assert services["payments"]["release"] == sha
    assert [i["instance"] for i in services["worker"]["instances"]] == ["worker"]


def test_injected_payment_failures_fire_the_payment_alert_within_30s(run):
    resp = run.admin.post("/api/v1/faults", json={"kind": "payments_errors", "rate": 1.0})
    assert resp.status_code == 201, resp.text
    fault = resp.json()["fault"]
    assert run.ops.get("/api/v1/faults").status_code == 401  # the agent cannot inject faults
    started = time.time()
    try:
        fired_at = run.wait_firing("PaymentFailuresHigh", started, timeout=45)
        assert fired_at - started <= 30, f"fired after {fired_at - started:.0f}s"
    finally:
        assert run.admin.delete(f"/api/v1/faults/{fault['id']}").status_code == 200
