"""compose/ driven the way a person runs it by hand: docker build, then docker-compose 1.29.

The docker tests use the committed files as they are (no test copy of the stack), a compose
project of their own with a unique name, and an env file with fresh secrets, so they prove what a
user gets and never touch another project on the same engine.
"""

from __future__ import annotations

import json
import os
import secrets
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from environments.runtime.docker_engine import DockerRunError, build_cli, run_cmd

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPOSE_DIR = REPO_ROOT / "compose"
NICE = os.environ.get("PRODBENCH_DOCKER_NICE", "15")
PROJECT_LABEL = "com.docker.compose.project"
# What compose reads from the caller's environment ahead of the env file: left out, so the
# env file alone decides.
_OVERRIDING_ENV = ("PRODBENCH_", "COMPOSE_")


# The product's own command runner and BuildKit choice: the tests drive compose by hand, but
# run commands and pick a builder exactly as `prodbench up --runtime docker` does.
DockerError = DockerRunError


def run(argv: list[str], timeout: float, env: dict[str, str] | None = None) -> str:
    """Run a command, return its stdout; raise DockerError with the tail of its output."""
    return run_cmd(argv, timeout, env=env)


def build_image(dockerfile: Path, context: Path, tag: str, timeout: float = 1200) -> bool:
    """`docker build` as the Dockerfile's header says, niced; True when BuildKit built it."""
    cli, extra = build_cli()
    argv = ["nice", "-n", NICE, cli, "build", "-f", str(dockerfile), "-t", tag, str(context)]
    run(argv, timeout, env={**os.environ, **extra})
    return extra.get("DOCKER_BUILDKIT") != "0"


def compose_document(path: Path = COMPOSE_DIR / "acme.yaml") -> dict:
    """A committed compose file, parsed: its services, their `build:` and images."""
    return yaml.safe_load(path.read_text())


def fresh_env_file(path: Path, example: Path, **fixed: str) -> dict[str, str]:
    """Every variable of the env example, each `change-me` a new random secret."""
    values: dict[str, str] = {}
    for line in example.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, _, value = line.partition("=")
        values[name] = secrets.token_urlsafe(24) if value == "change-me" else value
    unknown = set(fixed) - set(values)
    if unknown:
        raise KeyError(f"{sorted(unknown)} are not variables of {example.name}")
    values.update(fixed)
    path.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    path.chmod(0o600)
    return values


@dataclass
class ComposeProject:
    """One docker-compose project over the committed compose files."""

    name: str
    env_file: Path
    files: list[Path] = field(default_factory=lambda: [COMPOSE_DIR / "acme.yaml"])

    @classmethod
    def fresh(cls, env_file: Path, prefix: str = "pbtest") -> ComposeProject:
        return cls(name=f"{prefix}{uuid.uuid4().hex[:10]}", env_file=env_file)

    def compose(self, *args: str, timeout: float = 120) -> str:
        env = {k: v for k, v in os.environ.items() if not k.startswith(_OVERRIDING_ENV)}
        argv = ["docker-compose", "--env-file", str(self.env_file)]
        for path in self.files:
            argv += ["-f", str(path)]
        return run([*argv, "-p", self.name, *args], timeout, env=env)

    def up(self, services: list[str], timeout: float = 600) -> None:
        """Start `services` (and what they depend on) from existing images, never a registry."""
        self.compose("up", "-d", "--no-build", *services, timeout=timeout)

    def containers(self) -> dict[str, str]:
        """Service name -> container id, for every container of the project."""
        label = f"label={PROJECT_LABEL}={self.name}"
        fmt = '{{.Label "com.docker.compose.service"}} {{.ID}}'
        out = run(["docker", "ps", "-a", "--filter", label, "--format", fmt], 30)
        return dict(line.split() for line in out.splitlines() if line.strip())

    def container(self, service: str) -> str:
        found = self.containers().get(service)
        if found is None:
            raise DockerError(f"service {service!r} has no container in project {self.name}")
        return found

    def port(self, service: str, container_port: int) -> int:
        """The host port the engine published `container_port` on (loopback)."""
        published = self.compose("port", service, str(container_port)).strip()
        host, _, port = published.rpartition(":")
        if host != "127.0.0.1":
            raise DockerError(f"{service}:{container_port} is published on {published}")
        return int(port)

    def exec(self, service: str, *argv: str, timeout: float = 60) -> str:
        return run(["docker", "exec", self.container(service), *argv], timeout)

    def states(self) -> dict[str, dict]:
        """Service name -> its container's `.State` (status, exit code, health)."""
        ids = self.containers()
        if not ids:
            return {}
        out = run(["docker", "inspect", "-f", "{{json .State}}", *ids.values()], 30)
        return dict(zip(ids, map(json.loads, out.splitlines()), strict=True))

    def wait_ready(self, services: list[str], jobs: set[str], timeout: float = 300) -> None:
        """Until every job exited 0 and every service is healthy; fail fast on a dead one."""
        deadline = time.monotonic() + timeout
        while True:
            states, waiting = self.states(), []
            for service in services:
                state = states.get(service)
                if state is None:
                    raise DockerError(f"{service} has no container")
                health = (state.get("Health") or {}).get("Status")
                if service in jobs:
                    if state["Status"] == "exited" and state["ExitCode"] != 0:
                        raise DockerError(f"job {service} exited {state['ExitCode']}")
                    done = state["Status"] == "exited"
                else:
                    if state["Status"] in ("exited", "dead") or health == "unhealthy":
                        raise DockerError(f"{service} is {state['Status']} ({health})")
                    done = health == "healthy" or (health is None and state["Running"])
                if not done:
                    waiting.append(f"{service}: {state['Status']} {health or ''}".strip())
            if not waiting:
                return
            if time.monotonic() > deadline:
                raise DockerError(f"not ready within {timeout:g} s: {', '.join(waiting)}")
            time.sleep(1)

    def logs(self, tail: int = 30) -> str:
        try:
            return self.compose("logs", "--no-color", "--tail", str(tail), timeout=60)
        except DockerError as exc:
            return str(exc)

    def volumes_in_use(self) -> set[str]:
        """Every volume the project's containers mount, anonymous ones included."""
        ids = run(["docker", "ps", "-aq", "--filter", f"label={PROJECT_LABEL}={self.name}"], 30)
        if not ids.split():
            return set()
        fmt = '{{range .Mounts}}{{if eq .Type "volume"}}{{.Name}} {{end}}{{end}}'
        return set(run(["docker", "inspect", "-f", fmt, *ids.split()], 30).split())

    def leftovers(self) -> dict[str, list[str]]:
        """Containers, networks and volumes that still carry this project's label."""
        label = f"label={PROJECT_LABEL}={self.name}"
        kinds = {
            "containers": ["docker", "ps", "-a", "--filter", label, "--format", "{{.Names}}"],
            "networks": ["docker", "network", "ls", "--filter", label, "--format", "{{.Name}}"],
            "volumes": ["docker", "volume", "ls", "--filter", label, "--format", "{{.Name}}"],
        }
        return {kind: run(argv, 30).split() for kind, argv in kinds.items()}

    def down(self) -> None:
        """Remove the project's containers, networks and volumes (anonymous ones too)."""
        self.compose("down", "-v", "--remove-orphans", "--timeout", "10", timeout=180)
