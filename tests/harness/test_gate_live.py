"""The validation gate on a real task, end to end through the CLI: the oracle passes (through git,
the MCP gateway and the deployer), doing nothing fails, both trials keep their evidence, and one
report shows both agents; running the gate again resumes instead of redoing finished trials."""

from __future__ import annotations

import json

import pytest

from tests.test_cli import cli

TASK = "payments-retry-backoff"
SECOND = "flag-search-suggestions"  # a second category: a flag-gated feature, no incident


@pytest.mark.timeout(2400)
def test_gate_on_real_tasks(tmp_path):
    out = tmp_path / "gate"
    args = [
        "tasks",
        "validate",
        TASK,
        SECOND,
        "--out",
        str(out),
        "--runs-dir",
        str(tmp_path / "runs"),
    ]
    gate = cli(*args, timeout=2100)
    assert gate.returncode == 0, gate.stdout + gate.stderr
    assert "2/2 valid" in gate.stdout
    second = json.loads((out / "oracle" / SECOND / "run-0" / "result.json").read_text())
    assert second["passed"] and second["composite"] >= 95, second

    oracle = json.loads((out / "oracle" / TASK / "run-0" / "result.json").read_text())
    noop = json.loads((out / "noop" / TASK / "run-0" / "result.json").read_text())
    assert oracle["passed"] and oracle["composite"] >= 95, oracle
    assert not noop["passed"] and noop["composite"] <= 30, noop
    phases = {"up", "setup", "agent", "grade", "down", "grade.feature", "grade.devops"}
    assert phases | {"grade.quality"} <= set(oracle["timings"]), oracle["timings"]
    assert (
        max(oracle["timings"][p] for p in ("grade.feature", "grade.devops"))
        <= (oracle["timings"]["grade"])
    )
    failing = {c["name"] for c in noop["checks"] if c["score"] < 1 and not c["penalty"]}
    assert "test_production.py::test_checkouts_survive_processor_blips" in failing
    trial = out / "oracle" / TASK / "run-0"
    assert "_with_retry" in (trial / "diff.patch").read_text()
    calls = [json.loads(line) for line in (trial / "calls.jsonl").read_text().splitlines()]
    assert {"deploy", "linear", "slack"} <= {c.get("server") for c in calls}
    assert (trial / "agent" / "trajectory.jsonl").exists() and (trial / "logs").is_dir()
    assert not list((tmp_path / "runs").glob(f"{TASK}-*"))  # runs are brought down and removed

    report = cli("report", str(out), "--out", str(tmp_path / "report"))
    assert report.returncode == 0, report.stderr
    board = json.loads((tmp_path / "report" / "report.json").read_text())
    text = json.dumps(board)
    assert '"oracle"' in text and '"noop"' in text

    again = cli(*args, timeout=300)  # finished trials are kept, not run again
    assert again.returncode == 0 and "2/2 valid" in again.stdout


@pytest.mark.timeout(600)
def test_a_run_set_up_by_hand_is_graded_by_the_cli(tmp_path):
    """`up --task` sets the task up and writes its prompt; `grade` scores the run as it stands
    (nothing done: the feature is not live) and keeps result.json in the run."""
    runs = tmp_path / "runs"
    up = cli("up", "--task", "flag-search-suggestions", runs_dir=runs, timeout=300)
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        (run,) = [p for p in runs.iterdir() if p.is_dir() and (p / "run-request.json").exists()]
        assert "search" in (run / "prompt.md").read_text().lower()
        graded = cli("grade", run.name, runs_dir=runs, timeout=300)
        assert graded.returncode == 0, graded.stdout + graded.stderr
        assert "flag-search-suggestions: failed" in graded.stdout
        result = json.loads((run / "result.json").read_text())
        assert result["task"] == "flag-search-suggestions" and not result["passed"]
        assert result["composite"] <= 30
        assert any("not live" in (c["detail"] or "") for c in result["checks"]), result
    finally:
        cli("down", "--all", runs_dir=runs, timeout=120)
