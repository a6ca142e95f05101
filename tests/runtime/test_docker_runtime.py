"""The docker runtime's parts that need no engine: the docker-aware prepare, the env file, the
run volume's bind and permissions, the drift check and how container states are judged.

The engine-backed whole (`prodbench up --runtime docker`) is tests/docker/test_up_docker.py.
"""

from __future__ import annotations

import json
import stat

import pytest
import yaml

from environments.acme.environment import ACME, APP_SERVICES
from environments.ops.deployer.history import History
from environments.ops.deployer.models import DeployerConfig
from environments.runs import Endpoint, RunPaths, RunRequest, write_json_atomic
from environments.runtime import docker
from environments.runtime.compose import COMPOSE_DIR, compose_variables
from environments.runtime.docker_engine import ContainerState, DockerRunError
from environments.stacks import RunContext
from prodbench import session


@pytest.fixture(scope="module")
def prepared(tmp_path_factory) -> tuple[RunPaths, RunRequest]:
    """An Acme run directory prepared for docker, and its run request (no engine needed)."""
    paths = RunPaths(tmp_path_factory.mktemp("runs") / "acme-docker")
    paths.create()
    ctx = RunContext(paths, seed=0, runtime="docker")
    spec = ACME.stack(ctx)
    request = RunRequest(
        run_id=paths.run_id, seed=0, stack=spec.model_dump(mode="json"), vars=ACME.prepare(ctx)
    )
    return paths, request


def test_the_session_finds_docker_runs_by_the_runtimes_record():
    assert session.DOCKER_RECORD == docker.RECORD
    assert docker.project_name("Acme_2026.11.21 x") == "prodbench-acme_2026-11-21-x"


def test_prepare_for_docker_writes_container_paths_targets_and_the_initial_deploy(prepared):
    paths, request = prepared
    config = DeployerConfig.model_validate_json((paths.state / "ops/deployer.json").read_text())
    assert str(config.workspace) == "/srv/run/workspace"
    assert str(config.prometheus_targets) == "/srv/run/prometheus/targets"
    password = request.vars["postgres_password"]
    assert config.database_url == f"postgresql+psycopg://acme:{password}@postgres:5432/acme"
    for name in APP_SERVICES:
        target = json.loads((paths.prometheus / "targets" / f"{name}.json").read_text())
        assert target == [{"targets": [f"{name}:8000"], "labels": {"replica": name}}]
    history = History(paths.state / "ops")
    [initial] = history.list()
    assert (initial.kind, initial.status, initial.sha) == (
        "initial",
        "succeeded",
        request.vars["release"],
    )
    assert {s: r.sha for s, r in history.live().items()} == dict.fromkeys(APP_SERVICES, initial.sha)
    secrets = [request.vars[k] for k in ("postgres_password", "s3_access_key", "s3_secret_key")]
    assert len(set(secrets)) == 3 and all(len(s) == 32 for s in secrets)


def test_the_env_file_is_the_runs_own_values(prepared):
    paths, request = prepared
    text = (COMPOSE_DIR / "acme.yaml").read_text()
    run = docker.ComposeRun.create(paths, "acme")
    spec = docker.StackSpec.model_validate(request.stack)
    run._write_env_file(spec, text, request, tag="abc123")
    env_file = paths.root / docker.ENV_FILE
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    values = dict(line.split("=", 1) for line in env_file.read_text().splitlines())
    needed = {name for name, default in compose_variables(text).items() if default is None}
    assert needed <= set(values)
    assert "change-me" not in values.values()
    assert values["PRODBENCH_TOOLS_ADMIN_TOKEN"] == request.vars["tools_admin_token"]
    assert values["PRODBENCH_POSTGRES_PASSWORD"] == request.vars["postgres_password"]
    assert values["PRODBENCH_IMAGE_TAG"] == "abc123"
    prometheus = paths.root / "docker/acme/config/prometheus/prometheus.yml"
    assert values["PRODBENCH_CONFIG_DIR"] == str(prometheus.parents[1])
    assert f"run_id: {paths.run_id}" in prometheus.read_text()
    bare = request.model_copy(update={"vars": {"release": request.vars["release"]}})
    with pytest.raises(DockerRunError, match="PRODBENCH_TOOLS_ADMIN_TOKEN"):
        run._write_env_file(spec, text, bare, tag="abc123")


def test_a_run_whose_stack_the_committed_file_cannot_express_is_refused(prepared):
    paths, request = prepared
    run = docker.ComposeRun.load(paths)
    spec = docker.StackSpec.model_validate(request.stack)
    profile = docker.profile_for("acme")
    assert run._check_committed(spec, profile) == (COMPOSE_DIR / "acme.yaml").read_text()
    busy = ACME.stack(RunContext(paths, options={"traffic_users": "9"}, runtime="docker"))
    with pytest.raises(DockerRunError, match=r"\(services traffic\).*traffic settings"):
        run._check_committed(busy, profile)


def test_the_run_volume_binds_the_run_directory_and_keeps_its_secrets_from_containers(prepared):
    paths, request = prepared
    spec = docker.StackSpec.model_validate(request.stack)
    env = docker.container_env(spec, request)
    assert env.run_dir == "/srv/run" and env.services["ops"].url == "http://ops:8000"
    assert (env.services["tools"].host, env.services["tools"].ports["slack"]) == ("tools", 8001)
    run = docker.ComposeRun.load(paths)
    write_json_atomic(paths.request, request)  # as prepare_run writes it
    run._write_env_file(spec, (COMPOSE_DIR / "acme.yaml").read_text(), request, tag="abc123")
    run._write_override("prodbench/workspace:abc123")
    run._bind_run_volume(env)
    override = paths.root / docker.RUN_OVERRIDE_FILE
    assert str(override) in docker.ComposeRun.load(paths).record.compose_files
    document = yaml.safe_load(override.read_text())
    opts = document["volumes"]["run"]["driver_opts"]
    assert opts == {"type": "none", "o": "bind", "device": str(paths.root)}
    # The agent's container mounts the workspace and its MCP config, never the run directory.
    workspace = document["services"]["workspace"]
    assert workspace["image"] == "prodbench/workspace:abc123"
    assert workspace["volumes"] == [
        f"{paths.workspace}:/workspace",
        f"{paths.root / 'docker/agent'}:/agent:ro",
    ]
    assert "environment" not in workspace
    # Containers get env.json naming containers, mounted over the host's.
    inside = json.loads((paths.root / "docker/acme/config/env.json").read_text())
    assert inside["services"]["mcp"]["url"] == "http://mcp:8000"
    # What the images' uid writes is open to it; the secrets are the host user's alone.
    for name in ("state", "logs", "prometheus", "releases"):
        assert stat.S_IMODE((paths.root / name).stat().st_mode) == 0o777, name
    db = next((paths.root / "state").rglob("*.json"))
    assert stat.S_IMODE(db.stat().st_mode) & 0o666 == 0o666
    assert stat.S_IMODE(paths.request.stat().st_mode) == 0o600
    assert stat.S_IMODE((paths.root / "docker").stat().st_mode) == 0o700
    assert stat.S_IMODE((paths.root / "docker/compose.env").stat().st_mode) == 0o600


def test_container_states_fail_fast_only_when_waiting_cannot_help():
    def state(**fields) -> ContainerState:
        return ContainerState(**{"service": "api", "id": "c0ffee", "status": "running", **fields})

    assert state(health="healthy").ready and state(health="starting").problem is None
    assert state(health="unhealthy").problem == "api is unhealthy"
    assert state(status="exited", exit_code=1, will_restart=True).problem is None
    assert state(status="exited", exit_code=1).problem == "api exited 1"
    job = {"service": "db-init", "kind": "job", "status": "exited"}
    assert state(**job, exit_code=0).ready
    assert state(**job, exit_code=2).problem == "job db-init exited 2"


def test_the_cli_refuses_what_docker_runs_cannot_do_before_making_a_run(tmp_path):
    from typer.testing import CliRunner

    from prodbench.cli import app

    runner = CliRunner()
    base = ["up", "--runtime", "docker", "--runs-dir", str(tmp_path)]
    foreground = runner.invoke(app, [*base, "--foreground"])
    assert foreground.exit_code == 1 and "does not go with --foreground" in foreground.output
    stack = runner.invoke(app, [*base, "--stack", "ops"])
    said = " ".join(stack.output.split())
    assert stack.exit_code == 1 and "compose/ has none for stack 'ops' (it has: acme)" in said
    assert list(tmp_path.iterdir()) == []


def test_graders_read_a_docker_runs_deployer_config_from_the_host(prepared):
    from graders.runview import RunView

    paths, request = prepared
    write_json_atomic(paths.request, request)
    spec = docker.StackSpec.model_validate(request.stack)
    env = docker.container_env(spec, request)
    published = {**env.services, "postgres": Endpoint(host="127.0.0.1", ports={"5432": 40123})}
    write_json_atomic(paths.env_json, env.model_copy(update={"services": published}))
    cfg = RunView(paths.root).deployer_config()
    assert cfg.workspace == paths.workspace and cfg.releases == paths.releases
    assert "@127.0.0.1:40123/acme" in cfg.database_url
    inside = DeployerConfig.model_validate_json((paths.state / "ops/deployer.json").read_text())
    assert "@postgres:5432/acme" in inside.database_url  # what the deployer itself reads
