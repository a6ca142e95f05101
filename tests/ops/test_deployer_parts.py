"""The deployer's parts on their own: analysis verdicts, history, build and checks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from environments.ops.deployer import analysis
from environments.ops.deployer.build import BuildError, export_release, python_for, resolve
from environments.ops.deployer.checks import run_checks
from environments.ops.deployer.history import History
from environments.ops.deployer.models import AnalysisConfig, Deploy

CFG = AnalysisConfig()


def sample(**kw) -> analysis.Sample:
    base = {
        "requests": 40,
        "error_ratio": 0.0,
        "p95": 0.05,
        "stable_error_ratio": 0.0,
        "stable_p95": 0.05,
    }
    return analysis.Sample(**{**base, **kw})


def test_judge_passes_a_healthy_canary():
    verdict = analysis.judge(sample(), CFG)
    assert verdict.ok is True
    assert "40 requests" in verdict.reason


def test_judge_fails_an_erroring_canary_and_says_by_how_much():
    verdict = analysis.judge(sample(error_ratio=0.4, stable_error_ratio=0.01), CFG)
    assert verdict.ok is False
    assert "40.0% > 5.0%" in verdict.reason


def test_judge_tolerates_errors_stable_has_too():
    # Stable fails 10% (a sick dependency): the canary is not worse than twice that.
    assert analysis.judge(sample(error_ratio=0.12, stable_error_ratio=0.1), CFG).ok is True
    assert analysis.judge(sample(error_ratio=0.25, stable_error_ratio=0.1), CFG).ok is False


def test_judge_fails_a_slow_canary_relative_to_stable():
    assert analysis.judge(sample(p95=0.2, stable_p95=0.05), CFG).ok is True  # under 250ms
    slow = analysis.judge(sample(p95=0.9, stable_p95=0.3), CFG)
    assert slow.ok is False and "900ms > 450ms" in slow.reason


def test_judge_has_no_verdict_without_traffic():
    assert analysis.judge(sample(requests=0), CFG).ok is None
    assert analysis.judge(sample(requests=None), CFG).ok is None
    few = analysis.judge(sample(requests=3, error_ratio=1.0), CFG)
    assert few.ok is None and "too few" in few.reason


def test_history_survives_a_restart_and_knows_the_previous_release(tmp_path):
    h = History(tmp_path)
    h.add(Deploy(id=h.next_id(), kind="initial", services=["api"], actor="prodbench"))
    h.set_live("api", "a" * 40, "d-1")
    h.set_live("api", "b" * 40, "d-2")
    h.log("d-1", "line one\nline two")
    again = History(tmp_path)
    assert again.next_id() == "d-2"
    assert again.live()["api"].sha == "b" * 40
    assert again.previous_release("api") == "a" * 40
    assert again.tail("d-1", 5)[-1].endswith("line two")
    assert [d.id for d in again.list("api")] == ["d-1"]
    assert again.list("web") == []


@pytest.fixture
def repo(tmp_path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()

    def git(*args):
        subprocess.run(["git", "-C", str(ws), *args], check=True, capture_output=True)

    git("init", "-q", "-b", "main")
    git("config", "user.email", "t@example.com")
    git("config", "user.name", "t")
    (ws / "requirements.txt").write_text("httpx\n")
    (ws / "app.py").write_text("X = 1\n")
    git("add", ".")
    git("commit", "-q", "-m", "first")
    return ws


def test_resolve_and_export_a_commit(repo, tmp_path):
    sha, subject = resolve(repo, "main")
    assert len(sha) == 40 and subject == "first"
    dest = tmp_path / "releases" / sha
    export_release(repo, sha, dest)
    assert (dest / "app.py").read_text() == "X = 1\n"
    assert (dest / ".release.json").exists()
    (repo / "app.py").write_text("X = 2\n")  # uncommitted work never reaches a release
    export_release(repo, sha, dest)
    assert (dest / "app.py").read_text() == "X = 1\n"


def test_resolve_rejects_what_is_not_a_commit(repo):
    with pytest.raises(BuildError, match="names no commit"):
        resolve(repo, "no-such-branch")
    with pytest.raises(BuildError, match="not a git ref"):
        resolve(repo, "--all")


def test_unchanged_requirements_reuse_the_installed_environment(repo, tmp_path):
    sha, _ = resolve(repo, "HEAD")
    base = tmp_path / "base"
    export_release(repo, sha, base)
    other = tmp_path / "other"
    export_release(repo, sha, other)
    said = []
    assert python_for(other, base, said.append) == sys.executable
    assert "unchanged" in said[0]


def test_checks_fail_with_output_then_a_passing_tree_is_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("PRODBENCH_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "good.py").write_text("")
    bad, cached = run_checks(tmp_path, sys.executable, [], ["no_such_module_x"], "t1", 60)
    assert not cached and not bad[0].ok
    assert "No module named 'no_such_module_x'" in bad[0].output
    tests = [sys.executable, "-c", "print('3 passed')"]
    good, cached = run_checks(tmp_path, sys.executable, tests, ["good"], "t2", 60)
    assert not cached and all(r.ok for r in good)
    again, cached = run_checks(tmp_path, sys.executable, tests, ["good"], "t2", 60)
    assert cached and again[0].name == "cached"


def test_fast_tests_get_a_temporary_folder_of_their_own(tmp_path, monkeypatch):
    """pytest prunes the shared /tmp/pytest-of-<user> to its newest folders: a check running
    beside graders and other runs must not keep its files there."""
    monkeypatch.setenv("PRODBENCH_CACHE_DIR", str(tmp_path / "cache"))
    release = tmp_path / "release"
    release.mkdir()
    (release / "test_tmp.py").write_text(
        "def test_tmp(tmp_path):\n    assert 'pytest-of-' not in str(tmp_path), tmp_path\n"
    )
    tests = ["{python}", "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_tmp.py"]
    results, _ = run_checks(release, sys.executable, tests, [], "t3", 120)
    assert results[0].ok, results[0].output


def test_a_runtime_that_cannot_answer_is_a_502_with_its_reason_not_a_500():
    from starlette.applications import Starlette
    from starlette.testclient import TestClient

    from environments.ops.deployer.api import deployer_routes
    from environments.runtime.client import RuntimeControlError

    class NoRuntime:
        def services(self):
            raise RuntimeControlError("deploys on docker are not supported yet", status=501)

    app = Starlette(routes=deployer_routes(NoRuntime(), {"tok": "agent"}))  # type: ignore[arg-type]
    with TestClient(app) as client:
        resp = client.get("/api/v1/services", headers={"Authorization": "Bearer tok"})
        assert resp.status_code == 502
        assert "not supported yet" in resp.json()["error"]
        assert client.get("/api/v1/services").status_code == 401
