"""The local runtime: one supervisor process per run that owns every service process.

`prodbench up` starts this module detached (`python -m environments.runtime.supervisor RUN_DIR`)
and waits on a pipe until the stack is healthy or has failed; `--foreground` runs the same
`Supervisor` in the CLI's process. The supervisor plans ports, starts services in dependency
order (independent ones in parallel, dependants once their dependencies are healthy), restarts
them by policy, and stops them in reverse order. Each process runs in its own process group
with a parent-death signal, and a separate guard process kills the groups if the supervisor is
itself killed, so no process outlives its run.

Every process is an `Instance` of a service: its main instance (named as the service, on the
planned ports) and extra instances (`api-canary`, on fresh ports) that a deployer starts and
stops through the runtime control API (`control.py`), served in this process's event loop.
"""

from __future__ import annotations

import asyncio
import ctypes
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from environments.logs import tail_lines
from environments.ports import HOST, PortAllocator, PortInUse, port_is_free
from environments.runs import (
    ControlEndpoint,
    Endpoint,
    EnvInfo,
    InstanceState,
    RunPaths,
    RunRequest,
    ServiceState,
    SupervisorState,
    machine_state_dir,
    write_json_atomic,
)
from environments.runtime.bytecode import start_compiling
from environments.runtime.control import (
    RUNTIME_TOKEN_ENV,
    RUNTIME_URL_ENV,
    ControlAPI,
    ControlError,
    ControlServer,
    InstanceInfo,
    NewInstance,
    Overrides,
)
from environments.runtime.health import probe_http, probe_tcp
from environments.runtime.procs import group_alive
from environments.stack import ServiceSpec, StackError, StackSpec, placeholders, render

READY_FD_ENV = "PRODBENCH_READY_FD"
POLL = 0.05
LOG_TAIL = 15
_PR_SET_PDEATHSIG = 1
_RUNNING = ("starting", "healthy", "restarting")


def _set_parent_death_signal() -> None:  # runs in the child between fork and exec
    try:
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


class ServiceFailed(Exception):
    pass


@dataclass(eq=False)
class Instance:
    """One process of a service, and what the supervisor tracks about it.

    `state` is its record in supervisor.json, updated in place; its `vars` and `env` are the
    overrides it was last started with, so a restart by policy keeps what the deployer deployed.
    """

    name: str
    spec: ServiceSpec
    state: ServiceState
    ports: dict[str, int]
    main: bool = True
    proc: subprocess.Popen | None = None
    healthy: asyncio.Event = field(default_factory=asyncio.Event)
    recovery: asyncio.Task | None = None
    next_check: float = 0.0
    misses: int = 0
    starting_up: bool = False  # the start-up sequence is bringing it up
    awaiting_request: bool = False  # start-up waits for the control API to start it

    @property
    def service(self) -> str:
        return self.spec.name


class Supervisor:
    def __init__(
        self,
        request: RunRequest,
        paths: RunPaths,
        notify: Callable[[dict], None] | None = None,
    ):
        self.request = request
        self.stack = StackSpec.model_validate(request.stack)
        self.paths = paths
        self._notify_once = notify
        self.state = SupervisorState(
            run_id=request.run_id, pid=os.getpid(), status="starting", started_at=time.time()
        )
        for svc in self.stack.services:
            self.state.services[svc.name] = ServiceState()
        self.instances: dict[str, Instance] = {}
        self.stopping = asyncio.Event()
        self.allocator = PortAllocator(machine_state_dir())
        self.guard: subprocess.Popen | None = None
        self.control: ControlServer | None = None
        self._token = secrets.token_urlsafe(32)
        self._locks = {svc.name: asyncio.Lock() for svc in self.stack.services}
        self._log_files: dict[str, object] = {}
        self._startup_deadline = 0.0
        self._control_port: int | None = None
        self._compiler: subprocess.Popen | None = None

    # ---- lifecycle ------------------------------------------------------------------------

    async def run(self) -> int:
        """Plan, start, watch until told to stop, tear down. Returns the process exit code."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.add_signal_handler(sig, self.stopping.set)
        self._save()
        self._start_guard()
        self._compiler = start_compiling()
        try:
            self._plan()
            await self._start_control()
            ok = await self._start_all()
            if ok:
                self.state.status = "healthy"
                self.state.healthy_at = time.time()
                self._save()
                self._notify({"status": "healthy"})
            else:
                self.state.status = "failed"
                self._save()
                self._notify({"status": "failed", "error": self.state.error})
                if not self.request.keep_on_failure:
                    return 1
            await self._watch()
            return 0 if ok else 1
        except StackError as exc:
            self.state.status = "failed"
            self.state.error = str(exc)
            self._notify({"status": "failed", "error": str(exc)})
            return 1
        finally:
            self._stop_compiler()
            await self._stop_control()
            await self._stop_all()
            self.allocator.release(self.request.run_id)
            if self.state.status != "failed":
                self.state.status = "stopped"
            self._save()
            self._stop_guard()

    def _notify(self, message: dict) -> None:
        """Tell whoever started us, once, whether the stack came up."""
        notify, self._notify_once = self._notify_once, None
        if notify is not None:
            notify(message)

    def _save(self) -> None:
        self.state.updated_at = time.time()
        write_json_atomic(self.paths.supervisor_json, self.state)

    # ---- planning -------------------------------------------------------------------------

    def _plan(self) -> None:
        """Give every port a number, then write env.json before anything starts."""
        run_id = self.request.run_id
        fixed = [p.fixed for s in self.stack.services for p in s.ports if p.fixed]
        for svc in self.stack.services:
            for p in svc.ports:
                if p.fixed and not port_is_free(p.fixed):
                    raise StackError(
                        f"port {p.fixed} (fixed for {svc.name}.{p.name}) is in use by another "
                        "process; stop that process or remove 'fixed' to get a free port"
                    )
        self.allocator.claim(run_id, fixed)
        dynamic = [p for s in self.stack.services for p in s.ports if not p.fixed]
        numbers = iter(self.allocator.allocate(run_id, len(dynamic), avoid=fixed))
        for svc in self.stack.services:
            ports = {p.name: p.fixed or next(numbers) for p in svc.ports}
            self.instances[svc.name] = Instance(svc.name, svc, self.state.services[svc.name], ports)
        self._write_env()

    def _write_env(self) -> None:
        env = EnvInfo(
            run_id=self.request.run_id,
            stack=self.stack.name,
            task=self.request.task,
            seed=self.request.seed,
            created_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.state.started_at)),
            run_dir=str(self.paths.root),
            services={
                svc.name: Endpoint(
                    host=HOST,
                    ports=self.instances[svc.name].ports,
                    url=self._public_url(self.instances[svc.name]),
                )
                for svc in self.stack.services
            },
        )
        write_json_atomic(self.paths.env_json, env)

    def _public_url(self, inst: Instance) -> str | None:
        """The URL env.json and the API show: only for services that speak HTTP."""
        return _url(inst.spec, inst.ports) if inst.spec.health.kind == "http" else None

    def values(self, inst: Instance) -> dict[str, str]:
        """Everything an instance's templates may name; other services mean their main instance."""
        svc = inst.spec
        vals = {
            "host": HOST,
            "name": svc.name,
            "instance": inst.name,
            "python": sys.executable,
            "run_id": self.request.run_id,
            "run_dir": str(self.paths.root),
            "state_dir": str(self.paths.state),
            "logs_dir": str(self.paths.logs),
            "seed": str(self.request.seed),
        }
        run_vars = {**self.request.vars, **inst.state.vars}
        vals.update({f"vars.{k}": v for k, v in run_vars.items()})
        if svc.ports:
            vals.update(port=str(_main_port(svc, inst.ports)), url=_url(svc, inst.ports))
        for pname, num in inst.ports.items():
            vals[f"ports.{pname}"] = str(num)
        for other in self.stack.services:
            ports = self.instances[other.name].ports
            vals[f"{other.name}.host"] = HOST
            if other.ports:
                vals[f"{other.name}.port"] = str(_main_port(other, ports))
                vals[f"{other.name}.url"] = _url(other, ports)
            for pname, num in ports.items():
                vals[f"{other.name}.ports.{pname}"] = str(num)
        return vals

    def _ensure_ports_free(self, inst: Instance) -> None:
        """Re-check just before start: someone may have taken a port since planning."""
        for p in inst.spec.ports:
            port = inst.ports[p.name]
            if port_is_free(port):
                continue
            where = f"{inst.name}.{p.name}"
            if p.fixed and inst.main:
                raise ServiceFailed(f"port {port} (fixed for {where}) was taken by another process")
            users = self._port_users(inst)
            if users:
                raise ServiceFailed(
                    f"port {port} of {where} was taken by another process after "
                    f"{', '.join(users)} had been started with it; run `prodbench up` again"
                )
            owner = self._port_owner(inst)
            try:
                inst.ports[p.name] = self.allocator.allocate(owner, 1, self._taken_ports())[0]
            except PortInUse as exc:
                raise ServiceFailed(f"port {port} of {where} was taken: {exc}") from exc
            self._record_ports(inst)

    def _port_users(self, inst: Instance) -> list[str]:
        """Running services whose templates name this main instance's ports."""
        if not inst.main:
            return []  # nothing refers to an extra instance by its ports
        running = {i.service for i in self.instances.values() if i.proc is not None}
        return [
            s.name
            for s in self.stack.services
            if s.name in running
            and any(
                ref.startswith(f"{inst.service}.")
                for _, t in s.templates()
                for ref in placeholders(t)
            )
        ]

    def _port_owner(self, inst: Instance) -> str:
        """The reservation a port is held under: the run, or the extra instance (freed alone)."""
        run_id = self.request.run_id
        return run_id if inst.main else f"{run_id}/{inst.name}"

    def _taken_ports(self) -> list[int]:
        taken = [n for i in self.instances.values() for n in i.ports.values()]
        return taken + ([self._control_port] if self._control_port else [])

    def _record_ports(self, inst: Instance) -> None:
        if inst.main:
            self._write_env()
        elif isinstance(inst.state, InstanceState):
            inst.state.ports = dict(inst.ports)
            inst.state.url = self._public_url(inst)

    # ---- the control API ------------------------------------------------------------------

    async def _start_control(self) -> None:
        """Serve the runtime control API on a loopback port of the run's own."""
        server = ControlServer(ControlAPI(self, self._token))
        for attempt in range(3):
            port = self.allocator.allocate(self.request.run_id, 1, avoid=self._taken_ports())[0]
            try:
                await server.start(HOST, port)
                break
            except OSError as exc:
                if attempt == 2:
                    raise StackError(f"cannot serve the runtime control API: {exc}") from exc
        self.control, self._control_port = server, port
        self.state.control = ControlEndpoint(url=f"http://{HOST}:{port}", token=self._token)
        self._save()

    async def _stop_control(self) -> None:
        if self.control is not None:
            await self.control.close()

    def list_instances(self) -> list[InstanceInfo]:
        order = {s.name: i for i, s in enumerate(self.stack.services)}
        ranked = sorted(
            self.instances.values(), key=lambda i: (order[i.service], not i.main, i.name)
        )
        return [self._info(i) for i in ranked]

    async def start_service(self, service: str, overrides: Overrides) -> InstanceInfo:
        """Start a main instance that is not running (an on-request one, or one given up on)."""
        inst = self._controllable(service)
        async with self._locks[service]:
            self._refuse_while_stopping()
            self._refuse_while_starting_up(inst)
            if inst.state.status in _RUNNING or inst.proc is not None:
                raise ControlError(
                    409,
                    f"service {service!r} is already running (status {inst.state.status}); "
                    f"replace it with POST /v1/services/{service}/restart",
                )
            await self._await_dependencies_for_control(inst.spec)
            return await self._start_main(inst, overrides)

    async def restart_service(self, service: str, overrides: Overrides) -> InstanceInfo:
        """Stop the main instance (SIGTERM, grace, SIGKILL) and start it with the overrides."""
        inst = self._controllable(service)
        async with self._locks[service]:
            self._refuse_while_stopping()
            self._refuse_while_starting_up(inst)
            await self._await_dependencies_for_control(inst.spec)
            await self._cancel_recovery(inst)
            await self._stop_instance(inst)
            return await self._start_main(inst, overrides)

    async def add_instance(self, service: str, request: NewInstance) -> InstanceInfo:
        """Start an extra instance on fresh ports; a failed one is cleaned up before we answer."""
        spec = self._controllable(service).spec
        async with self._locks[service]:
            self._refuse_while_stopping()
            self._check_new_instance_name(request.instance)
            await self._await_dependencies_for_control(spec)
            self._check_new_instance_name(request.instance)  # again: other services' requests ran
            inst = self._new_extra(spec, request)
            self._save()
            try:
                await self._spawn_and_wait(inst, time.monotonic() + spec.health.startup_timeout)
            except ServiceFailed as exc:
                tail = self._record_failure(inst, str(exc))
                await self._terminate(inst)
                self._forget_extra(inst)
                raise ControlError(
                    422, f"instance {inst.name!r} of {service!r} failed: {exc}", tail
                ) from None
            return self._info(inst)

    async def remove_instance(self, instance: str) -> InstanceInfo:
        """Stop an extra instance and release its ports."""
        inst = self.instances.get(instance)
        if inst is None:
            extras = sorted(i.name for i in self.instances.values() if not i.main)
            raise ControlError(
                404,
                f"no instance {instance!r}; extra instances: {', '.join(extras) or 'none'}",
            )
        if inst.main:
            raise ControlError(
                400,
                f"{instance!r} is the main instance of service {inst.service!r} and stops only "
                f"with the run; replace it with POST /v1/services/{inst.service}/restart",
            )
        async with self._locks[inst.service]:
            if self.instances.get(instance) is not inst:
                raise ControlError(404, f"instance {instance!r} was removed meanwhile")
            await self._cancel_recovery(inst)
            await self._terminate(inst)
            inst.state.status = "stopped"
            self._forget_extra(inst)
            return self._info(inst)

    def _controllable(self, service: str) -> Instance:
        inst = self.instances.get(service)
        if inst is None or not inst.main:
            known = ", ".join(s.name for s in self.stack.services)
            raise ControlError(404, f"unknown service {service!r}; services: {known}")
        if inst.spec.kind == "job":
            raise ControlError(
                400,
                f"{service!r} is a job (it runs once at start-up); jobs cannot be started, "
                "restarted or given instances through the runtime API",
            )
        return inst

    def _refuse_while_stopping(self) -> None:
        if self.stopping.is_set():
            raise ControlError(409, "the run is stopping; nothing new is started")

    @staticmethod
    def _refuse_while_starting_up(inst: Instance) -> None:
        if inst.starting_up:
            raise ControlError(
                409,
                f"service {inst.service!r} is still being started with the run "
                f"(status {inst.state.status}); try again once it is healthy",
            )

    def _check_new_instance_name(self, name: str) -> None:
        if name in self._locks:
            raise ControlError(409, f"{name!r} is a service name; choose another instance name")
        if name in self.instances:
            other = self.instances[name]
            raise ControlError(
                409,
                f"instance name {name!r} is taken (an instance of {other.service!r}, "
                f"{other.state.status}); remove it with DELETE /v1/instances/{name} or choose "
                "another name",
            )

    async def _start_main(self, inst: Instance, overrides: Overrides) -> InstanceInfo:
        self._apply_overrides(inst, overrides)
        inst.state.restarts = 0  # a deliberate start: the policy's budget begins anew
        try:
            await self._spawn_and_wait(inst, time.monotonic() + inst.spec.health.startup_timeout)
        except ServiceFailed as exc:
            tail = self._record_failure(inst, str(exc))
            await self._terminate(inst)
            inst.state.status = "failed"
            self._mark_degraded(inst)
            self._save()
            raise ControlError(422, f"service {inst.service!r} failed: {exc}", tail) from None
        self._mark_recovered()
        return self._info(inst)

    async def _await_dependencies_for_control(self, spec: ServiceSpec) -> None:
        """Wait for the dependencies of a service started through the API, as start-up does.

        A dependency that is down with no request for it in flight fails the call at once, so
        a deployer starting services in parallel hears of the first failure, not a timeout.
        """
        deadline = time.monotonic() + self.request.startup_timeout
        for dep in spec.depends_on:
            other = self.instances[dep]
            while not other.healthy.is_set():
                st = other.state
                if st.status in ("failed", "exited", "stopped") and not self._locks[dep].locked():
                    why = f": {st.error}" if st.error else ""
                    raise ControlError(
                        409,
                        f"cannot start {spec.name!r}: its dependency {dep!r} is {st.status}{why}",
                    )
                if time.monotonic() >= deadline:
                    raise ControlError(
                        409,
                        f"cannot start {spec.name!r}: its dependency {dep!r} is not healthy "
                        f"after {self.request.startup_timeout:.0f} s (status {st.status})",
                    )
                await _wait_event(other.healthy, POLL * 4)

    @staticmethod
    def _apply_overrides(inst: Instance, overrides: Overrides) -> None:
        if overrides.vars is not None:
            inst.state.vars = dict(overrides.vars)
        if overrides.env is not None:
            inst.state.env = dict(overrides.env)

    def _new_extra(self, spec: ServiceSpec, request: NewInstance) -> Instance:
        """Register an extra instance on fresh ports (no await: registered as allocated)."""
        owner = f"{self.request.run_id}/{request.instance}"
        try:
            numbers = self.allocator.allocate(owner, len(spec.ports), avoid=self._taken_ports())
        except PortInUse as exc:
            raise ControlError(409, f"no free ports for {request.instance!r}: {exc}") from exc
        ports = {p.name: n for p, n in zip(spec.ports, numbers, strict=True)}
        state = InstanceState(
            service=spec.name, ports=ports, vars=request.vars or {}, env=request.env or {}
        )
        inst = Instance(request.instance, spec, state, dict(ports), main=False)
        state.url = self._public_url(inst)
        self.instances[inst.name] = inst
        self.state.instances[inst.name] = state
        return inst

    def _forget_extra(self, inst: Instance) -> None:
        """Drop a stopped extra instance: its ports, its record and its log handle."""
        self.instances.pop(inst.name, None)
        self.state.instances.pop(inst.name, None)
        self.allocator.release(self._port_owner(inst))
        log = self._log_files.pop(inst.name, None)
        if log is not None:
            log.close()
        self._save()

    def _info(self, inst: Instance) -> InstanceInfo:
        st = inst.state
        return InstanceInfo(
            instance=inst.name,
            service=inst.service,
            main=inst.main,
            status=st.status,
            pid=inst.proc.pid if inst.proc is not None else None,
            ports=dict(inst.ports),
            url=self._public_url(inst),
            vars=st.vars,
            env=st.env,
            restarts=st.restarts,
            started_at=st.started_at,
            healthy_at=st.healthy_at,
            error=st.error,
        )

    def _mark_degraded(self, inst: Instance) -> None:
        """A main instance given up on degrades a running run; extra ones never do."""
        if inst.main and self.state.status in ("healthy", "degraded"):
            self.state.status = "degraded"
            self.state.error = f"service {inst.service!r} {inst.state.error}"

    def _mark_recovered(self) -> None:
        """A degraded run is healthy again once every main instance is."""
        mains = [i for i in self.instances.values() if i.main]
        if self.state.status == "degraded" and all(
            i.state.status in ("healthy", "completed") for i in mains
        ):
            self.state.status = "healthy"
            self.state.error = None
            self._save()

    # ---- starting -------------------------------------------------------------------------

    async def _start_all(self) -> bool:
        self._startup_deadline = time.monotonic() + self.request.startup_timeout
        mains = [self.instances[s.name] for s in self.stack.services]
        tasks = [asyncio.create_task(self._bring_up(inst)) for inst in mains]
        stop_wait = asyncio.create_task(self.stopping.wait())
        done, _ = await asyncio.wait(
            [asyncio.gather(*tasks, return_exceptions=True), stop_wait],
            return_when=asyncio.FIRST_COMPLETED,
        )
        if stop_wait in done:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self.state.error = "stopped while starting"
            return False
        stop_wait.cancel()
        failed = [n for n, s in self.state.services.items() if s.status == "failed"]
        if failed:
            first = self.state.services[failed[0]]
            self.state.error = f"service {failed[0]!r} failed: {first.error}"
            if first.log_tail:
                self.state.error += "\n  last lines of its log:\n    " + "\n    ".join(
                    first.log_tail
                )
            return False
        return True

    async def _bring_up(self, inst: Instance) -> None:
        on_request = inst.spec.start == "on-request"
        inst.starting_up, inst.awaiting_request = not on_request, on_request
        try:
            for dep in inst.spec.depends_on:
                if not await self._await_dependency(inst, dep):
                    return
            if on_request:
                await self._await_request(inst)
            else:
                await self._start_with_retries(inst)
        finally:
            inst.starting_up = inst.awaiting_request = False

    async def _start_with_retries(self, inst: Instance) -> None:
        svc, st = inst.spec, inst.state
        deadline = time.monotonic() + min(svc.health.startup_timeout, self.request.startup_timeout)
        while True:
            try:
                await self._spawn_and_wait(inst, deadline)
                return
            except ServiceFailed as exc:
                self._record_failure(inst, str(exc))
                self._reap(inst)
                if not self._may_restart(inst, st.exit_code) or time.monotonic() >= deadline:
                    st.status = "failed"
                    self._cascade_failure(svc.name)
                    self._save()
                    return
                st.restarts += 1
                st.status = "restarting"
                self._save()
                await asyncio.sleep(self._backoff(svc, st.restarts))

    async def _await_request(self, inst: Instance) -> None:
        """An on-request service: wait, until the run's start-up deadline, for the API to start it."""
        while not inst.healthy.is_set() and time.monotonic() < self._startup_deadline:
            await _wait_event(inst.healthy, POLL * 4)
        while self._locks[inst.service].locked():  # a start in flight decides
            await asyncio.sleep(POLL)
        if inst.healthy.is_set():
            return
        st = inst.state
        if st.status != "failed" or not st.error:
            st.error = self._not_requested_error()
        st.status = "failed"
        self._cascade_failure(inst.service)
        self._save()

    def _not_requested_error(self) -> str:
        starters = [s.name for s in self.stack.services if s.runtime_access]
        who = (
            f"the services with runtime access ({', '.join(starters)}) should have; see their logs"
            if starters
            else "no service of the stack has runtime_access, so nothing could"
        )
        return (
            f"not started through the runtime API within {self.request.startup_timeout:g} s "
            f"(start: on-request); {who}"
        )

    async def _await_dependency(self, inst: Instance, dep: str) -> bool:
        st, other = inst.state, self.instances[dep]
        while not other.healthy.is_set():
            if st.status == "failed":  # a failure further up cascaded to us
                return False
            if other.state.status == "failed" and not other.awaiting_request:
                st.status = "failed"
                st.error = f"not started: dependency {dep!r} failed"
                return False
            await _wait_event(other.healthy, POLL * 4)
        return True

    def _cascade_failure(self, name: str) -> None:
        for dependant in self.stack.dependants(name):
            dst = self.state.services[dependant]
            if dst.status == "pending":
                dst.status = "failed"
                dst.error = f"not started: dependency {name!r} failed"

    async def _spawn_and_wait(self, inst: Instance, deadline: float) -> None:
        svc, st = inst.spec, inst.state
        self._ensure_ports_free(inst)
        self._spawn(inst)
        proc = inst.proc
        delay = 0.005
        last = "no health check answered yet"
        while True:
            code = proc.poll()
            if code is not None and svc.kind == "job":
                st.exit_code = code
                if code != 0:
                    raise ServiceFailed(f"job exited with code {code}")
                self._reap(inst)
                st.status, st.healthy_at, st.error = "completed", time.time(), None
                inst.healthy.set()
                self._save()
                return
            if code is not None:
                st.exit_code = code
                raise ServiceFailed(f"exited with code {code} before becoming healthy")
            if svc.kind == "job":
                if time.monotonic() >= deadline:
                    raise ServiceFailed("job did not finish within its startup timeout")
            else:
                ok, last = await self._probe(inst)
                if ok:
                    self._mark_healthy(inst)
                    return
                if time.monotonic() >= deadline:
                    st.exit_code = None
                    raise ServiceFailed(
                        f"not healthy after the startup timeout (last probe: {last})"
                    )
            await asyncio.sleep(delay)
            delay = min(delay * 1.5, 0.05)

    def _mark_healthy(self, inst: Instance) -> None:
        st = inst.state
        st.status, st.healthy_at, st.error = "healthy", time.time(), None
        inst.next_check = time.monotonic() + inst.spec.health.live_interval
        inst.misses = 0
        inst.healthy.set()
        self._save()

    def _record_failure(self, inst: Instance, why: str) -> list[str]:
        inst.state.error = why
        inst.state.log_tail = tail_lines(self.paths.service_log(inst.name), LOG_TAIL)
        return inst.state.log_tail

    def _spawn(self, inst: Instance) -> None:
        svc = inst.spec
        vals = self.values(inst)
        try:
            for rel, template in svc.files.items():
                target = self.paths.root / render(rel, vals)
                target.parent.mkdir(parents=True, exist_ok=True)
                write_text_atomic(target, render(template, vals))
            argv = [render(a, vals) for a in svc.argv]
            env = self._environment(inst, vals)
            cwd = render(svc.cwd, vals) if svc.cwd else str(self.paths.root)
        except StackError as exc:  # e.g. a {vars.NAME} neither the run nor an override sets
            raise ServiceFailed(str(exc)) from exc
        log = self._log(inst.name)
        log.write(f"--- prodbench: starting {self._describe(inst)}: {' '.join(argv)}\n".encode())
        log.flush()
        try:
            proc = subprocess.Popen(
                argv,
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                # Spawned from the event loop thread only, and the supervisor starts no others.
                preexec_fn=_set_parent_death_signal,  # noqa: PLW1509
            )
        except OSError as exc:
            raise ServiceFailed(f"could not start {argv[0]!r}: {exc.strerror}") from exc
        inst.proc = proc
        self._tell_guard(f"+{proc.pid}")
        st = inst.state
        st.status, st.pid, st.pgid = "starting", proc.pid, proc.pid
        st.started_at, st.exit_code = time.time(), None
        self._save()

    def _environment(self, inst: Instance, vals: dict[str, str]) -> dict[str, str]:
        """The service's rendered env, then the instance's overrides, then what we always set."""
        env = dict(os.environ)
        for inherited in (READY_FD_ENV, RUNTIME_URL_ENV, RUNTIME_TOKEN_ENV):
            env.pop(inherited, None)  # never pass on our parent's (or another run's) secrets
        env.update({k: render(v, vals) for k, v in inst.spec.env.items()})
        env.update(inst.state.env)
        env.update(
            PRODBENCH_RUN_ID=self.request.run_id,
            PRODBENCH_SERVICE=inst.service,
            PRODBENCH_INSTANCE=inst.name,
        )
        if inst.spec.runtime_access and self.state.control:
            env[RUNTIME_URL_ENV] = self.state.control.url
            env[RUNTIME_TOKEN_ENV] = self.state.control.token
        return env

    @staticmethod
    def _describe(inst: Instance) -> str:
        what = inst.name if inst.main else f"{inst.name} (instance of {inst.service})"
        st = inst.state
        if st.vars or st.env:
            shown = [f"{k}={v}" for k, v in st.vars.items()] + [f"env {k}" for k in st.env]
            what += f" with overrides {', '.join(shown)}"
        return what

    def _log(self, name: str):
        if name not in self._log_files:
            self._log_files[name] = open(  # noqa: SIM115 - open for the run, closed in _stop_all
                self.paths.service_log(name), "ab", buffering=0
            )
        return self._log_files[name]

    async def _probe(self, inst: Instance) -> tuple[bool, str]:
        h = inst.spec.health
        if h.kind == "none":
            return True, "no health check"
        port = inst.ports[h.port]
        if h.kind == "tcp":
            return await probe_tcp(HOST, port, h.probe_timeout)
        return await probe_http(HOST, port, h.path, h.probe_timeout)

    def _may_restart(self, inst: Instance, code: int | None) -> bool:
        restart = inst.spec.restart
        if inst.state.restarts >= restart.max_restarts or self.stopping.is_set():
            return False
        return restart.policy == "always" or (restart.policy == "on-failure" and code != 0)

    @staticmethod
    def _backoff(svc: ServiceSpec, attempt: int) -> float:
        return min(svc.restart.backoff * 2 ** (attempt - 1), 5.0)

    # ---- watching -------------------------------------------------------------------------

    async def _watch(self) -> None:
        """Notice exits and failed liveness checks; restart by policy until told to stop."""
        while not self.stopping.is_set():
            if self._compiler is not None and self._compiler.poll() is not None:
                self._compiler = None
            for inst in list(self.instances.values()):
                await self._check(inst)
            await _wait_event(self.stopping, POLL * 2)

    async def _check(self, inst: Instance) -> None:
        st, proc = inst.state, inst.proc
        if st.status != "healthy" or proc is None:
            return
        code = proc.poll()
        if code is not None:
            st.exit_code = code
            self._begin_recovery(inst, f"exited with code {code}")
            return
        now = time.monotonic()
        if now < inst.next_check:
            return
        health = inst.spec.health
        inst.next_check = now + health.live_interval
        ok, detail = await self._probe(inst)
        if inst.proc is not proc or st.status != "healthy":
            return  # replaced through the API while we probed
        inst.misses = 0 if ok else inst.misses + 1
        if inst.misses >= health.failure_threshold:
            inst.misses = 0
            st.exit_code = None
            self._begin_recovery(
                inst, f"failed {health.failure_threshold} health checks ({detail})"
            )

    def _begin_recovery(self, inst: Instance, why: str) -> None:
        """Recover in the background so one slow restart never blinds the watch of the rest."""
        inst.state.status = "restarting"
        inst.recovery = asyncio.create_task(self._recover(inst, why))

    async def _recover(self, inst: Instance, why: str) -> None:
        st = inst.state
        self._record_failure(inst, why)
        inst.healthy.clear()
        await self._terminate(inst)
        if not self._may_restart(inst, st.exit_code):
            st.status = "failed" if st.exit_code != 0 else "exited"
            self._mark_degraded(inst)
            self._save()
            return
        st.restarts += 1
        st.status = "restarting"
        self._save()
        await asyncio.sleep(self._backoff(inst.spec, st.restarts))
        deadline = time.monotonic() + inst.spec.health.startup_timeout
        try:
            await self._spawn_and_wait(inst, deadline)
        except ServiceFailed as exc:
            await self._recover(inst, str(exc))

    async def _cancel_recovery(self, inst: Instance) -> None:
        task, inst.recovery = inst.recovery, None
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    # ---- stopping -------------------------------------------------------------------------

    async def _stop_all(self) -> None:
        """Extra instances first, then reverse dependency order: dependants before what they need."""
        for inst in self.instances.values():
            await self._cancel_recovery(inst)
        if self.state.status not in ("failed",):
            self.state.status = "stopping"
        self._save()
        extras = [i for i in self.instances.values() if not i.main]
        await self._stop_group(extras)
        for inst in extras:
            self.allocator.release(self._port_owner(inst))
        for level in reversed(self.stack.levels()):
            await self._stop_group([self.instances[n] for n in level if n in self.instances])
        for fh in self._log_files.values():
            fh.close()

    async def _stop_group(self, group: list[Instance]) -> None:
        running = [i for i in group if i.proc is not None]
        await asyncio.gather(*(self._terminate(i) for i in running))
        for inst in running:
            if inst.state.status != "failed":
                inst.state.status = "stopped"
        self._save()

    async def _stop_instance(self, inst: Instance) -> None:
        """Stop an instance to replace it: it is not failed, it is being restarted."""
        inst.healthy.clear()
        inst.state.status = "restarting"
        self._save()
        await self._terminate(inst)

    async def _terminate(self, inst: Instance) -> None:
        """SIGTERM the instance's group, SIGKILL it after the grace period, reap the leader."""
        proc = inst.proc
        if proc is None:
            return
        pgid = proc.pid
        _killpg(pgid, signal.SIGTERM)
        deadline = time.monotonic() + inst.spec.stop_grace
        while time.monotonic() < deadline:
            if proc.poll() is not None and not group_alive(pgid):
                break
            await asyncio.sleep(0.02)
        else:
            _killpg(pgid, signal.SIGKILL)
        self._reap(inst)

    def _reap(self, inst: Instance) -> None:
        proc, inst.proc = inst.proc, None
        if proc is None:
            return
        _killpg(proc.pid, signal.SIGKILL)  # leftovers of the group, if any
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        self._tell_guard(f"-{proc.pid}")

    # ---- bytecode -------------------------------------------------------------------------

    def _stop_compiler(self) -> None:
        """Reap the background compile (bytecode.py); cut short if the run stops first."""
        proc, self._compiler = self._compiler, None
        if proc is not None:
            if proc.poll() is None:
                proc.kill()
            proc.wait()

    # ---- guard ----------------------------------------------------------------------------

    def _start_guard(self) -> None:
        guard = Path(__file__).with_name("guard.py")
        self.guard = subprocess.Popen(
            [sys.executable, "-I", "-S", str(guard)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            close_fds=True,
        )

    def _tell_guard(self, line: str) -> None:
        if self.guard and self.guard.stdin:
            try:
                self.guard.stdin.write((line + "\n").encode())
                self.guard.stdin.flush()
            except (BrokenPipeError, ValueError):
                pass

    def _stop_guard(self) -> None:
        if self.guard:
            self._tell_guard("quit")
            try:
                self.guard.stdin.close()
                self.guard.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                self.guard.kill()


def _main_port(svc: ServiceSpec, ports: dict[str, int]) -> int | None:
    return ports.get("http", ports[svc.ports[0].name]) if svc.ports else None


def _url(svc: ServiceSpec, ports: dict[str, int]) -> str | None:
    port = _main_port(svc, ports)
    return f"http://{HOST}:{port}" if port else None


async def _wait_event(event: asyncio.Event, timeout: float) -> None:
    try:
        await asyncio.wait_for(event.wait(), timeout)
    except TimeoutError:
        pass


def _killpg(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def write_text_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def notify_fd(fd: int) -> Callable[[dict], None]:
    """A notifier that writes one JSON line to the pipe `up` waits on, then closes it."""

    def notify(message: dict) -> None:
        try:
            os.write(fd, (json.dumps(message) + "\n").encode())
            os.close(fd)
        except OSError:
            pass  # `up` went away; the run goes on and `status` still tells.

    return notify


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m environments.runtime.supervisor RUN_DIR", file=sys.stderr)
        return 2
    paths = RunPaths(Path(args[0]).resolve())
    request = RunRequest.model_validate_json(paths.request.read_text())
    fd = os.environ.get(READY_FD_ENV)
    supervisor = Supervisor(request, paths, notify=notify_fd(int(fd)) if fd else None)
    return asyncio.run(supervisor.run())


if __name__ == "__main__":
    sys.exit(main())
