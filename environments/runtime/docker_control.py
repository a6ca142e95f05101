"""The runtime control API of a compose project: the deployer's starts, replacements and canaries.

Under docker the deployer (`ops`) asks the `runtime` service, on the same routes and payloads as
the local supervisor's API (`control.py`), and this module answers them with the Docker engine
(its socket mounted into this one container, never into the app's or the agent's):

- a release (`vars.release`) is an image: `releases/<sha>/` of the run volume built on top of
  the run's first app image (`PRODBENCH_APP_IMAGE`), with a `pip install` layer only when the
  release changed its requirements; tagged `<repository>:<sha12>-<project>`, labelled with the
  project so `down` removes it;
- a main instance is the service's container: a restart stops and removes it and creates its
  successor from the same configuration (command, environment, mounts, health check, network
  alias, published host port) on the release's image, then waits until the engine calls it
  healthy;
- an extra instance (a canary) is a container of the same configuration beside it, on the
  project network under its own name (`http://api-canary:8000`), not published on the host.

The containers this creates carry the compose project's label, so `down` removes them too.

    python -m environments.runtime.docker_control --host 0.0.0.0 --port 8000
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import signal
import socket
import sys
import tarfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from environments.runtime.control import (
    RUNTIME_TOKEN_ENV,
    ControlAPI,
    ControlError,
    ControlServer,
    InstanceInfo,
    NewInstance,
    Overrides,
    Response,
)
from environments.runtime.docker_engine_api import DEFAULT_SOCKET, Engine, EngineError

PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
ROLE_LABEL = "io.prodbench.role"
KIND_LABEL = "io.prodbench.kind"
INSTANCE_LABEL = "io.prodbench.instance"  # set on extra instances: their name
OF_SERVICE_LABEL = "io.prodbench.instance-of"  # and the service they are an instance of
VARS_LABEL = "io.prodbench.vars"  # JSON: the instance's {vars.NAME} overrides
ENV_LABEL = "io.prodbench.env"  # JSON: its environment overrides
BASE_ENV_LABEL = "io.prodbench.base-env"  # JSON: the environment compose gave the service
APP_IMAGE_ENV = "PRODBENCH_APP_IMAGE"
RELEASE_ENV = "PRODBENCH_RELEASE"
SOCKET_ENV = "PRODBENCH_DOCKER_SOCKET"
RUN_DIR = Path("/srv/run")
DOCKERFILE = ".prodbench-release.Dockerfile"
REQUIREMENTS = "requirements.txt"
# What a release's build context leaves out: the deployer's venv and tools' caches. The
# bytecode the deployer precompiled stays: a new container imports without compiling, as the
# local runtime's processes do, so a canary is not slow for its first requests.
EXCLUDED = {".venv", ".pytest_cache", ".mypy_cache", ".ruff_cache"}
HEALTH_PATH = "/healthz"  # every app service's (the stack spec's health path)
STARTUP_TIMEOUT = 90.0
BUILD_TIMEOUT = 900.0
STOP_GRACE = 5
LOG_TAIL = 15


class DockerRuntime:
    """`control.Runtime` over the engine, for the app services of one compose project."""

    def __init__(
        self,
        engine: Engine,
        project: str,
        app_image: str,
        base_release: str,
        run_dir: Path = RUN_DIR,
    ):
        self.engine = engine
        self.project = project
        self.app_image = app_image
        self.base_release = base_release
        self.run_dir = run_dir
        self._locks: dict[str, asyncio.Lock] = {}

    # ---- Runtime ----------------------------------------------------------------------------

    def list_instances(self) -> list[InstanceInfo]:
        return [self._info(c) for c in self._app_containers()]

    async def start_service(self, service: str, overrides: Overrides) -> InstanceInfo:
        async with self._lock(service):
            main = self._main(service)
            if main["State"] in ("running", "restarting"):
                raise ControlError(
                    409, f"{service} is already running; restart it to replace its instance"
                )
            return await asyncio.to_thread(self._replace, service, main, overrides)

    async def restart_service(self, service: str, overrides: Overrides) -> InstanceInfo:
        async with self._lock(service):
            return await asyncio.to_thread(self._replace, service, self._main(service), overrides)

    async def add_instance(self, service: str, request: NewInstance) -> InstanceInfo:
        async with self._lock(service):
            main = self._main(service)
            taken = {self._name(c) for c in self._app_containers()}
            if request.instance in taken:
                raise ControlError(409, f"instance {request.instance!r} exists already")
            return await asyncio.to_thread(self._add, service, main, request)

    async def remove_instance(self, instance: str) -> InstanceInfo:
        found = [c for c in self._app_containers() if self._name(c) == instance]
        extras = sorted(self._name(c) for c in self._app_containers() if not self._is_main(c))
        if not found:
            raise ControlError(
                404, f"no instance {instance!r}; extra instances: {', '.join(extras) or 'none'}"
            )
        if self._is_main(found[0]):
            raise ControlError(
                409, f"{instance!r} is a main instance; only extra instances can be removed"
            )
        info = self._info(found[0])
        await asyncio.to_thread(self._discard, found[0]["Id"])
        say(f"removed {instance}")
        return info.model_copy(update={"status": "stopped"})

    # ---- containers -------------------------------------------------------------------------

    def _app_containers(self) -> list[dict[str, Any]]:
        try:
            found = self.engine.containers({PROJECT_LABEL: self.project, ROLE_LABEL: "app"})
        except EngineError as exc:
            raise ControlError(502, f"the Docker engine did not answer: {exc}") from None
        return [c for c in found if c["Labels"].get(KIND_LABEL, "service") == "service"]

    @staticmethod
    def _is_main(container: dict[str, Any]) -> bool:
        return INSTANCE_LABEL not in container["Labels"]

    def _name(self, container: dict[str, Any]) -> str:
        labels = container["Labels"]
        return labels.get(INSTANCE_LABEL) or labels[SERVICE_LABEL]

    def _main(self, service: str) -> dict[str, Any]:
        containers = self._app_containers()
        mains = [c for c in containers if self._is_main(c)]
        found = [c for c in mains if c["Labels"][SERVICE_LABEL] == service]
        if not found:
            known = sorted({c["Labels"][SERVICE_LABEL] for c in mains})
            raise ControlError(
                404, f"no service {service!r} in this run; services: {', '.join(known) or 'none'}"
            )
        return found[0]

    def _lock(self, service: str) -> asyncio.Lock:
        return self._locks.setdefault(service, asyncio.Lock())

    def _info(self, container: dict[str, Any], inspected: dict | None = None) -> InstanceInfo:
        labels = container.get("Labels") or container.get("Config", {}).get("Labels") or {}
        main = INSTANCE_LABEL not in labels
        name = labels[SERVICE_LABEL] if main else labels[INSTANCE_LABEL]
        service = labels[SERVICE_LABEL] if main else labels.get(OF_SERVICE_LABEL, name)
        details = inspected or self.engine.inspect(container["Id"])
        state = details["State"]
        health = (state.get("Health") or {}).get("Status")
        status = {
            "healthy": "healthy",
            "unhealthy": "failed",
            "starting": "starting",
        }.get(health or "", state["Status"])
        if state["Status"] != "running":
            status = "stopped" if state["Status"] in ("exited", "dead", "created") else status
        port = _container_port(details)
        env = _env_dict(details["Config"].get("Env") or [])
        vars_ = _json_label(labels, VARS_LABEL) or {"release": env.get("ACME_RELEASE", "")}
        return InstanceInfo(
            instance=name,
            service=service,
            main=main,
            status=status,
            pid=state.get("Pid") or None,
            ports={"http": port} if port else {},
            url=f"http://{name}:{port}" if port else None,
            vars=vars_,
            env=_json_label(labels, ENV_LABEL),
            restarts=details.get("RestartCount", 0),
            started_at=_timestamp(state.get("StartedAt")),
            error=None if status != "failed" else f"{name} is unhealthy",
        )

    def _replace(self, service: str, main: dict[str, Any], overrides: Overrides) -> InstanceInfo:
        """Stop and remove the main container, then start its successor with the overrides."""
        old = self.engine.inspect(main["Id"])
        labels = dict(old["Config"]["Labels"])
        vars_ = overrides.vars if overrides.vars is not None else self._info(main, old).vars
        env = overrides.env if overrides.env is not None else _json_label(labels, ENV_LABEL)
        image = self._image(vars_.get("release") or self.base_release)
        body = self._definition(old, image, vars_, env, alias=service, publish=True)
        name = old["Name"].lstrip("/")
        self.engine.stop(old["Id"], STOP_GRACE)
        self.engine.remove(old["Id"])
        new = self.engine.create(name, body)
        self.engine.start(new)
        info = self._await_healthy(new, remove_on_failure=False)
        say(f"replaced {service}'s container: {image} healthy at {info.url}")
        return info

    def _add(self, service: str, main: dict[str, Any], request: NewInstance) -> InstanceInfo:
        old = self.engine.inspect(main["Id"])
        vars_ = request.vars or {}
        image = self._image(vars_.get("release") or self.base_release)
        body = self._definition(
            old, image, vars_, request.env or {}, alias=request.instance, publish=False
        )
        labels = body["Labels"]
        labels[INSTANCE_LABEL] = request.instance
        labels[OF_SERVICE_LABEL] = service
        # Compose's own bookkeeping sees it as a service of its own (an orphan to `down`).
        labels[SERVICE_LABEL] = request.instance
        new = self.engine.create(f"{self.project}-{request.instance}", body)
        self.engine.start(new)
        info = self._await_healthy(new, remove_on_failure=True)
        say(f"started {request.instance} ({service}): {image} healthy at {info.url}")
        return info

    def _definition(
        self,
        old: dict[str, Any],
        image: str,
        vars_: dict[str, str],
        env: dict[str, str],
        alias: str,
        publish: bool,
    ) -> dict[str, Any]:
        """A container like `old` (as compose made it) on `image`, with the overrides."""
        config, host = old["Config"], old["HostConfig"]
        labels = dict(config["Labels"])
        base = _json_label(labels, BASE_ENV_LABEL) or _env_dict(config.get("Env") or [])
        release = vars_.get("release")
        merged = {**base, **({"ACME_RELEASE": release} if release else {}), **env}
        labels[BASE_ENV_LABEL] = json.dumps(base, sort_keys=True)
        labels[VARS_LABEL] = json.dumps(vars_, sort_keys=True)
        labels[ENV_LABEL] = json.dumps(env, sort_keys=True)
        ports: dict[str, list[dict[str, str]]] = {}
        if publish:  # the same host port as before, so the run's env.json stays true
            for key, binds in (old["NetworkSettings"].get("Ports") or {}).items():
                ports[key] = [
                    {"HostIp": b.get("HostIp", ""), "HostPort": b.get("HostPort", "")}
                    for b in binds or []
                ]
        networks = list((old["NetworkSettings"].get("Networks") or {}).keys())[:1]
        return {
            "Image": image,
            "Cmd": config.get("Cmd"),
            "Entrypoint": config.get("Entrypoint"),
            "Env": [f"{k}={v}" for k, v in merged.items()],
            "WorkingDir": config.get("WorkingDir") or "",
            "User": config.get("User") or "",
            "Labels": labels,
            "Healthcheck": config.get("Healthcheck"),
            "ExposedPorts": config.get("ExposedPorts"),
            "StopTimeout": STOP_GRACE,
            "HostConfig": {
                "Binds": host.get("Binds"),
                "Mounts": host.get("Mounts"),
                "Init": host.get("Init"),
                "RestartPolicy": host.get("RestartPolicy"),
                "ExtraHosts": host.get("ExtraHosts"),
                "NetworkMode": host.get("NetworkMode"),
                "LogConfig": host.get("LogConfig"),
                "PortBindings": ports,
            },
            "NetworkingConfig": {
                "EndpointsConfig": {net: {"Aliases": [alias]} for net in networks}
            },
        }

    def _await_healthy(self, container: str, remove_on_failure: bool) -> InstanceInfo:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            details = self.engine.inspect(container)
            state = details["State"]
            health = (state.get("Health") or {}).get("Status")
            labels = details["Config"]["Labels"]
            problem = None
            if state["Status"] in ("exited", "dead"):
                problem = f"exited {state.get('ExitCode')} before it was healthy"
            elif health == "unhealthy":
                problem = "its health check failed"
            elif state["Status"] == "running" and (
                health in (None, "healthy") or self._answers(details)
            ):
                return self._info({"Id": container, "Labels": labels}, details)
            elif time.monotonic() > deadline:
                problem = f"not healthy within {STARTUP_TIMEOUT:.0f} s"
            if problem:
                tail = self.engine.logs(container, LOG_TAIL)
                if remove_on_failure:
                    self._discard(container)
                name = labels.get(INSTANCE_LABEL) or labels.get(SERVICE_LABEL)
                say(f"instance {name} failed: {problem}")
                raise ControlError(422, f"instance {name!r} failed: {problem}", tail)
            time.sleep(0.5)

    def _answers(self, details: dict[str, Any]) -> bool:
        """Whether a new container's health endpoint answers 2xx on the project network.

        The engine runs the first health check only an interval after the start; asked
        directly, a replacement is known ready the moment it is, as the local runtime knows.
        """
        port = _container_port(details)
        labels = details["Config"]["Labels"]
        name = labels.get(INSTANCE_LABEL) or labels.get(SERVICE_LABEL)
        if not port or not name:
            return False
        try:
            response = httpx.get(f"http://{name}:{port}{HEALTH_PATH}", timeout=1.0)
        except httpx.HTTPError:
            return False
        return response.is_success

    def _discard(self, container: str) -> None:
        self.engine.stop(container, STOP_GRACE)
        self.engine.remove(container)

    # ---- images -----------------------------------------------------------------------------

    def _image(self, release: str) -> str:
        """The image of a release, built on first use; the run's first release is its own."""
        if release == self.base_release:
            return self.app_image
        repository = self.app_image.rsplit(":", 1)[0]
        tag = f"{repository}:{release[:12]}-{self.project}"
        if self.engine.image_exists(tag):
            return tag
        source = self.run_dir / "releases" / release
        if not source.is_dir():
            raise ControlError(
                409, f"release {release[:12]} is not built: releases/{release} does not exist"
            )
        started = time.monotonic()
        try:
            self.engine.build(
                self._context(source),
                tag,
                DOCKERFILE,
                {PROJECT_LABEL: self.project, "io.prodbench.release": release},
                BUILD_TIMEOUT,
            )
        except EngineError as exc:
            raise ControlError(422, str(exc).splitlines()[0], str(exc).splitlines()[1:]) from None
        say(f"built {tag} from releases/{release[:12]} in {time.monotonic() - started:.1f} s")
        return tag

    def _context(self, source: Path) -> bytes:
        """The release directory and a Dockerfile that puts it on the run's app image."""
        base_requirements = self.run_dir / "releases" / self.base_release / REQUIREMENTS
        mine = source / REQUIREMENTS
        same = (mine.is_file() and base_requirements.is_file()) and (
            mine.read_bytes() == base_requirements.read_bytes()
        )
        lines = [
            f"FROM {self.app_image}",
            "USER root",
            "RUN rm -rf /app && mkdir /app",
            "COPY . /app",
        ]
        if not same and mine.is_file():
            lines.append(f"RUN pip install -r /app/{REQUIREMENTS}")
        lines.append("USER 10001:10001")
        dockerfile = ("\n".join(lines) + "\n").encode()

        def keep(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
            if set(Path(info.name).parts) & EXCLUDED:
                return None
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            return info

        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            for child in sorted(source.iterdir()):
                tar.add(child, arcname=child.name, filter=keep)
            info = tarfile.TarInfo(DOCKERFILE)
            info.size, info.mtime = len(dockerfile), int(time.time())
            tar.addfile(info, io.BytesIO(dockerfile))
        return buf.getvalue()


def say(message: str) -> None:
    """One JSON log line on stderr, as every service of a run logs."""
    line = {"ts": time.time(), "service": "runtime", "message": message}
    print(json.dumps(line), file=sys.stderr, flush=True)


def _container_port(details: dict[str, Any]) -> int | None:
    exposed = sorted(
        int(k.split("/")[0]) for k in (details["Config"].get("ExposedPorts") or {}) if "/tcp" in k
    )
    return exposed[0] if exposed else None


def _env_dict(env: list[str]) -> dict[str, str]:
    return dict(item.split("=", 1) for item in env if "=" in item)


def _json_label(labels: dict[str, str], key: str) -> dict[str, str]:
    try:
        value = json.loads(labels.get(key) or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _timestamp(text: str | None) -> float | None:
    """The engine's RFC 3339 time (nanoseconds, UTC) as a Unix time, to the second."""
    if not text or text.startswith("0001"):
        return None
    try:
        return datetime.strptime(text[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC).timestamp()
    except ValueError:
        return None


class _WithHealth:
    """The control API plus the unauthenticated `/healthz` compose probes."""

    def __init__(self, api: ControlAPI):
        self.api = api

    async def handle(
        self, method: str, target: str, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> Response:
        if method == "GET" and target.split("?", 1)[0] == "/healthz":
            return Response(200, {"status": "ok", "service": "runtime", "runtime": "docker"})
        return await self.api.handle(method, target, headers, body)


def own_project(engine: Engine) -> str:
    """The compose project this process's container belongs to (its hostname is its id)."""
    labels = engine.inspect(socket.gethostname())["Config"]["Labels"] or {}
    project = labels.get(PROJECT_LABEL)
    if not project:
        raise EngineError("this container carries no compose project label")
    return project


async def serve(runtime: DockerRuntime, token: str, host: str, port: int) -> None:
    server = ControlServer(_WithHealth(ControlAPI(runtime, token)))  # type: ignore[arg-type]
    await server.start(host, port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await server.close()


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m environments.runtime.docker_control")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    args = ap.parse_args(argv)
    token = os.environ.get(RUNTIME_TOKEN_ENV, "")
    missing = [n for n in (RUNTIME_TOKEN_ENV, APP_IMAGE_ENV, RELEASE_ENV) if not os.environ.get(n)]
    if missing:
        print(f"runtime: {', '.join(missing)} not set", file=sys.stderr)
        return 2
    engine = Engine(os.environ.get(SOCKET_ENV) or DEFAULT_SOCKET)
    try:
        project = own_project(engine)
    except EngineError as exc:
        print(f"runtime: cannot find this container's compose project: {exc}", file=sys.stderr)
        return 2
    runtime = DockerRuntime(engine, project, os.environ[APP_IMAGE_ENV], os.environ[RELEASE_ENV])
    say(f"serving project {project} on port {args.port}")
    asyncio.run(serve(runtime, token, args.host, args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
