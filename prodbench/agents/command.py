"""Any CLI agent as a subprocess: a command template, a working directory, a time limit.

The template is a string (split like a shell would, without a shell) or a list of arguments.
Placeholders are filled per argument, so a prompt with spaces or quotes stays one argument:
``{workspace}``, ``{prompt_file}``, ``{prompt}``, ``{mcp_config}``, ``{output_dir}``. An
argument that is exactly ``{name}`` of an `expand` hook becomes the list that hook returns (how
the codex preset turns the run's mcp.json into ``-c mcp_servers...`` options at run time).

The agent runs in the workspace, in its own session and process group, with stdin closed.
stdout (the trajectory: stream-json, JSON events, a transcript) streams to
``output_dir/trajectory.jsonl`` (renamed ``.txt`` at the end when it is not JSON lines) and
stderr to ``output_dir/stderr.txt``, straight from the child to the files, so a crash loses
nothing. At the time limit the whole group gets SIGTERM, then SIGKILL after a grace period, and
the outcome is "timeout". Whatever the agent left running in its group is killed when it exits.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Literal

from prodbench.agents.base import (
    AgentContext,
    AgentError,
    AgentOutcome,
    WorkspaceContainer,
    agent_environ,
)

PLACEHOLDER = re.compile(r"\{(workspace|prompt_file|prompt|mcp_config|output_dir)\}")
KILL_GRACE = 5.0
WORKSPACE_IMAGE_HINT = (
    "compose/docker/prodbench.Dockerfile, target `workspace`: install it there, or run the "
    "trial on the local runtime"
)
StdoutFormat = Literal["jsonl", "text", "auto"]
Expand = Callable[[AgentContext], list[str]]
Prepare = Callable[[AgentContext], Mapping[str, str]]


def fill(token: str, ctx: AgentContext) -> str:
    """One argument with its placeholders replaced (values are never re-scanned).

    In a workspace container the paths are the container's; `{output_dir}` stays the host's
    (only the harness writes there: the agent's stdout and stderr).
    """
    box = ctx.container
    values = {
        "workspace": box.workspace if box else str(ctx.workspace),
        "prompt_file": box.prompt_file if box else str(ctx.prompt_file),
        "prompt": ctx.prompt,
        "mcp_config": box.mcp_config if box else str(ctx.mcp_config),
        "output_dir": str(ctx.output_dir),
    }
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], token)


def is_json_lines(path: Path) -> bool:
    """Every non-blank line is a JSON object or array (and there is at least one)."""
    seen = False
    with path.open("rb") as fh:
        for line in fh:
            if not line.strip():
                continue
            try:
                if not isinstance(json.loads(line), dict | list):
                    return False
            except ValueError:
                return False
            seen = True
    return seen


def kill_group(pgid: int, sig: int) -> bool:
    """Signal a process group; False when nothing of it is left."""
    try:
        os.killpg(pgid, sig)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def group_alive(pgid: int) -> bool:
    return kill_group(pgid, 0)


def _stop_container_processes(container: str) -> None:
    """What the agent left running in its container: `docker exec` ends with its client, the
    processes it started do not. Restarting the container ends them all (its files stay)."""
    subprocess.run(
        ["docker", "restart", "-t", "1", container], capture_output=True, timeout=60, check=False
    )


class CommandAgent:
    """Runs a CLI agent; see the module docstring for the contract."""

    def __init__(
        self,
        template: str | list[str],
        *,
        name: str = "command",
        env: Mapping[str, str] | None = None,
        needs: str | None = None,
        install: str | None = None,
        stdout: StdoutFormat = "auto",
        expand: Mapping[str, Expand] | None = None,
        prepare: Prepare | None = None,
        requires: Mapping[str, str] | None = None,
    ):
        self.argv_template = shlex.split(template) if isinstance(template, str) else list(template)
        if not self.argv_template:
            raise AgentError("an agent command template needs at least the program to run")
        self.name = name
        self.env = dict(env or {})
        self.needs = needs
        self.install = install
        self.stdout = stdout
        self.expand = dict(expand or {})
        self.prepare = prepare
        self.requires = dict(requires or {})

    def check(
        self, env: Mapping[str, str] | None = None, container: WorkspaceContainer | None = None
    ) -> None:
        """Raise AgentError when the CLI this agent needs is not installed (in the workspace
        container when it runs there), or a variable it requires is set neither here nor in
        `env` (the trial's extra environment)."""
        if self.needs and container is not None:
            probe = subprocess.run(
                [
                    "docker",
                    "exec",
                    container.id,
                    "sh",
                    "-c",
                    f"command -v {shlex.quote(self.needs)}",
                ],
                capture_output=True,
                timeout=30,
                check=False,
            )
            if probe.returncode != 0:
                raise AgentError(
                    f"agent {self.name!r} needs the `{self.needs}` command in the workspace "
                    f"container ({WORKSPACE_IMAGE_HINT})"
                )
        elif self.needs and shutil.which(self.needs) is None:
            how = f"; install it with: {self.install}" if self.install else ""
            raise AgentError(
                f"agent {self.name!r} needs the `{self.needs}` command, which is not on PATH{how}"
            )
        for name, hint in self.requires.items():
            if not (os.environ.get(name) or (env or {}).get(name)):
                raise AgentError(f"agent {self.name!r} needs {name} set: {hint}")

    def argv(self, ctx: AgentContext) -> list[str]:
        """The command line for this trial."""
        out: list[str] = []
        for token in self.argv_template:
            key = token[1:-1] if token.startswith("{") and token.endswith("}") else None
            if key in self.expand:
                out.extend(self.expand[key](ctx))
            else:
                out.append(fill(token, ctx))
        return out

    def run(self, ctx: AgentContext) -> AgentOutcome:
        self.check(ctx.env, ctx.container)
        ctx.output_dir.mkdir(parents=True, exist_ok=True)
        extra_env = dict(self.prepare(ctx)) if self.prepare else {}
        argv = self.argv(ctx)
        env = agent_environ(self.env, extra_env, ctx.env)
        if ctx.container is not None:
            # Inside the container: only the agent's own variables go in (`-e NAME` takes the
            # value from this docker CLI's environment), never the host's.
            names = sorted({*self.env, *extra_env, *ctx.env})
            argv = [
                "docker", "exec", "-i", "-w", ctx.container.workspace,
                *[f"-e{name}" for name in names], ctx.container.id, *argv,
            ]  # fmt: skip
        trajectory = ctx.output_dir / "trajectory.jsonl"
        (ctx.output_dir / "command.json").write_text(
            json.dumps({"agent": self.name, "argv": argv, "cwd": str(ctx.workspace)}, indent=2)
        )
        started = time.monotonic()
        with trajectory.open("wb") as out, (ctx.output_dir / "stderr.txt").open("wb") as err:
            try:
                proc = subprocess.Popen(
                    argv,
                    cwd=ctx.workspace,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=err,
                    start_new_session=True,
                )
            except OSError as exc:
                raise AgentError(f"cannot start agent {self.name!r} ({argv[0]}): {exc}") from exc
            timed_out = False
            try:
                proc.wait(timeout=ctx.time_limit)
            except subprocess.TimeoutExpired:
                timed_out = True
                self._stop(proc)
            finally:
                if proc.poll() is None:  # interrupted while waiting: leave nothing behind
                    self._stop(proc)
            kill_group(proc.pid, signal.SIGKILL)  # what the agent left running in its group
            if ctx.container is not None:
                _stop_container_processes(ctx.container.id)
        seconds = round(time.monotonic() - started, 3)
        trajectory = self._settle(trajectory)
        if timed_out:
            return AgentOutcome(
                status="timeout",
                exit_code=proc.returncode,
                seconds=seconds,
                trajectory=trajectory,
                message=f"killed after the time limit of {ctx.time_limit:.0f}s",
            )
        return AgentOutcome(
            status="completed" if proc.returncode == 0 else "error",
            exit_code=proc.returncode,
            seconds=seconds,
            trajectory=trajectory,
            message=None if proc.returncode == 0 else self._stderr_tail(ctx.output_dir),
        )

    @staticmethod
    def _stop(proc: subprocess.Popen[bytes]) -> None:
        """SIGTERM to the group, SIGKILL after the grace period."""
        kill_group(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + KILL_GRACE
        # poll() reaps the leader, whose zombie would otherwise keep the group "alive"
        while (proc.poll() is None or group_alive(proc.pid)) and time.monotonic() < deadline:
            time.sleep(0.05)
        kill_group(proc.pid, signal.SIGKILL)
        proc.wait()

    def _settle(self, path: Path) -> Path:
        """Name the trajectory by what it holds."""
        if self.stdout == "jsonl" or (self.stdout == "auto" and is_json_lines(path)):
            return path
        text = path.with_suffix(".txt")
        path.replace(text)
        return text

    @staticmethod
    def _stderr_tail(output_dir: Path, lines: int = 20) -> str:
        tail = (output_dir / "stderr.txt").read_text(errors="replace").splitlines()[-lines:]
        return "exited non-zero; stderr ends:\n" + "\n".join(tail)
