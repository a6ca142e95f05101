"""`prodbench up --runtime docker` end to end: a run as its own compose project, used from the host.

One `up` for the module, through the CLI as a person types it. From the host, through the ports
the run's env.json names: the storefront through the ingress, the MCP gateway with the official
`mcp` client, a tool's admin API with the run's own admin token (as graders read it from the
run directory), Prometheus scraping every app service, the deployer's record of the initial
deploy. Then `prodbench down` must leave no container, network, volume or image of the run. A
second, deliberately failing `up` checks the error names what failed and nothing is left.

Without a registry the infrastructure images are local stand-ins (`make test-docker` builds
them with scripts/docker/standins.sh); no stand-in override is needed, the tags are the same.
"""

from __future__ import annotations

import html
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from mcp import Client

from environments.runs import EnvInfo, RunPaths
from environments.runtime.docker import ComposeRun, project_name
from graders.runview import RunView
from tests.docker.compose_project import COMPOSE_DIR, compose_document, run

pytestmark = [pytest.mark.docker, pytest.mark.timeout(1800)]

PRODBENCH = [sys.executable, "-m", "prodbench"]
APP = ("payments", "api", "worker", "web", "ingress")
MODERN, LEGACY = "auto", "legacy"


@dataclass
class DockerRun:
    run_id: str
    runs_dir: Path
    paths: RunPaths
    env: EnvInfo
    seconds: float

    @property
    def project(self) -> ComposeRun:
        return ComposeRun.load(self.paths)

    def url(self, service: str) -> str:
        url = self.env.services[service].url
        assert url and url.startswith("http://127.0.0.1:"), (service, url)
        return url

    def exec(self, service: str, *argv: str) -> str:
        return run(["docker", "exec", self.project.states()[service].id, *argv], 60)


def prodbench(*args: str, timeout: float = 1500) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PRODBENCH_RUNS_DIR"}
    return subprocess.run(
        [*PRODBENCH, *args], capture_output=True, text=True, timeout=timeout, env=env, check=False
    )


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def docker_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DockerRun]:
    runs_dir = tmp_path_factory.mktemp("docker-runs")
    run_id = f"dockertest-{uuid.uuid4().hex[:8]}"
    started = time.monotonic()
    up = prodbench("up", "--runtime", "docker", "--runs-dir", str(runs_dir), "--run-id", run_id)
    seconds = time.monotonic() - started
    try:
        assert up.returncode == 0, f"up failed:\n{up.stdout}\n{up.stderr}"
        paths = RunPaths(runs_dir / run_id)
        env = EnvInfo.model_validate_json(paths.env_json.read_text())
        print(f"\nprodbench up --runtime docker: {seconds:.1f} s")
        yield DockerRun(run_id, runs_dir, paths, env, seconds)
    finally:
        prodbench("down", run_id, "--runs-dir", str(runs_dir), timeout=300)


def test_up_waits_for_every_service_and_job_of_the_compose_file(docker_run: DockerRun) -> None:
    states = docker_run.project.states()
    committed = set(compose_document(COMPOSE_DIR / "acme.yaml")["services"])
    assert set(states) == committed | {"workspace"}  # the agent's container, from the override
    not_ready = {name: s.describe() for name, s in states.items() if not s.ready}
    assert not not_ready, not_ready
    assert states["db-init"].kind == "job" and states["db-init"].exit_code == 0
    assert docker_run.env.runtime == "docker" and docker_run.env.run_dir == str(
        docker_run.paths.root
    )
    assert docker_run.project.record.project == project_name(docker_run.run_id)
    status = prodbench(
        "status", docker_run.run_id, "--runs-dir", str(docker_run.runs_dir), "--json"
    )
    assert json.loads(status.stdout)["status"] == "healthy", status.stderr


def test_the_ingress_serves_the_storefront(docker_run: DockerRun) -> None:
    with httpx.Client(base_url=docker_run.url("ingress"), timeout=30, trust_env=False) as http:
        page = http.get("/products/1")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        product = http.get("/api/v1/products/1").json()
        # rendered by web from the api, both reached through the ingress
        assert html.escape(product["name"]) in page.text


@pytest.mark.anyio
async def test_the_mcp_gateway_answers_the_official_client(docker_run: DockerRun) -> None:
    servers = json.loads(docker_run.paths.mcp_json.read_text())["mcpServers"]
    gateway = docker_run.url("mcp")
    assert {"slack", "linear", "deploy", "monitoring"} <= set(servers)
    assert all(s["url"].startswith(f"{gateway}/") for s in servers.values())
    expected = {"slack": "slack_list_channels", "linear": "list_teams"}
    for name, mode in (("slack", MODERN), ("slack", LEGACY), ("linear", MODERN)):
        async with Client(servers[name]["url"], mode=mode) as client:
            tools = {t.name for t in (await client.list_tools()).tools}
        assert expected[name] in tools, (name, mode, sorted(tools))
    async with Client(servers["slack"]["url"]) as client:
        result = await client.call_tool("slack_list_channels", {"limit": 50})
    assert not result.is_error, result.content[0].text
    names = {c["name"] for c in result.structured_content["channels"]}
    assert {"#deploys", "#alerts"} <= names
    calls = docker_run.exec("mcp", "cat", "/srv/run/calls.jsonl")
    assert "slack_list_channels" in calls  # the call log is the run volume's


def test_a_tool_admin_api_takes_the_runs_admin_token(docker_run: DockerRun) -> None:
    view = RunView(docker_run.paths.root)  # what graders do: URLs and tokens from the run dir
    state = view.tool_export("slack")
    assert any(c["name"] == "deploys" for c in state["channels"]), list(state)[:5]
    wrong = httpx.get(f"{view.tool_url('slack')}/_admin/export", headers={"Authorization": "x"})
    assert wrong.status_code == 401
    with httpx.Client(base_url=docker_run.url("ingress"), trust_env=False) as http:
        token = view.vars["ingress_admin_token"]
        assert (
            http.get(
                "/_ingress/upstreams", headers={"Authorization": "Bearer change-me"}
            ).status_code
            == 401
        )
        table = http.get("/_ingress/upstreams", headers={"Authorization": f"Bearer {token}"})
        assert table.status_code == 200


def test_prometheus_has_every_app_service_up(docker_run: DockerRun) -> None:
    view = RunView(docker_run.paths.root)
    query = 'up{job=~"' + "|".join(APP) + '"}'
    deadline, found = time.monotonic() + 60, {}
    while time.monotonic() < deadline:
        found = {r["metric"]["job"]: r["value"][1] for r in view.prometheus(query)}
        if found == {job: "1" for job in APP}:
            break
        time.sleep(2)
    assert found == {job: "1" for job in APP}
    targets = {r["metric"]["instance"] for r in view.prometheus(query)}
    assert targets == {f"{job}:8000" for job in APP}  # containers by name, from file_sd


def test_the_deployer_has_the_initial_deploy_and_the_runtime_lists_the_app(
    docker_run: DockerRun,
) -> None:
    with RunView(docker_run.paths.root).ops() as ops:
        deploys = ops.get("/api/v1/deploys").json()["deploys"]
        services = {s["service"]: s for s in ops.get("/api/v1/services").json()["services"]}
    [initial] = deploys
    assert (initial["kind"], initial["status"], initial["actor"]) == (
        "initial",
        "succeeded",
        "prodbench",
    )
    assert set(initial["services"]) == set(APP)
    # The deployer's view of the runtime: every app service's container, on the release.
    release = RunView(docker_run.paths.root).vars["release"]
    assert set(services) == set(APP)
    for name, service in services.items():
        [instance] = service["instances"]
        assert instance["instance"] == name and instance["release"] == release, service
        assert instance["url"] == f"http://{name}:8000" and instance["status"] == "healthy"
    token = docker_run.exec("ops", "printenv", "PRODBENCH_RUNTIME_TOKEN").strip()
    probe = (
        "import urllib.request as u; r = u.Request('http://runtime:8000/v1/instances', "
        "headers={'Authorization': 'Bearer wrong'})\n"
        "try: u.urlopen(r)\nexcept Exception as e: print(e.code, e.read().decode())"
    )
    assert docker_run.exec("ops", "python", "-c", probe).startswith("401 ")
    assert token and token not in docker_run.exec("api", "env")


def test_the_run_volume_is_the_run_directory_and_keeps_its_secrets(docker_run: DockerRun) -> None:
    (docker_run.paths.root / "state" / "from-host.txt").write_text("hello\n")
    probe = (
        "import json, os; e = json.load(open(os.environ['PRODBENCH_ENV_JSON'])); "
        "d = json.load(open('/srv/run/state/ops/deployer.json')); "
        "print(open('/srv/run/state/from-host.txt').read().strip(), "
        "e['services']['tools']['host'], e['services']['ops']['url'], d['workspace'], "
        "d['database_url'].split('@')[1], os.access('/srv/run/run-request.json', os.R_OK), "
        "os.access('/srv/run/docker', os.R_OK))"
    )
    out = docker_run.exec("api", "python", "-c", probe).split()
    assert out == [
        "hello",
        "tools",
        "http://ops:8000",
        "/srv/run/workspace",
        "postgres:5432/acme",
        "False",
        "False",
    ]
    # The host's env.json is the host's view; the containers' one names containers.
    assert docker_run.env.services["ops"].url.startswith("http://127.0.0.1:")
    head = run(["git", "-C", str(docker_run.paths.workspace), "rev-parse", "HEAD"], 30).strip()
    assert (
        docker_run.exec("ops", "git", "-C", "/srv/run/workspace", "rev-parse", "HEAD").strip()
        == head
    )


def test_the_agents_workspace_container_has_the_monorepo_and_nothing_of_prodbench(
    docker_run: DockerRun,
) -> None:
    def inside(script: str) -> str:
        done = prodbench(
            "exec", docker_run.run_id, "--runs-dir", str(docker_run.runs_dir), "--",
            "sh", "-c", script,
        )  # fmt: skip
        assert done.returncode == 0, f"{script}: {done.stdout}{done.stderr}"
        return done.stdout.strip()

    host_head = run(["git", "-C", str(docker_run.paths.workspace), "rev-parse", "HEAD"], 30)
    assert inside("git rev-parse HEAD") == host_head.strip()
    assert inside("id -u; pwd") == "10001\n/workspace"
    # Nothing of prodbench: no sources, no task folders (hidden tests, oracles), no run dir,
    # no engine socket, no secret of the run in its environment.
    found = (
        "find / -xdev \\( -name '*_hidden.py' -o -name solve.py -o -name task.yaml \\) 2>/dev/null"
    )
    assert inside(f"{found}; ls /opt/prodbench /srv/run /var/run/docker.sock 2>&1 | wc -l") == "3"
    environment = inside("env")
    public = {"release", "release_tree", "python"}
    run_vars = RunView(docker_run.paths.root).vars
    leaked = [k for k, v in run_vars.items() if k not in public and v in environment]
    assert leaked == [], leaked
    # The MCP gateway by its container name, with the config the container is given.
    servers = json.loads(inside("cat $PRODBENCH_MCP_CONFIG"))["mcpServers"]
    assert servers["slack"]["url"] == "http://mcp:8000/slack/mcp"
    probe = "import urllib.request as u; print(u.urlopen('http://mcp:8000/healthz').status)"
    assert inside(f'python -c "{probe}"') == "200"
    # What the agent commits there is the run's workspace on the host (what the deployer builds).
    inside("git commit -q --allow-empty -m 'From the workspace container'")
    subject = run(["git", "-C", str(docker_run.paths.workspace), "log", "-1", "--format=%s"], 30)
    assert subject.strip() == "From the workspace container"


def test_a_command_agent_works_inside_the_workspace_container(
    docker_run: DockerRun, tmp_path: Path
) -> None:
    from environments.runtime.docker import AGENT_DIR, workspace_container_id
    from prodbench.agents.base import AgentContext, WorkspaceContainer
    from prodbench.agents.command import CommandAgent

    box = WorkspaceContainer(id=workspace_container_id(docker_run.paths))
    (docker_run.paths.root / AGENT_DIR / "prompt.md").write_text("Fix checkout.\n")
    read_url = (
        "import json, sys; print(json.load(open(sys.argv[1]))['mcpServers']['deploy']['url'])"
    )
    script = (
        f'id -u; pwd; cat {{prompt_file}}; python -c "{read_url}" {{mcp_config}}; '
        'echo "$AGENT_KEY"; echo "${OPS_ADMIN_TOKEN:-none}"; sleep 300 & echo started'
    )
    agent = CommandAgent(["sh", "-c", script], name="probe", env={"AGENT_KEY": "k-123"})
    ctx = AgentContext(
        task_id="t",
        prompt="Fix checkout.",
        workspace=docker_run.paths.workspace,
        prompt_file=tmp_path / "prompt.md",
        mcp_config=docker_run.paths.mcp_json,
        time_limit=60,
        output_dir=tmp_path / "agent",
        container=box,
    )
    os.environ["OPS_ADMIN_TOKEN"] = "must-not-reach-the-agent"
    try:
        outcome = agent.run(ctx)
    finally:
        del os.environ["OPS_ADMIN_TOKEN"]
    assert outcome.status == "completed", outcome.message
    assert outcome.trajectory.read_text().splitlines() == [
        "10001",
        "/workspace",
        "Fix checkout.",
        "http://mcp:8000/deploy/mcp",
        "k-123",
        "none",
        "started",
    ]
    # What the agent left running in its container ended with it.
    left = (
        "import glob\nfound = []\nfor p in glob.glob('/proc/[0-9]*/cmdline'):\n"
        "    try: found += [open(p, 'rb').read()]\n    except OSError: pass\n"
        "print(any(c.startswith(b'sleep\\x00300') for c in found))"
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            answer = docker_run.exec("workspace", "python", "-c", left).strip()
            break
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)
    assert answer == "False"


def test_logs_come_from_the_containers(docker_run: DockerRun) -> None:
    logs = prodbench(
        "logs", docker_run.run_id, "api", "-n", "5", "--runs-dir", str(docker_run.runs_dir)
    )
    assert logs.returncode == 0 and logs.stdout.count("api") >= 1, logs.stderr


def test_down_leaves_no_container_network_volume_or_image(docker_run: DockerRun) -> None:
    project = docker_run.project
    images = list(project.record.images)
    release = RunView(docker_run.paths.root).vars["release"]
    assert len(images) == 6 and all(i.endswith(f":{release[:12]}") for i in images), images
    mounted = set(
        run(
            [
                "docker",
                "inspect",
                "-f",
                '{{range .Mounts}}{{if eq .Type "volume"}}{{.Name}} {{end}}{{end}}',
                *[s.id for s in project.states().values()],
            ],
            30,
        ).split()
    )
    started = time.monotonic()
    down = prodbench("down", docker_run.run_id, "--runs-dir", str(docker_run.runs_dir), timeout=300)
    print(f"\nprodbench down: {time.monotonic() - started:.1f} s")
    assert down.returncode == 0 and "stopped" in down.stdout, down.stderr
    assert project.leftovers() == {"containers": [], "networks": [], "volumes": []}
    assert not mounted & set(run(["docker", "volume", "ls", "-q"], 30).split())
    present = run(["docker", "images", "--format", "{{.Repository}}:{{.Tag}}"], 30).split()
    assert not set(images) & set(present), "the run's images survive down"
    listed = prodbench("ls", "--runs-dir", str(docker_run.runs_dir), "--json")
    assert {r["run_id"]: r["status"] for r in json.loads(listed.stdout)} == {
        docker_run.run_id: "stopped"
    }
    again = prodbench("down", docker_run.run_id, "--runs-dir", str(docker_run.runs_dir))
    assert "already stopped" in again.stdout


def test_a_failed_up_names_what_failed_and_leaves_nothing(tmp_path: Path) -> None:
    run_id = f"dockerfail-{uuid.uuid4().hex[:8]}"
    up = prodbench(
        "up",
        "--runtime",
        "docker",
        "--runs-dir",
        str(tmp_path),
        "--run-id",
        run_id,
        "--timeout",
        "3",
    )
    assert up.returncode == 1
    assert "failed to start" in up.stderr and "no answer within 3 s" in up.stderr, up.stderr
    assert "its last lines:" in up.stderr or "not created:" in up.stderr, up.stderr
    project = ComposeRun.load(RunPaths(tmp_path / run_id))
    assert project.record.status == "failed"
    assert project.leftovers() == {"containers": [], "networks": [], "volumes": []}
