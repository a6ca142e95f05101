"""Scoring: from the checks of one trial to a leaderboard over agents, tasks and runs.

Pure functions only: nothing here reads a file, a clock or a random generator, so the same
results always give the same numbers.

One trial
---------
- A dimension's score (`dimension_score`) is the weighted mean of the scores of its checks.
  A penalty check (a regression, an alert that fired) is one more weighted item whose score 1
  means "no deduction": feature checks A (weight 3, score 1) and penalty P (weight 1, score 0)
  give 3/4. Checks of weight 0 are kept for the reader but do not count. A dimension with no
  check that can earn credit (none, only weight-0 checks, or only penalties) has no score
  (`None`): nothing was measured, and it must not read as full marks.
- `score_trial` fills F (feature), D (devops) and Q (quality) from the checks unless the
  result already carries them, then `passed` (F == 1 and D == 1, compared with a 1e-9
  tolerance) and `composite` (60F + 30D + 10Q). Q comes, in this order, from the result's
  `quality`, from the quality grader's judgement (`judge.signals["q"]`, the LLM judge's or the
  deterministic fallback's), or from weighted quality checks. A scored trial whose F, D or Q
  cannot be determined raises `ScoringError` rather than guess.
  An infra error is returned untouched: it is not an agent failure and has no score.

Many trials
-----------
`summarize` groups trials by agent. For each agent every estimate is a **mean over tasks of
per-task means** (each task counts once however many runs it had) with a **95% confidence
interval from Student's t distribution over the task means** (df = tasks - 1):

    mean = (1/T) sum_t m_t,   se = sd(m_1..m_T) / sqrt(T),   CI = mean -/+ t(0.975, T-1) * se

Why this method: the runs of one task are not independent samples (a task the agent finds
hard is hard on every run), so treating every trial as independent would overstate the
precision. Taking the task as the unit is the clustered (two-stage) estimate: the spread of
the task means already carries both the between-task variance and the run-to-run noise. With
the handful of tasks a category has, the t quantile (2.776 for 5 tasks, 12.7 for 2) widens the
interval honestly where a normal approximation or a bootstrap over so few clusters would be
too narrow. The t quantile is computed from the regularized incomplete beta function (no
scipy). With a single task there is no spread to measure and the interval is `None`. Bounds
are clipped to the metric's range (0..100 for the composite, 0..1 otherwise).

- pass@1: the mean over tasks of each task's pass rate (c passes of n scored runs), with the
  same CI.
- pass^k (tau-bench): the chance that k independent runs of a task all pass, estimated per task
  without bias as C(c, k) / C(n, k) and averaged over tasks, for k = 1 .. the smallest n among
  the agent's tasks (so every k is averaged over the same tasks, and pass^1 = pass@1).
- Infra errors are counted apart: excluded from every mean, reported per agent and per task.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field

from graders.models import CATEGORIES, WEIGHTS, Check, Dimension, TrialResult

EPS = 1e-9
CONFIDENCE = 0.95
CI_METHOD = (
    "mean over tasks of per-task means (runs averaged within a task first); "
    "CI from Student's t over the task means, df = tasks - 1; no CI with one task"
)


class ScoringError(ValueError):
    """A result that cannot be scored as it is (says which trial and why)."""


# --- one trial ---------------------------------------------------------------------------


def dimension_score(checks: Iterable[Check], dimension: Dimension) -> float | None:
    """Weighted mean score of the checks of `dimension`; `None` if none can earn credit.

    Penalty checks count as weighted items (score 1 = no deduction). Weight-0 checks are
    ignored. Without a positive-weight, non-penalty check the dimension measured nothing and
    has no score: the caller must decide, never a silent 1.0.
    """
    counted = [c for c in checks if c.dimension == dimension and c.weight > 0]
    if not any(not c.penalty for c in counted):
        return None
    total = sum(c.weight for c in counted)
    return _clip(sum(c.weight * c.score for c in counted) / total, 0.0, 1.0)


def judge_quality(result: TrialResult) -> float | None:
    """Q as the quality grader recorded it in its judgement (`judge.signals["q"]`), if any."""
    q = result.judge.signals.get("q") if result.judge else None
    if isinstance(q, bool) or not isinstance(q, int | float) or not 0.0 <= q <= 1.0:
        return None
    return float(q)


def passed(feature: float, devops: float) -> bool:
    """The pass rule: full marks on feature correctness and on deployment & devops."""
    return feature >= 1.0 - EPS and devops >= 1.0 - EPS


def composite(feature: float, devops: float, quality: float) -> float:
    """60·F + 30·D + 10·Q, in 0..100 (F, D, Q in 0..1)."""
    value = WEIGHTS["feature"] * feature + WEIGHTS["devops"] * devops
    value += WEIGHTS["quality"] * quality
    return _clip(round(value, 9), 0.0, 100.0)


def score_trial(result: TrialResult) -> TrialResult:
    """A copy of `result` with F, D, Q, passed and composite filled in (see module doc).

    Values already set are kept; a set `passed` or `composite` that disagrees with F, D and Q
    raises `ScoringError`, as does a scored trial missing a dimension.
    """
    if result.status == "infra_error":
        return result.model_copy(deep=True)
    where = f"{result.agent}/{result.task}/{result.trial}"
    dims: dict[str, float] = {}
    for dim in ("feature", "devops", "quality"):
        value = getattr(result, dim)
        if value is None and dim == "quality":
            value = judge_quality(result)
        if value is None:
            value = dimension_score(result.checks, dim)
        if value is None:
            what = (
                "a quality score (from the judge) or weighted quality checks"
                if dim == "quality"
                else ""
            )
            raise ScoringError(
                f"trial {where} has no {dim} score: it needs "
                f"{what or f'at least one {dim} check that is not a penalty'}"
            )
        dims[dim] = value
    f, d, q = dims["feature"], dims["devops"], dims["quality"]
    want_passed, want_composite = passed(f, d), composite(f, d, q)
    if result.passed is not None and result.passed != want_passed:
        raise ScoringError(
            f"trial {where} says passed={result.passed}, but F={f:g} and D={d:g} give {want_passed}"
        )
    if result.composite is not None and abs(result.composite - want_composite) > 1e-6:
        raise ScoringError(
            f"trial {where} says composite={result.composite:g}, "
            f"but 60·{f:g} + 30·{d:g} + 10·{q:g} = {want_composite:g}"
        )
    return result.model_copy(
        update={
            "feature": f,
            "devops": d,
            "quality": q,
            "passed": want_passed,
            "composite": want_composite,
        },
        deep=True,
    )


# --- statistics --------------------------------------------------------------------------


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 400):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-15:
            break
    return h


def _betainc(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta function I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    front = math.exp(log_front)
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t with `df` degrees of freedom."""
    if df <= 0:
        raise ValueError(f"degrees of freedom must be positive, got {df}")
    tail = 0.5 * _betainc(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t >= 0 else tail


@lru_cache(maxsize=256)
def t_quantile(p: float, df: float) -> float:
    """The p-quantile of Student's t (the inverse of `t_cdf`), by bisection; ~1e-12 accurate."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must be in (0, 1), got {p}")
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    if p == 0.5:
        return 0.0
    lo, hi = 0.0, 1.0
    while t_cdf(hi, df) < p:
        lo, hi = hi, hi * 2.0
    for _ in range(200):
        mid = (lo + hi) / 2.0
        if t_cdf(mid, df) < p:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-12 * max(1.0, hi):
            break
    return (lo + hi) / 2.0


def pass_hat_k(c: int, n: int, k: int) -> float:
    """tau-bench pass^k of one task: P(k runs drawn from its n all pass) = C(c,k) / C(n,k)."""
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"need 0 <= c <= n and 1 <= k <= n, got c={c} n={n} k={k}")
    return math.comb(c, k) / math.comb(n, k)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Estimate(_Model):
    """A mean with its confidence interval; `n` is how many task means it averages."""

    mean: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    n: int = 0

    @property
    def half_width(self) -> float | None:
        if self.ci_low is None or self.ci_high is None or self.mean is None:
            return None
        return max(self.mean - self.ci_low, self.ci_high - self.mean)


def mean_ci(
    values: Sequence[float],
    confidence: float = CONFIDENCE,
    bounds: tuple[float, float] | None = None,
) -> Estimate:
    """Mean of `values` with a Student-t interval (clipped to `bounds`); see the module doc."""
    n = len(values)
    if n == 0:
        return Estimate()
    mean = math.fsum(values) / n
    if n == 1:
        return Estimate(mean=mean, n=1)
    var = math.fsum((v - mean) ** 2 for v in values) / (n - 1)
    half = t_quantile(0.5 + confidence / 2.0, n - 1) * math.sqrt(var / n)
    low, high = mean - half, mean + half
    if bounds is not None:
        low, high = _clip(low, *bounds), _clip(high, *bounds)
    return Estimate(mean=mean, ci_low=low, ci_high=high, n=n)


# --- aggregation -------------------------------------------------------------------------


class TaskSummary(_Model):
    """One agent on one task: its scored runs averaged, its infra errors counted apart."""

    task: str
    category: str
    agent: str
    n_trials: int = Field(description="scored runs (infra errors excluded)")
    n_infra_errors: int = 0
    n_passed: int = 0
    pass_rate: float | None = None
    composite: float | None = None
    feature: float | None = None
    devops: float | None = None
    quality: float | None = None


class CategorySummary(_Model):
    """One agent on one category: estimates over the category's tasks."""

    category: str
    agent: str
    n_tasks: int
    n_trials: int
    n_infra_errors: int = 0
    composite: Estimate
    feature: Estimate
    devops: Estimate
    quality: Estimate
    pass_at_1: Estimate


class PassHatK(_Model):
    k: int
    value: float
    n_tasks: int


class InfraError(_Model):
    agent: str
    task: str
    trial: int
    error: str | None = None


class AgentSummary(_Model):
    agent: str
    n_tasks: int = Field(description="tasks with at least one scored run")
    n_trials: int = Field(description="scored runs")
    n_infra_errors: int = 0
    composite: Estimate
    feature: Estimate
    devops: Estimate
    quality: Estimate
    pass_at_1: Estimate
    pass_hat_k: list[PassHatK] = Field(default_factory=list)
    categories: list[CategorySummary] = Field(default_factory=list)
    tasks: list[TaskSummary] = Field(default_factory=list)


class TaskInfo(_Model):
    task: str
    category: str


class Leaderboard(_Model):
    """Every agent, best mean composite first (agents with no scored trial last)."""

    confidence: float = CONFIDENCE
    ci_method: str = CI_METHOD
    agents: list[AgentSummary]
    categories: list[str]
    tasks: list[TaskInfo]
    infra_errors: list[InfraError] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)

    def agent(self, name: str) -> AgentSummary:
        for summary in self.agents:
            if summary.agent == name:
                return summary
        raise KeyError(name)


def summarize_task(trials: Sequence[TrialResult]) -> TaskSummary:
    """Average the scored trials of one agent on one task (all must share agent and task)."""
    first = trials[0]
    scored = [score_trial(t) for t in trials if t.status == "scored"]
    n = len(scored)

    def avg(field: str) -> float | None:
        return math.fsum(getattr(t, field) for t in scored) / n if n else None

    n_passed = sum(1 for t in scored if t.passed)
    return TaskSummary(
        task=first.task,
        category=first.category,
        agent=first.agent,
        n_trials=n,
        n_infra_errors=len(trials) - n,
        n_passed=n_passed,
        pass_rate=n_passed / n if n else None,
        composite=avg("composite"),
        feature=avg("feature"),
        devops=avg("devops"),
        quality=avg("quality"),
    )


def _estimates(tasks: Sequence[TaskSummary], confidence: float) -> dict[str, Estimate]:
    scored = [t for t in tasks if t.n_trials]
    unit = (0.0, 1.0)
    return {
        "composite": mean_ci([t.composite for t in scored], confidence, (0.0, 100.0)),
        "feature": mean_ci([t.feature for t in scored], confidence, unit),
        "devops": mean_ci([t.devops for t in scored], confidence, unit),
        "quality": mean_ci([t.quality for t in scored], confidence, unit),
        "pass_at_1": mean_ci([t.pass_rate for t in scored], confidence, unit),
    }


def pass_hat_curve(tasks: Sequence[TaskSummary]) -> list[PassHatK]:
    """pass^k for k = 1 .. min n over the tasks with scored runs, averaged over those tasks."""
    scored = [t for t in tasks if t.n_trials]
    if not scored:
        return []
    k_max = min(t.n_trials for t in scored)
    return [
        PassHatK(
            k=k,
            value=math.fsum(pass_hat_k(t.n_passed, t.n_trials, k) for t in scored) / len(scored),
            n_tasks=len(scored),
        )
        for k in range(1, k_max + 1)
    ]


def _category_key(category: str) -> tuple[int, str]:
    return (CATEGORIES.index(category) if category in CATEGORIES else len(CATEGORIES), category)


def summarize(results: Iterable[TrialResult], confidence: float = CONFIDENCE) -> Leaderboard:
    """The leaderboard of `results` (any agents, tasks, runs); scores trials as needed.

    Raises `ScoringError` for a trial that cannot be scored, for two results of the same
    agent, task and run index, and for a task given two different categories.
    """
    trials = [score_trial(r) for r in results]
    seen: set[tuple[str, str, int]] = set()
    category_of: dict[str, str] = {}
    for t in trials:
        key = (t.agent, t.task, t.trial)
        if key in seen:
            raise ScoringError(f"two results for agent {t.agent!r}, task {t.task!r}, run {t.trial}")
        seen.add(key)
        known = category_of.setdefault(t.task, t.category)
        if known != t.category:
            raise ScoringError(
                f"task {t.task!r} has two categories in the results: {known!r} and {t.category!r}"
            )
    task_order = sorted(category_of, key=lambda name: (_category_key(category_of[name]), name))
    categories = sorted(set(category_of.values()), key=_category_key)

    by_agent: dict[str, dict[str, list[TrialResult]]] = defaultdict(lambda: defaultdict(list))
    for t in trials:
        by_agent[t.agent][t.task].append(t)

    agents: list[AgentSummary] = []
    warnings: list[str] = []
    for agent in sorted(by_agent):
        tasks = [
            summarize_task(sorted(by_agent[agent][name], key=lambda t: t.trial))
            for name in task_order
            if name in by_agent[agent]
        ]
        est = _estimates(tasks, confidence)
        by_cat: dict[str, list[TaskSummary]] = defaultdict(list)
        for ts in tasks:
            by_cat[ts.category].append(ts)
        cats = []
        for category in categories:
            if category not in by_cat:
                continue
            group = by_cat[category]
            cest = _estimates(group, confidence)
            cats.append(
                CategorySummary(
                    category=category,
                    agent=agent,
                    n_tasks=sum(1 for t in group if t.n_trials),
                    n_trials=sum(t.n_trials for t in group),
                    n_infra_errors=sum(t.n_infra_errors for t in group),
                    **cest,
                )
            )
        agents.append(
            AgentSummary(
                agent=agent,
                n_tasks=sum(1 for t in tasks if t.n_trials),
                n_trials=sum(t.n_trials for t in tasks),
                n_infra_errors=sum(t.n_infra_errors for t in tasks),
                pass_hat_k=pass_hat_curve(tasks),
                categories=cats,
                tasks=tasks,
                **est,
            )
        )
        missing = [name for name in task_order if name not in by_agent[agent]]
        if missing:
            warnings.append(
                f"agent {agent!r} has no result for {len(missing)} of {len(task_order)} tasks "
                f"({', '.join(missing[:5])}{', ...' if len(missing) > 5 else ''}); "
                "its means are over different tasks than the others'"
            )
        only_infra = [t.task for t in tasks if not t.n_trials]
        if only_infra:
            warnings.append(
                f"agent {agent!r} has only infra errors on {', '.join(only_infra)}: "
                "those tasks are left out of its means"
            )
        counts = {t.n_trials for t in tasks if t.n_trials}
        if len(counts) > 1:
            warnings.append(
                f"agent {agent!r} has different numbers of scored runs per task "
                f"({min(counts)} to {max(counts)}); pass^k goes up to k={min(counts)}"
            )

    agents.sort(
        key=lambda a: (a.composite.mean is None, -(a.composite.mean or 0.0), a.agent),
    )
    infra = [
        InfraError(agent=t.agent, task=t.task, trial=t.trial, error=t.infra_error)
        for t in sorted(trials, key=lambda t: (t.agent, task_order.index(t.task), t.trial))
        if t.status == "infra_error"
    ]
    return Leaderboard(
        confidence=confidence,
        agents=agents,
        categories=categories,
        tasks=[TaskInfo(task=name, category=category_of[name]) for name in task_order],
        infra_errors=infra,
        warnings=warnings,
    )


def _clip(value: float, low: float, high: float) -> float:
    return min(high, max(low, value))
