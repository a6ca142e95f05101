"""compose/ rendered from the stack spec: no drift, a faithful mapping, files compose accepts."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml
from typer.testing import CliRunner

from environments.runtime.compose import (
    COMPOSE_DIR,
    REPO_ROOT,
    ComposeError,
    builtin_stack,
    drift,
    main_port,
    render_stack,
    write,
)
from environments.stack import StackSpec

RENDER_HINT = "run `prodbench compose render` and commit compose/"
INFRA_IMAGES = {"postgres": "postgres:16", "redis": "redis:7", "minio": "minio/minio:"}
DOCKERFILES = sorted((COMPOSE_DIR / "docker").glob("*.Dockerfile"))


@pytest.fixture(scope="module")
def spec() -> StackSpec:
    return builtin_stack("acme")


@pytest.fixture(scope="module")
def files(spec) -> dict[str, str]:
    return render_stack(spec)


@pytest.fixture(scope="module")
def doc(files) -> dict:
    return yaml.safe_load(files["acme.yaml"])


def test_committed_files_match_the_stack_spec(files):
    stale = drift(files, COMPOSE_DIR, "acme")
    assert not stale, f"compose/ differs from the stack spec in {stale}: {RENDER_HINT}"


def test_rendering_is_deterministic(spec, files):
    assert render_stack(spec) == files
    assert "version" not in yaml.safe_load(files["acme.yaml"])  # read by compose v2 and 1.29


def test_every_stack_service_is_a_compose_service_beside_official_infrastructure(spec, doc):
    services = doc["services"]
    assert {s.name for s in spec.services} <= set(services)
    for name, image in INFRA_IMAGES.items():
        assert services[name]["image"].startswith(image) and "build" not in services[name]
    assert services["prometheus"]["image"].startswith("prom/prometheus:")
    assert services["alertmanager"]["image"].startswith("prom/alertmanager:")
    extra = {*INFRA_IMAGES, "minio-init", "runtime"}  # runtime: the control API's stand-in
    assert set(services) - {s.name for s in spec.services} == extra


def test_services_reach_each_other_by_name_on_fixed_ports(doc, files):
    services = doc["services"]
    assert services["ingress"]["environment"]["ACME_API_URL"] == "http://api:8000"
    assert services["api"]["environment"]["ACME_API_URL"] == "http://ingress:8000"
    assert "http://ingress:8000" in services["traffic"]["command"]
    assert services["api"]["environment"]["SENTRY_DSN"].split("@")[1].startswith("tools:8004/")
    assert services["tools"]["ports"] == [f"127.0.0.1::{p}" for p in range(8000, 8006)]
    assert "--web.listen-address=0.0.0.0:9090" in services["prometheus"]["command"]
    assert "targets: ['alertmanager:9093']" in files["acme/config/prometheus/prometheus.yml"]
    alertmanager = files["acme/config/state/alertmanager/alertmanager.yml"]
    assert "api_url: 'http://tools:8001/services/" in alertmanager


def test_no_loopback_url_host_path_or_run_directory_leaks(doc, files):
    leaks = ("127.0.0.1", "localhost", str(REPO_ROOT), sys.executable, "runs/", "RUN_ID")
    texts = [text for path, text in files.items() if path.startswith("acme/config/")]
    for svc in doc["services"].values():  # healthchecks probe loopback inside the container
        texts += [str(svc.get(k, "")) for k in ("command", "environment", "working_dir", "volumes")]
    # ... and the gateway accepts the Host header of its published loopback port, on purpose.
    gateway = doc["services"]["mcp"]["command"]
    allowed = [gateway[i + 1] for i, arg in enumerate(gateway) if arg == "--allow-host"]
    assert allowed == ["127.0.0.1:*", "localhost:*", "mcp:8000"]
    texts = [t.replace("'127.0.0.1:*'", "").replace("'localhost:*'", "") for t in texts]
    found = {leak for leak in leaks for text in texts if leak in text}
    assert not found, f"host-specific values in compose files: {found}"


def test_every_service_listens_beyond_its_container_loopback(spec, doc):
    for svc in spec.services:
        if svc.ports and svc.kind == "service":
            command = " ".join(doc["services"][svc.name]["command"])
            assert "0.0.0.0" in command, f"{svc.name} would listen on its own loopback only"


def test_official_images_that_write_the_run_volume_run_as_its_owner(doc):
    for name, svc in doc["services"].items():
        mounts_run = "run:/srv/run" in svc.get("volumes", [])
        if "build" not in svc and mounts_run:
            assert svc.get("user") == "10001:10001", name
    users = {n: s["user"] for n, s in doc["services"].items() if "user" in s}
    # The runtime service drives the engine's socket: root in that one container only.
    assert users == {"prometheus": "10001:10001", "alertmanager": "10001:10001", "runtime": "0:0"}


def test_the_deployer_gets_a_runtime_api_and_starts_after_the_app(spec, doc):
    ops = doc["services"]["ops"]
    assert (
        ops["environment"]["PRODBENCH_RUNTIME_URL"]
        == "${PRODBENCH_RUNTIME_URL:-http://runtime:8000}"
    )
    assert ops["environment"]["PRODBENCH_RUNTIME_TOKEN"].startswith("${PRODBENCH_RUNTIME_TOKEN:?")
    on_request = {s.name for s in spec.services if s.start == "on-request"}
    assert on_request == {"payments", "api", "worker", "web", "ingress"}
    assert set(ops["depends_on"]) == on_request | {"runtime"}
    assert all(d == {"condition": "service_healthy"} for d in ops["depends_on"].values())
    runtime = doc["services"]["runtime"]
    assert runtime["command"][:3] == ["python", "-m", "environments.runtime.docker_control"]
    assert runtime["environment"] == {
        "PRODBENCH_RUNTIME_TOKEN": ops["environment"]["PRODBENCH_RUNTIME_TOKEN"],
        "PRODBENCH_APP_IMAGE": "prodbench/acme-app:${PRODBENCH_IMAGE_TAG:-local}",
        "PRODBENCH_RELEASE": "${PRODBENCH_RELEASE:-dev}",
    }
    assert runtime["volumes"] == [
        "run:/srv/run",
        "${PRODBENCH_DOCKER_SOCKET:-/var/run/docker.sock}:/var/run/docker.sock",
    ]
    assert "ports" not in runtime  # reached by the deployer only, inside the network
    # No other container gets the engine's socket.
    socket = [
        n
        for n, s in doc["services"].items()
        if any("docker.sock" in v for v in s.get("volumes", []))
    ]
    assert socket == ["runtime"]


def test_the_runtime_api_answers_health_unauthenticated_and_nothing_else(tmp_path):
    import asyncio

    import httpx

    from environments.runtime.control import ControlAPI, ControlServer
    from environments.runtime.docker_control import DockerRuntime, _WithHealth

    async def scenario() -> tuple[httpx.Response, httpx.Response]:
        runtime = DockerRuntime(None, "p", "prodbench/acme-app:abc", "abc")  # type: ignore[arg-type]
        server = ControlServer(_WithHealth(ControlAPI(runtime, "right")))  # type: ignore[arg-type]
        await server.start("127.0.0.1", 0)
        port = server._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
                health = await http.get("/healthz")
                wrong = await http.get("/v1/instances", headers={"Authorization": "Bearer no"})
        finally:
            await server.close()
        return health, wrong

    health, wrong = asyncio.run(scenario())
    assert health.json() == {"status": "ok", "service": "runtime", "runtime": "docker"}
    assert wrong.status_code == 401 and "invalid bearer token" in wrong.json()["error"]


def test_a_release_image_is_the_release_on_the_runs_app_image(tmp_path):
    import io
    import tarfile

    from environments.runtime.docker_control import DOCKERFILE, DockerRuntime

    releases = tmp_path / "releases"
    for sha, requirements in (("base", "fastapi\n"), ("same", "fastapi\n"), ("new", "rich\n")):
        (releases / sha / "acme" / "__pycache__").mkdir(parents=True)
        (releases / sha / "acme" / "app.py").write_text("print('hi')\n")
        (releases / sha / "acme" / "__pycache__" / "app.pyc").write_bytes(b"x")
        (releases / sha / ".venv" / "bin").mkdir(parents=True)
        (releases / sha / "requirements.txt").write_text(requirements)
    runtime = DockerRuntime(None, "p", "prodbench/acme-app:base12", "base", tmp_path)  # type: ignore[arg-type]
    assert runtime._image("base") == "prodbench/acme-app:base12"  # the first release: no build

    def context(sha: str) -> tuple[set[str], str]:
        with tarfile.open(fileobj=io.BytesIO(runtime._context(releases / sha))) as tar:
            names = set(tar.getnames())
            dockerfile = tar.extractfile(DOCKERFILE).read().decode()  # type: ignore[union-attr]
        return names, dockerfile

    names, dockerfile = context("same")
    assert names == {
        "acme",
        "acme/app.py",
        "acme/__pycache__",
        "acme/__pycache__/app.pyc",
        "requirements.txt",
        DOCKERFILE,
    }
    assert dockerfile.startswith("FROM prodbench/acme-app:base12\n")
    assert "COPY . /app" in dockerfile and "pip install" not in dockerfile
    assert dockerfile.rstrip().endswith("USER 10001:10001")
    _, changed = context("new")
    assert "RUN pip install -r /app/requirements.txt" in changed


def test_healthchecks_follow_the_spec(spec, doc):
    for svc in spec.services:
        check = doc["services"][svc.name].get("healthcheck")
        if svc.health.kind == "none":
            assert check is None, svc.name
            continue
        assert check["retries"] == svc.health.failure_threshold
        assert check["interval"] == f"{max(svc.health.live_interval, 5):g}s"
        assert check["start_period"] == f"{svc.health.startup_timeout:g}s"
        probe = " ".join(check["test"])
        if svc.docker and svc.docker.image:  # official images: their own wget
            assert f"127.0.0.1:{main_port(svc)}{svc.health.path}" in probe
        else:
            assert check["test"][:4] == ["CMD", "python", "-S", "-c"]
            assert f"('127.0.0.1', {main_port(svc)})" in probe
            assert f"GET {svc.health.path} HTTP/1.0" in probe


def test_the_health_probe_passes_on_2xx_and_fails_otherwise(tmp_path):
    import subprocess
    import sys
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from environments.runtime.compose import http_probe

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/healthz" else 503)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    try:
        for path, code in (("/healthz", 0), ("/broken", 1)):
            probe = http_probe(port, path, 1.0)
            done = subprocess.run(
                [sys.executable, "-S", "-c", probe], capture_output=True, check=False
            )
            assert done.returncode == code, (path, done.stderr)
    finally:
        server.shutdown()
        server.server_close()


def test_depends_on_waits_for_health_and_for_jobs_to_succeed(spec, doc):
    for svc in spec.services:
        depends = doc["services"][svc.name].get("depends_on", {})
        for dep in svc.depends_on:
            kind = spec.service(dep).kind
            want = "service_completed_successfully" if kind == "job" else "service_healthy"
            assert depends[dep] == {"condition": want}, (svc.name, dep)
    api = doc["services"]["api"]["depends_on"]
    assert api["postgres"] == api["redis"] == {"condition": "service_healthy"}
    assert api["minio-init"] == {"condition": "service_completed_successfully"}


def test_the_app_runs_on_postgres_redis_and_s3(doc, files):
    for name in ("db-init", "api", "worker", "web", "payments", "ingress"):
        env = doc["services"][name]["environment"]
        assert env["ACME_DATABASE_URL"].startswith("postgresql+psycopg://acme:")
        assert env["ACME_DATABASE_URL"].endswith("@postgres:5432/acme")
        assert env["ACME_PAYMENTS_DATABASE_URL"].endswith("@postgres:5432/payments")
        assert env["ACME_CACHE_URL"] == "redis://redis:6379/0"
        assert env["ACME_OBJECT_STORE"].startswith("s3://")
        assert env["ACME_S3_ENDPOINT_URL"] == "http://minio:9000"
    assert "sqlite" not in files["acme.yaml"]
    assert doc["services"]["db-init"]["command"][:3] == ["python", "-m", "acme.seed"]
    assert "CREATE DATABASE payments" in files["acme/postgres/10-payments.sql"]


def test_state_lives_in_named_volumes_and_configs_are_read_only(doc):
    volumes = set(doc["volumes"])
    assert {"run", "postgres-data", "redis-data", "minio-data"} <= volumes
    for name, svc in doc["services"].items():
        for mount in svc.get("volumes", []):
            source = mount.rsplit(":", 2)[0] if mount.endswith(":ro") else mount.split(":")[0]
            if source in volumes or mount.endswith(":/var/run/docker.sock"):
                continue
            source = re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", source)  # its default
            assert mount.endswith(":ro"), f"{name}: bind mount {mount} must be read-only"
            assert (COMPOSE_DIR / source).is_file(), f"{name}: {source} is not in compose/"


def test_secrets_are_required_variables_listed_in_the_env_example(files):
    compose = files["acme.yaml"]
    variables = dict(re.findall(r"(?<!\$)\$\{([A-Z0-9_]+)(:[-?][^}]*)?\}", compose))
    secret = re.compile(r"TOKEN|KEY|SECRET|PASSWORD")
    for name, rest in variables.items():
        if secret.search(name):
            assert rest.startswith(":?"), f"{name} must have no default: {rest}"
    listed = {line.split("=")[0] for line in files["acme.env.example"].splitlines() if "=" in line}
    assert listed == set(variables)


def test_dockerfiles_are_slim_non_root_with_healthchecks_and_dependencies_first():
    assert {p.name for p in DOCKERFILES} == {"app.Dockerfile", "prodbench.Dockerfile"}
    for path in DOCKERFILES:
        text = path.read_text()
        assert text.count("FROM python:3.11-slim") == 1, path.name
        assert "HEALTHCHECK" in text and (path.parent / f"{path.name}.dockerignore").is_file()
        for stage, lines in _stages(text).items():
            users = [line.split()[1] for line in lines if line.startswith("USER ")]
            assert users and users[-1].split(":")[0] not in ("root", "0"), (path.name, stage)
        copies = [line for line in text.splitlines() if line.startswith("COPY ")]
        before = [c for c in copies if text.index(c) < text.index("pip install")]
        assert before and all("requirements" in c or "pyproject" in c for c in before), path.name


def test_built_services_name_existing_dockerfiles_targets_and_the_healthcheck_port(spec, doc):
    for svc in spec.services:
        build = doc["services"][svc.name].get("build")
        if build is None:
            continue
        context = (COMPOSE_DIR / build["context"]).resolve()
        dockerfile = (context / build["dockerfile"]).resolve()
        assert dockerfile.is_file(), (svc.name, dockerfile)
        if "target" in build:
            assert build["target"] in _stages(dockerfile.read_text()), svc.name
        if svc.health.kind != "none":  # the image's own check probes where the spec's does
            assert f"127.0.0.1:{main_port(svc)}/healthz" in dockerfile.read_text(), svc.name


def test_render_refuses_what_compose_cannot_express():
    def stack(**service) -> StackSpec:
        base = {"name": "svc", "argv": ["{python}", "-m", "x"], "role": "tool"}
        return StackSpec.model_validate({"name": "t", "services": [{**base, **service}]})

    doc = yaml.safe_load(render_stack(stack(env={"PRICE": "$5"}))["t.yaml"])
    assert doc["services"]["svc"]["environment"] == {"PRICE": "$$5"}  # a literal dollar
    with pytest.raises(ComposeError, match="cannot hold per-run values"):
        render_stack(stack(files={"x.conf": "seed={seed}"}))
    with pytest.raises(ComposeError, match="has no image"):
        render_stack(stack(role="support"))
    fixed = stack(ports=[{"name": "http", "fixed": 18080}])
    assert yaml.safe_load(render_stack(fixed)["t.yaml"])["services"]["svc"]["ports"] == [
        "127.0.0.1:18080:8000"
    ]


def test_cli_renders_checks_and_prunes(tmp_path):
    from prodbench.cli import app

    runner = CliRunner()
    result = runner.invoke(app, ["compose", "render", "--check"])
    assert result.exit_code == 0, result.output
    assert runner.invoke(app, ["compose", "render", "--out", str(tmp_path)]).exit_code == 0
    (tmp_path / "acme" / "config" / "left-over.yml").write_text("old\n")
    (tmp_path / "acme.yaml").write_text("services: {}\n")
    result = runner.invoke(app, ["compose", "render", "--check", "--out", str(tmp_path)])
    assert result.exit_code == 1 and "prodbench compose render" in result.output
    assert "left-over.yml" in result.output and "acme.yaml" in result.output
    files = render_stack(builtin_stack("acme"))
    assert write(files, tmp_path, "acme") == ["acme.yaml", "acme/config/left-over.yml"]
    assert drift(files, tmp_path, "acme") == []


@pytest.mark.skipif(
    shutil.which("docker-compose") is None,
    reason="docker-compose is not installed (apt-get install docker-compose) to check the file",
)
def test_docker_compose_accepts_the_file_and_requires_the_secrets():
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRODBENCH_")}

    def config(*flags: str) -> subprocess.CompletedProcess:
        argv = ["docker-compose", *flags, "-f", "acme.yaml", "-p", "acme", "config", "-q"]
        return subprocess.run(
            argv, cwd=COMPOSE_DIR, env=env, capture_output=True, text=True, timeout=30, check=False
        )

    ok = config("--env-file", "acme.env.example")
    assert ok.returncode == 0, ok.stderr
    missing = config()
    assert missing.returncode != 0 and "see compose/README.md" in missing.stderr


def _stages(dockerfile: str) -> dict[str, list[str]]:
    """Each build stage's lines, a stage inheriting its base's (`FROM base AS x`)."""
    stages: dict[str, list[str]] = {}
    current: list[str] = []
    for raw in dockerfile.splitlines():
        line = raw.strip()
        if line.startswith("FROM "):
            words = line.split()
            name = words[3] if len(words) > 3 else f"stage{len(stages)}"
            current = list(stages.get(words[1], []))
            stages[name] = current
        current.append(line)
    return stages
