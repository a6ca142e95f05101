"""The local runtime with real processes on loopback ports."""

from __future__ import annotations

import json
import os
import signal
import socket
import threading
import time
import urllib.request

import pytest

from environments.runs import RunHandle
from environments.runtime.procs import run_processes
from prodbench.session import stop_run
from tests.conftest import http_service, stack

NO_RESTART = {"policy": "no"}


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return json.loads(resp.read())


def wait_for(predicate, timeout: float = 10.0, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")


def pid_gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def grandchild_pid(handle: RunHandle, service: str) -> int:
    text = handle.paths.service_log(service).read_text()
    return int(text.split("grandchild pid ")[1].split()[0])


def test_dependants_start_only_after_dependencies_are_healthy(up):
    spec = stack(
        http_service("db", "--ready-after", "0.5"),
        # exits 5 unless its dependency already answers 200, and may not restart
        http_service("api", "--require", "{db.url}/healthz", depends_on=["db"], restart=NO_RESTART),
        http_service(
            "web", "--require", "{api.url}/healthz", depends_on=["api"], restart=NO_RESTART
        ),
    )
    result, handle = up(spec)
    assert result.status == "healthy", result.error
    s = handle.supervisor().services
    assert s["api"].started_at >= s["db"].healthy_at
    assert s["web"].started_at >= s["api"].healthy_at
    assert all(x.restarts == 0 for x in s.values())


def test_independent_services_start_in_parallel(up):
    spec = stack(
        http_service("a", "--ready-after", "0.6"), http_service("b", "--ready-after", "0.6")
    )
    result, handle = up(spec)
    assert result.status == "healthy", result.error
    s = handle.supervisor().services
    assert s["b"].started_at < s["a"].healthy_at and s["a"].started_at < s["b"].healthy_at


def test_env_json_has_every_service_url_and_port(up):
    _, handle = up(stack(http_service("a"), http_service("b", depends_on=["a"])), seed=7)
    env = json.loads(handle.paths.env_json.read_text())
    assert env["seed"] == 7 and env["stack"] == "fixture"
    for name in ("a", "b"):
        port = env["services"][name]["ports"]["http"]
        assert env["services"][name]["url"] == f"http://127.0.0.1:{port}"
        assert get_json(env["services"][name]["url"] + "/")["service"] == name
    for sub in ("workspace", "releases", "state", "logs", "prometheus"):
        assert (handle.paths.root / sub).is_dir()


def test_crashing_service_is_named_with_its_log_tail_and_the_run_torn_down(up):
    spec = stack(
        http_service("ok"),
        http_service("bad", "--exit-code", "7", restart=NO_RESTART),
        http_service("after", depends_on=["bad"]),
    )
    result, handle = up(spec)
    assert result.status == "failed"
    assert "service 'bad' failed: exited with code 7 before becoming healthy" in result.error
    assert "boom: bad refuses to start (code 7)" in result.error
    state = handle.supervisor()
    assert state.status == "failed"
    assert state.services["after"].status == "failed"
    assert state.services["after"].error == "not started: dependency 'bad' failed"
    assert state.services["after"].pid is None
    wait_for(lambda: run_processes(handle.run_id) == [], timeout=5)


def test_service_unhealthy_past_its_startup_timeout_is_reported(up):
    spec = stack(
        http_service(
            "slow", "--ready-after", "60", restart=NO_RESTART, health={"startup_timeout": 1.0}
        )
    )
    result, _ = up(spec)
    assert result.status == "failed"
    assert "not healthy after the startup timeout" in result.error
    assert "GET /healthz -> HTTP 503" in result.error


def test_crash_at_start_is_restarted_by_policy(up, tmp_path):
    marker = tmp_path / "crashed-once"
    result, handle = up(stack(http_service("flaky", "--crash-once", str(marker))))
    assert result.status == "healthy", result.error
    assert marker.exists()
    assert handle.supervisor().services["flaky"].restarts == 1


def test_service_dying_later_is_restarted_then_given_up_on(up):
    spec = stack(
        http_service("steady"),
        http_service(
            "dies",
            "--crash-after",
            "0.4",
            restart={"policy": "on-failure", "max_restarts": 1, "backoff": 0.05},
        ),
    )
    result, handle = up(spec)
    assert result.status == "healthy", result.error
    first_pid = handle.supervisor().services["dies"].pid
    state = wait_for(
        lambda: (s := handle.supervisor()) and s.status == "degraded" and s, timeout=10
    )
    dies = state.services["dies"]
    assert dies.restarts == 1 and dies.pid != first_pid
    assert dies.status == "failed" and "exited with code 3" in dies.error
    assert any("crashing now" in line for line in dies.log_tail)
    assert state.services["steady"].status == "healthy"


def test_two_runs_side_by_side_share_nothing(up):
    spec = stack(http_service("a"), http_service("b", depends_on=["a"]))
    (r1, h1), (r2, h2) = up(spec), up(spec)
    assert r1.status == r2.status == "healthy"
    ports1 = {p for e in r1.env.services.values() for p in e.ports.values()}
    ports2 = {p for e in r2.env.services.values() for p in e.ports.values()}
    assert not ports1 & ports2
    assert h1.paths.root != h2.paths.root
    for result, handle in ((r1, h1), (r2, h2)):
        pids = set(run_processes(handle.run_id))
        for ep in result.env.services.values():
            assert get_json(ep.url + "/")["pid"] in pids
    stop_run(h1)
    assert run_processes(h1.run_id) == []
    assert get_json(r2.env.services["a"].url + "/")["service"] == "a"


def test_down_stops_every_process_including_grandchildren(up):
    result, handle = up(
        stack(http_service("a", "--spawn-child"), http_service("b", depends_on=["a"]))
    )
    assert result.status == "healthy", result.error
    grandchild = grandchild_pid(handle, "a")
    assert not pid_gone(grandchild)
    assert stop_run(handle) == "stopped"
    assert run_processes(handle.run_id) == []
    assert pid_gone(grandchild)
    state = handle.supervisor()
    assert state.status == "stopped"
    assert {s.status for s in state.services.values()} == {"stopped"}


def test_sigkill_of_the_supervisor_leaves_no_orphan(up):
    result, handle = up(
        stack(http_service("a", "--spawn-child"), http_service("b", depends_on=["a"]))
    )
    assert result.status == "healthy", result.error
    grandchild = grandchild_pid(handle, "a")
    os.kill(handle.supervisor().pid, signal.SIGKILL)
    wait_for(lambda: run_processes(handle.run_id) == [], timeout=8)
    assert pid_gone(grandchild)
    assert handle.live_status() == "crashed"


def test_a_service_ignoring_sigterm_is_killed_after_its_grace_period(up):
    result, handle = up(stack(http_service("stubborn", "--ignore-term", stop_grace=0.5)))
    assert result.status == "healthy", result.error
    pid = handle.supervisor().services["stubborn"].pid
    started = time.monotonic()
    stop_run(handle)
    took = time.monotonic() - started
    assert pid_gone(pid)
    assert 0.5 <= took < 5


def test_fixed_port_held_by_someone_else_is_a_clear_error(up):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        spec = stack(http_service("a", ports=[{"name": "http", "fixed": port}]))
        result, handle = up(spec)
    assert result.status == "failed"
    assert f"port {port} (fixed for a.http) is in use by another process" in result.error
    assert run_processes(handle.run_id) == []


def test_port_taken_between_planning_and_start_is_reallocated(up, runs_dir):
    spec = stack(http_service("a", "--ready-after", "0.8"), http_service("b", depends_on=["a"]))
    box: dict = {}
    thread = threading.Thread(target=lambda: box.update(r=up(spec)))
    thread.start()
    env_file = wait_for(lambda: next(runs_dir.glob("*/env.json"), None), timeout=5, interval=0.005)
    planned = json.loads(env_file.read_text())["services"]["b"]["ports"]["http"]
    with socket.socket() as thief:
        thief.bind(("127.0.0.1", planned))
        thief.listen()
        thread.join(timeout=30)
        result, _ = box["r"]
        assert result.status == "healthy", result.error
        now = result.env.services["b"].ports["http"]
        assert now != planned
        assert get_json(f"http://127.0.0.1:{now}/")["service"] == "b"
        assert json.loads(env_file.read_text())["services"]["b"]["ports"]["http"] == now


@pytest.mark.parametrize("policy,expect_restart", [("always", True), ("no", False)])
def test_exit_after_start_follows_the_restart_policy(up, policy, expect_restart):
    spec = stack(
        http_service("keep"),
        http_service(
            "exits",
            "--crash-after",
            "0.3",
            restart={"policy": policy, "max_restarts": 1, "backoff": 0.05},
        ),
    )
    result, handle = up(spec)
    assert result.status == "healthy", result.error
    state = wait_for(
        lambda: (s := handle.supervisor()) and s.status == "degraded" and s, timeout=10
    )
    assert state.services["exits"].restarts == (1 if expect_restart else 0)


def test_service_failing_liveness_checks_is_restarted_then_given_up_on(up):
    spec = stack(
        http_service(
            "sick",
            "--unhealthy-after",
            "0.3",
            health={"live_interval": 0.1, "failure_threshold": 2},
            restart={"policy": "on-failure", "max_restarts": 1, "backoff": 0.05},
        )
    )
    result, handle = up(spec)
    assert result.status == "healthy", result.error
    first_pid = handle.supervisor().services["sick"].pid
    state = wait_for(
        lambda: (s := handle.supervisor()) and s.status == "degraded" and s, timeout=10
    )
    sick = state.services["sick"]
    assert sick.restarts == 1 and sick.pid != first_pid
    assert "failed 2 health checks (GET /healthz -> HTTP 500)" in sick.error
    assert pid_gone(sick.pid)


def test_jobs_run_to_completion_before_their_dependants_start(up, tmp_path):
    marker = tmp_path / "migrated"
    spec = stack(
        {
            "name": "migrate",
            "kind": "job",
            "argv": ["{python}", "-c", f"import time; time.sleep(0.3); open({str(marker)!r}, 'w')"],
        },
        http_service(
            "api", "--require", "{db.url}/healthz", depends_on=["migrate", "db"], restart=NO_RESTART
        ),
        http_service("db"),
    )
    result, handle = up(spec)
    assert result.status == "healthy", result.error
    s = handle.supervisor().services
    assert s["migrate"].status == "completed" and s["migrate"].exit_code == 0
    assert marker.exists()
    assert s["api"].started_at >= s["migrate"].healthy_at
    assert result.env.services["migrate"].ports == {} and result.env.services["migrate"].url is None


def test_a_failing_job_fails_the_run_with_its_output(up):
    spec = stack(
        {
            "name": "seed",
            "kind": "job",
            "restart": NO_RESTART,
            "argv": [
                "{python}",
                "-c",
                "import sys; print('seed: no such table users'); sys.exit(2)",
            ],
        },
        http_service("api", depends_on=["seed"]),
    )
    result, handle = up(spec)
    assert result.status == "failed"
    assert "service 'seed' failed: job exited with code 2" in result.error
    assert "seed: no such table users" in result.error
    assert handle.supervisor().services["api"].pid is None


def test_values_from_the_prepare_step_reach_the_services(runs_dir):
    from environments.stacks import EnvironmentDef
    from prodbench.session import prepare_run, start_run

    env_def = EnvironmentDef(
        "prepared",
        "a stack whose argv needs a value only prepare knows",
        stack=lambda ctx: stack(
            http_service("a", "--require", "{vars.check_url}", restart=NO_RESTART)
        ),
        prepare=lambda ctx: {"check_url": "http://127.0.0.1:1/unreachable"},
    )
    paths = prepare_run(env_def, runs_dir)
    result = start_run(paths)
    assert result.status == "failed"  # the service really tried the URL prepare gave it
    assert "dependency http://127.0.0.1:1/unreachable not reachable" in result.error


def test_a_failing_prepare_step_leaves_no_run_behind(runs_dir):
    from environments.stack import StackError
    from environments.stacks import EnvironmentDef
    from prodbench.session import prepare_run

    def prepare(ctx):
        raise RuntimeError("the template has no README.md")

    env_def = EnvironmentDef(
        "broken", "", stack=lambda ctx: stack(http_service("a")), prepare=prepare
    )
    with pytest.raises(
        StackError,
        match="preparing the 'broken' environment failed: RuntimeError: "
        "the template has no README.md",
    ):
        prepare_run(env_def, runs_dir, run_id="r")
    assert not (runs_dir / "r").exists()
