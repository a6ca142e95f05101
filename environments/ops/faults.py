"""Fault injection for task setup: the faults a task puts a run through, started, stopped, listed.

Each fault is a typed spec (`FaultSpec`, discriminated on `kind`) and acts through the means
an operator's own tooling would have:

- `payments_latency`, `payments_errors`: the payments simulator's `POST /admin/faults`, with
  the active payments faults combined into one config (none active: zero faults again);
- `db_slow`, `worker_stall`: the app's runtime faults file (ACME_FAULTS_FILE), rewritten
  atomically from the active faults; the services notice within half a second;
- `service_crash`: SIGKILL to an instance's process group, the supervisor restarting it by its
  policy; one-shot, so it is over once done;
- `bad_config`: the service restarted with environment overrides; stopping restarts it with
  the overrides it had before;
- `hostile_traffic`: the traffic process's `/admin/hostile/{attack}`.

The active faults are the desired state: the manager re-asserts them every few seconds, so a
fault outlives a restart or redeploy of its target (as a real provider's incident would), and
stops those with `duration_s` when their time is up. Active and past faults persist in
`state/ops/faults.json`, so a restarted ops service carries on where it was.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import re
import signal
import threading
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal, Protocol

import httpx
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from environments.runs import write_json_atomic
from environments.runtime.client import RuntimeControlError

log = logging.getLogger("ops.faults")

NAME = r"^[a-z][a-z0-9-]{0,62}$"
ENV_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
MAX_DURATION = 7 * 86400
PAYMENTS_MODES = {503: "error", 402: "decline", 504: "timeout"}
Attack = Literal["credential_stuffing", "id_enumeration", "scraping"]  # traffic/hostile.py


# ---- specs --------------------------------------------------------------------------------


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    duration_s: float | None = Field(
        default=None, gt=0, le=MAX_DURATION, description="stops by itself after this long"
    )


class PaymentsLatency(_Spec):
    """Every payments call waits `latency_ms`, plus up to `jitter_ms`."""

    kind: Literal["payments_latency"]
    latency_ms: int = Field(ge=1, le=60_000)
    jitter_ms: int = Field(default=0, ge=0, le=60_000)


class PaymentsErrors(_Spec):
    """A share `rate` of payments calls fail: 503, 402 (a processing_error decline) or 504
    (the processor hangs for 30 s, so the caller times out)."""

    kind: Literal["payments_errors"]
    rate: float = Field(gt=0, le=1)
    status: Literal[503, 402, 504] = 503


class DbSlow(_Spec):
    """Every SQL statement of `services` (all when absent) waits `latency_ms`."""

    kind: Literal["db_slow"]
    latency_ms: int = Field(ge=1, le=60_000)
    services: list[Literal["api", "worker", "payments"]] | None = Field(default=None, min_length=1)


class WorkerStall(_Spec):
    """Workers claim no jobs (they stay healthy), so the queue backs up."""

    kind: Literal["worker_stall"]


class ServiceCrash(_Spec):
    """SIGKILL to the process group of `instance` (the service's main one by default)."""

    kind: Literal["service_crash"]
    service: str = Field(pattern=NAME)
    instance: str | None = Field(default=None, pattern=NAME)

    @field_validator("duration_s")
    @classmethod
    def _instantaneous(cls, value: float | None) -> float | None:
        if value is not None:
            raise ValueError("does not apply: a crash is over once the process is killed")
        return value


class BadConfig(_Spec):
    """The service restarted with these environment overrides."""

    kind: Literal["bad_config"]
    service: str = Field(pattern=NAME)
    env: dict[str, str] = Field(min_length=1)

    @field_validator("env")
    @classmethod
    def _names(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            if not ENV_KEY.match(key):
                raise ValueError(f"{key!r} is not an environment variable name")
            if key.startswith("PRODBENCH_"):
                raise ValueError(f"{key} belongs to the runtime and cannot be overridden")
        return value


class HostileTraffic(_Spec):
    """The traffic process attacks the store at `rate` requests per second."""

    kind: Literal["hostile_traffic"]
    attack: Attack
    rate: float = Field(default=5.0, gt=0, le=200)


FaultSpec = Annotated[
    PaymentsLatency
    | PaymentsErrors
    | DbSlow
    | WorkerStall
    | ServiceCrash
    | BadConfig
    | HostileTraffic,
    Field(discriminator="kind"),
]
SPEC = TypeAdapter(FaultSpec)
KINDS = (
    "payments_latency",
    "payments_errors",
    "db_slow",
    "worker_stall",
    "service_crash",
    "bad_config",
    "hostile_traffic",
)


class Fault(BaseModel):
    """One injected fault, active or past."""

    id: str
    spec: FaultSpec
    status: Literal["active", "stopped"] = "active"
    started_at: datetime
    expires_at: datetime | None = None
    stopped_at: datetime | None = None
    stop_reason: str | None = Field(default=None, description="requested, expired or one-shot")
    detail: str | None = Field(default=None, description="what was done")
    restore_env: dict[str, str] | None = Field(
        default=None, description="bad_config: the overrides its service gets back on stop"
    )

    @property
    def slot(self) -> str | None:
        """Faults in one slot would undo each other, so only one may be active at a time."""
        spec = self.spec
        if isinstance(spec, BadConfig):
            return f"bad_config:{spec.service}"
        if isinstance(spec, HostileTraffic):
            return f"hostile_traffic:{spec.attack}"
        return None if isinstance(spec, ServiceCrash) else spec.kind

    def public(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class FaultLedger(BaseModel):
    """The content of state/ops/faults.json."""

    next_id: int = 1
    faults: list[Fault] = Field(default_factory=list)


class FaultError(Exception):
    """A request the manager refuses or cannot carry out; `status` is its HTTP status."""

    def __init__(self, status: int, message: str, details: list[dict[str, str]] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = details


def parse_spec(data: Any) -> FaultSpec:
    """Validate a fault spec; FaultError(422) naming each bad field otherwise."""
    try:
        return SPEC.validate_python(data)
    except ValidationError as exc:
        details = _flatten(exc)
        summary = "; ".join(f"{d['field']}: {d['message']}" for d in details)
        raise FaultError(422, f"invalid fault: {summary}", details) from None


def _flatten(exc: ValidationError) -> list[dict[str, str]]:
    out = []
    for err in exc.errors(include_url=False):
        loc = [str(p) for p in err["loc"]]
        if err["type"] in ("union_tag_not_found", "union_tag_invalid"):
            tag = (err.get("ctx") or {}).get("tag")
            got = f"unknown kind {tag!r}; " if tag else "required; "
            out.append({"field": "kind", "message": got + "use one of " + ", ".join(KINDS)})
            continue
        if loc and loc[0] in KINDS:
            loc = loc[1:]
        out.append({"field": ".".join(loc) or "(body)", "message": err["msg"]})
    return out


# ---- collaborators --------------------------------------------------------------------------


class Runtime(Protocol):
    """What the manager needs of the run's supervisor: environments.runtime.client's
    RuntimeClient, or a stand-in. Errors are RuntimeControlError (`status` 422: the process
    did not become healthy)."""

    def instances(self) -> list[Any]:
        """Every instance, as dicts or objects with instance, service, pid, main (and env)."""
        ...

    def restart(self, service: str, env: dict[str, str] | None = None) -> Any:
        """Replace the service's main instance, with `env` as its environment overrides."""
        ...


def _field(item: Any, key: str) -> Any:
    return item.get(key) if isinstance(item, dict) else getattr(item, key, None)


def _now() -> datetime:
    return datetime.now(UTC)


# ---- the manager ----------------------------------------------------------------------------


class FaultManager:
    """Starts, stops and lists faults; keeps the active ones in force until they stop."""

    def __init__(
        self,
        *,
        state_dir: Path,
        payments_url: str | None = None,
        faults_file: Path | None = None,
        traffic_url: str | None = None,
        traffic_token: str | None = None,
        runtime: Runtime | None = None,
        seed: int = 0,
        reconcile_interval: float | None = 5.0,
        timeout: float = 10.0,
    ) -> None:
        self.path = Path(state_dir) / "ops" / "faults.json"
        self.faults_file = Path(faults_file) if faults_file else Path(state_dir) / "faults.json"
        self.payments_url = payments_url.rstrip("/") if payments_url else None
        self.traffic_url = traffic_url.rstrip("/") if traffic_url else None
        self.traffic_token = traffic_token
        self.runtime = runtime
        self.seed = seed
        self.reconcile_interval = reconcile_interval
        self.http = httpx.Client(timeout=timeout)
        self.ledger = self._load()
        self._op = threading.RLock()  # one start, stop or reconcile at a time (they are slow)
        self._data = threading.Lock()  # the ledger itself, so listing never waits on them
        self._wake = threading.Event()
        self._closed = False
        self._retry_at: dict[str, float] = {}
        self._thread = threading.Thread(target=self._tick_loop, name="faults", daemon=True)
        self._thread.start()

    # ---- public ---------------------------------------------------------------------------

    def list(self, status: str | None = None) -> list[Fault]:
        with self._data:
            return [f for f in self.ledger.faults if status in (None, f.status)]

    def get(self, fault_id: str) -> Fault:
        with self._data:
            for fault in self.ledger.faults:
                if fault.id == fault_id:
                    return fault
        raise FaultError(404, f"no fault {fault_id!r}; GET /api/v1/faults lists them")

    def start(self, spec: FaultSpec) -> Fault:
        with self._op:
            now = _now()
            fault = Fault(id=f"f-{self.ledger.next_id}", spec=spec, started_at=now)
            if spec.duration_s is not None:
                fault.expires_at = datetime.fromtimestamp(now.timestamp() + spec.duration_s, UTC)
            clash = [f for f in self._active() if fault.slot and f.slot == fault.slot]
            if clash:
                raise FaultError(
                    409,
                    f"{clash[0].id} ({clash[0].spec.kind}) is already active and would be undone; "
                    f"stop it first: DELETE /api/v1/faults/{clash[0].id}",
                )
            self._apply(fault)
            with self._data:
                self.ledger.next_id += 1
                self.ledger.faults.append(fault)
                self._save()
            log.warning("fault %s started: %s", fault.id, spec.model_dump_json(exclude_none=True))
        self._wake.set()
        return fault

    def stop(self, fault_id: str, reason: str = "requested") -> Fault:
        with self._op:
            fault = self.get(fault_id)
            if fault.status == "stopped":
                return fault
            self._unapply(fault)
            with self._data:
                fault.status, fault.stopped_at, fault.stop_reason = "stopped", _now(), reason
                self._save()
            self._retry_at.pop(fault.id, None)
            log.warning("fault %s stopped (%s)", fault.id, reason)
            return fault

    def stop_all(self) -> tuple[list[Fault], list[dict[str, str]]]:
        """Stop every active fault; returns those stopped and those that could not be."""
        stopped, errors = [], []
        with self._op:
            for fault in self._active():
                try:
                    stopped.append(self.stop(fault.id))
                except FaultError as exc:
                    errors.append({"id": fault.id, "error": exc.message})
        return stopped, errors

    def reconcile(self) -> None:
        """Re-assert the active faults where their target may have forgotten them."""
        with self._op:
            active = self._active()
            if any(isinstance(f.spec, PaymentsLatency | PaymentsErrors) for f in active):
                want = self._payments_config(active)
                have = self._call("payments", "GET", "/admin/faults")
                if {k: have.get(k) for k in want} != want:
                    log.warning("payments lost its faults; setting them again")
                    self._push_payments(active)
            if any(isinstance(f.spec, DbSlow | WorkerStall) for f in active):
                want_file = self._file_content(active)
                try:
                    have_file = json.loads(self.faults_file.read_text())
                except (OSError, ValueError):
                    have_file = None
                if have_file != want_file:
                    self._write_faults_file(active)
            hostile = [f.spec for f in active if isinstance(f.spec, HostileTraffic)]
            if hostile:
                running = self._call("traffic", "GET", "/admin/hostile").get("active", [])
                rates = {a.get("kind"): a.get("rate") for a in running}
                for spec in hostile:
                    if rates.get(spec.attack) != spec.rate:
                        self._hostile_start(spec)

    def close(self) -> None:
        self._closed = True
        self._wake.set()
        self._thread.join(timeout=5)
        self.http.close()

    # ---- effects --------------------------------------------------------------------------

    def _active(self) -> list[Fault]:
        return self.list("active")

    def _apply(self, fault: Fault) -> None:
        spec, others = fault.spec, self._active()
        if isinstance(spec, PaymentsLatency | PaymentsErrors):
            self._push_payments([*others, fault])
            fault.detail = f"payments faults: {self._payments_config([*others, fault])}"
        elif isinstance(spec, DbSlow | WorkerStall):
            content = self._write_faults_file([*others, fault])
            fault.detail = f"{self.faults_file.name}: {json.dumps(content, sort_keys=True)}"
        elif isinstance(spec, ServiceCrash):
            fault.detail = self._crash(spec)
            fault.status, fault.stopped_at, fault.stop_reason = "stopped", _now(), "one-shot"
        elif isinstance(spec, BadConfig):
            main = self._main_instance(spec.service)
            fault.restore_env = dict(_field(main, "env") or {})
            fault.detail = self._restart(spec.service, {**fault.restore_env, **spec.env})
        elif isinstance(spec, HostileTraffic):
            attack = self._hostile_start(spec)
            fault.detail = f"traffic attacks with {spec.attack} at {attack.get('rate')} req/s"

    def _unapply(self, fault: Fault) -> None:
        spec, others = fault.spec, [f for f in self._active() if f.id != fault.id]
        if isinstance(spec, PaymentsLatency | PaymentsErrors):
            self._push_payments(others)
        elif isinstance(spec, DbSlow | WorkerStall):
            self._write_faults_file(others)
        elif isinstance(spec, BadConfig):
            self._restart(spec.service, fault.restore_env or {})
        elif isinstance(spec, HostileTraffic):
            self._call("traffic", "DELETE", f"/admin/hostile/{spec.attack}", missing_ok=True)

    def _payments_config(self, faults: list[Fault]) -> dict[str, Any]:
        config: dict[str, Any] = {
            "latency_ms": 0,
            "jitter_ms": 0,
            "failure_rate": 0.0,
            "failure_mode": "error",
            "seed": self.seed,
        }
        for fault in faults:
            spec = fault.spec
            if isinstance(spec, PaymentsLatency):
                config.update(latency_ms=spec.latency_ms, jitter_ms=spec.jitter_ms)
            elif isinstance(spec, PaymentsErrors):
                config.update(failure_rate=spec.rate, failure_mode=PAYMENTS_MODES[spec.status])
        return config

    def _push_payments(self, faults: list[Fault]) -> None:
        self._call("payments", "POST", "/admin/faults", payload=self._payments_config(faults))

    @staticmethod
    def _file_content(faults: list[Fault]) -> dict[str, Any]:
        content: dict[str, Any] = {}
        for fault in faults:
            spec = fault.spec
            if isinstance(spec, DbSlow):
                content["db_latency_ms"] = spec.latency_ms
                if spec.services:
                    content["db_latency_services"] = sorted(set(spec.services))
            elif isinstance(spec, WorkerStall):
                content["worker_stall"] = True
        return content

    def _write_faults_file(self, faults: list[Fault]) -> dict[str, Any]:
        content = self._file_content(faults)
        self.faults_file.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(self.faults_file, content)
        return content

    def _hostile_start(self, spec: HostileTraffic) -> dict[str, Any]:
        body = self._call(
            "traffic", "PUT", f"/admin/hostile/{spec.attack}", payload={"rate": spec.rate}
        )
        return body.get("attack") or {}

    def _call(
        self, target: str, method: str, path: str, *, payload: Any = None, missing_ok: bool = False
    ) -> dict[str, Any]:
        base = self.payments_url if target == "payments" else self.traffic_url
        headers = {}
        if target == "traffic":
            if not self.traffic_token:
                base = None
            headers["Authorization"] = f"Bearer {self.traffic_token}"
        if not base:
            raise FaultError(503, f"this run has no {target} endpoint to inject faults through")
        try:
            resp = self.http.request(method, base + path, json=payload, headers=headers)
        except httpx.HTTPError as exc:
            raise FaultError(
                502, f"{target} is unreachable at {base} ({type(exc).__name__}: {exc})"
            ) from None
        if resp.status_code == 404 and missing_ok:
            return {}
        if resp.is_error:
            raise FaultError(
                502, f"{target} refused {method} {path}: HTTP {resp.status_code} {resp.text[:300]}"
            )
        try:
            body = resp.json()
        except ValueError:
            body = {}
        return body if isinstance(body, dict) else {}

    def _instances(self) -> list[Any]:
        if self.runtime is None:
            raise FaultError(503, "this run has no runtime control API to act on services with")
        try:
            return list(self.runtime.instances())
        except (RuntimeControlError, OSError) as exc:
            raise FaultError(502, f"the runtime did not list instances: {exc}") from None

    def _of_service(self, service: str) -> list[Any]:
        instances = self._instances()
        mine = [i for i in instances if _field(i, "service") == service]
        if not mine:
            known = sorted({str(_field(i, "service")) for i in instances})
            raise FaultError(404, f"no service {service!r}; services: {', '.join(known)}")
        return mine

    def _main_instance(self, service: str) -> Any:
        mine = self._of_service(service)
        return next((i for i in mine if _field(i, "main")), mine[0])

    def _crash(self, spec: ServiceCrash) -> str:
        if spec.instance is None:
            target = self._main_instance(spec.service)
        else:
            mine = self._of_service(spec.service)
            target = next((i for i in mine if _field(i, "instance") == spec.instance), None)
            if target is None:
                names = ", ".join(sorted(str(_field(i, "instance")) for i in mine))
                raise FaultError(
                    404, f"no instance {spec.instance!r} of {spec.service}; instances: {names}"
                )
        name, pid = _field(target, "instance"), _field(target, "pid")
        try:
            if not pid:
                raise ProcessLookupError
            pgid = os.getpgid(pid)
            if pgid == os.getpgrp():  # never our own group: kill the process alone
                os.kill(pid, signal.SIGKILL)
            else:
                os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            raise FaultError(409, f"{name} is not running (pid {pid}); nothing to crash") from None
        return f"SIGKILL to {name} (pid {pid}, process group {pgid}); restarted by its policy"

    def _restart(self, service: str, env: dict[str, str]) -> str:
        if self.runtime is None:
            raise FaultError(503, "this run has no runtime control API to act on services with")
        try:
            self.runtime.restart(service, env=env)
        except (RuntimeControlError, OSError) as exc:
            # 422: restarted, but the process did not become healthy; with a bad config that
            # is the fault doing its work. Anything else: nothing changed.
            if getattr(exc, "status", None) == 422:
                return f"{service} restarted with env {sorted(env)} and failed: {exc}"
            raise FaultError(502, f"the runtime did not restart {service}: {exc}") from None
        return f"{service} restarted with env overrides {sorted(env)}"

    # ---- persistence and time -------------------------------------------------------------

    def _load(self) -> FaultLedger:
        try:
            return FaultLedger.model_validate_json(self.path.read_text())
        except FileNotFoundError:
            return FaultLedger()
        except (OSError, ValueError) as exc:
            raise RuntimeError(
                f"{self.path} is unreadable ({exc}); move it away to start without faults"
            ) from None

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(self.path, self.ledger)

    def _tick_loop(self) -> None:
        next_reconcile = time.monotonic()  # at once: re-assert what a previous ops service left
        while not self._closed:
            try:
                self._expire_due()
                if self.reconcile_interval and time.monotonic() >= next_reconcile:
                    next_reconcile = time.monotonic() + self.reconcile_interval
                    self.reconcile()
            except FaultError as exc:
                log.warning("could not re-assert the active faults: %s", exc.message)
            except Exception:  # a bug must not end expiry for the rest of the run
                log.exception("fault ticker failed; carrying on")
            waits = [1.0]
            if self.reconcile_interval:
                waits.append(next_reconcile - time.monotonic())
            now = time.time()
            for fault in self.list("active"):
                if fault.expires_at is not None:
                    due = max(fault.expires_at.timestamp(), self._retry_at.get(fault.id, 0))
                    waits.append(due - now)
            self._wake.wait(max(0.01, min(waits)))
            self._wake.clear()

    def _expire_due(self) -> None:
        now = time.time()
        for fault in self.list("active"):
            if fault.expires_at is None or fault.expires_at.timestamp() > now:
                continue
            if self._retry_at.get(fault.id, 0) > now:
                continue
            try:
                self.stop(fault.id, reason="expired")
            except FaultError as exc:
                log.warning("fault %s expired but could not be stopped: %s", fault.id, exc.message)
                self._retry_at[fault.id] = now + 2.0


# ---- HTTP ---------------------------------------------------------------------------------

Handler = Callable[[Request], Awaitable[JSONResponse]]


def fault_routes(manager: FaultManager, admin_token: str) -> list[Route]:
    """The fault API (admin bearer token):

    GET    /api/v1/faults[?status=active|stopped]  -> {"faults": [fault, ...]}
    POST   /api/v1/faults  body: a FaultSpec       -> 201 {"fault": fault}
    GET    /api/v1/faults/{id}                     -> {"fault": fault}
    DELETE /api/v1/faults/{id}                     -> {"fault": fault}  (stopped)
    DELETE /api/v1/faults                          -> {"stopped": [...], "errors": [...]}
    """
    if not admin_token:
        raise ValueError("fault_routes needs the run's admin token")
    expected = f"Bearer {admin_token}".encode()

    def guarded(handler: Handler) -> Handler:
        async def endpoint(request: Request) -> JSONResponse:
            given = request.headers.get("authorization", "").encode()
            if not hmac.compare_digest(given, expected):
                return JSONResponse({"error": "missing or wrong admin bearer token"}, 401)
            try:
                return await handler(request)
            except FaultError as exc:
                body: dict[str, Any] = {"error": exc.message}
                if exc.details:
                    body["details"] = exc.details
                return JSONResponse(body, exc.status)

        return endpoint

    async def list_faults(request: Request) -> JSONResponse:
        status = request.query_params.get("status")
        if status not in (None, "active", "stopped"):
            raise FaultError(400, f"status must be active or stopped, got {status!r}")
        faults = await run_in_threadpool(manager.list, status)
        return JSONResponse({"faults": [f.public() for f in faults]})

    async def create(request: Request) -> JSONResponse:
        try:
            data = json.loads(await request.body())
        except ValueError as exc:
            raise FaultError(400, f"the body is not JSON: {exc}") from None
        if not isinstance(data, dict):
            raise FaultError(400, 'the body must be a JSON object: a fault spec with its "kind"')
        spec = parse_spec(data)
        fault = await run_in_threadpool(manager.start, spec)
        return JSONResponse({"fault": fault.public()}, 201)

    async def get_one(request: Request) -> JSONResponse:
        fault = await run_in_threadpool(manager.get, request.path_params["fault_id"])
        return JSONResponse({"fault": fault.public()})

    async def stop_one(request: Request) -> JSONResponse:
        fault = await run_in_threadpool(manager.stop, request.path_params["fault_id"])
        return JSONResponse({"fault": fault.public()})

    async def stop_all(request: Request) -> JSONResponse:
        stopped, errors = await run_in_threadpool(manager.stop_all)
        body = {"stopped": [f.public() for f in stopped], "errors": errors}
        return JSONResponse(body, 502 if errors else 200)

    return [
        Route("/api/v1/faults", guarded(list_faults), methods=["GET"]),
        Route("/api/v1/faults", guarded(create), methods=["POST"]),
        Route("/api/v1/faults", guarded(stop_all), methods=["DELETE"]),
        Route("/api/v1/faults/{fault_id}", guarded(get_one), methods=["GET"]),
        Route("/api/v1/faults/{fault_id}", guarded(stop_one), methods=["DELETE"]),
    ]
