"""OracleKit: what a task's `solution/solve.py` works with.

The oracle proves a task solvable by doing what a strong engineer would, through the same doors
an agent has: git in the workspace, and the run's MCP servers over streamable HTTP (the URLs of
the run's `mcp.json`). Nothing here holds or uses an admin token, so a solution cannot pass by
reaching around the agent's tools.

A solution is one function::

    # tasks/<id>/solution/solve.py
    def solve(kit) -> None:
        kit.apply_patch("fix-pool-size.patch")            # a patch beside solve.py
        kit.replace("services/api/app/config.py", "POOL = 5", "POOL = 20")
        kit.run("python", "-m", "pytest", "-q", "services/api/tests")
        kit.commit("api: raise the payments pool to 20")
        kit.deploy(["api"])                               # waits; raises unless it succeeded
        kit.call("slack", "slack_post_message", channel_id="#deploys", text="api pool fix out")
        kit.wait_until(lambda: not kit.call("monitoring", "list_alerts")["alerts"], timeout=120)

The API (every action is appended to the trial's ``trajectory.jsonl``):

- ``kit.workspace`` / ``kit.solution_dir`` / ``kit.task_id``: paths and id.
- ``kit.run(*argv, check=True, timeout=600) -> str``: run a command in the workspace; returns
  stdout+stderr; raises `KitError` with the output when it exits non-zero.
  ``kit.sh(cmd)`` is the same through ``bash -c``.
- ``kit.read(path)``, ``kit.write(path, text)``: a file of the workspace (relative path).
- ``kit.replace(path, old, new)``: replace the one occurrence of ``old``; raises when ``old``
  occurs zero or several times (the task's code moved: fix the solution, not the match).
- ``kit.apply_patch(name)``: ``git apply`` a patch file of ``solution/``.
- ``kit.commit(message) -> sha``: ``git add -A`` and commit; raises when there is nothing to commit.
- ``kit.call(server, tool, **arguments) -> Any``: one MCP ``tools/call``; returns the structured
  result (or the text, parsed as JSON when it is); raises `ToolCallError` on ``isError``.
- ``kit.deploy(services, ref="HEAD", timeout=240, expect_failure=False) -> dict``: the deploy MCP
  server's ``deploy``, then ``deploy_status`` (polls back off from 2 s to 8 s) until
  succeeded/failed/rolled_back; returns the final deploy; raises `DeployFailed` (with the
  deploy's log tail) unless it succeeded or ``expect_failure`` is set.
- ``kit.wait_until(fn, timeout=60, interval=1) -> value``: call ``fn`` until it returns something
  truthy (exceptions count as not yet); raises `KitError` at the timeout with the last error.
- ``kit.log(message)``: a note in the trajectory.

Commits are made as ``Acme Agent <agent@acme.test>`` unless ``GIT_AUTHOR_*`` is in the agent env.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from prodbench.agents.base import agent_environ
from prodbench.agents.mcp_sessions import McpSessions, ToolCallError, error_text, payload

T = TypeVar("T")
TERMINAL = ("succeeded", "failed", "rolled_back")
RESULT_CHARS = 2000
MAX_POLL = 8.0
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Acme Agent",
    "GIT_AUTHOR_EMAIL": "agent@acme.test",
    "GIT_COMMITTER_NAME": "Acme Agent",
    "GIT_COMMITTER_EMAIL": "agent@acme.test",
}

__all__ = ["DeployFailed", "KitCancelled", "KitError", "OracleKit", "ToolCallError"]


class KitError(RuntimeError):
    """A kit action failed; the message carries the command's output or the reason."""


class DeployFailed(KitError):
    def __init__(self, message: str, deploy: dict[str, Any]):
        super().__init__(message)
        self.deploy = deploy


class KitCancelled(KitError):
    """The oracle ran out of time; every later kit action raises this."""


def _truncate(value: Any, limit: int = RESULT_CHARS) -> Any:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    if len(text) <= limit:
        return value
    return text[:limit] + f"... [{len(text) - limit} more chars]"


class Trajectory:
    """JSON lines, one per action, flushed as written so a crash loses nothing."""

    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("a", encoding="utf-8")
        self._lock = threading.Lock()
        self._start = time.monotonic()

    def write(self, action: str, **fields: Any) -> None:
        record = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "elapsed": round(time.monotonic() - self._start, 3),
            "action": action,
            **fields,
        }
        with self._lock:
            self._file.write(json.dumps(record, default=str) + "\n")
            self._file.flush()

    def close(self) -> None:
        with self._lock:
            self._file.close()


class OracleKit:
    """The oracle's hands: git and commands in the workspace, tools over MCP."""

    def __init__(
        self,
        *,
        task_id: str,
        workspace: Path,
        solution_dir: Path,
        sessions: McpSessions,
        trajectory: Trajectory,
        env: dict[str, str] | None = None,
    ):
        self.task_id = task_id
        self.workspace = workspace.resolve()
        self.solution_dir = solution_dir.resolve()
        self._sessions = sessions
        self._trajectory = trajectory
        self._env = agent_environ(GIT_IDENTITY, env or {})
        self._cancelled = threading.Event()
        self._proc: subprocess.Popen[str] | None = None
        self._proc_lock = threading.Lock()

    # ---- the watchdog's side ------------------------------------------------------------------

    def cancel(self) -> None:
        """Stop at once: kill the running command, make every later action raise."""
        self._cancelled.set()
        with self._proc_lock:
            if self._proc is not None and self._proc.poll() is None:
                try:
                    os.killpg(self._proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

    def _check(self) -> None:
        if self._cancelled.is_set():
            raise KitCancelled("the oracle's time limit is up")

    # ---- files and commands ------------------------------------------------------------------

    @property
    def servers(self) -> list[str]:
        return sorted(self._sessions.urls)

    def log(self, message: str) -> None:
        self._trajectory.write("log", message=message)

    def path(self, relative: str | Path) -> Path:
        """A path of the workspace; refuses anything outside it."""
        path = (self.workspace / relative).resolve()
        if not path.is_relative_to(self.workspace):
            raise KitError(f"{relative}: outside the workspace {self.workspace}")
        return path

    def run(self, *argv: str, check: bool = True, timeout: float = 600.0) -> str:
        """Run a command in the workspace; its stdout and stderr, interleaved, come back."""
        self._check()
        argv_list = [str(a) for a in argv]
        started = time.monotonic()
        with self._proc_lock:
            self._proc = subprocess.Popen(
                argv_list,
                cwd=self.workspace,
                env=self._env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                start_new_session=True,
            )
            proc = self._proc
        try:
            output, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            output, _ = proc.communicate()
            self._trajectory.write("run", argv=argv_list, exit_code=None, output=_truncate(output))
            raise KitError(f"{' '.join(argv_list)}: still running after {timeout:.0f}s") from None
        finally:
            with self._proc_lock:
                self._proc = None
        self._trajectory.write(
            "run",
            argv=argv_list,
            exit_code=proc.returncode,
            seconds=round(time.monotonic() - started, 3),
            output=_truncate(output),
        )
        self._check()
        if check and proc.returncode != 0:
            raise KitError(f"{' '.join(argv_list)} exited {proc.returncode}:\n{output}")
        return output

    def sh(self, command: str, *, check: bool = True, timeout: float = 600.0) -> str:
        return self.run("bash", "-c", command, check=check, timeout=timeout)

    def read(self, relative: str | Path) -> str:
        return self.path(relative).read_text(encoding="utf-8")

    def write(self, relative: str | Path, text: str) -> None:
        self._check()
        path = self.path(relative)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        self._trajectory.write("write", path=str(relative), chars=len(text))

    def replace(self, relative: str | Path, old: str, new: str) -> None:
        self._check()
        text = self.read(relative)
        count = text.count(old)
        if count != 1:
            where = "not found" if count == 0 else f"found {count} times"
            raise KitError(f"{relative}: {old!r} {where}; replace needs exactly one occurrence")
        self.path(relative).write_text(text.replace(old, new, 1), encoding="utf-8")
        self._trajectory.write("replace", path=str(relative), old=_truncate(old, 300))

    def apply_patch(self, name: str) -> None:
        patch = (self.solution_dir / name).resolve()
        if not patch.is_relative_to(self.solution_dir) or not patch.is_file():
            raise KitError(f"no patch {name!r} in {self.solution_dir}")
        self.run("git", "apply", "--whitespace=nowarn", str(patch))

    def commit(self, message: str) -> str:
        self.run("git", "add", "-A")
        if not self.run("git", "status", "--porcelain").strip():
            raise KitError(f"nothing to commit for {message!r}: the workspace has no changes")
        self.run("git", "commit", "-q", "-m", message)
        sha = self.run("git", "rev-parse", "HEAD").strip()
        self._trajectory.write("commit", message=message, sha=sha)
        return sha

    # ---- tools -------------------------------------------------------------------------------

    def call(self, server: str, tool: str, **arguments: Any) -> Any:
        """One MCP tools/call; the parsed result, or ToolCallError when the tool says isError."""
        self._check()
        started = time.monotonic()
        try:
            result = self._sessions.call(server, tool, arguments)
        except ToolCallError as exc:
            self._trajectory.write(
                "call", server=server, tool=tool, arguments=arguments, error=exc.message
            )
            raise
        seconds = round(time.monotonic() - started, 3)
        if result.is_error:
            message = error_text(result)
            self._trajectory.write(
                "call", server=server, tool=tool, arguments=arguments, seconds=seconds,
                error=_truncate(message),
            )  # fmt: skip
            raise ToolCallError(server, tool, message)
        data = payload(result)
        self._trajectory.write(
            "call", server=server, tool=tool, arguments=arguments, seconds=seconds,
            result=_truncate(data),
        )  # fmt: skip
        return data

    def find_issue(self, query: str) -> str:
        """The identifier (ENG-123) of the first Linear issue the search finds, as an engineer
        looks their ticket up; KitError when the search finds none."""
        result = self.call("linear", "list_issues", query=query)
        items = result.get("issues") if isinstance(result, dict) else result
        if not items:
            raise KitError(f"no Linear issue matches {query!r}: {_truncate(result)!r}")
        first = items[0]
        return str(first.get("identifier") or first["id"])

    def close_issue(self, issue: str, comment: str) -> None:
        """Say what was done on the Linear issue, then move it to Done (two tool calls, as an
        engineer makes them)."""
        self.call("linear", "create_comment", issueId=issue, body=comment)
        self.call("linear", "update_issue", id=issue, state="Done")

    def post_message(self, channel: str, text: str) -> None:
        """A message in a Slack channel, by name (`incidents`) or id."""
        self.call("slack", "slack_post_message", channel_id=channel, text=text)

    def firing(self, alert: str) -> bool:
        """Whether the monitoring server lists `alert` as firing now."""
        alerts = self.call("monitoring", "list_alerts", state="firing")["alerts"]
        return any(a.get("alert") == alert for a in alerts)

    def wait_resolved(
        self, alert: str, timeout: float = 240.0, interval: float = 5.0, *, required: bool = True
    ) -> bool:
        """Wait until `alert` no longer fires: done is when production says so. On timeout a
        KitError when `required`, else the wait is logged and False returned (on a saturated
        host a latency window can take long to drain; the work goes on)."""
        try:
            self.wait_until(lambda: not self.firing(alert), timeout=timeout, interval=interval)
        except KitCancelled:
            raise
        except KitError as exc:
            if required:
                raise
            self.log(f"{alert} still firing after {timeout:.0f}s: {exc}")
            return False
        return True

    def deploy(
        self,
        services: Sequence[str],
        ref: str = "HEAD",
        timeout: float = 240.0,
        *,
        expect_failure: bool = False,
        poll: float = 2.0,
    ) -> dict[str, Any]:
        """Deploy through the deploy server and follow it to its end.

        Status polls back off from `poll` to `MAX_POLL` seconds: a deploy takes a minute or
        so, and every poll is a call in the run's call log (graders count repeated calls).
        """
        started = self.call("deploy", "deploy", services=list(services), ref=ref)
        deploy_id = started["id"]
        deadline = time.monotonic() + timeout
        status = started
        while status.get("status") not in TERMINAL:
            if time.monotonic() > deadline:
                self._trajectory.write("deploy", id=deploy_id, status="timeout")
                raise KitError(
                    f"deploy {deploy_id} of {', '.join(services)} still {status.get('status')} "
                    f"after {timeout:.0f}s"
                )
            self._sleep(min(poll, max(0.0, deadline - time.monotonic())))
            poll = min(poll * 1.5, MAX_POLL)
            status = self.call("deploy", "deploy_status", deploy_id=deploy_id)
        self._trajectory.write(
            "deploy", id=deploy_id, services=list(services), ref=ref, sha=status.get("sha"),
            status=status["status"], error=status.get("error"),
        )  # fmt: skip
        if status["status"] != "succeeded" and not expect_failure:
            try:
                logs = self.call("deploy", "deploy_logs", deploy_id=deploy_id, tail=40)
            except ToolCallError as exc:
                logs = exc.message
            raise DeployFailed(
                f"deploy {deploy_id} of {', '.join(services)} at {ref} ended "
                f"{status['status']}: {status.get('error')}\n{_truncate(logs)}",
                status,
            )
        return status

    def wait_until(self, fn: Callable[[], T], timeout: float = 60.0, interval: float = 1.0) -> T:
        """`fn()` once it is truthy; exceptions count as "not yet"."""
        deadline = time.monotonic() + timeout
        last: BaseException | None = None
        while True:
            self._check()
            try:
                value = fn()
                if value:
                    self._trajectory.write("wait_until", ok=True)
                    return value
                last = None
            except KitCancelled:
                raise
            except Exception as exc:  # noqa: BLE001 - reported at the timeout
                last = exc
            if time.monotonic() > deadline:
                self._trajectory.write("wait_until", ok=False, error=repr(last))
                why = f"; last error: {last!r}" if last else ""
                raise KitError(f"condition not met within {timeout:.0f}s{why}")
            self._sleep(interval)

    def _sleep(self, seconds: float) -> None:
        if self._cancelled.wait(seconds):
            raise KitCancelled("the oracle's time limit is up")
