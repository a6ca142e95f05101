"""Scoring against cases worked out by hand (the arithmetic is in the comments)."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graders.models import Check, Judge, TrialResult
from graders.scoring import (
    ScoringError,
    composite,
    dimension_score,
    mean_ci,
    pass_hat_curve,
    pass_hat_k,
    passed,
    score_trial,
    summarize,
    summarize_task,
    t_cdf,
    t_quantile,
)


def check(dim: str, score: float, weight: float = 1.0, penalty: bool = False, name: str = "c"):
    return Check(name=name, dimension=dim, score=score, weight=weight, penalty=penalty)


def trial(
    agent: str = "a",
    task: str = "t1",
    category: str = "feature-rollout",
    k: int = 0,
    f: float | None = None,
    d: float | None = None,
    q: float | None = None,
    **extra,
) -> TrialResult:
    return TrialResult(
        agent=agent, task=task, category=category, trial=k, feature=f, devops=d, quality=q, **extra
    )


def infra(agent: str = "a", task: str = "t1", category: str = "feature-rollout", k: int = 0):
    return TrialResult(
        agent=agent,
        task=task,
        category=category,
        trial=k,
        status="infra_error",
        infra_error="prometheus did not start",
    )


# --- one trial ---------------------------------------------------------------------------


def test_composite_is_60_30_10():
    assert composite(1, 1, 1) == 100
    assert composite(0, 0, 0) == 0
    # 60·0.5 + 30·1 + 10·0.8 = 30 + 30 + 8 = 68
    assert composite(0.5, 1, 0.8) == pytest.approx(68)
    # 60·0.7 + 30·0.3 + 10·0.1 = 42 + 9 + 1 = 52 (exactly, not 52.00000000000001)
    assert composite(0.7, 0.3, 0.1) == 52.0


def test_pass_rule_needs_full_feature_and_devops_marks():
    assert passed(1.0, 1.0)
    assert passed(1.0 - 1e-12, 1.0)  # float noise from a weighted mean is still full marks
    assert not passed(0.999, 1.0)
    assert not passed(1.0, 0.99)
    assert not passed(0.0, 1.0)


def test_dimension_score_is_a_weighted_mean_with_penalties_as_items():
    checks = [
        check("feature", 1.0, weight=3),
        check("feature", 0.5, weight=1),
        check("devops", 0.0),  # another dimension: ignored
    ]
    # (3·1 + 1·0.5) / (3 + 1) = 3.5 / 4 = 0.875
    assert dimension_score(checks, "feature") == pytest.approx(0.875)
    # A regression (penalty, weight 1, score 0 = full deduction): 3.5 / 5 = 0.7
    checks.append(check("feature", 0.0, penalty=True))
    assert dimension_score(checks, "feature") == pytest.approx(0.7)
    # A penalty not incurred (score 1) is one more full item: (3.5 + 1) / 5 = 0.9
    checks[-1] = check("feature", 1.0, penalty=True)
    assert dimension_score(checks, "feature") == pytest.approx(0.9)
    # Weight 0 checks are shown but do not count.
    checks.append(check("feature", 0.0, weight=0))
    assert dimension_score(checks, "feature") == pytest.approx(0.9)
    assert dimension_score(checks, "devops") == 0.0


def test_a_dimension_that_measured_nothing_has_no_score():
    assert dimension_score([], "feature") is None
    assert dimension_score([check("devops", 1.0)], "feature") is None
    # Only a penalty (no regression) or only weight-0 checks: nothing was earned either.
    assert dimension_score([check("feature", 1.0, penalty=True)], "feature") is None
    assert dimension_score([check("feature", 1.0, weight=0)], "feature") is None


def test_score_trial_fills_scores_from_checks():
    result = trial(
        checks=[
            check("feature", 1.0, weight=2),
            check("feature", 0.0, weight=2),  # F = 2/4 = 0.5
            check("devops", 1.0),  # D = 1
            check("quality", 0.6),  # Q = 0.6 (no judge score given)
        ]
    )
    scored = score_trial(result)
    assert (scored.feature, scored.devops, scored.quality) == (0.5, 1.0, 0.6)
    assert scored.passed is False
    # 60·0.5 + 30·1 + 10·0.6 = 30 + 30 + 6 = 66
    assert scored.composite == pytest.approx(66)
    assert result.feature is None and result.composite is None  # the input is not changed


def test_score_trial_keeps_the_judges_quality_and_set_scores():
    result = trial(
        q=0.8,
        checks=[check("feature", 1.0), check("devops", 1.0), check("quality", 0.1)],
        judge=Judge(method="llm", model="m"),
    )
    scored = score_trial(result)
    assert scored.quality == 0.8  # the judge's, not the checks'
    assert scored.passed is True
    assert scored.composite == pytest.approx(98)  # 60 + 30 + 8
    assert score_trial(trial(f=0.25, d=0.5, q=1.0)).composite == pytest.approx(40)  # 15+15+10


def test_quality_from_the_judges_record():
    # The quality grader records Q in judge.signals["q"]; its signal checks weigh 0.
    result = trial(
        checks=[check("feature", 1.0), check("devops", 1.0), check("quality", 0.0, weight=0)],
        judge=Judge(method="fallback", signals={"q": 0.75}),
    )
    scored = score_trial(result)
    assert scored.quality == 0.75
    assert scored.composite == pytest.approx(97.5)  # 60 + 30 + 7.5
    result.judge.signals["q"] = "high"  # not a number: not a score
    with pytest.raises(ScoringError, match="no quality score"):
        score_trial(result)


def test_score_trial_refuses_what_it_cannot_score():
    with pytest.raises(ScoringError, match="no feature score"):
        score_trial(trial(checks=[check("devops", 1.0)], q=1.0))
    with pytest.raises(ScoringError, match="no devops score"):
        score_trial(trial(checks=[check("feature", 1.0)], q=1.0))
    with pytest.raises(ScoringError, match="no quality score"):
        score_trial(trial(checks=[check("feature", 1.0), check("devops", 1.0)]))
    with pytest.raises(ScoringError, match="composite=90"):
        score_trial(trial(f=1, d=1, q=1, composite=90))
    with pytest.raises(ScoringError, match="passed=False"):
        score_trial(trial(f=1, d=1, q=0, passed=False))


def test_an_infra_error_is_left_unscored():
    scored = score_trial(infra())
    assert scored.status == "infra_error"
    assert scored.composite is None and scored.passed is None


# --- statistics --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("df", "expected"),
    # Two-sided 95% critical values from any t table.
    [(1, 12.706), (2, 4.303), (3, 3.182), (4, 2.776), (9, 2.262), (30, 2.042), (120, 1.980)],
)
def test_t_quantile_matches_the_table(df, expected):
    assert t_quantile(0.975, df) == pytest.approx(expected, abs=5e-4)


def test_t_quantile_is_the_inverse_cdf():
    assert t_quantile(0.5, 7) == 0.0
    assert t_quantile(0.025, 4) == pytest.approx(-t_quantile(0.975, 4))
    assert t_quantile(0.95, 10) == pytest.approx(1.812, abs=5e-4)  # one-sided 95%
    assert t_quantile(0.975, 1e6) == pytest.approx(1.960, abs=5e-4)  # -> the normal
    for p in (0.6, 0.9, 0.99, 0.999):
        assert t_cdf(t_quantile(p, 3), 3) == pytest.approx(p, abs=1e-10)


def test_mean_ci_by_hand():
    # values 60, 70, 80, 90, 100: mean 80; squared deviations 400+100+0+100+400 = 1000;
    # sample variance 1000/4 = 250; se = sqrt(250/5) = sqrt(50) = 7.0711;
    # t(0.975, df=4) = 2.7764; half-width = 2.7764 · 7.0711 = 19.632 -> [60.368, 99.632]
    est = mean_ci([60, 70, 80, 90, 100])
    assert est.mean == 80
    assert est.n == 5
    assert est.ci_low == pytest.approx(60.368, abs=1e-3)
    assert est.ci_high == pytest.approx(99.632, abs=1e-3)
    assert est.half_width == pytest.approx(19.632, abs=1e-3)


def test_mean_ci_edge_cases():
    assert mean_ci([]).mean is None
    one = mean_ci([42.0])
    assert (one.mean, one.ci_low, one.ci_high) == (42.0, None, None)  # no spread, no CI
    same = mean_ci([0.5, 0.5, 0.5])
    assert (same.ci_low, same.ci_high) == (0.5, 0.5)
    # 0 and 1: mean 0.5, sd 0.7071, se 0.5, t(0.975, 1) = 12.706: [-5.85, 6.85] clipped to [0, 1]
    wide = mean_ci([0.0, 1.0], bounds=(0.0, 1.0))
    assert (wide.ci_low, wide.ci_high) == (0.0, 1.0)


def test_pass_hat_k_two_of_three():
    # c = 2 passes of n = 3 runs:
    assert pass_hat_k(2, 3, 1) == pytest.approx(2 / 3)  # C(2,1)/C(3,1) = 2/3
    assert pass_hat_k(2, 3, 2) == pytest.approx(1 / 3)  # C(2,2)/C(3,2) = 1/3
    assert pass_hat_k(2, 3, 3) == 0.0  # C(2,3)/C(3,3) = 0/1
    assert pass_hat_k(3, 3, 3) == 1.0
    with pytest.raises(ValueError):
        pass_hat_k(2, 3, 4)


# --- aggregation -------------------------------------------------------------------------


def hand_results() -> list[TrialResult]:
    """Agent a: three tasks (two categories), one infra error; agent b: infra errors only."""
    return [
        # t1 (feature-rollout): composites 100, 95, 70 -> mean 88.333; passes 2 of 3
        trial(task="t1", k=0, f=1, d=1, q=1),  # 60 + 30 + 10 = 100, passed
        trial(task="t1", k=1, f=1, d=1, q=0.5),  # 60 + 30 + 5 = 95, passed
        trial(task="t1", k=2, f=0.5, d=1, q=1),  # 30 + 30 + 10 = 70, failed
        # t2 (feature-rollout): composites 0, 70, 30 -> mean 33.333; passes 0 of 3
        trial(task="t2", k=0, f=0, d=0, q=0),
        trial(task="t2", k=1, f=1, d=0, q=1),  # 60 + 0 + 10 = 70
        trial(task="t2", k=2, f=0, d=1, q=0),  # 0 + 30 + 0 = 30
        # t3 (latency): composites 90, 100, and an infra error -> mean 95; passes 2 of 2
        trial(task="t3", category="latency", k=0, f=1, d=1, q=0),
        trial(task="t3", category="latency", k=1, f=1, d=1, q=1),
        infra(task="t3", category="latency", k=2),
        # agent b only ever hit infra errors
        infra(agent="b", task="t1", k=0),
    ]


def test_summarize_by_hand():
    board = summarize(hand_results())
    assert [a.agent for a in board.agents] == ["a", "b"]  # b has no score: last
    a = board.agent("a")
    assert (a.n_tasks, a.n_trials, a.n_infra_errors) == (3, 8, 1)
    # composite: (88.333 + 33.333 + 95) / 3 = 216.667 / 3 = 72.222
    assert a.composite.mean == pytest.approx(650 / 9)
    # deviations 16.111, -38.889, 22.778; squares sum 2290.74; var 1145.37; se = 19.540;
    # t(0.975, 2) = 4.3027 -> half-width 84.07: [-11.85, 156.29], clipped to [0, 100]
    assert (a.composite.ci_low, a.composite.ci_high) == (0.0, 100.0)
    # feature: task means 2.5/3, 1/3, 1 -> (0.8333 + 0.3333 + 1) / 3 = 0.7222
    assert a.feature.mean == pytest.approx(13 / 18)
    # pass@1 = (2/3 + 0/3 + 2/2) / 3 = 5/9
    assert a.pass_at_1.mean == pytest.approx(5 / 9)
    # pass^k up to k = min n = 2 (t3 has 2 scored runs):
    # k=1: 5/9;  k=2: (C(2,2)/C(3,2) + 0 + C(2,2)/C(2,2)) / 3 = (1/3 + 0 + 1) / 3 = 4/9
    assert [p.k for p in a.pass_hat_k] == [1, 2]
    assert a.pass_hat_k[0].value == pytest.approx(5 / 9)
    assert a.pass_hat_k[1].value == pytest.approx(4 / 9)
    t3 = next(t for t in a.tasks if t.task == "t3")
    assert (t3.n_trials, t3.n_infra_errors, t3.composite, t3.pass_rate) == (2, 1, 95, 1.0)

    b = board.agent("b")
    assert (b.n_tasks, b.n_trials, b.n_infra_errors) == (0, 0, 1)
    assert b.composite.mean is None and b.pass_hat_k == []
    assert [(e.agent, e.task, e.trial) for e in board.infra_errors] == [
        ("a", "t3", 2),
        ("b", "t1", 0),
    ]
    assert any("'b'" in w and "infra errors" in w for w in board.warnings)


def test_summarize_by_category():
    board = summarize(hand_results())
    cats = {c.category: c for c in board.agent("a").categories}
    assert board.categories == ["feature-rollout", "latency"]  # the suite's category order
    # feature-rollout: (88.333 + 33.333) / 2 = 60.833 over 2 tasks, 6 trials
    fr = cats["feature-rollout"]
    assert (fr.n_tasks, fr.n_trials, fr.n_infra_errors) == (2, 6, 0)
    assert fr.composite.mean == pytest.approx(365 / 6)
    assert fr.pass_at_1.mean == pytest.approx(1 / 3)  # (2/3 + 0) / 2
    # latency: one task, 95, no CI with one task; its infra error counted apart
    lat = cats["latency"]
    assert (lat.n_tasks, lat.n_trials, lat.n_infra_errors) == (1, 2, 1)
    assert lat.composite.mean == 95 and lat.composite.ci_low is None


def test_infra_errors_change_no_score():
    without = [r for r in hand_results() if r.status == "scored"]
    a_with = summarize(hand_results()).agent("a")
    a_without = summarize(without).agent("a")
    assert a_with.composite == a_without.composite
    assert a_with.pass_at_1 == a_without.pass_at_1
    assert a_with.pass_hat_k == a_without.pass_hat_k


def test_agents_are_ranked_by_mean_composite():
    results = [
        trial(agent="weak", f=0, d=0, q=0),
        trial(agent="strong", f=1, d=1, q=1),
        trial(agent="middle", f=1, d=0, q=0),
    ]
    board = summarize(results)
    assert [a.agent for a in board.agents] == ["strong", "middle", "weak"]


def test_summarize_refuses_duplicates_and_conflicting_categories():
    with pytest.raises(ScoringError, match="two results"):
        summarize([trial(f=1, d=1, q=1), trial(f=0, d=0, q=0)])
    with pytest.raises(ScoringError, match="two categories"):
        summarize([trial(f=1, d=1, q=1), trial(k=1, category="latency", f=1, d=1, q=1)])


def test_tasks_with_fewer_runs_limit_pass_hat_k_and_warn():
    results = [trial(task="t1", k=k, f=1, d=1, q=1) for k in range(3)]
    results += [trial(task="t2", k=k, f=1, d=1, q=1) for k in range(2)]
    board = summarize(results)
    assert [p.k for p in board.agent("a").pass_hat_k] == [1, 2]
    assert any("pass^k goes up to k=2" in w for w in board.warnings)


# --- properties --------------------------------------------------------------------------


scores = st.floats(0, 1, allow_nan=False)
trial_sets = st.lists(  # per task: a list of (F, D, Q) runs
    st.lists(st.tuples(st.sampled_from([0.0, 0.5, 1.0]), st.sampled_from([0.0, 1.0]), scores),
             min_size=1, max_size=5),
    min_size=1,
    max_size=6,
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(trial_sets)
def test_properties_of_the_summary(tasks):
    results = [
        trial(task=f"t{i}", k=k, f=f, d=d, q=q)
        for i, runs in enumerate(tasks)
        for k, (f, d, q) in enumerate(runs)
    ]
    a = summarize(results).agent("a")
    for est, top in (
        (a.composite, 100),
        (a.feature, 1),
        (a.devops, 1),
        (a.quality, 1),
        (a.pass_at_1, 1),
    ):
        assert 0 <= est.mean <= top + 1e-9
        if len(tasks) > 1:
            assert est.ci_low <= est.mean + 1e-9 <= est.ci_high + 2e-9
            assert 0 <= est.ci_low and est.ci_high <= top
    values = [p.value for p in a.pass_hat_k]
    assert len(values) == min(len(runs) for runs in tasks)
    assert all(later <= earlier + 1e-12 for earlier, later in itertools.pairwise(values))
    assert values[0] == pytest.approx(a.pass_at_1.mean)
    # The mean composite is the mean of task means, each task's the mean of its runs.
    task_means = [sum(composite(*run) for run in runs) / len(runs) for runs in tasks]
    assert a.composite.mean == pytest.approx(sum(task_means) / len(task_means))


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 12).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_pass_hat_k_is_non_increasing_and_starts_at_the_pass_rate(cn):
    c, n = cn
    values = [pass_hat_k(c, n, k) for k in range(1, n + 1)]
    assert values[0] == pytest.approx(c / n)
    assert all(b <= a + 1e-12 for a, b in itertools.pairwise(values))
    assert values[-1] == (1.0 if c == n else 0.0)


def test_pass_hat_curve_on_task_summaries():
    t1 = summarize_task([trial(k=k, f=f, d=1, q=1) for k, f in enumerate([1, 1, 0])])
    t2 = summarize_task([trial(task="t2", k=k, f=1, d=1, q=1) for k in range(3)])
    curve = pass_hat_curve([t1, t2])
    # t1: c=2, n=3 -> 2/3, 1/3, 0; t2: c=3, n=3 -> 1, 1, 1; means: 5/6, 2/3, 1/2
    assert [round(p.value, 6) for p in curve] == [round(5 / 6, 6), round(2 / 3, 6), 0.5]
    assert math.isclose(t1.composite, (100 + 100 + 40) / 3)
