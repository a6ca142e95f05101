"""The suite runner: every (task, run) trial of one agent, N at a time, resumable.

A finished trial (its result.json exists) is skipped, so re-running the same command picks up
where Ctrl-C or a crash stopped it. An infra error is retried once; if it happens again it is
recorded as such and reported apart. The report of graders.report is written into the output
folder at the end, covering every agent whose trials are there.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from graders.models import TrialResult
from graders.quality import JudgeConfig
from prodbench.agents.base import Agent
from prodbench.tasks.loader import Task
from prodbench.trial import finished, run_trial, trial_dir


@dataclass(frozen=True)
class TrialPlan:
    task: Task
    index: int
    folder: Path


@dataclass
class SuiteEvents:
    """Callbacks a front end (the CLI's progress bar) hooks into; all optional."""

    started: Callable[[TrialPlan], None] = lambda _p: None
    done: Callable[[TrialPlan, TrialResult, bool], None] = lambda _p, _r, _skipped: None
    retry: Callable[[TrialPlan, str], None] = lambda _p, _why: None
    log: Callable[[TrialPlan, str], None] = lambda _p, _m: None


def plan(tasks: Sequence[Task], agent: str, runs: int, out: Path) -> list[TrialPlan]:
    return [
        TrialPlan(task, k, trial_dir(out, agent, task.id, k)) for task in tasks for k in range(runs)
    ]


def run_suite(
    agent_factory: Callable[[Task], Agent],
    agent_name: str,
    tasks: Sequence[Task],
    *,
    runs: int,
    jobs: int,
    out: Path,
    runs_dir: Path,
    judge: JudgeConfig | None = None,
    seed: int | None = None,
    keep_runs: bool = False,
    events: SuiteEvents | None = None,
    runtime: str = "local",
) -> list[TrialResult]:
    """Run every planned trial; returns all results (skipped ones included), in plan order."""
    events = events or SuiteEvents()
    trials = plan(tasks, agent_name, runs, out)
    results: dict[int, TrialResult] = {}
    todo: list[tuple[int, TrialPlan]] = []
    for i, p in enumerate(trials):
        done = finished(p.folder)
        if done is not None:
            results[i] = done
            events.done(p, done, True)
        else:
            todo.append((i, p))
    stop = threading.Event()

    def one(p: TrialPlan) -> TrialResult:
        result: TrialResult | None = None
        for attempt in range(2):
            if stop.is_set():
                raise KeyboardInterrupt
            events.started(p)
            result = run_trial(
                p.task,
                agent_factory(p.task),
                p.folder,
                index=p.index,
                seed=seed,
                runs_dir=runs_dir,
                judge=judge,
                keep_run=keep_runs,
                runtime=runtime,
                log=lambda message, p=p: events.log(p, message),
            )
            if result.status != "infra_error" or attempt:
                break
            events.retry(p, result.infra_error or "infra error")
            (p.folder / "result.json").unlink(missing_ok=True)
        assert result is not None
        return result

    pool = ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="trial")
    futures: dict[Future, tuple[int, TrialPlan]] = {}
    pending = list(todo)
    try:
        while pending or futures:
            while pending and len(futures) < max(1, jobs):
                i, p = pending.pop(0)
                futures[pool.submit(one, p)] = (i, p)
            finished_now, _ = wait(futures, return_when=FIRST_COMPLETED)
            for future in finished_now:
                i, p = futures.pop(future)
                results[i] = future.result()
                events.done(p, results[i], False)
    except BaseException:
        stop.set()  # trials in flight finish (and bring their runs down); no new ones start
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return [results[i] for i in sorted(results)]
