"""The validation gate: a task is valid when its oracle passes and doing nothing fails.

The oracle must pass with composite >= 95 (the task is solvable, and its grading rewards the
solution); the noop agent must fail with composite <= 30 (no points for doing nothing). An infra
error in either says nothing about the task: the verdict is "not validated", with the reason.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from graders.models import TrialResult
from prodbench.agents import get_agent
from prodbench.suite import run_suite
from prodbench.tasks.loader import Task

ORACLE_MIN = 95.0
NOOP_MAX = 30.0


@dataclass(frozen=True)
class Verdict:
    task: str
    oracle: TrialResult | None
    noop: TrialResult | None
    ok: bool
    why: str


def judge_gate(task: str, oracle: TrialResult | None, noop: TrialResult | None) -> Verdict:
    """Pure: the verdict from the two trials."""
    problems = []
    for name, result in (("oracle", oracle), ("noop", noop)):
        if result is None:
            problems.append(f"{name} did not run")
        elif result.status == "infra_error":
            problems.append(f"{name} hit an infra error: {result.infra_error}")
    if (
        oracle is not None
        and oracle.status == "scored"
        and (not oracle.passed or (oracle.composite or 0) < ORACLE_MIN)
    ):
        problems.append(
            f"oracle scored {oracle.composite:.1f} (passed={oracle.passed}); "
            f"needs a pass with >= {ORACLE_MIN:g}"
        )
    if (
        noop is not None
        and noop.status == "scored"
        and (noop.passed or (noop.composite or 0) > NOOP_MAX)
    ):
        problems.append(
            f"noop scored {noop.composite:.1f} (passed={noop.passed}); "
            f"needs a fail with <= {NOOP_MAX:g}"
        )
    return Verdict(task, oracle, noop, not problems, "; ".join(problems))


def gate(
    tasks: Sequence[Task],
    *,
    out_dir: Path,
    runs_dir: Path,
    jobs: int = 1,
    log: Callable[[str], None] = lambda _m: None,
) -> list[Verdict]:
    by_agent: dict[str, dict[str, TrialResult]] = {}
    for agent in ("oracle", "noop"):
        results = run_suite(
            lambda t, agent=agent: get_agent(agent, t.dir),
            agent,
            tasks,
            runs=1,
            jobs=jobs,
            out=out_dir,
            runs_dir=runs_dir,
        )
        by_agent[agent] = {r.task: r for r in results}
        for r in results:
            log(f"{agent} {r.task}: {r.status} {r.composite}")
    return [
        judge_gate(t.id, by_agent["oracle"].get(t.id), by_agent["noop"].get(t.id)) for t in tasks
    ]
