"""One trial: up -> task setup -> agent (time limit) -> grade -> down, kept in its own folder.

The trial folder holds everything a reader needs afterwards: `result.json` (written last and
atomically: its presence means the trial is finished), `agent/` (prompt, trajectory, stderr),
`diff.patch` (the agent's commits and uncommitted changes), `calls.jsonl` (every MCP call),
`logs/` (every service's log), `trial.log` (what the harness did, with timings).

A failure of prodbench's side (the run does not come up, the setup fails, grading cannot reach a
service) is an infra error: recorded apart, never scored as the agent's failure.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from environments.acme.environment import ACME
from environments.runs import RunHandle, RunPaths, write_json_atomic
from environments.stack import StackError
from graders.grade import GradingInfraError, grade_trial
from graders.models import TrialResult
from graders.prewarm import SuitePrewarm
from graders.quality import JudgeConfig
from graders.runview import RunView
from prodbench.agents.base import Agent, AgentContext, AgentError, WorkspaceContainer
from prodbench.session import is_docker_run, prepare_run, start_run, stop_run
from prodbench.tasks.loader import Task
from prodbench.tasks.setup import TaskSetupError, apply_setup, run_options

RESULT = "result.json"
DOCKER_STARTUP = 300.0  # seconds a docker run may take to be healthy (image builds not counted)
Log = Callable[[str], None]


class InfraError(RuntimeError):
    """prodbench's side failed; the trial says so instead of scoring the agent."""


def trial_dir(out: Path, agent: str, task: str, index: int) -> Path:
    return out / _safe(agent) / task / f"run-{index}"


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in name)[:60] or "agent"


def finished(folder: Path) -> TrialResult | None:
    """The trial's result when it finished (scored or infra error), else None."""
    path = folder / RESULT
    if not path.exists():
        return None
    try:
        return TrialResult.model_validate_json(path.read_text())
    except ValueError:
        return None  # a torn or foreign file: run the trial again


def run_trial(
    task: Task,
    agent: Agent,
    folder: Path,
    *,
    index: int = 0,
    seed: int | None = None,
    runs_dir: Path,
    judge: JudgeConfig | None = None,
    keep_run: bool = False,
    runtime: str = "local",
    log: Log | None = None,
) -> TrialResult:
    """Run one trial end to end; always returns a result (scored or infra error) and writes it.

    `AgentError` (the agent is misconfigured, e.g. its CLI is missing) is raised instead: that
    is the user's to fix and would fail every trial the same way.
    """
    folder.mkdir(parents=True, exist_ok=True)
    lines: list[str] = []

    def note(message: str) -> None:
        line = f"{time.strftime('%H:%M:%S')} {message}"
        lines.append(line)
        (folder / "trial.log").write_text("\n".join(lines) + "\n")
        if log:
            log(message)

    seed = task.spec.seed if seed is None else seed
    started_at = _now()
    timings: dict[str, float] = {}
    result = TrialResult(
        task=task.id,
        category=task.spec.category,
        agent=agent.name,
        trial=index,
        seed=seed,
        started_at=started_at,
    )
    handle: RunHandle | None = None
    try:
        with _timed(timings, "up"):
            name = f"{task.id}-{_safe(agent.name)}-{index}"
            handle = _up(task, seed, runs_dir, name, runtime)
        view = RunView(handle.paths.root)
        note(f"up: {handle.run_id} healthy in {timings['up']:.1f} s")
        with _timed(timings, "setup"):
            state = apply_setup(task, view, log=note)
        prewarm = SuitePrewarm.for_trial(task.spec.grading, view, state, folder / "grading").start()
        try:
            with _timed(timings, "agent"):
                outcome = agent.run(_context(task, view, folder / "agent"))
        finally:
            with _timed(timings, "prewarm_wait"):
                prewarm.finish()
        note(
            f"agent: {outcome.status} in {outcome.seconds:.1f} s ({outcome.message or 'no message'})"
        )
        if prewarm.warmed:
            note(
                f"monorepo suite run at the agent's deploys: {', '.join(c[:8] for c in prewarm.warmed)}"
            )
        state.agent_finished_at = time.time()
        view.write_task_state(state)
        with _timed(timings, "grade"):
            result = grade_trial(
                task.spec,
                task.tests_dir,
                view,
                agent=agent.name,
                trial=index,
                seed=seed,
                work_dir=folder / "grading",
                judge=judge,
            )
        note(f"grade: composite {result.composite} in {timings['grade']:.1f} s")
        _keep_artifacts(view, state.base_commit, folder)
    except AgentError:
        raise
    except (InfraError, TaskSetupError, GradingInfraError) as exc:
        result = _infra(result, f"{type(exc).__name__}: {exc}")
        note(f"infra error: {exc}")
    except Exception as exc:  # noqa: BLE001 - our own bug: still an infra error, typed
        result = _infra(result, f"{type(exc).__name__}: {exc}")
        note(f"infra error (unexpected): {type(exc).__name__}: {exc}\n{traceback.format_exc()}")
    finally:
        if handle is not None:
            with _timed(timings, "down"):
                _down(handle, folder, keep_run)
    result = result.model_copy(
        update={
            "timings": {**result.timings, **{k: round(v, 3) for k, v in timings.items()}},
            "finished_at": _now(),
        }
    )
    write_json_atomic(folder / RESULT, result)
    return result


def _up(task: Task, seed: int, runs_dir: Path, name: str, runtime: str) -> RunHandle:
    try:
        paths = prepare_run(
            ACME,
            runs_dir,
            seed=seed,
            task=task.id,
            run_id=f"{name}-{int(time.time() * 1000) % 10**8}",
            runtime=runtime,  # type: ignore[arg-type]
            **({"startup_timeout": DOCKER_STARTUP} if runtime == "docker" else {}),
            **run_options(task),
        )
    except StackError as exc:
        raise InfraError(f"the run could not be prepared: {exc}") from exc
    result = start_run(paths)
    handle = RunHandle(paths)
    if result.status != "healthy":
        stop_run(handle)
        raise InfraError(f"the run did not come up: {result.error}")
    return handle


def _context(task: Task, view: RunView, out: Path) -> AgentContext:
    """The agent's view: the workspace, the prompt and its MCP config, nothing grader-only.

    On a docker run, command agents work in the run's workspace container, where the prompt
    is written too.
    """
    out.mkdir(parents=True, exist_ok=True)
    prompt_file = out / "prompt.md"
    prompt_file.write_text(task.spec.prompt.rstrip() + "\n")
    container, paths = None, RunPaths(view.run_dir)
    if is_docker_run(paths):
        from environments.runtime.docker import AGENT_DIR, workspace_container_id

        container = WorkspaceContainer(id=workspace_container_id(paths))
        inside = paths.root / AGENT_DIR / Path(container.prompt_file).name
        inside.write_text(prompt_file.read_text())
        inside.chmod(0o644)
    return AgentContext(
        container=container,
        task_id=task.id,
        prompt=task.spec.prompt,
        workspace=view.workspace,
        prompt_file=prompt_file,
        mcp_config=view.run_dir / "mcp.json",
        time_limit=float(task.spec.time_limit),
        output_dir=out,
        env={},
    )


def _keep_artifacts(view: RunView, base: str, folder: Path) -> None:
    diff = subprocess.run(
        ["git", "diff", base],
        cwd=view.workspace,
        capture_output=True,
        text=True,
        check=False,
    )
    (folder / "diff.patch").write_text(diff.stdout)
    if view.calls_path.exists():
        shutil.copy2(view.calls_path, folder / "calls.jsonl")


def _down(handle: RunHandle, folder: Path, keep_run: bool) -> None:
    stop_run(handle)
    logs = handle.paths.root / "logs"
    if logs.is_dir():
        shutil.copytree(logs, folder / "logs", dirs_exist_ok=True)
    if not keep_run:
        shutil.rmtree(handle.paths.root, ignore_errors=True)


def _infra(result: TrialResult, why: str) -> TrialResult:
    return result.model_copy(
        update={
            "status": "infra_error",
            "infra_error": why[:2000],
            "feature": None,
            "devops": None,
            "quality": None,
            "passed": None,
            "composite": None,
            "checks": [],
        }
    )


class _timed:
    def __init__(self, into: dict[str, float], key: str):
        self.into, self.key = into, key

    def __enter__(self) -> None:
        self.started = time.monotonic()

    def __exit__(self, *exc: object) -> None:
        self.into[self.key] = time.monotonic() - self.started


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
