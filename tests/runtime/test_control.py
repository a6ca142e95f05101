"""The supervisor's runtime control API, with real processes on loopback ports."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from environments.ports import PortAllocator, port_is_free
from environments.runs import RunHandle, machine_state_dir
from environments.runtime.client import RuntimeClient, RuntimeControlError
from environments.runtime.procs import run_processes
from environments.stacks import EnvironmentDef
from prodbench.session import prepare_run, start_run, stop_run
from tests.conftest import http_service, stack
from tests.runtime.test_local_runtime import get_json, pid_gone, wait_for

# A tiny service: answers every GET with what it was started with; FAIL makes it refuse.
SERVER = r"""
import json, os, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
if os.environ.get("FAIL"):
    print("refusing to start: " + os.environ["FAIL"], flush=True)
    sys.exit(9)

class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({
            "service": os.environ["PRODBENCH_SERVICE"],
            "instance": os.environ["PRODBENCH_INSTANCE"],
            "release": os.environ.get("RELEASE"),
            "greeting": os.environ.get("GREETING"),
            "runtime_url": os.environ.get("PRODBENCH_RUNTIME_URL"),
            "runtime_token": os.environ.get("PRODBENCH_RUNTIME_TOKEN"),
            "pid": os.getpid(),
        }).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
print(os.environ["PRODBENCH_INSTANCE"], "listening on", sys.argv[1], flush=True)
server.serve_forever()
"""
FAST_RESTART = {"policy": "on-failure", "max_restarts": 2, "backoff": 0.05}


def release_service(name: str, **extra) -> dict:
    """A service that serves the release it was rendered with (`{vars.release}`)."""
    return {
        "name": name,
        "argv": ["{python}", "-c", SERVER, "{port}"],
        "env": {"RELEASE": "{vars.release}"},
        "stop_grace": 2.0,
        "restart": FAST_RESTART,
        **extra,
    }


def client_for(handle: RunHandle, timeout: float = 30) -> RuntimeClient:
    control = wait_for(lambda: (s := handle.supervisor()) and s.control, timeout=10)
    return RuntimeClient(control.url, control.token, timeout=timeout)


def instance_processes(handle: RunHandle, instance: str) -> list[int]:
    marker = f"PRODBENCH_INSTANCE={instance}".encode()
    found = []
    for pid in run_processes(handle.run_id):
        try:
            with open(f"/proc/{pid}/environ", "rb") as fh:
                if marker in fh.read().split(b"\0"):
                    found.append(pid)
        except OSError:
            pass
    return found


@pytest.fixture
def up_with_vars(runs_dir):
    """Bring a stack up with run vars, as an environment's prepare step sets them."""

    def _up(spec, run_vars: dict[str, str], **kwargs):
        env_def = EnvironmentDef("vars", "", stack=lambda ctx: spec, prepare=lambda ctx: run_vars)
        paths = prepare_run(env_def, runs_dir, **kwargs)
        return start_run(paths), RunHandle(paths)

    return _up


@pytest.fixture
def up_in_background(runs_dir):
    """Start `up` in a thread (it waits for on-request services); returns (box, handle, thread)."""
    threads = []

    def _start(spec, **kwargs):
        paths = prepare_run(spec, runs_dir, **kwargs)
        box: dict = {}
        thread = threading.Thread(target=lambda: box.update(result=start_run(paths)))
        thread.start()
        threads.append(thread)
        return box, RunHandle(paths), thread

    yield _start
    for thread in threads:
        thread.join(timeout=60)


# ---- on-request services ---------------------------------------------------------------------


def test_on_request_service_is_started_through_the_api_and_up_waits_for_it(up_in_background):
    spec = stack(
        release_service("api", start="on-request"),
        http_service(
            "web", "--require", "{api.url}/healthz", depends_on=["api"], restart={"policy": "no"}
        ),
    )
    box, handle, thread = up_in_background(spec)
    client = client_for(handle)
    time.sleep(0.5)
    state = handle.supervisor()
    assert state.status == "starting" and thread.is_alive()
    assert state.services["api"].status == "pending" and state.services["api"].pid is None
    assert state.services["web"].status == "pending"
    assert json.loads(handle.paths.env_json.read_text())["services"]["api"]["url"]

    with pytest.raises(RuntimeControlError) as failed:  # the release var is not set yet
        client.start("api")
    assert failed.value.status == 422
    assert "no value for placeholder {vars.release}" in failed.value.message
    assert thread.is_alive(), "a failed start through the API leaves `up` waiting"

    api = client.start("api", vars={"release": "v1"})
    assert api["status"] == "healthy" and api["main"] and api["vars"] == {"release": "v1"}
    thread.join(timeout=30)
    result = box["result"]
    assert result.status == "healthy", result.error
    served = get_json(result.env.services["api"].url + "/")
    assert served["release"] == "v1" and served["instance"] == "api"
    s = handle.supervisor().services
    assert s["web"].status == "healthy" and s["web"].started_at >= s["api"].healthy_at

    with pytest.raises(RuntimeControlError) as again:
        client.start("api", vars={"release": "v2"})
    assert again.value.status == 409 and "already running" in again.value.message


def test_parallel_starts_wait_for_their_on_request_dependencies(up_in_background):
    spec = stack(
        release_service("api", start="on-request"),
        release_service("web", start="on-request", depends_on=["api"]),
    )
    box, handle, thread = up_in_background(spec)
    client = client_for(handle)
    web: dict = {}

    def start_web() -> None:
        try:
            web["ok"] = client.start("web", vars={"release": "v1"})
        except RuntimeControlError as exc:
            web["error"] = exc

    first = threading.Thread(target=start_web)
    first.start()
    time.sleep(0.3)
    assert first.is_alive(), "web's start waits for api"
    with pytest.raises(RuntimeControlError) as failed:
        client.start("api", env={"FAIL": "no release"})
    assert failed.value.status == 422
    first.join(timeout=5)
    assert not first.is_alive(), "web's start heard of api's failure at once"
    assert web["error"].status == 409
    assert "cannot start 'web': its dependency 'api' is failed" in web["error"].message

    # A retry, api first: web waits while api's start is in flight. (env={}: an omitted env
    # would keep FAIL, since overrides persist until replaced.)
    api: dict = {}
    second = threading.Thread(
        target=lambda: api.update(ok=client.start("api", vars={"release": "v1"}, env={}))
    )
    second.start()
    wait_for(lambda: handle.supervisor().services["api"].status in ("starting", "healthy"))
    assert client.start("web", vars={"release": "v1"})["status"] == "healthy"
    second.join(timeout=30)
    assert api["ok"]["status"] == "healthy"
    thread.join(timeout=30)
    assert box["result"].status == "healthy", box["result"].error


def test_an_on_request_service_nobody_starts_fails_up_with_a_clear_error(up):
    spec = stack(release_service("api", start="on-request"), http_service("db"))
    result, handle = up(spec, startup_timeout=1.5)
    assert result.status == "failed"
    assert "service 'api' failed: not started through the runtime API within 1.5 s" in result.error
    assert "no service of the stack has runtime_access" in result.error
    wait_for(lambda: run_processes(handle.run_id) == [], timeout=5)


def test_only_runtime_access_services_get_the_url_and_token(up_with_vars):
    result, handle = up_with_vars(
        stack(release_service("deployer", runtime_access=True), release_service("app")),
        {"release": "v1"},
    )
    assert result.status == "healthy", result.error
    control = handle.supervisor().control
    deployer = get_json(result.env.services["deployer"].url + "/")
    assert deployer["runtime_url"] == control.url and deployer["runtime_token"] == control.token
    app = get_json(result.env.services["app"].url + "/")
    assert app["runtime_url"] is None and app["runtime_token"] is None


# ---- restarting the main instance ------------------------------------------------------------


def test_restart_with_overrides_and_they_survive_a_crash_restart(up_with_vars):
    result, handle = up_with_vars(stack(release_service("api")), {"release": "v1"})
    assert result.status == "healthy", result.error
    url = result.env.services["api"].url
    first = get_json(url + "/")
    assert first["release"] == "v1"

    with client_for(handle) as client:
        api = client.restart("api", vars={"release": "v2"})
        assert api["status"] == "healthy" and api["vars"] == {"release": "v2"}
        second = get_json(url + "/")
        assert second["release"] == "v2" and second["pid"] != first["pid"]
        assert pid_gone(first["pid"])

        api = client.restart("api", env={"GREETING": "hello"})  # vars omitted: kept
        third = get_json(url + "/")
        assert third["release"] == "v2" and third["greeting"] == "hello"
        assert api["vars"] == {"release": "v2"} and api["env"] == {"GREETING": "hello"}

        os.kill(third["pid"], signal.SIGKILL)  # a crash: restarted by policy, same overrides
        wait_for(
            lambda: (
                (s := handle.supervisor().services["api"]).status == "healthy"
                and s.pid != third["pid"]
            ),
            timeout=10,
        )
        after = get_json(url + "/")
        assert after["release"] == "v2" and after["greeting"] == "hello"
        assert handle.supervisor().services["api"].restarts == 1
        assert len(instance_processes(handle, "api")) == 1


def test_a_failed_restart_is_reported_and_can_be_retried(up_with_vars):
    result, handle = up_with_vars(stack(release_service("api")), {"release": "v1"})
    assert result.status == "healthy", result.error
    with client_for(handle) as client:
        with pytest.raises(RuntimeControlError) as failed:
            client.restart("api", vars={"release": "bad"}, env={"FAIL": "release bad is broken"})
        err = failed.value
        assert err.status == 422 and "service 'api' failed: exited with code 9" in err.message
        assert any("refusing to start: release bad is broken" in line for line in err.log_tail)
        state = handle.supervisor()
        assert state.services["api"].status == "failed" and state.status == "degraded"
        assert instance_processes(handle, "api") == []

        api = client.restart("api", vars={"release": "v1"}, env={})  # roll back
        assert api["status"] == "healthy"
        assert get_json(result.env.services["api"].url + "/")["release"] == "v1"
        assert handle.supervisor().status == "healthy"


def test_concurrent_restarts_of_one_service_never_interleave(up_with_vars):
    result, handle = up_with_vars(stack(release_service("api")), {"release": "v1"})
    assert result.status == "healthy", result.error
    control = handle.supervisor().control
    answers: list = []

    def restart(release: str) -> None:
        with RuntimeClient(control.url, control.token) as client:
            answers.append(client.restart("api", vars={"release": release}))

    threads = [threading.Thread(target=restart, args=(f"v{i}",)) for i in range(2, 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert [a["status"] for a in answers] == ["healthy"] * 3
    assert len(instance_processes(handle, "api")) == 1
    served = get_json(result.env.services["api"].url + "/")["release"]
    assert served == handle.supervisor().services["api"].vars["release"]


# ---- extra instances ------------------------------------------------------------------------


def test_an_extra_instance_runs_on_fresh_ports_and_is_removed(up_with_vars):
    result, handle = up_with_vars(stack(release_service("api")), {"release": "v1"})
    assert result.status == "healthy", result.error
    main_url = result.env.services["api"].url
    with client_for(handle) as client:
        canary = client.add_instance("api", "api-canary", vars={"release": "v2"})
        assert canary["status"] == "healthy" and not canary["main"] and canary["service"] == "api"
        assert (
            canary["url"] != main_url
            and canary["ports"]["http"] != result.env.services["api"].ports["http"]
        )
        served = get_json(canary["url"] + "/")
        assert served == {**served, "instance": "api-canary", "service": "api", "release": "v2"}
        assert get_json(main_url + "/")["release"] == "v1"
        listed = {i["instance"]: i for i in client.instances()}
        assert set(listed) == {"api", "api-canary"} and listed["api"]["main"]
        assert listed["api-canary"]["pid"] == served["pid"]
        assert "api-canary listening on" in handle.paths.service_log("api-canary").read_text()
        assert handle.supervisor().instances["api-canary"].status == "healthy"
        assert json.loads(handle.paths.env_json.read_text())["services"]["api"]["url"] == main_url

        gone = client.remove_instance("api-canary")
        assert gone["status"] == "stopped" and gone["instance"] == "api-canary"
        assert pid_gone(served["pid"])
        assert port_is_free(canary["ports"]["http"])
        assert [i["instance"] for i in client.instances()] == ["api"]
        assert "api-canary" not in handle.supervisor().instances
        assert not _reserved(f"{handle.run_id}/api-canary")
        with pytest.raises(RuntimeControlError) as again:
            client.remove_instance("api-canary")
        assert again.value.status == 404


def test_a_failing_extra_instance_is_cleaned_up(up_with_vars):
    result, handle = up_with_vars(stack(release_service("api")), {"release": "v1"})
    assert result.status == "healthy", result.error
    before = set(run_processes(handle.run_id))
    with client_for(handle) as client:
        with pytest.raises(RuntimeControlError) as failed:
            client.add_instance("api", "api-canary", env={"FAIL": "canary cannot start"})
        err = failed.value
        assert err.status == 422 and "instance 'api-canary' of 'api' failed" in err.message
        assert any("refusing to start: canary cannot start" in line for line in err.log_tail)
        assert [i["instance"] for i in client.instances()] == ["api"]
        assert set(run_processes(handle.run_id)) == before
        assert not _reserved(f"{handle.run_id}/api-canary")
        assert handle.supervisor().status == "healthy"
        # the name is free again
        assert client.add_instance("api", "api-canary")["status"] == "healthy"


def test_an_extra_instance_is_restarted_by_policy_and_its_failure_never_degrades_the_run(
    up_with_vars,
):
    spec = stack(release_service("api", restart={**FAST_RESTART, "max_restarts": 1}))
    result, handle = up_with_vars(spec, {"release": "v1"})
    assert result.status == "healthy", result.error
    with client_for(handle) as client:
        first = client.add_instance("api", "api-canary", vars={"release": "v2"})
        os.kill(first["pid"], signal.SIGKILL)
        second = wait_for(
            lambda: next(
                (
                    i
                    for i in client.instances()
                    if i["instance"] == "api-canary"
                    and i["pid"] != first["pid"]
                    and i["status"] == "healthy"
                ),
                None,
            ),
            timeout=10,
        )
        assert second["restarts"] == 1 and get_json(second["url"] + "/")["release"] == "v2"
        os.kill(second["pid"], signal.SIGKILL)
        wait_for(lambda: handle.supervisor().instances["api-canary"].status == "failed", timeout=10)
        state = handle.supervisor()
        assert state.status == "healthy" and state.services["api"].status == "healthy"
        assert client.remove_instance("api-canary")["status"] == "stopped"


def test_the_api_answers_while_an_instance_is_starting(up_with_vars, runs_dir):
    spec = stack(
        release_service("api"),
        http_service("slow", "--ready-after", "1.5", restart={"policy": "no"}),
    )
    result, handle = up_with_vars(spec, {"release": "v1"})
    assert result.status == "healthy", result.error
    control = handle.supervisor().control
    box: dict = {}

    def add() -> None:
        with RuntimeClient(control.url, control.token) as client:
            box["canary"] = client.add_instance("slow", "slow-canary")

    thread = threading.Thread(target=add)
    thread.start()
    with RuntimeClient(control.url, control.token) as client:
        starting = wait_for(
            lambda: next((i for i in client.instances() if i["instance"] == "slow-canary"), None),
            timeout=5,
        )
        assert starting["status"] == "starting"
        began = time.monotonic()
        client.restart("api")  # another service: not serialized behind the slow one
        assert time.monotonic() - began < 1.5
    thread.join(timeout=30)
    assert box["canary"]["status"] == "healthy"


# ---- errors ---------------------------------------------------------------------------------


def test_requests_are_checked_and_errors_say_what_was_wrong(up_with_vars):
    spec = stack(
        release_service("api"),
        {"name": "migrate", "kind": "job", "argv": ["{python}", "-c", "pass"]},
    )
    result, handle = up_with_vars(spec, {"release": "v1"})
    assert result.status == "healthy", result.error
    control = handle.supervisor().control
    auth = {"Authorization": f"Bearer {control.token}"}
    with httpx.Client(base_url=control.url, timeout=10) as http:

        def call(method: str, path: str, *, status: int, headers=auth, **kw) -> str:
            response = http.request(method, path, headers=headers, **kw)
            assert response.status_code == status, response.text
            assert response.headers["content-type"] == "application/json"
            return response.json()["error"]

        assert "missing 'Authorization: Bearer" in call(
            "GET", "/v1/instances", status=401, headers={}
        )
        bad = {"Authorization": "Bearer nope"}
        assert "invalid bearer token" in call("GET", "/v1/instances", status=401, headers=bad)
        assert "invalid bearer token" in call(
            "POST", "/v1/services/api/restart", status=401, headers=bad
        )
        msg = call("POST", "/v1/services/nope/restart", status=404)
        assert msg == "unknown service 'nope'; services: api, migrate"
        assert "not valid JSON" in call(
            "POST", "/v1/services/api/restart", status=400, content=b"{nope"
        )
        assert "must be a JSON object" in call(
            "POST", "/v1/services/api/restart", status=400, json=["v2"]
        )
        assert "vars.release: Input should be a valid string" in call(
            "POST", "/v1/services/api/restart", status=400, json={"vars": {"release": 2}}
        )
        assert "extra: Extra inputs are not permitted" in call(
            "POST", "/v1/services/api/restart", status=400, json={"extra": 1}
        )
        assert "PRODBENCH_RUN_ID is set by the supervisor" in call(
            "POST", "/v1/services/api/restart", status=400, json={"env": {"PRODBENCH_RUN_ID": "x"}}
        )
        assert "'migrate' is a job" in call("POST", "/v1/services/migrate/restart", status=400)
        assert "'migrate' is a job" in call(
            "POST", "/v1/services/migrate/instances", status=400, json={"instance": "m2"}
        )
        assert "instance: String should match pattern" in call(
            "POST", "/v1/services/api/instances", status=400, json={"instance": "Bad_Name"}
        )
        assert "instance: Field required" in call(
            "POST", "/v1/services/api/instances", status=400, json={}
        )
        assert "'migrate' is a service name" in call(
            "POST", "/v1/services/api/instances", status=409, json={"instance": "migrate"}
        )
        assert "is the main instance of service 'api'" in call(
            "DELETE", "/v1/instances/api", status=400
        )
        assert "no instance 'ghost'" in call("DELETE", "/v1/instances/ghost", status=404)
        assert "no endpoint GET /v2/things" in call("GET", "/v2/things", status=404)
        assert "use GET" in call("POST", "/v1/instances", status=405)
        assert "already running" in call("POST", "/v1/services/api/start", status=409)
    # one connection, many requests: keep-alive works, and the supervisor is still fine
    assert get_json(result.env.services["api"].url + "/")["release"] == "v1"
    assert handle.supervisor().status == "healthy"


def test_client_from_env_says_what_is_missing(monkeypatch):
    monkeypatch.delenv("PRODBENCH_RUNTIME_URL", raising=False)
    monkeypatch.setenv("PRODBENCH_RUNTIME_TOKEN", "t")
    with pytest.raises(RuntimeControlError, match="PRODBENCH_RUNTIME_URL not set: only services"):
        RuntimeClient.from_env()


def test_client_reports_an_unreachable_runtime():
    client = RuntimeClient("http://127.0.0.1:1", "t", timeout=2)
    with pytest.raises(RuntimeControlError, match="cannot reach the runtime control API"):
        client.instances()
    client.close()


# ---- nothing outlives the run ----------------------------------------------------------------


def test_down_with_extra_instances_leaves_no_process(up_with_vars):
    result, handle = up_with_vars(
        stack(release_service("api"), release_service("web", depends_on=["api"])),
        {"release": "v1"},
    )
    assert result.status == "healthy", result.error
    with client_for(handle) as client:
        pids = [client.add_instance(s, f"{s}-canary")["pid"] for s in ("api", "web")]
    assert all(not pid_gone(p) for p in pids)
    assert stop_run(handle) == "stopped"
    assert run_processes(handle.run_id) == []
    assert all(pid_gone(p) for p in pids)
    state = handle.supervisor()
    assert state.status == "stopped"
    assert {i.status for i in state.instances.values()} == {"stopped"}
    assert not _reserved(f"{handle.run_id}/api-canary")


def test_sigkill_of_the_supervisor_with_an_extra_instance_leaves_no_process(up_with_vars):
    result, handle = up_with_vars(stack(release_service("api")), {"release": "v1"})
    assert result.status == "healthy", result.error
    with client_for(handle) as client:
        canary = client.add_instance("api", "api-canary")
    os.kill(handle.supervisor().pid, signal.SIGKILL)
    wait_for(lambda: run_processes(handle.run_id) == [], timeout=8)
    assert pid_gone(canary["pid"])
    assert handle.live_status() == "crashed"


def test_status_lists_extra_instances_and_pending_on_request_services(up_in_background, runs_dir):
    spec = stack(release_service("api", env={}), release_service("web", start="on-request"))
    box, handle, thread = up_in_background(spec)
    client = client_for(handle)
    wait_for(lambda: handle.supervisor().services["api"].status == "healthy", timeout=10)
    pending = _status_table(runs_dir, handle)
    assert "pending (started by the deployer)" in pending
    canary = client.add_instance("api", "api-canary", vars={"release": "v2"})
    client.start("web", vars={"release": "v1"})
    thread.join(timeout=30)
    assert box["result"].status == "healthy", box["result"].error
    table = _status_table(runs_dir, handle).splitlines()
    api_row = next(i for i, line in enumerate(table) if line.startswith("api "))
    canary_row = table[api_row + 1]
    assert "└ api-canary" in canary_row and "healthy" in canary_row and canary["url"] in canary_row
    assert "pending (started by the deployer)" not in "\n".join(table)
    as_json = json.loads(_cli(runs_dir, "status", handle.run_id, "--json").stdout)
    assert "token" not in as_json["supervisor"]["control"]
    assert as_json["supervisor"]["instances"]["api-canary"]["service"] == "api"


def _status_table(runs_dir: Path, handle: RunHandle) -> str:
    return _cli(runs_dir, "status", handle.run_id).stdout


def _cli(runs_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "250", "NO_COLOR": "1", "PRODBENCH_RUNS_DIR": str(runs_dir)}
    prodbench = str(Path(sys.executable).with_name("prodbench"))
    return subprocess.run(
        [prodbench, *args], capture_output=True, text=True, env=env, timeout=60, check=True
    )


def _reserved(owner: str) -> bool:
    path = PortAllocator(machine_state_dir()).path
    try:
        return owner in json.loads(path.read_text())
    except (OSError, ValueError):
        return False
