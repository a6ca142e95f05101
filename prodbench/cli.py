"""The `prodbench` command line."""

from __future__ import annotations

import json
import signal
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from environments.logs import tail_lines
from environments.registry import DEFAULT_STACK, builtin, builtin_names
from environments.runs import RunError, RunHandle, RunPaths, default_runs_dir, find_run, list_runs
from environments.stack import StackError, load_stack
from environments.stacks import EnvironmentDef, RunContext
from prodbench.cli_suite import Runtime

app = typer.Typer(
    name="prodbench",
    help="A seeded software company under live traffic, for evaluating AI engineering agents.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
stack_app = typer.Typer(help="Inspect and validate stack specs.", no_args_is_help=True)
app.add_typer(stack_app, name="stack")
mcp_app = typer.Typer(
    help="A run's MCP servers, for agents that launch their own.", no_args_is_help=True
)
app.add_typer(mcp_app, name="mcp")

out = Console()
err = Console(stderr=True)

RunsDir = Annotated[
    Path | None,
    typer.Option(
        "--runs-dir",
        help="Where runs live [default: $PRODBENCH_RUNS_DIR or ./runs].",
        show_default=False,
    ),
]
RunArg = Annotated[
    str | None, typer.Argument(help="Run id or a unique prefix of it [default: the newest run].")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
RunOpt = Annotated[
    str | None,
    typer.Option("--run", help="Run id or a unique prefix of it [default: the newest run]."),
]


def _fail(message: str, hint: str | None = None, code: int = 1) -> None:
    err.print(f"[bold red]error:[/] {message}", highlight=False, markup=True)
    if hint:
        err.print(f"[dim]hint:[/] {hint}", highlight=False)
    raise typer.Exit(code)


def _runs_dir(value: Path | None) -> Path:
    return value.resolve() if value else default_runs_dir()


def _resolve_stack(stack: str) -> EnvironmentDef:
    """A built-in environment by name, or a stack file wrapped as one."""
    found = builtin(stack)
    if found is not None:
        return found
    path = Path(stack)
    if path.suffix in (".yaml", ".yml", ".json") or path.exists():
        spec = load_stack(path)
        return EnvironmentDef(spec.name, spec.description, lambda ctx: spec)
    _fail(
        f"unknown stack {stack!r}",
        f"use a stack file (.yaml/.json) or one of: {', '.join(sorted(builtin_names()))}",
    )
    raise AssertionError  # unreachable


def _find(runs_dir: Path | None, run: str | None) -> RunHandle:
    try:
        return find_run(_runs_dir(runs_dir), run)
    except RunError as exc:
        _fail(str(exc))
        raise


@app.command()
def up(
    stack: Annotated[
        str,
        typer.Option(
            "--stack",
            "-s",
            help=f"A built-in stack ({', '.join(builtin_names())}) or a stack file.",
        ),
    ] = DEFAULT_STACK,
    seed: Annotated[
        int | None,
        typer.Option(help="Seed for every random choice of the run [default: the task's, or 0]."),
    ] = None,
    run_id: Annotated[str | None, typer.Option("--run-id", help="Name the run yourself.")] = None,
    task_id: Annotated[
        str | None,
        typer.Option(
            "--task",
            help="Set the run up for a task (its commits, deploys, fixtures, faults); "
            "grade it later with `prodbench grade`.",
        ),
    ] = None,
    runs_dir: RunsDir = None,
    foreground: Annotated[
        bool, typer.Option("--foreground", "-f", help="Stay attached; Ctrl-C tears the run down.")
    ] = False,
    timeout: Annotated[
        float | None,
        typer.Option(
            help="Seconds to wait for the stack to be healthy [default: 60; docker: 300, "
            "image builds not counted].",
            show_default=False,
        ),
    ] = None,
    keep_on_failure: Annotated[
        bool, typer.Option(help="Leave healthy services running when another fails, to debug.")
    ] = False,
    runtime: Annotated[
        Runtime,
        typer.Option(
            help="local: processes on loopback ports; docker: a compose project of its own "
            "(compose/<stack>.yaml) with the run's images built first.",
        ),
    ] = Runtime.local,
    as_json: JsonOpt = False,
) -> None:
    """Start a run and return once every service is healthy.

    Prints where everything is: each service's URL and ports, the run directory, and the
    commands to look at it. The run keeps going in the background until `prodbench down`.
    """
    from prodbench.session import prepare_run, run_foreground, start_run

    docker = runtime is Runtime.docker
    if docker and foreground:
        _fail(
            "--runtime docker does not go with --foreground: compose runs the project detached",
            "run `prodbench up --runtime docker` and `prodbench logs RUN SERVICE`",
        )
    if timeout is None:
        timeout = 300.0 if docker else 60.0
    task = _load_task(task_id) if task_id else None
    from_task: dict = {}
    if task is not None:
        from prodbench.tasks.setup import run_options

        from_task = run_options(task)
        if foreground:
            _fail("--task and --foreground do not go together yet", "run `up --task` detached")
    try:
        paths = prepare_run(
            _resolve_stack(stack),
            _runs_dir(runs_dir),
            seed=seed if seed is not None else (task.spec.seed if task else 0),
            task=task_id,
            run_id=run_id,
            startup_timeout=timeout,
            keep_on_failure=keep_on_failure,
            runtime=runtime.value,
            **from_task,
        )
    except StackError as exc:
        hint = "`prodbench stack validate FILE` checks a stack without starting it"
        _fail(str(exc), None if docker else hint)
        raise
    if foreground:

        def on_ready(result):
            _print_up(result, as_json, foreground=True)

        signal.signal(signal.SIGINT, signal.default_int_handler)
        code = run_foreground(paths, on_ready)
        err.print(f"run {paths.run_id} stopped")
        raise typer.Exit(code)
    result = start_run(paths, log=lambda message: err.print(message, markup=False))
    if result.status == "healthy" and task is not None:
        _set_up_task(task, paths)
    _print_up(result, as_json, foreground=False)
    if result.status != "healthy":
        raise typer.Exit(1)


def _load_task(task_id: str):
    from prodbench.tasks.loader import TaskError, select

    try:
        (task,) = select(task_id)
    except (TaskError, ValueError) as exc:
        _fail(str(exc), "`prodbench tasks list` shows the tasks")
        raise
    return task


def _set_up_task(task, paths: RunPaths) -> None:
    """Apply the task's setup; on failure the run is brought down, since it is not the task's."""
    from graders.runview import RunView
    from prodbench.session import stop_run
    from prodbench.tasks.setup import TaskSetupError, apply_setup

    try:
        apply_setup(task, RunView(paths.root), log=lambda m: err.print(m, markup=False))
    except TaskSetupError as exc:
        stop_run(RunHandle(paths))
        _fail(f"setting up task {task.id} failed: {exc}", f"the run's logs: {paths.root}/logs")
    prompt = paths.root / "prompt.md"
    prompt.write_text(task.spec.prompt.rstrip() + "\n")
    err.print(f"task {task.id}: ready; the agent's prompt is {prompt}", markup=False)


def _print_up(result, as_json: bool, foreground: bool) -> None:
    if as_json:
        out.print_json(result.model_dump_json())
        return
    if result.status != "healthy":
        err.print(f"[bold red]run {result.run_id} failed to start[/] after {result.seconds:.2f} s")
        err.print(
            result.error or "(no error recorded)", highlight=False, markup=False, soft_wrap=True
        )
        err.print(
            f"[dim]logs:[/] {result.run_dir}/logs/   [dim]see:[/] prodbench logs {result.run_id}",
            soft_wrap=True,
        )
        return
    out.print(f"[bold green]run {result.run_id} is healthy[/] in {result.seconds:.2f} s")
    if result.env:
        table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
        table.add_column("service")
        table.add_column("url / ports")
        for name, ep in result.env.services.items():
            ports = ", ".join(f"{k}={v}" for k, v in ep.ports.items())
            table.add_row(name, ep.url or f"{ep.host} {ports}")
        out.print(table)
    out.print(f"run dir   {result.run_dir}")
    out.print(f"env       {result.run_dir}/env.json")
    if (Path(result.run_dir) / "mcp.json").exists():
        out.print(
            f"mcp       {result.run_dir}/mcp.json   "
            f"[dim](other harnesses: prodbench mcp-config --run {result.run_id} "
            "--format claude|openhands|codex)[/]"
        )
    if foreground:
        out.print("[dim]Ctrl-C stops the run.[/]")
    else:
        out.print(
            f"[dim]status:[/] prodbench status {result.run_id}   "
            f"[dim]logs:[/] prodbench logs {result.run_id}   "
            f"[dim]stop:[/] prodbench down {result.run_id}"
        )


@app.command()
def down(
    run: RunArg = None,
    all_runs: Annotated[bool, typer.Option("--all", help="Stop every live run.")] = False,
    runs_dir: RunsDir = None,
    timeout: Annotated[
        float, typer.Option(help="Seconds before stopping turns into killing.")
    ] = 30.0,
) -> None:
    """Stop a run: every service gets SIGTERM, then SIGKILL after its grace period.

    The run directory stays for inspection and grading; delete it when you are done.
    """
    from environments.runtime.docker_engine import DockerRunError
    from prodbench.session import run_status, stop_run

    def stop(handle: RunHandle) -> bool:
        try:
            out.print(f"{handle.run_id}: {stop_run(handle, timeout)}", highlight=False)
        except DockerRunError as exc:
            err.print(f"[bold red]error:[/] {handle.run_id}: {exc}", highlight=False)
            return False
        return True

    if all_runs:
        live = [r for r in list_runs(_runs_dir(runs_dir)) if run_status(r) not in ("stopped",)]
        failed = [handle.run_id for handle in live if not stop(handle)]
        if not live:
            out.print("no live runs")
        if failed:
            raise typer.Exit(1)
        return
    if not stop(_find(runs_dir, run)):
        raise typer.Exit(1)


@app.command()
def status(run: RunArg = None, runs_dir: RunsDir = None, as_json: JsonOpt = False) -> None:
    """Show a run's services: state, pid, restarts, URL, and the last error if any."""
    handle = _find(runs_dir, run)
    from prodbench.session import is_docker_run

    if is_docker_run(handle.paths):
        _docker_status(handle, as_json)
        return
    state = handle.supervisor()
    env = handle.env()
    if state is None:
        _fail(f"run {handle.run_id} has no supervisor state yet", "it may still be starting")
    if as_json:
        data = {
            "run_id": handle.run_id,
            "status": handle.live_status(),
            # The control token lets its holder replace any service: it is not for display.
            "supervisor": state.model_dump(exclude={"control": {"token"}}),
            "env": env.model_dump() if env else None,
        }
        out.print_json(json.dumps(data))
        return
    live = handle.live_status()
    colour = {"healthy": "green", "starting": "yellow", "degraded": "yellow"}.get(live, "red")
    out.print(
        f"run {handle.run_id}: [{colour}]{live}[/]  (supervisor pid {state.pid}, "
        f"up {_ago(state.started_at)})"
    )
    if state.error:
        out.print(f"[red]{state.error}[/]", markup=True, highlight=False)
    table = Table(header_style="bold", box=None, pad_edge=False)
    for col in ("service", "status", "pid", "restarts", "url / ports", "error"):
        table.add_column(col)
    on_request = _on_request_services(handle)
    for name, svc in state.services.items():
        ep = env.services.get(name) if env else None
        where = (ep.url or _ports_text(ep.ports)) if ep else ""
        shown = svc.status
        if svc.status == "pending" and name in on_request:
            shown = "pending (started by the deployer)"
        table.add_row(
            name, shown, str(svc.pid or ""), str(svc.restarts), where, (svc.error or "")[:80]
        )
        for inst_name, inst in state.instances.items():
            if inst.service == name:
                table.add_row(
                    f"  └ {inst_name}",
                    inst.status,
                    str(inst.pid or ""),
                    str(inst.restarts),
                    inst.url or _ports_text(inst.ports),
                    (inst.error or "")[:80],
                )
    out.print(table)


def _docker_status(handle: RunHandle, as_json: bool) -> None:
    """A docker run's containers: state and health, container id, published URL or ports."""
    from environments.runtime.docker import ComposeRun, DockerRunError

    run = ComposeRun.load(handle.paths)
    env = handle.env()
    try:
        states = run.states()
    except DockerRunError as exc:
        _fail(str(exc))
        raise
    live = run.live_status()
    if as_json:
        data = {
            "run_id": handle.run_id,
            "status": live,
            "runtime": "docker",
            "project": run.record.project,
            "error": run.record.error,
            "containers": {name: state.model_dump() for name, state in states.items()},
            "env": env.model_dump() if env else None,
        }
        out.print_json(json.dumps(data))
        return
    colour = {"healthy": "green", "starting": "yellow", "degraded": "yellow"}.get(live, "red")
    out.print(
        f"run {handle.run_id}: [{colour}]{live}[/]  (docker, compose project "
        f"{run.record.project}, up {_ago(run.record.created_at)})"
    )
    if run.record.error and live != "healthy":
        out.print(run.record.error, markup=False, highlight=False)
    table = Table(header_style="bold", box=None, pad_edge=False)
    for col in ("service", "status", "container", "url / ports"):
        table.add_column(col)
    for name, state in sorted(states.items()):
        ep = env.services.get(name) if env else None
        where = (ep.url or _ports_text(ep.ports)) if ep else ""
        table.add_row(name, state.describe(), state.id, where)
    out.print(table)


def _ports_text(ports: dict[str, int]) -> str:
    return ", ".join(f"{k}={v}" for k, v in ports.items())


def _on_request_services(handle: RunHandle) -> set[str]:
    """Services the deployer starts through the runtime API (`start: on-request`)."""
    try:
        request = json.loads(handle.paths.request.read_text())
        return {s["name"] for s in request["stack"]["services"] if s.get("start") == "on-request"}
    except (OSError, ValueError, KeyError, TypeError):
        return set()


def _ago(t: float) -> str:
    s = int(time.time() - t)
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"


@app.command()
def logs(
    run: RunArg = None,
    service: Annotated[str | None, typer.Argument(help="One service [default: all].")] = None,
    lines: Annotated[int, typer.Option("--lines", "-n", help="Lines per service.")] = 40,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new lines.")
    ] = False,
    runs_dir: RunsDir = None,
) -> None:
    """Print the last lines of a run's service logs (each service writes runs/<id>/logs/<service>.log)."""
    handle = _find(runs_dir, run)
    from prodbench.session import is_docker_run

    if is_docker_run(handle.paths):
        _docker_logs(handle, service, lines, follow)
        return
    files = sorted(handle.paths.logs.glob("*.log"))
    if service:
        files = [f for f in files if f.stem == service]
        if not files:
            names = ", ".join(
                f.stem
                for f in sorted(handle.paths.logs.glob("*.log"))
                if not f.stem.startswith("_")
            )
            _fail(
                f"run {handle.run_id} has no log for service {service!r}",
                f"services with logs: {names}",
            )
    else:
        files = [f for f in files if not f.stem.startswith("_")]
    width = max((len(f.stem) for f in files), default=0)
    for f in files:
        for line in tail_lines(f, lines):
            out.print(
                f"[cyan]{f.stem:<{width}}[/] | {line}", highlight=False, markup=True, soft_wrap=True
            )
    if follow:
        _follow(files, width)


def _docker_logs(handle: RunHandle, service: str | None, lines: int, follow: bool) -> None:
    """A docker run's services log to the engine: their containers' last lines."""
    from environments.runtime.docker import ComposeRun, DockerRunError

    if follow:
        _fail("--follow is not supported for docker runs yet", "docker logs -f CONTAINER")
    try:
        tails = ComposeRun.load(handle.paths).logs(service, lines)
    except DockerRunError as exc:
        _fail(str(exc))
        raise
    width = max((len(name) for name in tails), default=0)
    for name, tail in tails.items():
        for line in tail:
            out.print(
                f"[cyan]{name:<{width}}[/] | {line}", highlight=False, markup=True, soft_wrap=True
            )


def _follow(files: list[Path], width: int) -> None:
    handles = {}
    for f in files:
        fh = open(f, errors="replace")  # noqa: SIM115 - held while following
        fh.seek(0, 2)
        handles[f.stem] = fh
    try:
        while True:
            quiet = True
            for name, fh in handles.items():
                for line in fh.readlines():
                    quiet = False
                    out.print(
                        f"[cyan]{name:<{width}}[/] | {line.rstrip()}",
                        highlight=False,
                        soft_wrap=True,
                    )
            if quiet:
                time.sleep(0.2)
    except KeyboardInterrupt:
        pass


@app.command("exec")
def exec_(
    run: Annotated[str, typer.Argument(help="A docker run's id.")],
    command: Annotated[list[str], typer.Argument(help="The command and its arguments (after --).")],
    runs_dir: RunsDir = None,
) -> None:
    """Run a command in a docker run's workspace container, as the agent works there.

    The container has the monorepo at /workspace and its MCP config at /agent/mcp.json, and
    nothing of prodbench (no sources, tasks, hidden tests or admin tokens):
    `prodbench exec RUN -- git log --oneline`, or an agent's CLI.
    """
    import os
    import shutil

    from prodbench.session import is_docker_run

    handle = _find(runs_dir, run)
    if not is_docker_run(handle.paths):
        _fail(
            f"run {handle.run_id} is a local run: it has no workspace container",
            f"its workspace is {handle.paths.workspace}; `up --runtime docker` runs have one",
        )
    from environments.runtime.docker import WORKSPACE_SERVICE, ComposeRun, DockerRunError

    try:
        state = ComposeRun.load(handle.paths).states().get(WORKSPACE_SERVICE)
    except DockerRunError as exc:
        _fail(str(exc))
        raise
    if state is None or state.status != "running":
        _fail(
            f"run {handle.run_id} has no running workspace container",
            f"`prodbench status {handle.run_id}` shows its containers",
        )
        raise typer.Exit(1)
    docker = shutil.which("docker") or "docker"
    tty = ["-t"] if sys.stdin.isatty() and sys.stdout.isatty() else []
    os.execvp(docker, [docker, "exec", "-i", *tty, "-w", "/workspace", state.id, *command])


@app.command("ls")
def list_(runs_dir: RunsDir = None, as_json: JsonOpt = False) -> None:
    """List runs, newest last, with their status and stack."""
    from prodbench.session import run_status

    runs = list_runs(_runs_dir(runs_dir))
    rows = []
    for r in runs:
        env = r.env()
        rows.append(
            {
                "run_id": r.run_id,
                "status": run_status(r),
                "stack": env.stack if env else "",
                "task": env.task if env else None,
                "seed": env.seed if env else None,
                "run_dir": str(r.paths.root),
            }
        )
    if as_json:
        out.print_json(json.dumps(rows))
        return
    if not rows:
        out.print(f"no runs in {_runs_dir(runs_dir)}; start one with `prodbench up`")
        return
    table = Table(header_style="bold", box=None, pad_edge=False)
    for col in ("run", "status", "stack", "task", "seed"):
        table.add_column(col)
    for row in rows:
        table.add_row(
            row["run_id"], row["status"], row["stack"], row["task"] or "-", str(row["seed"])
        )
    out.print(table)


@app.command()
def doctor(as_json: JsonOpt = False) -> None:
    """Check this machine has what prodbench needs, and say how to install what is missing."""
    from prodbench.doctor import healthy, run_checks

    checks = run_checks()
    if as_json:
        out.print_json(json.dumps([c.model_dump() for c in checks]))
    else:
        table = Table(header_style="bold", box=None, pad_edge=False)
        for col in ("", "tool", "need", "found", "for"):
            table.add_column(col)
        for c in checks:
            mark = (
                "[green]ok[/]"
                if c.ok
                else ("[red]missing[/]" if c.need == "required" else "[yellow]absent[/]")
            )
            found = f"{c.found} ({c.version})" if c.found and c.version else (c.found or "-")
            table.add_row(mark, c.name, c.need, found, c.purpose)
        out.print(table)
        missing = [c for c in checks if not c.ok]
        if missing:
            out.print("\nTo install what is missing:")
            for c in missing:
                out.print(f"  {c.name:<13} Debian/Ubuntu: sudo {c.install_debian}")
                out.print(f"  {'':<13} macOS:         {c.install_macos}")
    if not healthy(checks):
        raise typer.Exit(1)


@app.command("mcp-config")
def mcp_config(
    run: RunOpt = None,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            help="claude (.mcp.json), openhands (~/.openhands/mcp.json) or codex "
            "(~/.codex/config.toml).",
        ),
    ] = "claude",
    runs_dir: RunsDir = None,
) -> None:
    """Print a run's MCP config in the form an agent harness reads.

    The servers are the ones the run's MCP gateway serves (runs/<id>/mcp.json, written when it
    starts); each is a streamable-HTTP URL on loopback, with no credentials in it.
    """
    from mcp_servers.configs import FORMATS, ConfigError, McpJson

    if fmt not in FORMATS:
        _fail(f"unknown format {fmt!r}", f"use one of: {', '.join(FORMATS)}")
    handle = _find(runs_dir, run)
    try:
        config = McpJson.read(handle.paths.mcp_json)
    except ConfigError as exc:
        _fail(str(exc))
        raise
    sys.stdout.write(config.render(fmt))  # verbatim: no wrapping or markup, ready to redirect


@mcp_app.command("stdio")
def mcp_stdio(
    tool: Annotated[
        str, typer.Argument(help="The server: slack, linear, notion, sentry, statuspage, ...")
    ],
    run: RunOpt = None,
    runs_dir: RunsDir = None,
) -> None:
    """Serve one of a run's MCP servers over stdin/stdout, for clients that launch servers.

    It talks to the same run services as the gateway, with the agent's credentials, and its
    calls go to the run's calls.jsonl too. Logs go to stderr; stdout is the protocol's.
    """
    from mcp_servers.configs import ConfigError
    from mcp_servers.gateway import configure_logging, run_stdio

    handle = _find(runs_dir, run)
    configure_logging("warning")
    try:
        run_stdio(handle.paths.root, tool)
    except ConfigError as exc:
        _fail(str(exc), "`prodbench mcp-config` lists the run's servers")


@app.command()
def report(
    results: Annotated[
        list[Path],
        typer.Argument(
            help="Directories holding graded trials; every result.json under them is read.",
            metavar="RESULTS_DIR",
            show_default=False,
        ),
    ],
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Where to write report.json, report.md and report.html "
            "(default: the first directory).",
            show_default=False,
        ),
    ] = None,
    skip_invalid: Annotated[
        bool,
        typer.Option(
            "--skip-invalid", help="Leave out unreadable or unknown results with a warning."
        ),
    ] = False,
) -> None:
    """Score graded trials and write the report: JSON, Markdown and one self-contained HTML.

    Means over tasks with 95% confidence intervals, pass@1 and pass^k, by category and by
    dimension, several agents side by side; infra errors are counted apart, never as failures.
    """
    from graders.report import ReportError, generate

    def warn(message: str) -> None:
        err.print(f"[yellow]warning:[/] {message}", highlight=False, markup=True)

    try:
        result, files = generate(results, out_dir, skip_invalid=skip_invalid, warn=warn)
    except ReportError as exc:
        _fail(str(exc), exc.hint, code=2)
        raise
    for message in result.warnings:
        warn(message)
    pct = round(100 * result.confidence)
    table = Table(header_style="bold", box=None, pad_edge=False)
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("agent", overflow="fold")
    for col in (f"composite [{pct}% CI]", "pass@1", "F", "D", "Q", "trials", "infra"):
        table.add_column(col, justify="right", no_wrap=True)
    from rich.text import Text

    from graders.report import fmt_est, fmt_pct

    for i, agent in enumerate(result.agents, 1):
        cells = (
            str(i),
            agent.agent,
            fmt_est(agent.composite),
            fmt_pct(agent.pass_at_1.mean),
            fmt_pct(agent.feature.mean),
            fmt_pct(agent.devops.mean),
            fmt_pct(agent.quality.mean),
            str(agent.n_trials),
            str(agent.n_infra_errors),
        )
        table.add_row(*(Text(cell) for cell in cells))  # names from results: never markup
    n_infra = len(result.infra_errors)
    out.print(
        f"{len(result.agents)} agents, {len(result.tasks)} tasks, "
        f"{len(result.trials) - n_infra} scored trials, "
        f"{n_infra} infra error{'' if n_infra == 1 else 's'} (not scored)",
        highlight=False,
        markup=False,
    )
    out.print(table, highlight=False, markup=False)
    out.print(f"html      {files.html_path}", highlight=False, markup=False)
    out.print(f"markdown  {files.markdown_path}", highlight=False, markup=False)
    out.print(f"json      {files.json_path}", highlight=False, markup=False)


@stack_app.command("validate")
def stack_validate(
    path: Annotated[Path, typer.Argument(help="A stack file (YAML or JSON).")],
) -> None:
    """Check a stack file: schema, dependencies, cycles, ports, placeholders, executables."""
    import sys as _sys

    from environments.stack import missing_executables

    try:
        spec = load_stack(path)
    except StackError as exc:
        _fail(str(exc))
        raise
    problems = missing_executables(spec, {"python": _sys.executable})
    if problems:
        _fail("\n".join(problems))
    levels = " -> ".join("[" + ", ".join(level) + "]" for level in spec.levels())
    out.print(
        f"ok: stack {spec.name!r}, {len(spec.services)} services; start order {levels}",
        markup=False,
        highlight=False,
    )


@stack_app.command("show")
def stack_show(
    stack: Annotated[
        str, typer.Argument(help="A built-in stack name or a stack file.")
    ] = DEFAULT_STACK,
) -> None:
    """Print a stack spec as YAML (built-in stacks included)."""
    import yaml

    class BlockDumper(yaml.SafeDumper):
        """Multi-line strings (config file templates) as readable `|` blocks."""

    def represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
        style = "|" if "\n" in value else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    BlockDumper.add_representer(str, represent_str)
    spec = _resolve_stack(stack).stack(RunContext(RunPaths(Path("runs") / "RUN_ID")))
    out.print(
        yaml.dump(
            spec.model_dump(mode="json", exclude_defaults=True), Dumper=BlockDumper, sort_keys=False
        ),
        highlight=False,
        markup=False,
    )


def _register_suite_commands() -> None:
    from prodbench import cli_suite

    app.add_typer(cli_suite.tasks_app, name="tasks")
    app.command("run")(cli_suite.run)
    app.command("grade")(cli_suite.grade)
    from prodbench import cli_compose

    app.add_typer(cli_compose.compose_app, name="compose")


_register_suite_commands()


def main() -> None:
    try:
        app(prog_name="prodbench")
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - a bug: say so in one line, keep the traceback
        import tempfile
        import traceback

        with tempfile.NamedTemporaryFile(
            "w", prefix="prodbench-crash-", suffix=".txt", delete=False
        ) as fh:
            traceback.print_exc(file=fh)
        err.print(
            f"[bold red]internal error:[/] {exc.__class__.__name__}: {exc}",
            highlight=False,
        )
        err.print(f"this is a bug in prodbench; the traceback is in {fh.name}", highlight=False)
        sys.exit(70)


if __name__ == "__main__":
    main()
