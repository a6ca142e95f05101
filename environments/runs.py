"""The run directory contract: where a run keeps everything it owns, and how we find runs.

A run never writes outside `runs/<id>/`, so several can live side by side and `rm -r` of the
directory is a complete clean-up once its processes are down.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from environments.paths import cache_dir, machine_state_dir  # noqa: F401 - re-exported

RUNS_DIR_ENV = "PRODBENCH_RUNS_DIR"

RunStatus = Literal["starting", "healthy", "degraded", "failed", "stopping", "stopped"]
ServiceStatus = Literal[
    "pending",
    "starting",
    "healthy",
    "completed",
    "unhealthy",
    "restarting",
    "exited",
    "failed",
    "stopped",
]


class RunError(RuntimeError):
    """A run that cannot be found or used; the message says what to do."""


def default_runs_dir() -> Path:
    return Path(os.environ.get(RUNS_DIR_ENV) or "runs").resolve()


def new_run_id(stack: str) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return f"{stack}-{stamp}-{secrets.token_hex(2)}"


class RunPaths:
    """Every path of the contract in DESIGN.md, in one place."""

    def __init__(self, root: Path):
        self.root = root

    @property
    def run_id(self) -> str:
        return self.root.name

    workspace = property(lambda self: self.root / "workspace")
    releases = property(lambda self: self.root / "releases")
    state = property(lambda self: self.root / "state")
    logs = property(lambda self: self.root / "logs")
    prometheus = property(lambda self: self.root / "prometheus")
    env_json = property(lambda self: self.root / "env.json")
    mcp_json = property(lambda self: self.root / "mcp.json")
    calls = property(lambda self: self.root / "calls.jsonl")
    result = property(lambda self: self.root / "result.json")
    request = property(lambda self: self.root / "run-request.json")
    supervisor_json = property(lambda self: self.root / "supervisor.json")
    supervisor_log = property(lambda self: self.root / "logs" / "_supervisor.log")

    def service_log(self, instance: str) -> Path:
        """The log of a service's main instance (`api`) or of an extra one (`api-canary`)."""
        return self.logs / f"{instance}.log"

    def create(self) -> None:
        for d in (self.workspace, self.releases, self.state, self.logs, self.prometheus):
            d.mkdir(parents=True, exist_ok=True)


class Endpoint(BaseModel):
    host: str
    ports: dict[str, int]
    url: str | None = Field(None, description="http URL of the main port, when it speaks HTTP")


class EnvInfo(BaseModel):
    """env.json: what an agent harness, a grader or a person needs to reach the run."""

    model_config = ConfigDict(extra="forbid")

    run_id: str
    stack: str
    task: str | None = None
    seed: int
    runtime: Literal["local", "docker"] = "local"
    created_at: str
    run_dir: str
    services: dict[str, Endpoint]


class RunRequest(BaseModel):
    """What `up` asks the supervisor to do; written before it starts so a crash leaves a record."""

    model_config = ConfigDict(extra="forbid")

    run_id: str
    seed: int
    task: str | None = None
    stack: dict
    startup_timeout: float = 60.0
    keep_on_failure: bool = False
    vars: dict[str, str] = Field(
        default_factory=dict, description="values the environment's prepare step set: {vars.NAME}"
    )


class ServiceState(BaseModel):
    status: ServiceStatus = "pending"
    pid: int | None = None
    pgid: int | None = None
    restarts: int = 0
    exit_code: int | None = None
    started_at: float | None = None
    healthy_at: float | None = None
    error: str | None = None
    log_tail: list[str] = Field(default_factory=list)
    vars: dict[str, str] = Field(
        default_factory=dict, description="{vars.NAME} overrides it was last started with"
    )
    env: dict[str, str] = Field(
        default_factory=dict, description="environment overrides it was last started with"
    )


class InstanceState(ServiceState):
    """An extra instance of a service (a canary), started through the runtime control API."""

    service: str
    ports: dict[str, int] = Field(default_factory=dict)
    url: str | None = None


class ControlEndpoint(BaseModel):
    """Where the supervisor's runtime control API listens, and the run's bearer token for it."""

    url: str
    token: str


class SupervisorState(BaseModel):
    """supervisor.json: the live state of a run, rewritten atomically on every change."""

    run_id: str
    pid: int
    status: RunStatus
    started_at: float
    healthy_at: float | None = None
    error: str | None = None
    services: dict[str, ServiceState] = Field(default_factory=dict)
    instances: dict[str, InstanceState] = Field(
        default_factory=dict, description="extra instances by name; main ones are `services`"
    )
    control: ControlEndpoint | None = None
    updated_at: float = Field(default_factory=time.time)


ENV_JSON_ENV = "PRODBENCH_ENV_JSON"


def env_json_path(run_dir: Path) -> Path:
    """The env.json a service of the run reads: its own when it is given one (in a container,
    the services by container name), else the run directory's."""
    given = os.environ.get(ENV_JSON_ENV)
    return Path(given) if given else Path(run_dir) / "env.json"


def write_json_atomic(path: Path, data: object) -> None:
    """Write via a temp file and rename, so a reader never sees half a file."""
    text = (
        data.model_dump_json(indent=2)
        if isinstance(data, BaseModel)
        else json.dumps(data, indent=2, sort_keys=True)
    )
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w") as fh:
        fh.write(text + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is not alive; /proc tells us on Linux
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


class RunHandle:
    """A run on disk, as the CLI sees it."""

    def __init__(self, paths: RunPaths):
        self.paths = paths

    @property
    def run_id(self) -> str:
        return self.paths.run_id

    def env(self) -> EnvInfo | None:
        try:
            return EnvInfo.model_validate_json(self.paths.env_json.read_text())
        except (OSError, ValueError):
            return None

    def supervisor(self) -> SupervisorState | None:
        try:
            return SupervisorState.model_validate_json(self.paths.supervisor_json.read_text())
        except (OSError, ValueError):
            return None

    def live_status(self) -> str:
        """The recorded status, corrected when the supervisor died without saying so."""
        state = self.supervisor()
        if state is None:
            return "unknown"
        if state.status in ("stopped", "failed"):
            return state.status
        return state.status if pid_alive(state.pid) else "crashed"

    def created(self) -> float:
        try:
            return self.paths.root.stat().st_mtime
        except OSError:
            return 0.0


def list_runs(runs_dir: Path) -> list[RunHandle]:
    if not runs_dir.is_dir():
        return []
    runs = [
        RunHandle(RunPaths(p))
        for p in runs_dir.iterdir()
        if p.is_dir() and (p / "run-request.json").exists()
    ]
    return sorted(runs, key=lambda r: (r.paths.request.stat().st_mtime, r.run_id))


def find_run(runs_dir: Path, run_id: str | None) -> RunHandle:
    """A run by id or unique prefix; the newest run when no id is given."""
    runs = list_runs(runs_dir)
    if not runs:
        raise RunError(f"no runs in {runs_dir}; start one with `prodbench up`")
    if run_id is None:
        return runs[-1]
    exact = [r for r in runs if r.run_id == run_id]
    if exact:
        return exact[0]
    matches = [r for r in runs if r.run_id.startswith(run_id)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise RunError(f"no run {run_id!r} in {runs_dir}; `prodbench ls` lists the runs")
    names = ", ".join(r.run_id for r in matches)
    raise RunError(f"{run_id!r} matches several runs ({names}); give more of the id")
