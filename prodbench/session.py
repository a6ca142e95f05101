"""Bringing a run up and down: the harness side of the runtimes.

`start_run` writes the run request, starts the supervisor detached (or in this process with
`foreground=True`) and waits on a pipe for its verdict; `stop_run` asks the supervisor to stop
and makes sure nothing of the run is left, even when the supervisor is already gone. A run
prepared with `runtime="docker"` is a compose project instead (environments/runtime/docker.py):
the same three calls start, stop and report on it.
"""

from __future__ import annotations

import asyncio
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from environments.history import WorkspaceCommit
from environments.logs import tail_lines
from environments.runs import (
    EnvInfo,
    RunHandle,
    RunPaths,
    RunRequest,
    new_run_id,
    pid_alive,
    write_json_atomic,
)
from environments.runtime.procs import kill_run_processes
from environments.runtime.supervisor import READY_FD_ENV, Supervisor, notify_fd
from environments.stack import StackError, StackSpec, missing_executables
from environments.stacks import EnvironmentDef, RunContext

DOCKER_RECORD = "docker/run.json"  # environments.runtime.docker.RECORD


class UpResult(BaseModel):
    run_id: str
    run_dir: str
    status: str
    error: str | None = None
    env: EnvInfo | None = None
    seconds: float


def prepare_run(
    env_def: EnvironmentDef | StackSpec,
    runs_dir: Path,
    *,
    seed: int = 0,
    task: str | None = None,
    run_id: str | None = None,
    startup_timeout: float = 60.0,
    keep_on_failure: bool = False,
    options: dict[str, str] | None = None,
    commits: tuple[WorkspaceCommit, ...] = (),
    runtime: Literal["local", "docker"] = "local",
) -> RunPaths:
    """Create the run directory, let the environment prepare it, and write the run request.

    The stack is checked against this machine (missing executables; for docker, an engine and
    the stack's compose file) before anything is written, so a bad stack leaves no half-made
    run behind. The environment prepares for `runtime`: under docker, container paths and URLs.
    """
    if isinstance(env_def, StackSpec):
        spec = env_def
        env_def = EnvironmentDef(spec.name, spec.description, lambda ctx: spec)
    run_id = run_id or new_run_id(env_def.name)
    paths = RunPaths(runs_dir / run_id)
    if paths.request.exists():
        raise StackError(f"run {run_id!r} already exists in {runs_dir}; choose another --run-id")
    ctx = RunContext(
        paths,
        seed=seed,
        task=task,
        options=dict(options or {}),
        commits=tuple(commits),
        runtime=runtime,
    )
    stack = env_def.stack(ctx)
    if runtime == "docker":
        from environments.runtime.docker import DockerRunError, preflight

        try:
            preflight(stack)
        except DockerRunError as exc:
            raise StackError(str(exc)) from None
    else:
        problems = missing_executables(stack, {"python": sys.executable})
        if problems:
            raise StackError("\n".join(problems))
    paths.create()
    try:
        run_vars = env_def.prepare(ctx)
    except Exception as exc:
        shutil.rmtree(paths.root, ignore_errors=True)  # nothing started: leave no half-made run
        raise StackError(
            f"preparing the {env_def.name!r} environment failed: {exc.__class__.__name__}: {exc}"
        ) from exc
    request = RunRequest(
        run_id=run_id,
        seed=seed,
        task=task,
        stack=stack.model_dump(mode="json"),
        startup_timeout=startup_timeout,
        keep_on_failure=keep_on_failure,
        vars=run_vars,
    )
    write_json_atomic(paths.request, request)
    if runtime == "docker":
        from environments.runtime.docker import ComposeRun

        ComposeRun.create(paths, stack.name)
    return paths


def start_run(
    paths: RunPaths,
    *,
    wait_timeout: float | None = None,
    log: Callable[[str], None] | None = None,
) -> UpResult:
    """Start the supervisor detached and return once the stack is healthy or has failed.

    A docker run is brought up by its compose project instead; `log` hears its progress.
    """
    started = time.monotonic()
    request = RunRequest.model_validate_json(paths.request.read_text())
    if is_docker_run(paths):
        return _start_docker(paths, request, wait_timeout, log or (lambda message: None))
    read_fd, write_fd = os.pipe()
    try:
        _launch_supervisor(paths, request, read_fd, write_fd)
    finally:
        os.close(write_fd)
    limit = wait_timeout if wait_timeout is not None else request.startup_timeout + 15
    try:
        message, closed = _read_verdict(read_fd, limit)
    except KeyboardInterrupt:
        stop_run(RunHandle(paths))  # the user gave up on this run: do not leave it half up
        raise
    finally:
        os.close(read_fd)
    if message is None and not closed:
        message = {"status": "failed", "error": f"no answer from the supervisor in {limit:.0f} s"}
        stop_run(RunHandle(paths))
    elif message is None:
        tail = "\n    ".join(tail_lines(paths.supervisor_log, 15))
        message = {
            "status": "failed",
            "error": "the supervisor died before the stack was up; its log "
            f"({paths.supervisor_log}) ends:\n    {tail}",
        }
    return _result(paths, message, time.monotonic() - started)


def is_docker_run(paths: RunPaths) -> bool:
    """Whether the run was prepared for the docker runtime (it has a compose project record).

    Checked without importing the docker runtime: a local `up` does not pay for it.
    """
    return (paths.root / DOCKER_RECORD).is_file()


def _start_docker(
    paths: RunPaths, request: RunRequest, timeout: float | None, log: Callable[[str], None]
) -> UpResult:
    from environments.runtime.docker import ComposeRun, DockerRunError

    started = time.monotonic()
    env, error = None, None
    try:
        env = ComposeRun.load(paths).up(
            request,
            timeout=timeout if timeout is not None else request.startup_timeout,
            keep_on_failure=request.keep_on_failure,
            log=log,
        )
    except DockerRunError as exc:
        error = str(exc)
    return UpResult(
        run_id=paths.run_id,
        run_dir=str(paths.root),
        status="failed" if error else "healthy",
        error=error,
        env=env,
        seconds=round(time.monotonic() - started, 3),
    )


def run_status(handle: RunHandle) -> str:
    """A run's status whatever its runtime: healthy, degraded, failed, stopped, crashed, ..."""
    if is_docker_run(handle.paths):
        from environments.runtime.docker import ComposeRun

        return ComposeRun.load(handle.paths).live_status()
    return handle.live_status()


def _launch_supervisor(paths: RunPaths, request: RunRequest, read_fd: int, write_fd: int) -> None:
    """Fork the supervisor from this process, or spawn a fresh interpreter when that is unsafe.

    Forking skips a new interpreter's start-up and imports (about 0.3 s of `up`) but is only
    safe with a single thread, since a fork copies locks other threads may hold. The double
    fork leaves the supervisor an orphan of init, so a long-lived caller (the suite runner)
    collects no zombies.
    """
    log_fd = os.open(paths.supervisor_log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        if threading.active_count() > 1:
            subprocess.Popen(
                [sys.executable, "-m", "environments.runtime.supervisor", str(paths.root)],
                stdin=subprocess.DEVNULL,
                stdout=log_fd,
                stderr=subprocess.STDOUT,
                env={**os.environ, READY_FD_ENV: str(write_fd)},
                pass_fds=(write_fd,),
                start_new_session=True,
                cwd=paths.root,
            )
            return
        first = os.fork()
        if first:
            os.waitpid(first, 0)
            return
        code = 1
        try:
            os.setsid()
            if os.fork():
                os._exit(0)
            os.close(read_fd)
            devnull = os.open(os.devnull, os.O_RDONLY)
            os.dup2(devnull, 0)
            os.dup2(log_fd, 1)
            os.dup2(log_fd, 2)
            os.chdir(paths.root)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            code = asyncio.run(Supervisor(request, paths, notify=notify_fd(write_fd)).run())
        except BaseException:  # noqa: BLE001 - the log is the only place left to tell
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    finally:
        os.close(log_fd)


def run_foreground(paths: RunPaths, on_ready: Callable[[UpResult], None]) -> int:
    """Supervise in this process until SIGINT/SIGTERM; `on_ready` hears the verdict first."""
    started = time.monotonic()
    request = RunRequest.model_validate_json(paths.request.read_text())

    def notify(message: dict) -> None:
        on_ready(_result(paths, message, time.monotonic() - started))

    return asyncio.run(Supervisor(request, paths, notify=notify).run())


def _read_verdict(fd: int, timeout: float) -> tuple[dict | None, bool]:
    """The supervisor's one-line verdict, and whether the pipe closed (it died) without one."""
    deadline = time.monotonic() + timeout
    buf = b""
    while b"\n" not in buf:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            return None, False
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        buf += chunk
    try:
        return (json.loads(buf.split(b"\n", 1)[0]) if buf else None), True
    except ValueError:
        return None, True


def _result(paths: RunPaths, message: dict, seconds: float) -> UpResult:
    handle = RunHandle(paths)
    return UpResult(
        run_id=paths.run_id,
        run_dir=str(paths.root),
        status=message.get("status", "failed"),
        error=message.get("error"),
        env=handle.env(),
        seconds=round(seconds, 3),
    )


def stop_run(handle: RunHandle, timeout: float = 30.0) -> str:
    """Stop a run's processes (a docker run: its whole compose project); says what was done."""
    if is_docker_run(handle.paths):  # raises DockerRunError when the engine refuses
        from environments.runtime.docker import ComposeRun

        return ComposeRun.load(handle.paths).down()
    state = handle.supervisor()
    if state is None:
        return "nothing to stop (the run never started a supervisor)"
    if pid_alive(state.pid):
        os.kill(state.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while pid_alive(state.pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        if pid_alive(state.pid):
            # The guard notices the supervisor's death and kills its process groups.
            os.kill(state.pid, signal.SIGKILL)
            _wait_gone(state.pid, 5)
            _kill_leftovers(handle)
            return "stopped (the supervisor did not stop in time and was killed)"
        return "stopped"
    crashed = state.status not in ("stopped", "failed")
    left = _kill_leftovers(handle)
    if left:
        return f"stopped: the supervisor had died; killed {left} leftover processes"
    if crashed:
        return "stopped: the supervisor had died and its guard had already stopped the services"
    return "already stopped"


def _kill_leftovers(handle: RunHandle) -> int:
    """Kill processes a crashed supervisor left behind; the guard normally does this."""
    state = handle.supervisor()
    killed = kill_run_processes(handle.run_id)
    if state and state.status not in ("stopped", "failed"):
        state.status = "stopped"
        write_json_atomic(handle.paths.supervisor_json, state)
    return killed


def _wait_gone(pid: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
