"""The local runtime: one supervisor process per run that owns every service process.

`prodbench up` starts this module detached (`python -m environments.runtime.supervisor RUN_DIR`)
and waits on a pipe until the stack is healthy or has failed; `--foreground` runs the same
`Supervisor` in the CLI's process. The supervisor plans ports, starts services in dependency
order (independent ones in parallel, dependants once their dependencies are healthy), restarts
them by policy, and stops them in reverse order. Each service runs in its own process group
with a parent-death signal, and a separate guard process kills the groups if the supervisor is
itself killed, so no process outlives its run.
"""

from __future__ import annotations

import asyncio
import ctypes
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from environments.logs import tail_lines
from environments.ports import HOST, PortAllocator, port_is_free
from environments.runs import (
    Endpoint,
    EnvInfo,
    RunPaths,
    RunRequest,
    ServiceState,
    SupervisorState,
    machine_state_dir,
    write_json_atomic,
)
from environments.runtime.health import probe_http, probe_tcp
from environments.runtime.procs import group_alive
from environments.stack import ServiceSpec, StackError, StackSpec, placeholders, render

READY_FD_ENV = "PRODBENCH_READY_FD"
POLL = 0.05
LOG_TAIL = 15
_PR_SET_PDEATHSIG = 1


def _set_parent_death_signal() -> None:  # runs in the child between fork and exec
    try:
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


class ServiceFailed(Exception):
    pass


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
        self.ports: dict[str, dict[str, int]] = {}
        self.procs: dict[str, subprocess.Popen] = {}
        self.healthy: dict[str, asyncio.Event] = {}
        self.stopping = asyncio.Event()
        self.allocator = PortAllocator(machine_state_dir())
        self.guard: subprocess.Popen | None = None
        self._log_files: dict[str, object] = {}
        self._recoveries: set[asyncio.Task] = set()

    # ---- lifecycle ------------------------------------------------------------------------

    async def run(self) -> int:
        """Plan, start, watch until told to stop, tear down. Returns the process exit code."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.add_signal_handler(sig, self.stopping.set)
        self._save()
        self._start_guard()
        try:
            self._plan()
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
            self.ports[svc.name] = {p.name: p.fixed or next(numbers) for p in svc.ports}
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
                    ports=self.ports[svc.name],
                    url=self._url(svc) if svc.health.kind == "http" else None,
                )
                for svc in self.stack.services
            },
        )
        write_json_atomic(self.paths.env_json, env)

    def _main_port(self, svc: ServiceSpec) -> int | None:
        ports = self.ports[svc.name]
        return ports.get("http", ports[svc.ports[0].name]) if svc.ports else None

    def _url(self, svc: ServiceSpec) -> str | None:
        port = self._main_port(svc)
        return f"http://{HOST}:{port}" if port else None

    def values(self, svc: ServiceSpec) -> dict[str, str]:
        """Everything a service's templates may name."""
        vals = {
            "host": HOST,
            "name": svc.name,
            "python": sys.executable,
            "run_id": self.request.run_id,
            "run_dir": str(self.paths.root),
            "state_dir": str(self.paths.state),
            "logs_dir": str(self.paths.logs),
            "seed": str(self.request.seed),
        }
        vals.update({f"vars.{k}": v for k, v in self.request.vars.items()})
        if svc.ports:
            vals.update(port=str(self._main_port(svc)), url=self._url(svc))
        for pname, num in self.ports[svc.name].items():
            vals[f"ports.{pname}"] = str(num)
        for other in self.stack.services:
            vals[f"{other.name}.host"] = HOST
            if other.ports:
                vals[f"{other.name}.port"] = str(self._main_port(other))
                vals[f"{other.name}.url"] = self._url(other)
            for pname, num in self.ports[other.name].items():
                vals[f"{other.name}.ports.{pname}"] = str(num)
        return vals

    def _ensure_ports_free(self, svc: ServiceSpec) -> None:
        """Re-check just before start: someone may have taken a port since planning."""
        for p in svc.ports:
            port = self.ports[svc.name][p.name]
            if port_is_free(port):
                continue
            if p.fixed:
                raise ServiceFailed(
                    f"port {port} (fixed for {svc.name}.{p.name}) was taken by another process"
                )
            users = [
                s.name
                for s in self.stack.services
                if s.name in self.procs
                and any(
                    ref.startswith(f"{svc.name}.")
                    for _, t in s.templates()
                    for ref in placeholders(t)
                )
            ]
            if users:
                raise ServiceFailed(
                    f"port {port} of {svc.name}.{p.name} was taken by another process after "
                    f"{', '.join(users)} had been started with it; run `prodbench up` again"
                )
            taken = [n for ports in self.ports.values() for n in ports.values()]
            self.ports[svc.name][p.name] = self.allocator.allocate(
                self.request.run_id, 1, avoid=taken
            )[0]
            self._write_env()

    # ---- starting -------------------------------------------------------------------------

    async def _start_all(self) -> bool:
        self.healthy = {s.name: asyncio.Event() for s in self.stack.services}
        tasks = [asyncio.create_task(self._bring_up(svc)) for svc in self.stack.services]
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

    async def _bring_up(self, svc: ServiceSpec) -> None:
        st = self.state.services[svc.name]
        for dep in svc.depends_on:
            await self._await_dependency(svc, dep)
            if st.status == "failed":
                return
        deadline = time.monotonic() + min(svc.health.startup_timeout, self.request.startup_timeout)
        while True:
            try:
                await self._spawn_and_wait(svc, deadline)
                return
            except ServiceFailed as exc:
                st.error = str(exc)
                st.log_tail = tail_lines(self.paths.service_log(svc.name), LOG_TAIL)
                self._reap(svc.name)
                if not self._may_restart(svc, st.exit_code) or time.monotonic() >= deadline:
                    st.status = "failed"
                    self._cascade_failure(svc.name)
                    self._save()
                    return
                st.restarts += 1
                st.status = "restarting"
                self._save()
                await asyncio.sleep(self._backoff(svc, st.restarts))

    async def _await_dependency(self, svc: ServiceSpec, dep: str) -> None:
        st = self.state.services[svc.name]
        while not self.healthy[dep].is_set():
            if self.state.services[dep].status == "failed":
                st.status = "failed"
                st.error = f"not started: dependency {dep!r} failed"
                return
            try:
                await asyncio.wait_for(self.healthy[dep].wait(), POLL * 4)
            except TimeoutError:
                pass

    def _cascade_failure(self, name: str) -> None:
        for dependant in self.stack.dependants(name):
            dst = self.state.services[dependant]
            if dst.status == "pending":
                dst.status = "failed"
                dst.error = f"not started: dependency {name!r} failed"

    async def _spawn_and_wait(self, svc: ServiceSpec, deadline: float) -> None:
        st = self.state.services[svc.name]
        self._ensure_ports_free(svc)
        self._spawn(svc)
        proc = self.procs[svc.name]
        delay = 0.005
        last = "no health check answered yet"
        while True:
            code = proc.poll()
            if code is not None and svc.kind == "job":
                st.exit_code = code
                if code != 0:
                    raise ServiceFailed(f"job exited with code {code}")
                self._reap(svc.name)
                st.status, st.healthy_at, st.error = "completed", time.time(), None
                self.healthy[svc.name].set()
                self._save()
                return
            if code is not None:
                st.exit_code = code
                raise ServiceFailed(f"exited with code {code} before becoming healthy")
            if svc.kind == "job":
                if time.monotonic() >= deadline:
                    raise ServiceFailed("job did not finish within its startup timeout")
                await asyncio.sleep(delay)
                delay = min(delay * 1.5, 0.05)
                continue
            ok, last = await self._probe(svc)
            if ok:
                st.status = "healthy"
                st.healthy_at = time.time()
                st.error = None
                self.healthy[svc.name].set()
                self._save()
                return
            if time.monotonic() >= deadline:
                st.exit_code = None
                raise ServiceFailed(f"not healthy after the startup timeout (last probe: {last})")
            await asyncio.sleep(delay)
            delay = min(delay * 1.5, 0.05)

    def _spawn(self, svc: ServiceSpec) -> None:
        vals = self.values(svc)
        for rel, template in svc.files.items():
            target = self.paths.root / render(rel, vals)
            target.parent.mkdir(parents=True, exist_ok=True)
            write_text_atomic(target, render(template, vals))
        argv = [render(a, vals) for a in svc.argv]
        env = dict(os.environ)
        env.pop(READY_FD_ENV, None)
        env.update({k: render(v, vals) for k, v in svc.env.items()})
        env.update(PRODBENCH_RUN_ID=self.request.run_id, PRODBENCH_SERVICE=svc.name)
        cwd = render(svc.cwd, vals) if svc.cwd else str(self.paths.root)
        log = self._log(svc.name)
        log.write(f"--- prodbench: starting {svc.name}: {' '.join(argv)}\n".encode())
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
        self.procs[svc.name] = proc
        self._tell_guard(f"+{proc.pid}")
        st = self.state.services[svc.name]
        st.status, st.pid, st.pgid = "starting", proc.pid, proc.pid
        st.started_at, st.exit_code = time.time(), None
        self._save()

    def _log(self, name: str):
        if name not in self._log_files:
            self._log_files[name] = open(  # noqa: SIM115 - open for the run, closed in _stop_all
                self.paths.service_log(name), "ab", buffering=0
            )
        return self._log_files[name]

    async def _probe(self, svc: ServiceSpec) -> tuple[bool, str]:
        h = svc.health
        if h.kind == "none":
            return True, "no health check"
        port = self.ports[svc.name][h.port]
        if h.kind == "tcp":
            return await probe_tcp(HOST, port, h.probe_timeout)
        return await probe_http(HOST, port, h.path, h.probe_timeout)

    def _may_restart(self, svc: ServiceSpec, code: int | None) -> bool:
        st = self.state.services[svc.name]
        policy = svc.restart.policy
        if st.restarts >= svc.restart.max_restarts or self.stopping.is_set():
            return False
        return policy == "always" or (policy == "on-failure" and code != 0)

    @staticmethod
    def _backoff(svc: ServiceSpec, attempt: int) -> float:
        return min(svc.restart.backoff * 2 ** (attempt - 1), 5.0)

    # ---- watching -------------------------------------------------------------------------

    async def _watch(self) -> None:
        """Notice exits and failed liveness checks; restart by policy until told to stop."""
        next_check = {
            s.name: time.monotonic() + s.health.live_interval for s in self.stack.services
        }
        misses = {s.name: 0 for s in self.stack.services}
        while not self.stopping.is_set():
            now = time.monotonic()
            for svc in self.stack.services:
                st = self.state.services[svc.name]
                proc = self.procs.get(svc.name)
                if st.status != "healthy" or proc is None:
                    continue
                code = proc.poll()
                if code is not None:
                    st.exit_code = code
                    self._begin_recovery(svc, f"exited with code {code}")
                    continue
                if now >= next_check[svc.name]:
                    next_check[svc.name] = now + svc.health.live_interval
                    ok, detail = await self._probe(svc)
                    misses[svc.name] = 0 if ok else misses[svc.name] + 1
                    if misses[svc.name] >= svc.health.failure_threshold:
                        misses[svc.name] = 0
                        st.exit_code = None
                        why = f"failed {svc.health.failure_threshold} health checks ({detail})"
                        self._begin_recovery(svc, why)
            try:
                await asyncio.wait_for(self.stopping.wait(), POLL * 2)
            except TimeoutError:
                pass

    def _begin_recovery(self, svc: ServiceSpec, why: str) -> None:
        """Recover in the background so one slow restart never blinds the watch of the rest."""
        self.state.services[svc.name].status = "restarting"
        task = asyncio.create_task(self._recover(svc, why))
        self._recoveries.add(task)
        task.add_done_callback(self._recoveries.discard)

    async def _recover(self, svc: ServiceSpec, why: str) -> None:
        st = self.state.services[svc.name]
        st.error = why
        st.log_tail = tail_lines(self.paths.service_log(svc.name), LOG_TAIL)
        self.healthy[svc.name].clear()
        await self._terminate(svc)
        if not self._may_restart(svc, st.exit_code):
            st.status = "failed" if st.exit_code != 0 else "exited"
            self.state.status = "degraded"
            self.state.error = f"service {svc.name!r} {why}"
            self._save()
            return
        st.restarts += 1
        st.status = "restarting"
        self._save()
        await asyncio.sleep(self._backoff(svc, st.restarts))
        deadline = time.monotonic() + svc.health.startup_timeout
        try:
            await self._spawn_and_wait(svc, deadline)
        except ServiceFailed as exc:
            st.error = str(exc)
            st.log_tail = tail_lines(self.paths.service_log(svc.name), LOG_TAIL)
            await self._recover(svc, str(exc))

    # ---- stopping -------------------------------------------------------------------------

    async def _stop_all(self) -> None:
        """Reverse dependency order: dependants stop before what they depend on."""
        for task in list(self._recoveries):
            task.cancel()
        await asyncio.gather(*self._recoveries, return_exceptions=True)
        if self.state.status not in ("failed",):
            self.state.status = "stopping"
        self._save()
        for level in reversed(self.stack.levels()):
            running = [n for n in level if n in self.procs]
            await asyncio.gather(*(self._terminate(self.stack.service(n)) for n in running))
            for n in running:
                st = self.state.services[n]
                if st.status != "failed":
                    st.status = "stopped"
            self._save()
        for fh in self._log_files.values():
            fh.close()

    async def _terminate(self, svc: ServiceSpec) -> None:
        """SIGTERM the service's group, SIGKILL it after the grace period, reap the leader."""
        proc = self.procs.get(svc.name)
        if proc is None:
            return
        pgid = proc.pid
        _killpg(pgid, signal.SIGTERM)
        deadline = time.monotonic() + svc.stop_grace
        while time.monotonic() < deadline:
            if proc.poll() is not None and not group_alive(pgid):
                break
            await asyncio.sleep(0.02)
        else:
            _killpg(pgid, signal.SIGKILL)
        self._reap(svc.name)

    def _reap(self, name: str) -> None:
        proc = self.procs.pop(name, None)
        if proc is None:
            return
        _killpg(proc.pid, signal.SIGKILL)  # leftovers of the group, if any
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        self._tell_guard(f"-{proc.pid}")

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
