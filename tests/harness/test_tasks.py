"""The task format: the suite's tasks load, bad folders are refused with the reason, selection,
scaffolding, the gate's verdicts, and the `prodbench tasks` commands."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from graders.models import TrialResult
from prodbench.gate import judge_gate
from prodbench.tasks.loader import TASKS_DIR, TaskError, discover, load_task, select
from prodbench.tasks.scaffold import new_task
from tests.test_cli import cli

TASK = "payments-retry-backoff"


def test_every_task_of_the_suite_loads_and_names_existing_files():
    tasks = discover()
    assert TASK in {t.id for t in tasks}
    for task in tasks:
        assert (task.solution_dir / "solve.py").is_file(), task.id
        assert any(task.tests_dir.rglob("test_*.py")), task.id
        for commit in task.spec.setup.commits:
            assert task.file(commit.patch).is_file()


def _copy(tmp_path: Path) -> Path:
    dest = tmp_path / TASK
    shutil.copytree(TASKS_DIR / TASK, dest)
    return dest


def _edit(folder: Path, **changes) -> None:
    path = folder / "task.yaml"
    data = yaml.safe_load(path.read_text())
    data.update(changes)
    path.write_text(yaml.safe_dump(data))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"category": "perf"}, "category"),
        ({"id": "other-id"}, "must be the folder's name"),
        ({"prompt": "too short"}, "prompt"),
        ({"surprise": 1}, "surprise"),
        ({"setup": {"commits": [{"message": "m", "patch": "../escape.patch"}]}}, "stay inside"),
        ({"setup": {"commits": [{"message": "m", "patch": "setup/missing.patch"}]}}, "missing"),
        (
            {
                "grading": {
                    "devops": {
                        "deploy": {"services": [], "order": [{"before": "api", "after": "web"}]}
                    }
                }
            },
            "not in devops.deploy.services",
        ),
        (
            {
                "grading": {
                    "devops": {"tools": [{"kind": "slack_message", "channel": "x", "pattern": "("}]}
                }
            },
            "regular expression",
        ),
    ],
)
def test_a_bad_task_is_refused_with_the_reason(tmp_path, changes, message):
    folder = _copy(tmp_path)
    _edit(folder, **changes)
    with pytest.raises(TaskError, match=message):
        load_task(folder)


def test_a_task_yaml_that_is_not_yaml_is_refused(tmp_path):
    folder = _copy(tmp_path)
    (folder / "task.yaml").write_text("id: [unclosed\n")
    with pytest.raises(TaskError, match="not valid YAML"):
        load_task(folder)


def test_selection_by_all_category_ids_and_unknown(tmp_path):
    assert [t.id for t in select(TASK)] == [TASK]
    assert TASK in [t.id for t in select("error-rate")]
    assert select("all") == discover()
    with pytest.raises(TaskError, match="no task or category 'nope'"):
        select("nope")


def test_scaffold_makes_a_task_that_loads_and_refuses_to_overwrite(tmp_path):
    folder = new_task(tmp_path, "flag-reviews", "feature-flag")
    task = load_task(folder)
    assert task.spec.category == "feature-flag" and task.id == "flag-reviews"
    assert (folder / "tests" / "test_feature.py").exists()
    assert (folder / "solution" / "solve.py").exists()
    with pytest.raises(TaskError, match="exists already"):
        new_task(tmp_path, "flag-reviews", "feature-flag")
    with pytest.raises(TaskError, match="category"):
        new_task(tmp_path, "other-task", "nonsense")
    with pytest.raises(TaskError, match="task id"):
        new_task(tmp_path, "Bad Id", "latency")


def _result(status="scored", passed=True, composite=100.0) -> TrialResult:
    if status == "infra_error":
        return TrialResult(
            task=TASK,
            category="error-rate",
            agent="a",
            status=status,
            infra_error="the run did not come up",
        )
    return TrialResult(
        task=TASK,
        category="error-rate",
        agent="a",
        feature=1.0,
        devops=1.0,
        quality=1.0,
        passed=passed,
        composite=composite,
    )


def test_the_gate_wants_the_oracle_to_pass_and_doing_nothing_to_fail():
    good = judge_gate(TASK, _result(), _result(passed=False, composite=5.0))
    assert good.ok and good.why == ""
    weak_oracle = judge_gate(TASK, _result(composite=90.0), _result(passed=False, composite=0))
    assert not weak_oracle.ok and "oracle scored 90.0" in weak_oracle.why
    generous = judge_gate(TASK, _result(), _result(passed=False, composite=31.0))
    assert not generous.ok and "noop scored 31.0" in generous.why
    passing_noop = judge_gate(TASK, _result(), _result(passed=True, composite=10.0))
    assert not passing_noop.ok
    infra = judge_gate(TASK, _result(status="infra_error"), _result(passed=False, composite=0))
    assert not infra.ok and "infra error" in infra.why


def test_tasks_commands(tmp_path):
    listing = cli("tasks", "list")
    assert listing.returncode == 0 and TASK in listing.stdout and "error-rate" in listing.stdout
    shown = cli("tasks", "show", TASK)
    assert shown.returncode == 0 and "PaymentFailuresHigh" in shown.stdout
    assert "hidden tests: 6" in shown.stdout
    created = cli(
        "tasks", "new", "slow-search", "--category", "latency", "--tasks-dir", str(tmp_path)
    )
    assert created.returncode == 0, created.stderr
    static = cli("tasks", "validate", "slow-search", "--static", "--tasks-dir", str(tmp_path))
    assert static.returncode == 0 and "well-formed" in static.stdout, static.stderr
    cli("tasks", "new", "fast-search", "--category", "latency", "--tasks-dir", str(tmp_path))
    both = cli(
        "tasks", "validate", "slow-search", "fast-search", "--static", "--tasks-dir", str(tmp_path)
    )
    assert both.returncode == 0 and "2 task(s) well-formed" in both.stdout, both.stderr
    bad = cli("tasks", "new", "slow-search", "--category", "latency", "--tasks-dir", str(tmp_path))
    assert bad.returncode == 1 and "exists already" in bad.stderr
    unknown = cli("run", "--agent", "noop", "--tasks", "nope")
    assert unknown.returncode == 1 and "no task or category 'nope'" in unknown.stderr
    no_cli = cli("run", "--agent", "claude-code", "--tasks", TASK, "--out", str(tmp_path / "r"))
    assert no_cli.returncode == 1 and "claude" in no_cli.stderr
    assert not (tmp_path / "r").exists()  # nothing started
