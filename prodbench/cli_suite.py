"""The CLI's task and suite commands: `prodbench tasks ...`, `prodbench run`, `prodbench grade`."""

from __future__ import annotations

import json
import time
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from environments.runs import default_runs_dir
from graders.models import CATEGORIES, TrialResult

out = Console()
err = Console(stderr=True)


class Runtime(str, Enum):
    """Where a run's services run."""

    local = "local"
    docker = "docker"


tasks_app = typer.Typer(
    help="The task suite: list, show, validate, scaffold.", no_args_is_help=True
)

TasksDir = Annotated[
    Path | None,
    typer.Option(
        "--tasks-dir",
        help="Where task folders live [default: the suite's tasks/].",
        show_default=False,
    ),
]


def _fail(message: str, hint: str | None = None, code: int = 1) -> None:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    if hint:
        err.print(f"  {hint}", highlight=False, markup=False)
    raise typer.Exit(code)


def _tasks_dir(value: Path | None) -> Path:
    from prodbench.tasks.loader import TASKS_DIR

    return value or TASKS_DIR


def _select(selector: str, tasks_dir: Path | None):
    from prodbench.tasks.loader import TaskError, select

    try:
        tasks = select(selector, _tasks_dir(tasks_dir))
    except TaskError as exc:
        _fail(
            str(exc),
            "`prodbench tasks list` shows the tasks; `prodbench tasks validate` checks them",
        )
        raise
    if not tasks:
        _fail(f"no task matches {selector!r}", "`prodbench tasks list` shows the tasks")
    return tasks


# -- tasks ---------------------------------------------------------------------------------
@tasks_app.command("list")
def tasks_list(
    category: Annotated[str | None, typer.Option(help="Only this category.")] = None,
    tasks_dir: TasksDir = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Every task: id, category, difficulty, title and how it is graded."""
    tasks = _select(category or "all", tasks_dir) if category else _select("all", tasks_dir)
    if as_json:
        rows = [
            t.spec.model_dump(mode="json", include={"id", "title", "category", "difficulty"})
            for t in tasks
        ]
        out.print_json(json.dumps(rows))
        return
    table = Table("id", "category", "difficulty", "title", "hidden tests", "devops checks")
    for t in tasks:
        grading = t.spec.grading
        devops = len(grading.devops.deploy.services) + len(grading.devops.tools)
        devops += len(grading.devops.alerts.resolved) + len(grading.devops.deploy.order)
        table.add_row(
            t.id,
            t.spec.category,
            t.spec.difficulty,
            t.spec.title,
            str(_count_tests(t.tests_dir)),
            str(devops),
        )
    out.print(table)


def _count_tests(folder: Path) -> int:
    return sum(
        line.lstrip().startswith(("def test_", "async def test_"))
        for path in folder.rglob("test_*.py")
        for line in path.read_text().splitlines()
    )


@tasks_app.command("show")
def tasks_show(
    task_id: Annotated[str, typer.Argument(help="A task id.")],
    tasks_dir: TasksDir = None,
) -> None:
    """A task's spec (the prompt, setup and grading) and its folder."""
    import yaml

    (task,) = _select(task_id, tasks_dir)
    out.print(f"# {task.dir}", highlight=False, markup=False)
    out.print(
        yaml.safe_dump(task.spec.model_dump(mode="json", exclude_defaults=True), sort_keys=False),
        highlight=False,
        markup=False,
    )
    out.print(f"hidden tests: {_count_tests(task.tests_dir)} in {task.tests_dir}", markup=False)
    solve = task.solution_dir / "solve.py"
    out.print(f"oracle: {solve if solve.exists() else 'missing'}", markup=False)


@tasks_app.command("new")
def tasks_new(
    task_id: Annotated[str, typer.Argument(help="The new task's id (its folder name).")],
    category: Annotated[str, typer.Option(help=f"One of: {', '.join(CATEGORIES)}.")],
    title: Annotated[str | None, typer.Option(help="A one-line title.")] = None,
    tasks_dir: TasksDir = None,
) -> None:
    """Scaffold a task folder: task.yaml, a hidden test, an oracle stub, a setup folder."""
    from prodbench.tasks.loader import TaskError
    from prodbench.tasks.scaffold import new_task

    try:
        folder = new_task(_tasks_dir(tasks_dir), task_id, category, title)
    except TaskError as exc:
        _fail(str(exc))
        raise
    out.print(f"created {folder}", markup=False, highlight=False)
    out.print(
        "next: fill in task.yaml, tests/ and solution/solve.py, then "
        f"`prodbench tasks validate {task_id}`",
        markup=False,
        highlight=False,
    )


@tasks_app.command("validate")
def tasks_validate(
    tasks: Annotated[
        list[str] | None,
        typer.Argument(help="Task ids or categories (several, or comma-separated), or all."),
    ] = None,
    static: Annotated[
        bool, typer.Option("--static", help="Check the files only; run nothing.")
    ] = False,
    jobs: Annotated[int, typer.Option("-j", "--jobs", help="Trials at once.")] = 1,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Where the gate's trials go.")
    ] = None,
    tasks_dir: TasksDir = None,
    runs_dir: Annotated[Path | None, typer.Option("--runs-dir", help="Where runs live.")] = None,
) -> None:
    """The validation gate: the oracle must pass (composite >= 95), doing nothing must fail
    (composite <= 30). With --static, only that every task folder is well-formed."""
    from prodbench.gate import gate

    chosen = _select(",".join(tasks or ["all"]), tasks_dir)
    for t in chosen:
        missing = [p for p in (t.tests_dir, t.solution_dir / "solve.py") if not p.exists()]
        if missing:
            _fail(f"task {t.id}: missing {', '.join(str(m) for m in missing)}")
    if static:
        out.print(f"ok: {len(chosen)} task(s) well-formed", markup=False)
        return
    out_dir = out_dir or (runs_dir or default_runs_dir()) / f"gate-{time.strftime('%Y%m%d-%H%M%S')}"
    started = time.monotonic()
    verdicts = gate(
        chosen,
        out_dir=out_dir,
        runs_dir=runs_dir or default_runs_dir(),
        jobs=jobs,
        log=lambda m: err.print(m, highlight=False, markup=False),
    )
    table = Table("task", "oracle", "noop", "verdict")
    for v in verdicts:
        table.add_row(v.task, _short(v.oracle), _short(v.noop), "ok" if v.ok else f"FAIL: {v.why}")
    out.print(table)
    out.print(
        f"gate: {sum(v.ok for v in verdicts)}/{len(verdicts)} valid in "
        f"{time.monotonic() - started:.0f} s; trials in {out_dir}",
        markup=False,
    )
    if not all(v.ok for v in verdicts):
        raise typer.Exit(1)


def _short(result: TrialResult | None) -> str:
    if result is None:
        return "-"
    if result.status == "infra_error":
        return f"infra error: {(result.infra_error or '')[:60]}"
    return f"{'pass' if result.passed else 'fail'} {result.composite:.1f}"


# -- run -------------------------------------------------------------------------------------
def run(
    agent: Annotated[
        str,
        typer.Option(
            "--agent",
            "-a",
            help="noop, oracle, a preset "
            "(claude-code, codex, openhands, mini-swe-agent) or "
            "command:'TEMPLATE'.",
        ),
    ],
    tasks: Annotated[
        str, typer.Option("--tasks", "-t", help="Task ids, categories, or all.")
    ] = "all",
    runs: Annotated[int, typer.Option("--runs", "-k", min=1, help="Trials per task.")] = 1,
    jobs: Annotated[int, typer.Option("-j", "--jobs", min=1, help="Trials at once.")] = 1,
    out_dir: Annotated[
        Path, typer.Option("--out", "-o", help="Results folder (resumable).")
    ] = Path("results"),
    seed: Annotated[int | None, typer.Option(help="Override every task's seed.")] = None,
    keep_runs: Annotated[bool, typer.Option(help="Keep each trial's run directory.")] = False,
    tasks_dir: TasksDir = None,
    runs_dir: Annotated[Path | None, typer.Option("--runs-dir", help="Where runs live.")] = None,
    runtime: Annotated[
        Runtime,
        typer.Option(help="local: processes on loopback; docker: each trial a compose project."),
    ] = Runtime.local,
) -> None:
    """Run an agent on tasks: up -> agent -> grade -> down per trial, then the report.

    Finished trials in --out are skipped, so the same command resumes. Infra errors are
    retried once and reported apart, never as the agent's failures.
    """
    from graders.quality import JudgeConfig
    from graders.report import generate
    from prodbench.agents import AgentError, get_agent
    from prodbench.suite import SuiteEvents, plan, run_suite

    chosen = _select(tasks, tasks_dir)
    try:
        probe = get_agent(agent, chosen[0].dir)
    except AgentError as exc:
        _fail(str(exc))
        raise
    name = probe.name
    judge = JudgeConfig.from_env()
    total = len(plan(chosen, name, runs, out_dir))
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
    )
    with progress:
        bar = progress.add_task(f"{name}", total=total)

        def done(p, result: TrialResult, skipped: bool) -> None:
            progress.advance(bar)
            what = "skipped (done)" if skipped else _short(result)
            progress.console.print(
                f"{p.task.id} run {p.index}: {what}", highlight=False, markup=False
            )

        events = SuiteEvents(
            done=done,
            retry=lambda p, why: progress.console.print(
                f"{p.task.id} run {p.index}: infra error, retrying once: {why[:200]}", markup=False
            ),
        )
        try:
            results = run_suite(
                lambda t: get_agent(agent, t.dir),
                name,
                chosen,
                runs=runs,
                jobs=jobs,
                out=out_dir,
                runs_dir=runs_dir or default_runs_dir(),
                judge=judge,
                seed=seed,
                keep_runs=keep_runs,
                events=events,
                runtime=runtime.value,
            )
        except AgentError as exc:
            _fail(str(exc))
            raise
    _summary(results)
    _, files = generate([out_dir], out_dir)
    out.print(f"report: {files.html_path}", markup=False, highlight=False)


def _summary(results: list[TrialResult]) -> None:
    table = Table("task", "category", "runs", "passed", "composite", "F", "D", "Q", "infra")
    by_task: dict[str, list[TrialResult]] = {}
    for r in results:
        by_task.setdefault(r.task, []).append(r)
    for task, rs in by_task.items():
        scored = [r for r in rs if r.status == "scored"]

        def mean(values: list[float | None]) -> str:
            vals = [v for v in values if v is not None]
            return f"{sum(vals) / len(vals):.2f}" if vals else "-"

        table.add_row(
            task,
            rs[0].category,
            str(len(rs)),
            str(sum(bool(r.passed) for r in scored)),
            mean([r.composite for r in scored]).replace(".00", ""),
            mean([r.feature for r in scored]),
            mean([r.devops for r in scored]),
            mean([r.quality for r in scored]),
            str(len(rs) - len(scored)),
        )
    out.print(table)
    scored = [r for r in results if r.status == "scored"]
    out.print(
        f"passed {sum(bool(r.passed) for r in scored)}/{len(scored)} scored trials"
        f" ({len(results) - len(scored)} infra errors)",
        markup=False,
    )


# -- grade -----------------------------------------------------------------------------------
def grade(
    run_id: Annotated[str | None, typer.Argument(help="A run set up with `up --task`.")] = None,
    runs_dir: Annotated[Path | None, typer.Option("--runs-dir", help="Where runs live.")] = None,
    agent: Annotated[str, typer.Option(help="The agent's name in the result.")] = "manual",
    tasks_dir: TasksDir = None,
) -> None:
    """Grade a live run that `prodbench up --task ID` set up: writes its result.json."""
    from environments.runs import find_run, write_json_atomic
    from graders.grade import grade_trial
    from graders.quality import JudgeConfig
    from graders.runview import RunView

    handle = find_run(runs_dir or default_runs_dir(), run_id)
    view = RunView(handle.paths.root)
    try:
        state = view.task_state()
    except FileNotFoundError as exc:
        _fail(str(exc), "start it with `prodbench up --task ID`")
        raise
    (task,) = _select(state.task, tasks_dir)
    env = handle.env()
    if env is None:
        _fail(
            f"run {run_id} has no env.json: it never came up",
            "start it with `prodbench up --task ID`",
        )
    state.agent_finished_at = state.agent_finished_at or time.time()
    view.write_task_state(state)
    result = grade_trial(
        task.spec,
        task.tests_dir,
        view,
        agent=agent,
        seed=env.seed,
        work_dir=handle.paths.root / "grading",
        judge=JudgeConfig.from_env(),
    )
    write_json_atomic(handle.paths.root / "result.json", result)
    for check in result.checks:
        mark = "ok " if check.score >= 1 else "-- "
        out.print(
            f"{mark}{check.dimension:8} {check.name}: {check.detail or ''}"[:160],
            markup=False,
            highlight=False,
        )
    out.print(
        f"{task.id}: {'PASSED' if result.passed else 'failed'}, composite {result.composite:.1f}"
        f" (F {result.feature:.2f}, D {result.devops:.2f}, Q {result.quality:.2f})",
        markup=False,
    )
