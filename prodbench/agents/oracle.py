"""The oracle agent: runs a task's `solution/solve.py` against the run, the way an agent would.

`solve(kit)` runs in this process, on a worker thread, so a solution is plain Python with a
debugger-friendly traceback; a watchdog on the time limit cancels the kit (the running command
is killed, every later kit action raises) and reports "timeout". See `kit.py` for the API.
"""

from __future__ import annotations

import importlib.util
import threading
import time
import traceback
from pathlib import Path
from types import ModuleType
from typing import Any

from mcp_servers.configs import ConfigError
from prodbench.agents.base import AgentContext, AgentError, AgentOutcome
from prodbench.agents.kit import KitCancelled, OracleKit, Trajectory
from prodbench.agents.mcp_sessions import McpSessions, server_urls

# After the time limit, how long a cancelled solve gets to notice before it is abandoned.
CANCEL_GRACE = 10.0


def load_solution(path: Path) -> ModuleType:
    if not path.is_file():
        raise AgentError(f"no oracle solution at {path} (a task's solution/solve.py)")
    spec = importlib.util.spec_from_file_location(f"prodbench_solution_{abs(hash(path))}", path)
    if spec is None or spec.loader is None:
        raise AgentError(f"cannot load {path} as a Python module")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise AgentError(f"{path} does not import: {exc!r}") from exc
    if not callable(getattr(module, "solve", None)):
        raise AgentError(f"{path} defines no `def solve(kit) -> None`")
    return module


class OracleAgent:
    name = "oracle"

    def __init__(self, task_dir: Path):
        self.task_dir = Path(task_dir).resolve()
        self.solution = self.task_dir / "solution" / "solve.py"
        if not self.solution.is_file():
            raise AgentError(f"{self.task_dir}: no solution/solve.py for the oracle to run")

    def run(self, ctx: AgentContext) -> AgentOutcome:
        module = load_solution(self.solution)
        try:
            urls = server_urls(ctx.mcp_config)
        except ConfigError as exc:
            raise AgentError(str(exc)) from exc
        trajectory = Trajectory(ctx.output_dir / "trajectory.jsonl")
        started = time.monotonic()
        failure: dict[str, Any] = {}
        try:
            with McpSessions(urls) as sessions:
                kit = OracleKit(
                    task_id=ctx.task_id,
                    workspace=ctx.workspace,
                    solution_dir=self.solution.parent,
                    sessions=sessions,
                    trajectory=trajectory,
                    env=ctx.env,
                )

                def target() -> None:
                    try:
                        module.solve(kit)
                    except BaseException as exc:  # noqa: BLE001 - reported in the outcome
                        failure["exc"] = exc
                        failure["trace"] = traceback.format_exc()

                worker = threading.Thread(target=target, name=f"oracle-{ctx.task_id}", daemon=True)
                worker.start()
                worker.join(ctx.time_limit)
                timed_out = worker.is_alive()
                if timed_out:
                    kit.cancel()
                    worker.join(CANCEL_GRACE)
            seconds = round(time.monotonic() - started, 3)
            if timed_out:
                trajectory.write("end", status="timeout")
                return AgentOutcome(
                    status="timeout",
                    seconds=seconds,
                    trajectory=trajectory.path,
                    message=f"solve() still running after {ctx.time_limit:.0f}s",
                )
            if failure and not isinstance(failure["exc"], KitCancelled):
                trajectory.write("end", status="error", error=failure["trace"])
                return AgentOutcome(
                    status="error",
                    exit_code=1,
                    seconds=seconds,
                    trajectory=trajectory.path,
                    message=f"solve() raised {failure['exc']!r}\n{failure['trace']}",
                )
            trajectory.write("end", status="completed")
            return AgentOutcome(
                status="completed", exit_code=0, seconds=seconds, trajectory=trajectory.path
            )
        finally:
            trajectory.close()
