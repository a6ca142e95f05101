"""The monorepo suite prewarmed at the agent's deploys: idle priority, cached, waited for."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from graders.config import RegressionGrading
from graders.prewarm import SuitePrewarm

NICE_TEST = """import os, time

def test_runs_at_idle_priority():
    time.sleep(1.0)  # still running when the agent's session ends
    assert os.nice(0) == 19
"""


def _repo(path: Path) -> str:
    (path / "tests").mkdir(parents=True)
    (path / "tests" / "test_nice.py").write_text(NICE_TEST)
    run = lambda *a: subprocess.run(["git", *a], cwd=path, check=True, capture_output=True)
    run("init", "-q")
    run("add", "-A")
    run("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "tests")
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=path, check=True, capture_output=True, text=True
    ).stdout.strip()


def test_a_deploy_is_tested_in_the_background_and_the_grading_waits_for_it(tmp_path):
    sha = _repo(tmp_path / "ws")
    polls: list[float] = []

    def deployed() -> tuple[str | None, bool]:
        polls.append(time.monotonic())
        return (sha, True) if len(polls) > 2 else (None, False)  # the agent deploys later

    cache = tmp_path / "cache"
    prewarm = SuitePrewarm(
        RegressionGrading(),
        tmp_path / "ws",
        sys.executable,
        deployed,
        tmp_path / "grading",
        cache=cache,
        interval=0.05,
    ).start()
    deadline = time.monotonic() + 30
    while not (tmp_path / "grading" / "prewarm" / sha[:12]).exists():
        assert time.monotonic() < deadline, "the deploy was never picked up"
        time.sleep(0.05)
    assert prewarm.finish(wait=60) == sha  # in flight on the live commit: waited for
    assert prewarm.warmed == [sha]
    passed = [json.loads(p.read_text()) for p in cache.glob("*.json") if p.name != "durations.json"]
    assert [p["file"] for p in passed] == ["tests/test_nice.py"]  # passed, so at nice 19


def test_nothing_deployed_means_nothing_run(tmp_path):
    sha = _repo(tmp_path / "ws")
    prewarm = SuitePrewarm(
        RegressionGrading(),
        tmp_path / "ws",
        sys.executable,
        lambda: (sha, False),  # production runs the starting point: not the agent's work
        tmp_path / "grading",
        cache=tmp_path / "cache",
        interval=0.05,
    ).start()
    time.sleep(0.3)
    assert prewarm.finish() is None and prewarm.warmed == []
    assert not (tmp_path / "cache").exists()
