"""The feature grader on a live Acme run: hidden tests, weights, regressions and smoke journeys.

Pure parts (weights, penalties, test discovery) first; then one module-scoped run, graded with
hidden tests written here into a task folder, the way a task's tests/ would be.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from environments.acme.environment import ACME
from environments.runs import RunHandle
from environments.runtime.procs import run_processes
from graders.config import FeatureGrading
from graders.feature import (
    NOT_LIVE,
    cache_keys,
    check_weights,
    discover_tests,
    grade_feature,
    penalty_weights,
    weight_of,
)
from graders.models import Check
from graders.runview import RunView, TaskState
from graders.scoring import dimension_score
from graders.smoke import JOURNEYS, run_smoke
from prodbench.session import prepare_run, start_run, stop_run

NO_REGRESSION = {"monorepo": False, "smoke": False}


def feature(**kwargs) -> FeatureGrading:
    return FeatureGrading.model_validate(kwargs)


def check(weight: float, score: float) -> Check:
    return Check(name="t", dimension="feature", weight=weight, score=score)


# ---- pure parts ---------------------------------------------------------------------------


def test_weights_by_function_name_or_file_and_name():
    grading = feature(weights={"test_a": 3, "test_b.py::test_b": 2}, default_weight=0.5)
    assert weight_of(grading, "test_x.py::test_a[1]") == 3
    assert weight_of(grading, "test_b.py::TestB::test_b") == 2
    assert weight_of(grading, "other.py::test_b") == 0.5


def test_a_weight_for_no_test_is_a_task_bug():
    with pytest.raises(ValueError, match="test_missing"):
        check_weights(feature(weights={"test_missing": 1}), ["test_a.py::test_a"])
    check_weights(feature(weights={"test_a[2]": 1}), ["test_a.py::test_a"], static=True)


@pytest.mark.parametrize(
    ("passed", "failing", "expected"),
    [(4, [0.25], 0.75), (4, [0.25, 0.25], 0.5), (2, [0.25], 0.25), (1, [0.25, 0.25], 0.0)],
)
def test_a_failing_group_deducts_its_penalty_from_f(passed, failing, expected):
    tests = [check(1, 1.0)] * passed + [check(1, 0.0)] * (4 - passed)
    weights = penalty_weights(tests, failing)
    penalties = [
        Check(name="p", dimension="feature", weight=w, score=0, penalty=True) for w in weights
    ]
    assert dimension_score(tests + penalties, "feature") == pytest.approx(expected, abs=1e-8)


def test_a_monorepo_test_file_is_rerun_only_when_what_it_can_run_changed(tmp_path):
    def write(rel: str, text: str) -> None:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)

    write("shop/__init__.py", "")
    write("shop/cart.py", "TOTAL = 1\n")
    write("shop/orders.py", "from shop.cart import TOTAL\n")
    write("shop/search.py", "RANK = 1\n")
    write("README.md", "the shop\n")
    # starts a server that is not ours: runs only what it imports
    write(
        "tests/test_cache.py",
        "import subprocess\nfrom shop.cart import TOTAL\n\n"
        "def test_c():\n    subprocess.run(['redis-server', '--version'])\n",
    )
    write("tests/test_orders.py", "from shop.orders import *\n\ndef test_o():\n    pass\n")
    # starts Python: can run any of our modules
    write(
        "tests/test_cli.py",
        "import subprocess, sys\n\ndef test_s():\n    subprocess.run([sys.executable, '-V'])\n",
    )
    files = sorted((tmp_path / "tests").glob("test_*.py"))

    def changed_after(rel: str, text: str) -> set[str]:
        before = cache_keys(tmp_path, files, "py")
        write(rel, text)
        after = cache_keys(tmp_path, files, "py")
        return {f.name for f in files if before[f] != after[f]}

    assert changed_after("shop/search.py", "RANK = 2\n") == {"test_cli.py"}
    assert changed_after("shop/orders.py", "from shop.cart import *\n") == {
        "test_orders.py",
        "test_cli.py",
    }
    assert changed_after("shop/cart.py", "TOTAL = 2\n") == {
        "test_cache.py",
        "test_orders.py",
        "test_cli.py",
    }
    # a file no module is (templates, migrations, docs) may be read by any test
    assert changed_after("README.md", "the shop, v2\n") == {f.name for f in files}


def test_tests_are_discovered_without_running_them(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "test_a.py").write_text(
        "def test_one(): ...\nclass TestK:\n    def test_two(self): ...\n"
    )
    (tmp_path / "sub" / "test_b.py").write_text("import nope\nasync def test_three(): ...\n")
    (tmp_path / "helper.py").write_text("def test_not_a_test(): ...\n")
    assert discover_tests(tmp_path) == [
        "sub/test_b.py::test_three",
        "test_a.py::test_one",
        "test_a.py::TestK::test_two",
    ]


# ---- a live run -----------------------------------------------------------------------------


class Live:
    def __init__(self, paths, tmp: Path):
        self.paths, self.tmp = paths, tmp
        self.view = RunView(paths.root)
        head = self.git("rev-parse", "HEAD")
        self.state = TaskState(task="t", base_commit=head, agent_started_at=time.time())
        self.count = 0

    def git(self, *args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(self.view.workspace), *args],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()

    def grade(self, tests: dict[str, str], commit: str | None = None, deployed=True, **grading):
        """Grade with `tests` (file name -> source) as the task's hidden tests."""
        self.count += 1
        task = self.tmp / f"task{self.count}" / "tests"
        task.mkdir(parents=True)
        for name, source in tests.items():
            (task / name).write_text(source)
        work = self.tmp / "grading" / f"g{self.count}"
        started = time.monotonic()
        checks = grade_feature(
            feature(**grading),
            task,
            self.view,
            self.state,
            work,
            deployed_commit=commit,
            deployed=deployed,
        )
        self.seconds = time.monotonic() - started
        return {c.name: c for c in checks}


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    runs_dir = tmp_path_factory.mktemp("feature-runs")
    paths = prepare_run(ACME, runs_dir, seed=3, run_id="feature-grader")
    result = start_run(paths)
    handle = RunHandle(paths)
    try:
        assert result.status == "healthy", result.error
        yield Live(paths, tmp_path_factory.mktemp("feature"))
    finally:
        stop_run(handle)
        assert run_processes(handle.run_id) == []


FIXTURES_TEST = """
import httpx

def test_storefront(acme):
    assert acme.get("/").status_code == 200

def test_admin_and_customer(admin_client, customer_client, customer_email, acme, new_customer):
    assert admin_client.get("/api/v1/admin/stats").status_code == 200
    assert customer_client.get("/api/v1/users/me").json()["email"] == customer_email
    ada, bob = new_customer("Ada Lovelace"), new_customer()
    me = acme.get("/api/v1/users/me", headers=ada).json()
    assert me["name"] == "Ada Lovelace" and me["email"] != customer_email
    assert acme.get("/api/v1/users/me", headers=bob).json()["id"] != me["id"]

def test_run_side(workspace, prometheus, tool_state, ops, run_view, app_db):
    assert app_db("SELECT count(*) FROM products WHERE id <= :top", top=5) == [(5,)]
    try:
        app_db("DELETE FROM products WHERE id = :id", id=1)
        raise AssertionError("app_db wrote to production")
    except Exception as exc:  # noqa: BLE001
        assert "readonly" in str(exc), exc
    assert (workspace / "acme" / "__init__.py").exists()
    assert not (workspace / ".git").exists()
    assert prometheus("up") != []
    assert "channels" in tool_state("slack") or tool_state("slack")
    assert ops.get("/api/v1/faults").status_code == 200
    assert run_view.url("ingress").startswith("http")

def test_broken_promise(acme):
    assert acme.get("/api/v1/products/999999").status_code == 200, "no such product"

def test_temporary_files_stay_in_the_grading(tmp_path):
    # pytest prunes the shared /tmp/pytest-of-<user> to its newest folders: not ours to use.
    assert "/pb-pytest-" in str(tmp_path) and len(str(tmp_path)) < 60, tmp_path
"""


@pytest.mark.timeout(600)  # the first grading runs the whole monorepo suite (~45 s idle)
def test_every_hidden_test_is_a_weighted_check_and_regressions_pass(live):
    checks = live.grade(
        {"test_fixtures.py": FIXTURES_TEST},
        weights={"test_storefront": 3, "test_broken_promise": 2},
    )
    names = {n.split("::")[-1]: c for n, c in checks.items()}
    assert {n: c.score for n, c in names.items() if not c.penalty} == {
        "test_storefront": 1.0,
        "test_admin_and_customer": 1.0,
        "test_run_side": 1.0,
        "test_broken_promise": 0.0,
        "test_temporary_files_stay_in_the_grading": 1.0,
    }, {n: c.detail for n, c in names.items()}
    failing = names["test_broken_promise"]
    assert failing.weight == 2 and failing.observed == "failed"
    assert "no such product" in failing.detail
    assert names["test_storefront"].weight == 3
    smoke = checks["regression: smoke journeys"]
    assert smoke.score == 1.0 and smoke.weight == 0, smoke.detail
    assert sorted(smoke.observed["passed"]) == sorted(JOURNEYS)
    mono = checks["regression: monorepo tests"]
    assert mono.score == 1.0, mono.detail
    live.first_flaky = mono.observed["flaky"]
    # The failing test loses exactly its weight: 6 of 8.
    assert dimension_score(checks.values(), "feature") == pytest.approx(6 / 8)


def test_grading_again_is_fast_with_the_suite_cached(live):
    checks = live.grade({"test_fixtures.py": FIXTURES_TEST}, weights={"test_storefront": 3})
    mono = checks["regression: monorepo tests"].observed
    rerun = {f.split("::")[0] for f in live.first_flaky}
    assert set(mono["ran"]) <= rerun, mono  # only what flaked last time runs again
    print(f"graded in {live.seconds:.1f}s: monorepo {mono['seconds']}s")
    assert live.seconds < 60, f"grading took {live.seconds:.1f}s"


def test_an_unknown_weight_key_is_a_task_bug(live):
    with pytest.raises(ValueError, match="test_nope"):
        live.grade({"test_a.py": "def test_a():\n    pass\n"}, weights={"test_nope": 1})


def test_a_change_that_is_not_live_scores_zero_and_runs_nothing(live):
    source = "def test_a():\n    raise SystemExit('ran')\n\ndef test_b():\n    pass\n"
    checks = live.grade({"test_a.py": source}, deployed=False)
    assert [c.score for c in checks.values()] == [0.0, 0.0]
    assert all(c.detail == NOT_LIVE for c in checks.values())
    assert live.seconds < 2


def test_a_collection_error_scores_every_test_zero(live):
    checks = live.grade(
        {
            "test_ok.py": "def test_fine():\n    pass\n",
            "test_bad.py": "import acme_feature_that_does_not_exist\n\ndef test_x():\n    pass\n",
        },
        regression=NO_REGRESSION,
    )
    assert sorted(n.split("::")[-1] for n in checks) == ["test_fine", "test_x"]
    assert all(c.score == 0 for c in checks.values())
    assert "could not be collected" in checks["test_ok.py::test_fine"].detail


def test_a_hidden_suite_that_times_out_scores_zero(live):
    source = "import time\n\ndef test_slow():\n    time.sleep(30)\n"
    checks = live.grade({"test_slow.py": source}, timeout=3, regression=NO_REGRESSION)
    assert checks["test_slow.py::test_slow"].score == 0
    assert "timed out" in checks["test_slow.py::test_slow"].detail


def test_checkout_journey_fails_when_payments_fail(live):
    ingress = live.view.url("ingress")
    with live.view.ops() as ops:
        resp = ops.post("/api/v1/faults", json={"kind": "payments_errors", "rate": 1.0})
        assert resp.status_code in (200, 201), resp.text
        fault = resp.json()["fault"]["id"]
        try:
            results = {r.name: r for r in run_smoke(ingress)}
        finally:
            assert ops.delete(f"/api/v1/faults/{fault}").status_code == 200
    assert not results["checkout"].ok
    assert "checkout" in results["checkout"].error
    assert all(r.ok for n, r in results.items() if n != "checkout"), results


def test_smoke_fails_every_journey_on_a_dead_store():
    results = run_smoke("http://127.0.0.1:9")
    assert results and not any(r.ok for r in results)


MONOREPO_BREAK = """
def test_the_grader_broke_this():
    assert 1 + 1 == 3, "broken on purpose"
"""
NO_LEAK = """
import os

def test_no_grader_secret_reaches_the_agents_code():
    leaked = [k for k in os.environ if k.startswith(("PRODBENCH_", "ACME_URL"))]
    assert leaked == []
"""


@pytest.mark.timeout(300)
def test_a_deployed_commit_that_breaks_the_monorepo_suite_is_penalised(live, tmp_path, monkeypatch):
    # A cache of its own: the machine's may hold a pass of the same file from an earlier run.
    monkeypatch.setenv("PRODBENCH_CACHE_DIR", str(tmp_path / "cache"))
    ws = live.view.workspace
    (ws / "tests" / "test_grader_break.py").write_text(MONOREPO_BREAK)
    (ws / "tests" / "test_grader_leak.py").write_text(NO_LEAK)
    live.git("add", "tests")
    live.git("commit", "-qm", "a commit that breaks a test")
    commit = live.git("rev-parse", "HEAD")
    live.git("reset", "-q", "--hard", "HEAD~1")  # the export is of the commit, not the tree
    checks = live.grade(
        {"test_a.py": "def test_a():\n    pass\n"},
        commit=commit,
        regression={"smoke": False, "penalty": 0.25},
    )
    mono = checks["regression: monorepo tests"]
    assert mono.score == 0 and mono.penalty
    assert mono.observed["failed"] == ["tests/test_grader_break.py::test_the_grader_broke_this"]
    assert "tests/test_grader_leak.py" in mono.observed["ran"]
    assert dimension_score(checks.values(), "feature") == pytest.approx(0.75)
