"""The stack spec: one typed definition of a run's services that every runtime reads.

The local runtime starts it as processes; the docker runtime renders compose files from the
same models, so the two cannot drift. Validation happens here, before anything starts, and
every error names the service and says what to change.
"""

from __future__ import annotations

import re
import shutil
from enum import Enum
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

NAME_PATTERN = r"^[a-z][a-z0-9-]{0,39}$"
# Scanned left to right like str.format: `{{` and `}}` are literal braces, `{name}` a placeholder.
_TOKEN = re.compile(r"\{\{|\}\}|\{([A-Za-z_][\w.-]*)\}")

# Placeholders every service may use in argv, env and files, besides service references.
# `{name}` is the service, `{instance}` the process: the service's name for its main instance,
# the given name (`api-canary`) for an extra instance started through the runtime API.
RUN_PLACEHOLDERS = frozenset(
    {
        "host",
        "port",
        "url",
        "name",
        "instance",
        "python",
        "run_id",
        "run_dir",
        "state_dir",
        "logs_dir",
        "seed",
    }
)


class StackError(ValueError):
    """A stack spec that cannot run; the message says which service and what to change."""


class Role(str, Enum):
    app = "app"
    tool = "tool"
    ops = "ops"
    gateway = "gateway"
    traffic = "traffic"
    support = "support"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PortSpec(_Model):
    """A named port; allocated per run on loopback unless `fixed`."""

    name: str = Field("http", pattern=r"^[a-z][a-z0-9_]*$")
    fixed: int | None = Field(None, ge=1, le=65535)
    container: int | None = Field(None, ge=1, le=65535, description="port inside a container")


class HealthCheck(_Model):
    kind: Literal["http", "tcp", "none"] = "http"
    path: str = "/healthz"
    port: str = "http"
    probe_timeout: float = Field(1.0, gt=0)
    startup_timeout: float = Field(30.0, gt=0)
    live_interval: float = Field(2.0, gt=0, description="seconds between checks once healthy")
    failure_threshold: int = Field(3, ge=1, description="consecutive failures that mean unhealthy")

    @field_validator("path")
    @classmethod
    def _path_absolute(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError(f"health path must start with '/', got {value!r}")
        return value


class RestartPolicy(_Model):
    policy: Literal["no", "on-failure", "always"] = "on-failure"
    max_restarts: int = Field(3, ge=0)
    backoff: float = Field(0.2, ge=0, description="first delay; doubles per restart, capped at 5 s")


class DockerSpec(_Model):
    """Fields the docker runtime reads; the local runtime ignores them."""

    image: str | None = None
    build: str | None = None
    dockerfile: str | None = None


class ServiceSpec(_Model):
    """A long-running service, or a one-shot `job` (migrations, seeding) that must exit 0.

    Dependants of a job start once it has completed, as compose's
    `service_completed_successfully`; a job has no ports or health check unless given.

    A service with `start: on-request` is planned like any other (ports, env.json) but started
    through the runtime control API, by the deployer's first deploy; `up` waits for it to
    become healthy. `runtime_access` gives a service the control API's URL and token.
    """

    name: str = Field(pattern=NAME_PATTERN)
    kind: Literal["service", "job"] = "service"
    role: Role = Role.support
    description: str = ""
    argv: list[str] = Field(min_length=1)
    env: dict[str, str] = Field(default_factory=dict)
    cwd: str | None = None
    files: dict[str, str] = Field(
        default_factory=dict,
        description="files written before start: path relative to the run dir -> template",
    )
    ports: list[PortSpec] = Field(default_factory=lambda: [PortSpec()])
    health: HealthCheck = Field(default_factory=HealthCheck)
    depends_on: list[str] = Field(default_factory=list)
    restart: RestartPolicy = Field(default_factory=RestartPolicy)
    stop_grace: float = Field(5.0, ge=0)
    start: Literal["up", "on-request"] = "up"
    runtime_access: bool = Field(
        False, description="gets PRODBENCH_RUNTIME_URL and PRODBENCH_RUNTIME_TOKEN (the deployer)"
    )
    docker: DockerSpec | None = None

    @model_validator(mode="before")
    @classmethod
    def _job_defaults(cls, data: object) -> object:
        if isinstance(data, dict) and data.get("kind") == "job":
            data = {"ports": [], "health": {"kind": "none"}, **data}
        return data

    @model_validator(mode="after")
    def _ports_consistent(self) -> ServiceSpec:
        names = [p.name for p in self.ports]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"service {self.name!r} declares port {dupes[0]!r} twice")
        if self.health.kind != "none" and self.health.port not in names:
            raise ValueError(
                f"service {self.name!r}: health check uses port {self.health.port!r}, "
                f"but the service only declares {names or 'no ports'}"
            )
        return self

    @model_validator(mode="after")
    def _job_not_on_request(self) -> ServiceSpec:
        if self.kind == "job" and self.start == "on-request":
            raise ValueError(
                f"service {self.name!r}: a job cannot be started on request; remove "
                "'start: on-request' or make it a service"
            )
        return self

    def port_names(self) -> list[str]:
        return [p.name for p in self.ports]

    def templates(self) -> list[tuple[str, str]]:
        """Every (where, template) pair, for reference checks."""
        out = [(f"argv[{i}]", a) for i, a in enumerate(self.argv)]
        out += [(f"env.{k}", v) for k, v in self.env.items()]
        out += [(f"files[{k}]", v) for k, v in self.files.items()]
        out += [(f"files key {k!r}", k) for k in self.files]
        if self.cwd:
            out.append(("cwd", self.cwd))
        return out


class StackSpec(_Model):
    name: str = Field(pattern=NAME_PATTERN)
    description: str = ""
    services: list[ServiceSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _validate_graph(self) -> StackSpec:
        problems = validate_stack(self)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def service(self, name: str) -> ServiceSpec:
        for svc in self.services:
            if svc.name == name:
                return svc
        raise KeyError(name)

    def levels(self) -> list[list[str]]:
        """Services grouped so each group depends only on earlier groups."""
        remaining = {s.name: set(s.depends_on) for s in self.services}
        done: set[str] = set()
        levels: list[list[str]] = []
        while remaining:
            ready = sorted(n for n, deps in remaining.items() if deps <= done)
            levels.append(ready)
            done.update(ready)
            for n in ready:
                del remaining[n]
        return levels

    def dependants(self, name: str) -> set[str]:
        """Services that depend on `name`, directly or not."""
        out: set[str] = set()
        frontier = {name}
        while frontier:
            nxt = {s.name for s in self.services if set(s.depends_on) & frontier} - out
            out |= nxt
            frontier = nxt
        return out


def validate_stack(stack: StackSpec) -> list[str]:
    """All graph-level problems at once, so an author fixes them in one pass."""
    problems: list[str] = []
    names = [s.name for s in stack.services]
    seen: set[str] = set()
    for n in names:
        if n in seen:
            problems.append(f"duplicate service name {n!r}: each service needs a unique name")
        seen.add(n)
    known = set(names)
    for svc in stack.services:
        for dep in svc.depends_on:
            if dep not in known:
                problems.append(
                    f"service {svc.name!r} depends on unknown service {dep!r} "
                    f"(known: {', '.join(sorted(known))})"
                )
            elif dep == svc.name:
                problems.append(f"service {svc.name!r} depends on itself")
    cycle = _find_cycle({s.name: [d for d in s.depends_on if d in known] for s in stack.services})
    if cycle:
        problems.append("dependency cycle: " + " -> ".join(cycle) + "; remove one depends_on edge")
    owners: dict[int, str] = {}
    for svc in stack.services:
        for p in svc.ports:
            if p.fixed is None:
                continue
            if p.fixed in owners:
                problems.append(
                    f"port clash: {p.fixed} is fixed for both {owners[p.fixed]} and "
                    f"{svc.name}.{p.name}; give one of them another port or drop 'fixed'"
                )
            owners[p.fixed] = f"{svc.name}.{p.name}"
    by_name = {s.name: s for s in stack.services}
    for svc in stack.services:
        for where, template in svc.templates():
            for ref in placeholders(template):
                problem = _check_reference(ref, svc, by_name)
                if problem:
                    problems.append(f"service {svc.name!r} {where}: {problem}")
    return problems


def _check_reference(ref: str, svc: ServiceSpec, by_name: dict[str, ServiceSpec]) -> str | None:
    head, _, rest = ref.partition(".")
    if head in RUN_PLACEHOLDERS and not rest:
        return None
    if head == "vars" and rest:
        return None  # set by the environment's prepare step; checked when rendered
    if head == "ports":
        return None if rest in svc.port_names() else f"unknown own port {{{ref}}}"
    if head in by_name:
        other = by_name[head]
        if rest in ("host", "port", "url"):
            return None
        if rest.startswith("ports.") and rest[6:] in other.port_names():
            return None
        return f"unknown placeholder {{{ref}}}: use {{{head}.url}}, {{{head}.port}} or {{{head}.ports.NAME}}"
    return (
        f"unknown placeholder {{{ref}}}: use one of "
        + ", ".join("{" + p + "}" for p in sorted(RUN_PLACEHOLDERS))
        + ", {ports.NAME}, {vars.NAME} or {SERVICE.url}"
    )


def _find_cycle(graph: dict[str, list[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for dep in graph.get(node, []):
            if state.get(dep) == 1:
                return stack[stack.index(dep) :] + [dep]
            if state.get(dep) is None:
                found = visit(dep)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if state.get(node) is None:
            found = visit(node)
            if found:
                return found
    return None


def placeholders(template: str) -> list[str]:
    return [m.group(1) for m in _TOKEN.finditer(template) if m.group(1)]


def render(template: str, values: dict[str, str]) -> str:
    """Fill `{name}` placeholders; `{{` and `}}` become literal braces (for JSON and PromQL)."""

    def sub(match: re.Match[str]) -> str:
        key = match.group(1)
        if key is None:
            return match.group(0)[0]
        if key not in values:
            raise StackError(f"no value for placeholder {{{key}}}")
        return values[key]

    return _TOKEN.sub(sub, template)


def missing_executables(stack: StackSpec, values: dict[str, str]) -> list[str]:
    """Services whose argv[0] is neither on PATH nor an existing file.

    An argv[0] naming `{vars.NAME}` is skipped: only the prepare step (or the deployer's
    override) knows it, and a wrong one fails at start with the service named.
    """
    problems = []
    for svc in stack.services:
        if any(ref.startswith("vars.") for ref in placeholders(svc.argv[0])):
            continue
        exe = render(svc.argv[0], {**values, **_dummy_refs(svc, stack)})
        found = Path(exe).is_file() if "/" in exe else shutil.which(exe) is not None
        if not found:
            problems.append(
                f"service {svc.name!r}: executable {exe!r} not found; install it or run "
                "`prodbench doctor` to see how"
            )
    return problems


def _dummy_refs(svc: ServiceSpec, stack: StackSpec) -> dict[str, str]:
    # argv[0] rarely references ports; give every reference a value so rendering cannot fail here.
    out: dict[str, str] = {
        f"vars.{ref[5:]}": ""
        for _, t in svc.templates()
        for ref in placeholders(t)
        if ref.startswith("vars.")
    }
    for other in stack.services:
        for key in ("host", "port", "url"):
            out[f"{other.name}.{key}"] = ""
        for p in other.ports:
            out[f"{other.name}.ports.{p.name}"] = ""
    for p in svc.ports:
        out[f"ports.{p.name}"] = ""
    return out


def load_stack(path: Path) -> StackSpec:
    """Read a stack from YAML or JSON with errors that name the file and the field."""
    try:
        raw = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise StackError(f"cannot read stack file {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise StackError(f"stack file {path} is not valid YAML: {exc}") from exc
    return parse_stack(raw, source=str(path))


def parse_stack(raw: object, source: str = "stack") -> StackSpec:
    try:
        return StackSpec.model_validate(raw)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = ".".join(str(x) for x in err["loc"]) or "(top level)"
            msg = err["msg"].removeprefix("Value error, ")
            lines.append(f"  {loc}: {msg}")
        raise StackError(f"{source} is not a valid stack:\n" + "\n".join(lines)) from None
