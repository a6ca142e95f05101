"""Grade a finished trial: feature, devops and quality checks, then the pure scoring.

The graders run side by side (feature's hidden tests, monorepo suite and smoke journeys in
their own processes; devops' API reads and the quality signals in threads), so grading costs
about the slowest of them, not their sum.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import ParamSpec, TypeVar

import httpx

from graders.config import GradingSpec
from graders.devops import GradingInfraError, grade_devops
from graders.feature import FeatureInfraError, grade_feature
from graders.models import TrialResult
from graders.quality import JudgeConfig, grade_quality
from graders.runview import RunView, TaskState
from graders.scoring import score_trial
from graders.timing import timed_into

__all__ = ["GradingInfraError", "deployed_commit", "grade_trial"]

P = ParamSpec("P")
T = TypeVar("T")


class _TaskLike:
    """What grading needs of a task (prodbench.tasks.models.TaskSpec has it)."""

    id: str
    category: str
    prompt: str
    grading: GradingSpec


def grade_trial(
    spec: _TaskLike,
    tests_dir: Path,
    view: RunView,
    *,
    agent: str,
    trial: int = 0,
    seed: int = 0,
    work_dir: Path,
    judge: JudgeConfig | None = None,
) -> TrialResult:
    state = view.task_state()
    work_dir.mkdir(parents=True, exist_ok=True)
    head = _git(view.workspace, "rev-parse", "HEAD")
    commit, deployed = deployed_commit(spec.grading, view, state)
    seconds: dict[str, float] = {}
    parts: dict[str, float] = {}

    def timed(name: str, fn: Callable[P, T]) -> Callable[P, T]:
        return timed_into(seconds, f"grade.{name}", fn)

    with ThreadPoolExecutor(max_workers=3) as pool:
        feature = pool.submit(
            timed("feature", grade_feature),
            spec.grading.feature,
            tests_dir,
            view,
            state,
            work_dir,
            deployed_commit=commit,
            deployed=deployed,
            timings=parts,
        )
        devops = pool.submit(timed("devops", grade_devops), spec.grading.devops, view, state)
        quality = pool.submit(
            timed("quality", grade_quality),
            view.workspace,
            state.base_commit,
            head,
            view.calls_path,
            spec.prompt,
            judge,
            expect_code_change=spec.grading.quality.expect_code_change,
        )
        try:
            checks = [*feature.result(), *devops.result()]
        except FeatureInfraError as exc:
            raise GradingInfraError(str(exc)) from exc
        q, judgement, quality_checks = quality.result()
    result = TrialResult(
        task=spec.id,
        category=spec.category,
        agent=agent,
        trial=trial,
        seed=seed,
        quality=q,
        checks=[*checks, *quality_checks],
        judge=judgement,
        timings=seconds | {f"grade.{k}": v for k, v in sorted(parts.items())},
    )
    return score_trial(result)


def deployed_commit(
    grading: GradingSpec, view: RunView, state: TaskState
) -> tuple[str | None, bool]:
    """The commit production runs for the task's services, and whether it has the agent's work.

    With no service to deploy, the workspace HEAD is what the feature tests read (None) and
    nothing needs to be live. Otherwise the newest live release of those services that is not
    already in the agent's starting point; none such means the change is not live.
    """
    services = grading.devops.deploy.services
    if not services:
        return None, True
    try:
        with view.ops() as ops:
            resp = ops.get("/api/v1/services")
            resp.raise_for_status()
            live = {s["service"]: s["release"] for s in resp.json()["services"]}
    except (httpx.HTTPError, KeyError, ValueError) as exc:
        raise GradingInfraError(f"the deployer's service list is unreadable: {exc}") from exc
    new = [
        sha
        for sha in (live.get(s) for s in services)
        if sha and not _is_ancestor(view.workspace, sha, state.base_commit)
    ]
    if not new:
        return live.get(services[0]), False
    newest = max(new, key=lambda sha: int(_git(view.workspace, "log", "-1", "--format=%ct", sha)))
    return newest, True


def _is_ancestor(repo: Path, ancestor: str, of: str) -> bool:
    proc = subprocess.run(
        ["git", "merge-base", "--is-ancestor", ancestor, of],
        cwd=repo,
        capture_output=True,
        check=False,
    )
    return proc.returncode == 0


def _git(repo: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise GradingInfraError(f"git {' '.join(args)} failed in {repo}: {proc.stderr.strip()}")
    return proc.stdout.strip()
