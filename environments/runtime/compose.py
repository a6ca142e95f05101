"""Compose files rendered from a stack spec: the docker runtime's view of the same services.

A pure function of the spec and the environment's `ComposeProfile` (its infrastructure and what
changes inside a container), so `compose/` is committed and a test compares it byte for byte
with a fresh render: the spec stays the one definition. Inside a container a service reaches
another by its name on a fixed port, the run's state lives in the named volume `run` (what
`{run_dir}` is), the spec's config files are mounted read-only, and per-run values (seed,
secrets) are compose variables: `prodbench up --runtime docker` sets them, a person running
the file by hand copies `<stack>.env.example`. No `version:` key, so compose v2 and Debian's
docker-compose 1.29 both read the files.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from environments.runs import ENV_JSON_ENV, Endpoint, EnvInfo
from environments.stack import Role, ServiceSpec, StackError, StackSpec, placeholders, render

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPOSE_DIR = REPO_ROOT / "compose"
RUN_MOUNT = "/srv/run"  # the `run` volume: {run_dir} inside every container
CONFIG_MOUNT = "/etc/prodbench"  # the spec's `files:`, bind-mounted read-only
SOURCE_ROOT = "/opt/prodbench"  # prodbench's sources in its images (repo paths map here)
FIRST_PORT = 8000  # a built service's ports in order: 8000, 8001, ...
# Official images listen where their users expect; the spec's argv sets the port anyway.
IMAGE_PORTS = {"prom/prometheus": 9090, "prom/alertmanager": 9093}
# How to probe an official image that has no Python: its own busybox wget.
WGET_IMAGES = ("prom/prometheus", "prom/alertmanager")
IMAGE_TAG = "${PRODBENCH_IMAGE_TAG:-local}"
# The run volume's owner: prodbench's and the app's images run as this uid, and official images
# that write into the volume (Prometheus, Alertmanager; `nobody` by default) are run as it too.
RUN_USER = "10001:10001"
# The runtime control API a `runtime_access` service (the deployer) is given in a container:
# environments/runtime/docker_control.py, driving the engine through its socket.
RUNTIME_SERVICE = "runtime"
RUNTIME_URL = f"http://{RUNTIME_SERVICE}:{FIRST_PORT}"
REQUIRED_HINT = "see compose/README.md"
DOCKER_SOCKET = "${PRODBENCH_DOCKER_SOCKET:-/var/run/docker.sock}"
ENV_FILE = "env.json"
# Seconds between a container's health checks. Each is an exec in the container, ~0.1 s of the
# engine's CPU: at the local runtime's 2 s, a run's fifteen containers would keep most of a
# core busy and show as the app's tail latency. Readiness during a deploy does not wait on it
# (the runtime API probes a new container itself).
HEALTH_INTERVAL = 5.0
EPOCH = "1970-01-01T00:00:00Z"  # created_at of the committed env.json: rendered files are stable
# `{vars.NAME}`: what every container knows, what has a default; any other is a secret.
CONTAINER_VARS = {"python": "python"}
VAR_DEFAULTS = {"release": "dev"}
HEADER = (
    "# Rendered from the {stack!r} stack spec by `prodbench compose render`: edit the spec\n"
    "# (environments/) or the renderer (environments/runtime/compose.py), never this file.\n"
)
_VARIABLE = re.compile(r"(?<!\$)\$\{([A-Z_][A-Z0-9_]*)(?:(:?[-?])([^}]*))?\}")

Condition = Literal["service_started", "service_healthy", "service_completed_successfully"]


class _Dumper(yaml.SafeDumper):
    """Plain YAML: no anchors or aliases for values that happen to be shared."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


class ComposeError(ValueError):
    """A stack the renderer cannot express as compose; the message names the service."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Image(_Model):
    """A Dockerfile under compose/docker and what it builds (paths relative to the repo)."""

    repository: str
    dockerfile: str
    context: str = "."
    target: str | None = None


class ServiceOverride(_Model):
    """What one service does differently in a container (e.g. seeding PostgreSQL).

    `extra_args` are appended to the (spec's or overriding) argv.
    """

    argv: list[str] | None = None
    extra_args: list[str] = Field(default_factory=list)
    image: str | None = None


class ComposeProfile(_Model):
    """What a stack needs in docker beyond its spec.

    `image_env` and `image_depends` apply to every service built from that image; values are
    compose text (`${VAR}` interpolation), not spec templates. `infra` services (official
    images) are added as given, with their named `volumes`; `files` are written beside them.
    `release_image` is built from a run's release directory (the deployable app), every other
    image from the repository; `runtime_image` runs the runtime control stub.
    """

    images: dict[str, Image]
    role_images: dict[Role, str]
    path_rewrites: dict[str, str] = Field(default_factory=dict)
    overrides: dict[str, ServiceOverride] = Field(default_factory=dict)
    image_env: dict[str, dict[str, str]] = Field(default_factory=dict)
    image_depends: dict[str, dict[str, Condition]] = Field(default_factory=dict)
    infra: dict[str, dict[str, Any]] = Field(default_factory=dict)
    volumes: list[str] = Field(default_factory=list)
    files: dict[str, str] = Field(default_factory=dict)
    release_image: str | None = None
    runtime_image: str = "ops"


PRODBENCH_DOCKERFILE = "compose/docker/prodbench.Dockerfile"
DEFAULT_IMAGES = {
    name: Image(repository=f"prodbench/{name}", dockerfile=PRODBENCH_DOCKERFILE, target=name)
    for name in ("tools", "mcp", "ops", "traffic")
}
DEFAULT_ROLE_IMAGES = {
    Role.tool: "tools",
    Role.gateway: "mcp",
    Role.ops: "ops",
    Role.traffic: "traffic",
}


def required(name: str) -> str:
    """A compose variable with no default: compose refuses to start without it."""
    return f"${{{name}:?{REQUIRED_HINT}}}"


def default_profile() -> ComposeProfile:
    return ComposeProfile(images=DEFAULT_IMAGES, role_images=DEFAULT_ROLE_IMAGES)


def container_ports(svc: ServiceSpec) -> dict[str, int]:
    """Each port's number inside the container: the spec's `container`, else a fixed default."""
    image = svc.docker.image if svc.docker else None
    known = IMAGE_PORTS.get(_repository(image)) if image else None
    ports = {}
    for i, port in enumerate(svc.ports):
        ports[port.name] = port.container or (known if i == 0 and known else FIRST_PORT + i)
    if len(set(ports.values())) != len(ports):
        raise ComposeError(f"service {svc.name!r}: two ports map to one container port {ports}")
    return ports


def main_port(svc: ServiceSpec) -> int | None:
    """The port `{SERVICE.url}` means, as in the local runtime: `http`, else the first."""
    ports = container_ports(svc)
    return ports.get("http", ports[svc.ports[0].name]) if svc.ports else None


def container_env(
    spec: StackSpec, run_id: str, seed: int, task: str | None, created_at: str
) -> EnvInfo:
    """env.json as a run's containers see it: every service by name on its container port."""
    services = {}
    for svc in spec.services:
        port = main_port(svc)
        url = f"http://{svc.name}:{port}" if port and svc.health.kind == "http" else None
        services[svc.name] = Endpoint(host=svc.name, ports=container_ports(svc), url=url)
    return EnvInfo(
        run_id=run_id,
        stack=spec.name,
        task=task,
        seed=seed,
        runtime="docker",
        created_at=created_at,
        run_dir=RUN_MOUNT,
        services=services,
    )


class Renderer:
    """One stack in one profile; `files()` is the whole output."""

    def __init__(self, spec: StackSpec, profile: ComposeProfile, run_id: str | None = None):
        self.spec, self.profile = spec, profile
        self.run_id = run_id or spec.name
        keys = sorted({k for s in spec.services for k in s.files}, key=len, reverse=True)
        self.file_rewrites = [(f"{RUN_MOUNT}/{k}", f"{CONFIG_MOUNT}/{k}") for k in keys]
        unresolved = Path(__file__).absolute().parents[2]
        self.repo_roots = sorted({str(REPO_ROOT), str(unresolved)}, key=len, reverse=True)

    def files(self) -> dict[str, str]:
        """Path relative to compose/ -> text: the compose file, its env example, its configs."""
        name = self.spec.name
        out = {
            f"{name}/config/{key}": self._file(svc, key)
            for svc in self.spec.services
            for key in svc.files
        }
        out.update({f"{name}/{path}": text for path, text in self.profile.files.items()})
        document = self.document()
        mounts = [v for svc in document["services"].values() for v in svc.get("volumes", [])]
        if f"run:{RUN_MOUNT}" in mounts:
            env = container_env(self.spec, self.run_id, seed=0, task=None, created_at=EPOCH)
            out[f"{name}/config/{ENV_FILE}"] = env.model_dump_json(indent=2) + "\n"
        compose = HEADER.format(stack=name) + yaml.dump(
            document, Dumper=_Dumper, sort_keys=True, default_flow_style=False, width=4096
        )
        out[f"{name}.yaml"] = compose
        out[f"{name}.env.example"] = env_example(compose, name)
        return dict(sorted(out.items()))

    def document(self) -> dict[str, Any]:
        services = {svc.name: self.service(svc) for svc in self.spec.services}
        extra = dict(self.profile.infra)
        if any(svc.runtime_access for svc in self.spec.services):
            extra[RUNTIME_SERVICE] = self.runtime_service()
        for name in extra:
            if name in services:
                raise ComposeError(f"infrastructure service {name!r} clashes with a stack service")
        services.update(extra)
        volumes = sorted({"run", *self.profile.volumes})
        return {"services": services, "volumes": {v: {} for v in volumes}}

    def service(self, svc: ServiceSpec) -> dict[str, Any]:
        override = self.profile.overrides.get(svc.name, ServiceOverride())
        argv = [self._text(svc, a) for a in [*(override.argv or svc.argv), *override.extra_args]]
        official = svc.docker.image if svc.docker and svc.docker.image else None
        out: dict[str, Any] = {
            "labels": {
                "io.prodbench.stack": self.spec.name,
                "io.prodbench.role": svc.role.value,
                "io.prodbench.kind": svc.kind,
                "io.prodbench.start": svc.start,
            },
            "restart": _restart(svc),
            "stop_grace_period": _duration(svc.stop_grace),
        }
        image_name = None
        if official:
            out["image"] = official
            out["command"] = argv[1:]  # argv[0] is the binary the image's entrypoint runs
        else:
            image_name = override.image or self._image_name(svc)
            out.update(self._build(svc, image_name))
            out["command"] = argv
            out["init"] = True
        env = {k: self._text(svc, v) for k, v in svc.env.items()}
        env.update(self.profile.image_env.get(image_name or "", {}))
        if svc.runtime_access:
            env["PRODBENCH_RUNTIME_URL"] = f"${{PRODBENCH_RUNTIME_URL:-{RUNTIME_URL}}}"
            env["PRODBENCH_RUNTIME_TOKEN"] = required("PRODBENCH_RUNTIME_TOKEN")
            out["extra_hosts"] = ["host.docker.internal:host-gateway"]
        if env:
            out["environment"] = env
        if svc.cwd:
            out["working_dir"] = self._text(svc, svc.cwd)
        ports = container_ports(svc)
        if ports:
            out["ports"] = [_publish(svc, name, num) for name, num in ports.items()]
        files = [self._file(svc, key) for key in svc.files]
        volumes = self._volumes(svc, [*argv, *env.values(), out.get("working_dir", ""), *files])
        if not official and f"run:{RUN_MOUNT}" in volumes:
            # env.json as containers see the run (services by container name); the run
            # directory's own is the host's view, with the published ports.
            volumes.append(f"{self._config_dir()}/{ENV_FILE}:{CONFIG_MOUNT}/{ENV_FILE}:ro")
            env[ENV_JSON_ENV] = f"{CONFIG_MOUNT}/{ENV_FILE}"
            out["environment"] = env
        if volumes:
            out["volumes"] = volumes
        if official and f"run:{RUN_MOUNT}" in volumes:
            out["user"] = RUN_USER  # the official image's own user cannot write the run volume
        if svc.health.kind != "none":
            out["healthcheck"] = self._healthcheck(svc, official)
        depends = {dep: self._condition(dep) for dep in svc.depends_on}
        depends.update(self.profile.image_depends.get(image_name or "", {}))
        if svc.runtime_access:
            # In a container compose starts the on-request services (the local runtime leaves
            # them to the deployer's first deploy), so the deployer starts once they are live.
            depends[RUNTIME_SERVICE] = "service_healthy"
            for other in self.spec.services:
                if other.start == "on-request":
                    depends[other.name] = self._condition(other.name)
        if depends:
            out["depends_on"] = {dep: {"condition": cond} for dep, cond in depends.items()}
        return out

    def runtime_service(self) -> dict[str, Any]:
        """The runtime control API (docker_control.py): releases as images, canaries as containers."""
        port = FIRST_PORT
        probe = http_probe(port, "/healthz", 1.0)
        image = self.profile.images.get(self.profile.runtime_image)
        app = self.profile.images.get(self.profile.release_image or "")
        if image is None or app is None:
            raise ComposeError(
                f"the compose profile's runtime_image {self.profile.runtime_image!r} and "
                f"release_image {self.profile.release_image!r} must both be among its images"
            )
        return {
            **_build_section(image, image.context),
            "command": [
                "python",
                "-m",
                "environments.runtime.docker_control",
                "--host",
                "0.0.0.0",
                "--port",
                str(port),
            ],
            "environment": {
                "PRODBENCH_RUNTIME_TOKEN": required("PRODBENCH_RUNTIME_TOKEN"),
                "PRODBENCH_APP_IMAGE": f"{app.repository}:{IMAGE_TAG}",
                "PRODBENCH_RELEASE": _variable("release"),
            },
            # It builds releases from the run volume and replaces containers through the
            # engine's socket: root in this one container, which no agent or app code reaches.
            "user": "0:0",
            "volumes": [f"run:{RUN_MOUNT}", f"{DOCKER_SOCKET}:/var/run/docker.sock"],
            "healthcheck": {
                "test": ["CMD", "python", "-S", "-c", probe],
                "interval": "2s",
                "timeout": "2s",
                "retries": 3,
                "start_period": "30s",
            },
            "init": True,
            "labels": {
                "io.prodbench.stack": self.spec.name,
                "io.prodbench.role": "runtime",
                "io.prodbench.kind": "service",
            },
            "restart": "on-failure:3",
            "stop_grace_period": "2s",
        }

    def _image_name(self, svc: ServiceSpec) -> str:
        name = self.profile.role_images.get(svc.role)
        if name is None:
            raise ComposeError(
                f"service {svc.name!r} (role {svc.role.value}) has no image: give it "
                "`docker: {image: ...}` in the stack spec or map its role in the compose profile"
            )
        return name

    def _build(self, svc: ServiceSpec, name: str) -> dict[str, Any]:
        image = self.profile.images[name]
        context = svc.docker.build if svc.docker and svc.docker.build else image.context
        return _build_section(image, context)

    def _values(self, svc: ServiceSpec, in_file: bool) -> dict[str, str]:
        """What each placeholder means in a container; per-run values only outside files."""
        vals = {
            "host": svc.name if in_file else "0.0.0.0",
            "name": svc.name,
            "instance": svc.name,
            "python": "python",
            "run_dir": RUN_MOUNT,
            "state_dir": f"{RUN_MOUNT}/state",
            "logs_dir": f"{RUN_MOUNT}/logs",
            "run_id": self.run_id if in_file else f"${{PRODBENCH_RUN_ID:-{self.run_id}}}",
        }
        if not in_file:
            vals["seed"] = "${PRODBENCH_SEED:-0}"
            override = self.profile.overrides.get(svc.name, ServiceOverride())
            templates = [t for _, t in svc.templates()] + (override.argv or [])
            for ref in {r for t in templates for r in placeholders(t)}:
                if ref.startswith("vars."):
                    vals[ref] = _variable(ref[5:])
        for other in self.spec.services:
            vals[f"{other.name}.host"] = other.name
            port = main_port(other)
            if port:
                vals[f"{other.name}.port"] = str(port)
                vals[f"{other.name}.url"] = f"http://{other.name}:{port}"
            for pname, num in container_ports(other).items():
                vals[f"{other.name}.ports.{pname}"] = str(num)
        for key in ("port", "url"):
            if f"{svc.name}.{key}" in vals:
                vals[key] = vals[f"{svc.name}.{key}"]
        vals.update({f"ports.{p}": str(n) for p, n in container_ports(svc).items()})
        return vals

    def _text(self, svc: ServiceSpec, template: str, in_file: bool = False) -> str:
        for old, new in self.profile.path_rewrites.items():
            template = template.replace(old, new)
        if not in_file:
            template = template.replace("$", "$$")  # a literal `$` in compose text
        try:
            text = render(template, self._values(svc, in_file))
        except StackError as exc:
            where = "a config file (it cannot hold per-run values)" if in_file else "its argv/env"
            raise ComposeError(f"service {svc.name!r}, {where}: {exc}") from None
        for old, new in self.file_rewrites:
            text = text.replace(old, new)
        for root in self.repo_roots:
            text = text.replace(root + "/", SOURCE_ROOT + "/")
        return text

    def _file(self, svc: ServiceSpec, key: str) -> str:
        return self._text(svc, svc.files[key], in_file=True)

    def _volumes(self, svc: ServiceSpec, texts: list[str]) -> list[str]:
        mounts = [f"run:{RUN_MOUNT}"] if any(RUN_MOUNT in t for t in texts) else []
        config = self._config_dir()
        mounts += [f"{config}/{key}:{CONFIG_MOUNT}/{key}:ro" for key in sorted(svc.files)]
        return mounts

    def _config_dir(self) -> str:
        return f"${{PRODBENCH_CONFIG_DIR:-./{self.spec.name}/config}}"

    def _healthcheck(self, svc: ServiceSpec, official: str | None) -> dict[str, Any]:
        check = svc.health
        port = container_ports(svc)[check.port]
        url = f"http://127.0.0.1:{port}{check.path}"
        if official:
            if _repository(official) not in WGET_IMAGES or check.kind != "http":
                raise ComposeError(
                    f"service {svc.name!r}: no {check.kind} probe known for image {official!r}; "
                    "add it to WGET_IMAGES in environments/runtime/compose.py"
                )
            test = ["CMD", "wget", "-q", "-O", "/dev/null", url]
        else:  # every built image has Python, and no curl
            timeout = check.probe_timeout
            probe = (
                http_probe(port, check.path, timeout)
                if check.kind == "http"
                else f"import socket; socket.create_connection(('127.0.0.1', {port}), {timeout})"
            )
            test = ["CMD", "python", "-S", "-c", probe]
        return {
            "test": test,
            "interval": _duration(max(check.live_interval, HEALTH_INTERVAL)),
            # The probe's own timeout, plus a second for its process to start.
            "timeout": _duration(check.probe_timeout + 1),
            "retries": check.failure_threshold,
            "start_period": _duration(check.startup_timeout),
        }

    def _condition(self, dep: str) -> Condition:
        other = self.spec.service(dep)
        if other.kind == "job":
            return "service_completed_successfully"
        return "service_healthy" if other.health.kind != "none" else "service_started"


def http_probe(port: int, path: str, timeout: float) -> str:
    """A health probe in Python without its site packages or urllib: one GET, a 2xx status.

    Compose runs it every couple of seconds in each of a run's containers; `python -S` and a
    bare socket cost a third of `urllib.request` (~35 ms against ~95 ms), which on a small
    machine is CPU the services' own requests get instead.
    """
    request = f"GET {path} HTTP/1.0\\r\\nHost: 127.0.0.1\\r\\n\\r\\n"
    return (
        f"import socket; s = socket.create_connection(('127.0.0.1', {port}), {timeout}); "
        f"s.settimeout({timeout}); s.sendall(b'{request}'); "
        "assert s.makefile('rb').readline().split()[1].startswith(b'2')"
    )


def _build_section(image: Image, context: str) -> dict[str, Any]:
    """`build:` and `image:` of a service built from `image` (context relative to the repo)."""
    build: dict[str, Any] = {
        "context": _relative(REPO_ROOT / context, COMPOSE_DIR),
        "dockerfile": _relative(REPO_ROOT / image.dockerfile, REPO_ROOT / context),
    }
    if image.target:
        build["target"] = image.target
    return {"build": build, "image": f"{image.repository}:{IMAGE_TAG}"}


def _variable(name: str) -> str:
    """A run value as a compose variable: PRODBENCH_<NAME>, required unless it has a default."""
    if name in CONTAINER_VARS:
        return CONTAINER_VARS[name]
    env = f"PRODBENCH_{name.upper()}"
    return f"${{{env}:-{VAR_DEFAULTS[name]}}}" if name in VAR_DEFAULTS else required(env)


def _publish(svc: ServiceSpec, name: str, container: int) -> str:
    """Loopback only; a host port the engine picks unless the spec fixes one."""
    fixed = next(p.fixed for p in svc.ports if p.name == name)
    return f"127.0.0.1:{fixed or ''}:{container}"


def _restart(svc: ServiceSpec) -> str:
    policy = svc.restart
    if svc.kind == "job" or policy.policy == "no":
        return "no"
    if policy.policy == "on-failure" and policy.max_restarts:
        return f"on-failure:{policy.max_restarts}"
    return policy.policy


def _duration(seconds: float) -> str:
    ms = round(seconds * 1000)
    return f"{ms // 1000}s" if ms % 1000 == 0 else f"{ms}ms"


def _repository(image: str) -> str:
    name = image.split("@", 1)[0]
    return name.rsplit(":", 1)[0] if ":" in name.rsplit("/", 1)[-1] else name


def _relative(path: Path, start: Path) -> str:
    rel = os.path.relpath(path, start)
    return rel if rel.startswith(".") else f"./{rel}"


def compose_variables(compose: str) -> dict[str, str | None]:
    """Every variable a compose file reads, with its default (None: required, no default)."""
    found: dict[str, str | None] = {}
    for name, sep, default in _VARIABLE.findall(compose):
        found.setdefault(name, default if sep.endswith("-") else None)
    return found


def env_example(compose: str, stack: str) -> str:
    """Every variable the compose file reads, with its default or a value to replace."""
    found = {
        name: "change-me" if default is None else default
        for name, default in compose_variables(compose).items()
    }
    lines = [
        f"# The variables compose/{stack}.yaml reads. `prodbench up --runtime docker` sets them",
        "# per run, with fresh secrets. By hand: copy this file, replace every change-me, then",
        f"#   docker compose --env-file {stack}.env -f compose/{stack}.yaml -p {stack} up",
    ]
    return "\n".join(lines + [f"{k}={v}" for k, v in sorted(found.items())]) + "\n"


def profile_for(stack: str) -> ComposeProfile:
    """A stack's compose profile: what its environment adds (infrastructure, images)."""
    if stack == "acme":
        from environments.acme.compose_profile import acme_profile

        return acme_profile()
    return default_profile()


def render_stack(spec: StackSpec, run_id: str | None = None) -> dict[str, str]:
    """Every file of `spec` under compose/ (relative path -> text), in its known profile."""
    profile = profile_for(spec.name)
    return Renderer(spec, profile, run_id).files()


def builtin_stack(name: str) -> StackSpec:
    """A built-in environment's stack with default run options, as `prodbench stack show`."""
    from environments.registry import builtin, builtin_names
    from environments.runs import RunPaths
    from environments.stacks import RunContext

    env = builtin(name)
    if env is None:
        raise ComposeError(f"unknown stack {name!r}; built-in stacks: {', '.join(builtin_names())}")
    return env.stack(RunContext(RunPaths(Path("runs") / "RUN_ID")))


def drift(files: dict[str, str], out_dir: Path, stack: str) -> list[str]:
    """Paths under `out_dir` that differ from `files`: changed, missing, or left over."""
    changed = [p for p, text in files.items() if not _same(out_dir / p, text)]
    own = out_dir / stack
    extra = (
        [str(p.relative_to(out_dir)) for p in own.rglob("*") if p.is_file()] if own.is_dir() else []
    )
    return sorted(changed + [p for p in extra if p not in files])


def write(files: dict[str, str], out_dir: Path, stack: str) -> list[str]:
    """Make `out_dir` match `files`; returns what changed. Only `<stack>/` is pruned."""
    changed = drift(files, out_dir, stack)
    for rel in changed:
        path = out_dir / rel
        if rel in files:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(files[rel])
        else:
            path.unlink()
    return changed


def _same(path: Path, text: str) -> bool:
    try:
        return path.read_text() == text
    except OSError:
        return False
