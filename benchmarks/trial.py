"""Step 6/7's figures: what a trial costs besides the agent, and how long grading takes.

For one task (default: payments-retry-backoff): up -> setup -> the oracle (the monorepo suite
prewarmed at its deploys, as in the harness) -> grading, timed phase by phase; then the same
finished run graded --regrades more times. Prints the per-trial overhead (everything but the
agent's own time, the wait for a prewarm still running included) and each grading's duration
with its parts. Run it with PRODBENCH_CACHE_DIR set to an empty folder for the worst case.

    .venv/bin/python benchmarks/trial.py [--task ID] [--regrades 2] [--runtime local|docker]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main() -> None:
    from environments.acme.environment import ACME
    from environments.runs import RunHandle
    from graders.grade import grade_trial
    from graders.prewarm import SuitePrewarm
    from graders.runview import RunView
    from prodbench.agents.oracle import OracleAgent
    from prodbench.session import prepare_run, start_run, stop_run
    from prodbench.tasks.loader import select
    from prodbench.tasks.setup import apply_setup, run_options
    from prodbench.trial import _context

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="payments-retry-backoff")
    parser.add_argument("--regrades", type=int, default=2)
    parser.add_argument(
        "--runtime", choices=["local", "docker"], default="local",
        help="docker: the run as a compose project (needs an engine; images built first)",
    )  # fmt: skip
    args = parser.parse_args()
    (task,) = select(args.task)
    scratch = Path(tempfile.mkdtemp(prefix="pb-bench-trial-"))
    times: dict[str, float] = {}

    def timed(name: str, fn):
        started = time.monotonic()
        value = fn()
        times[name] = time.monotonic() - started
        return value

    paths = timed(
        "prepare",
        lambda: prepare_run(
            ACME,
            scratch / "runs",
            seed=task.spec.seed,
            runtime=args.runtime,
            **({"startup_timeout": 300.0} if args.runtime == "docker" else {}),
            **run_options(task),
        ),
    )
    handle = RunHandle(paths)
    try:
        result = timed("up", lambda: start_run(paths))
        assert result.status == "healthy", result.error
        view = RunView(paths.root)
        state = timed("setup", lambda: apply_setup(task, view))
        # As the harness does: the monorepo suite runs at the agent's deploys, at idle priority.
        prewarm = SuitePrewarm.for_trial(
            task.spec.grading, view, state, scratch / "grading"
        ).start()
        outcome = timed(
            "agent", lambda: OracleAgent(task.dir).run(_context(task, view, scratch / "agent"))
        )
        timed("prewarm wait", prewarm.finish)
        assert outcome.status == "completed", outcome.message
        grades = []
        for i in range(1 + args.regrades):
            graded = timed(
                f"grade {i + 1}",
                lambda i=i: grade_trial(
                    task.spec, task.tests_dir, view, agent="oracle", work_dir=scratch / "grading"
                ),
            )
            grades.append(graded)
    finally:
        times["down"] = _time(lambda: stop_run(handle))
        shutil.rmtree(scratch, ignore_errors=True)
    overhead = sum(
        v for k, v in times.items() if k in ("prepare", "up", "setup", "prewarm wait", "down")
    )
    overhead += times["grade 1"]
    print(f"task {task.id} ({args.runtime} runtime): oracle composite {grades[0].composite:.1f}")
    for name, seconds in times.items():
        print(f"  {name:10} {seconds:6.1f} s")
    print(f"per-trial overhead (all but the agent, first grading): {overhead:.1f} s")
    for i, graded in enumerate(grades):
        parts = ", ".join(
            f"{k.removeprefix('grade.')} {v:.1f} s" for k, v in graded.timings.items()
        )
        print(
            f"grading {i + 1}: {times[f'grade {i + 1}']:.1f} s ({len(graded.checks)} checks; {parts})"
        )


def _time(fn) -> float:
    started = time.monotonic()
    fn()
    return time.monotonic() - started


if __name__ == "__main__":
    main()
