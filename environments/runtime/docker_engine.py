"""The Docker engine as the docker runtime uses it: its command lines and what it says.

Which CLIs to run (docker-compose 1.29 or the compose v2 plugin; a docker CLI that builds with
BuildKit), running them with errors that carry their output, and a compose project's containers
as typed states. Nothing here knows about runs; `docker.py` drives a run's project with it.
"""

from __future__ import annotations

import fcntl
import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from environments.paths import machine_state_dir

PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
VOLUME_LABEL = "com.docker.compose.volume"
KIND_LABEL = "io.prodbench.kind"  # job or service, set by the compose renderer


class DockerRunError(RuntimeError):
    """A docker run that could not start or stop; the message says what failed and why."""


def run_cmd(
    argv: list[str],
    timeout: float,
    env: dict[str, str] | None = None,
    what: str | None = None,
) -> str:
    """Run a docker command, return its stdout; raise with the tail of its output on failure."""
    what = what or " ".join(argv[:3])
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=timeout, env=env, check=False
        )
    except FileNotFoundError as exc:
        raise DockerRunError(f"{argv[0]} is not installed: {exc}") from exc
    except subprocess.TimeoutExpired as exc:
        raise DockerRunError(f"{what}: no answer within {timeout:.0f} s") from exc
    if done.returncode != 0:
        tail = "\n    ".join((done.stdout + done.stderr).strip().splitlines()[-20:])
        raise DockerRunError(f"{what} failed ({done.returncode}):\n    {tail}")
    return done.stdout


def compose_cli() -> list[str]:
    """docker-compose (1.29, Debian's) or the compose v2 plugin, whichever is here."""
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if shutil.which("docker"):
        probe = subprocess.run(
            ["docker", "compose", "version"], capture_output=True, timeout=20, check=False
        )
        if probe.returncode == 0:
            return ["docker", "compose"]
    raise DockerRunError(
        "neither docker-compose nor the docker compose plugin is installed "
        "(Debian/Ubuntu: apt-get install docker-compose; scripts/docker/engine.sh does it)"
    )


def build_cli() -> tuple[str, dict[str, str]]:
    """A docker CLI that builds with BuildKit and the environment it needs; else the classic.

    BuildKit alone reads `compose/docker/<name>.Dockerfile.dockerignore` and keeps its layer
    cache when an image is removed (so `down` removing a run's images costs no rebuild). A CLI
    from 23 on needs the buildx plugin for it, an older one (Debian's docker.io) has it built in.
    """
    found = [shutil.which("docker"), "/usr/bin/docker"]
    for cli in dict.fromkeys(c for c in found if c and Path(c).is_file()):
        probe = subprocess.run(
            [cli, "buildx", "version"], capture_output=True, timeout=20, check=False
        )
        if probe.returncode == 0:
            return cli, {}
        version = subprocess.run(
            [cli, "version", "--format", "{{.Client.Version}}"],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        ).stdout.strip()
        major = version.split(".", 1)[0]
        if major.isdigit() and 18 < int(major) < 23:
            return cli, {"DOCKER_BUILDKIT": "1"}
    return "docker", {"DOCKER_BUILDKIT": "0"}


def engine_problem() -> str | None:
    """Why no docker run can start here, or None."""
    if shutil.which("docker") is None:
        return "no docker CLI on PATH (Debian/Ubuntu: scripts/docker/engine.sh installs one)"
    try:
        compose_cli()
        run_cmd(["docker", "info", "--format", "{{.ServerVersion}}"], 20, what="docker info")
    except DockerRunError as exc:
        if "docker info" not in str(exc):
            return str(exc)
        last = str(exc).splitlines()[-1].strip()
        return f"no Docker engine answers ({last}); scripts/docker/engine.sh starts one"
    return None


@contextmanager
def build_lock() -> Iterator[None]:
    """One build at a time on this machine: a build takes every core it can get."""
    directory = machine_state_dir()
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / "docker-build.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


class ContainerState(BaseModel):
    """One container of a compose project, as `docker inspect` has it."""

    model_config = ConfigDict(extra="forbid")

    service: str
    id: str
    kind: str = "service"
    status: str
    health: str | None = None
    exit_code: int = 0
    will_restart: bool = Field(False, description="its restart policy brings it back")
    ports: dict[int, int] = Field(default_factory=dict, description="container -> host port")

    @property
    def ready(self) -> bool:
        if self.kind == "job":
            return self.status == "exited" and self.exit_code == 0
        return self.status == "running" and self.health in (None, "healthy")

    @property
    def problem(self) -> str | None:
        """Why this container will not become ready by waiting longer, or None."""
        if self.kind == "job":
            failed = self.status == "exited" and self.exit_code != 0
            return f"job {self.service} exited {self.exit_code}" if failed else None
        if self.status in ("exited", "dead") and not self.will_restart:
            return f"{self.service} exited {self.exit_code}"
        if self.health == "unhealthy":  # the engine does not restart an unhealthy container
            return f"{self.service} is unhealthy"
        return None

    def describe(self) -> str:
        if self.kind == "job" and self.status == "exited":
            return f"exited {self.exit_code}"
        return f"{self.status} ({self.health})" if self.health else self.status


def project_states(project: str) -> dict[str, ContainerState]:
    """Service name -> its container's state, for every container of a compose project."""
    ids = run_cmd(["docker", "ps", "-aq", "--filter", f"label={PROJECT_LABEL}={project}"], 30)
    if not ids.split():
        return {}
    states = {}
    for item in json.loads(run_cmd(["docker", "inspect", *ids.split()], 30)):
        labels = item["Config"].get("Labels") or {}
        service = labels.get(SERVICE_LABEL)
        if not service:
            continue
        ports = {}
        for key, binds in (item["NetworkSettings"].get("Ports") or {}).items():
            for bind in binds or []:
                if bind.get("HostIp") in ("127.0.0.1", "0.0.0.0", ""):
                    ports[int(key.split("/")[0])] = int(bind["HostPort"])
        state, policy = item["State"], item["HostConfig"].get("RestartPolicy") or {}
        code, restarts = state.get("ExitCode", 0), item.get("RestartCount", 0)
        limit = policy.get("MaximumRetryCount") or 0
        will_restart = policy.get("Name") in ("always", "unless-stopped") or (
            policy.get("Name") == "on-failure" and code != 0 and (not limit or restarts < limit)
        )
        states[service] = ContainerState(
            service=service,
            id=item["Id"][:12],
            kind=labels.get(KIND_LABEL, "service"),
            status=state["Status"],
            health=(state.get("Health") or {}).get("Status"),
            exit_code=code,
            will_restart=will_restart,
            ports=ports,
        )
    return states


def container_logs(container: str, lines: int) -> list[str]:
    """A container's last lines, stdout and stderr together."""
    try:
        done = subprocess.run(
            ["docker", "logs", "--tail", str(lines), container],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return ["(docker logs did not answer)"]
    return (done.stdout + done.stderr).rstrip().splitlines()[-lines:]


def last_health_check(container: str) -> str | None:
    """What the container's last health check printed, if it has one."""
    try:
        health = json.loads(
            run_cmd(["docker", "inspect", "-f", "{{json .State.Health}}", container], 30)
        )
    except (DockerRunError, ValueError):
        return None
    entries = (health or {}).get("Log") or []
    return (entries[-1].get("Output") or "").strip()[-300:] or None if entries else None


def project_leftovers(project: str) -> dict[str, list[str]]:
    """Containers, networks and volumes that carry a compose project's label."""
    label = f"label={PROJECT_LABEL}={project}"
    kinds = {
        "containers": ["docker", "ps", "-aq", "--filter", label],
        "networks": ["docker", "network", "ls", "-q", "--filter", label],
        "volumes": ["docker", "volume", "ls", "-q", "--filter", label],
    }
    return {kind: run_cmd(argv, 30).split() for kind, argv in kinds.items()}


def project_images(project: str) -> list[str]:
    """Images built for a project (its releases), by the compose project label they carry."""
    argv = ["docker", "images", "--filter", f"label={PROJECT_LABEL}={project}"]
    out = run_cmd([*argv, "--format", "{{.Repository}}:{{.Tag}}"], 30)
    return [tag for tag in out.split() if not tag.endswith(":<none>")]


def remove_leftovers(project: str, timeout: float) -> None:
    """Remove what compose left of a project (no env file; a create still in flight)."""
    for _ in range(3):
        left = project_leftovers(project)
        if not any(left.values()):
            return
        if left["containers"]:
            run_cmd(["docker", "rm", "-f", "-v", *left["containers"]], timeout)
        for kind in ("networks", "volumes"):
            if left[kind]:
                run_cmd(["docker", kind[:-1], "rm", *left[kind]], 60)
        time.sleep(1)  # then look again: an interrupted `up` may still have had one in flight


def remove_images(tags: list[str]) -> list[str]:
    """Remove images by tag; the ones kept because a container still uses them."""
    kept = []
    for tag in tags:
        done = subprocess.run(
            ["docker", "image", "rm", tag], capture_output=True, text=True, timeout=60, check=False
        )
        if done.returncode != 0 and "No such image" not in done.stderr:
            kept.append(tag)
    return kept
