"""Fault injection: the fault API over real collaborators where it matters.

Payments runs for real (`python -m acme.payments`); the faults file is read back with the app's
own parser; the traffic side is the traffic process's real admin endpoint (traffic/admin.py)
over a stand-in attack engine; the supervisor is a stand-in `Runtime` whose "instances" are
real process groups, so a crash really kills them.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, make_server

import httpx
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from environments.ops.faults import FaultManager, fault_routes
from environments.runtime.client import RuntimeControlError
from environments.runtime.control import InstanceInfo
from traffic.admin import admin_app
from traffic.hostile import ATTACKS

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "environments" / "acme" / "app"
ADMIN = "ops-admin-token"
TRAFFIC_TOKEN = "traffic-admin-token"
CARD = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2031, "cvc": "123"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"exited: {proc.stdout.read()[-2000:] if proc.stdout else ''}")
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url} did not become healthy")


# ---- collaborators ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def payments(tmp_path_factory):
    """The payments simulator, as a run starts it."""
    state = tmp_path_factory.mktemp("payments")
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(APP),
        "ACME_PAYMENTS_DATABASE_URL": f"sqlite:///{state / 'payments.db'}",
        "ACME_SERVICE_INSTANCE": "payments-1",
        "ACME_LOG_LEVEL": "WARNING",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "acme.payments", "--host", "127.0.0.1", "--port", str(port)],
        cwd=APP,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc)
        yield url
    finally:
        proc.terminate()
        proc.communicate(timeout=15)


def _charge(payments: str) -> tuple[int, float]:
    started = time.monotonic()
    resp = httpx.post(
        payments + "/v1/charges",
        json={"amount_cents": 1000, "currency": "usd", "card": CARD},
        timeout=10,
    )
    return resp.status_code, time.monotonic() - started


class Attacks:
    """Stands in for traffic.hostile.HostileTraffic behind the real admin endpoint."""

    def __init__(self) -> None:
        self.running: dict[str, float] = {}
        self.calls: list[tuple] = []

    def start(self, kind: str, rate: float = 5.0) -> dict:
        self.calls.append(("start", kind, rate))
        self.running[kind] = rate
        return {"kind": kind, "rate": rate, "sent": 0, "started_at": 0}

    def stop(self, kind: str) -> dict | None:
        self.calls.append(("stop", kind))
        rate = self.running.pop(kind, None)
        return None if rate is None else {"kind": kind, "rate": rate, "sent": 0, "started_at": 0}

    def active(self) -> list[dict]:
        return [{"kind": k, "rate": r, "sent": 0, "started_at": 0} for k, r in self.running.items()]


class _Quiet(WSGIRequestHandler):
    def log_message(self, *_args) -> None:
        pass


@pytest.fixture
def traffic():
    attacks = Attacks()
    server = make_server("127.0.0.1", 0, admin_app(attacks, TRAFFIC_TOKEN), handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", attacks
    server.shutdown()
    server.server_close()


class FakeRuntime:
    """The supervisor's control API as the manager sees it; instances are real processes."""

    def __init__(self) -> None:
        self.procs: dict[str, subprocess.Popen] = {}
        self.info: dict[str, InstanceInfo] = {}
        self.restarts: list[tuple[str, dict | None]] = []
        self.fail: Exception | None = None

    def spawn(self, service: str, instance: str, main: bool, env: dict | None = None) -> None:
        # A process group of two, as a service with a child would be.
        proc = subprocess.Popen(
            ["bash", "-c", "sleep 60 & wait"], start_new_session=True, stdout=subprocess.DEVNULL
        )
        self.procs[instance] = proc
        self.info[instance] = InstanceInfo(
            instance=instance,
            service=service,
            main=main,
            status="healthy",
            pid=proc.pid,
            env=env or {},
        )

    def instances(self) -> list[InstanceInfo]:
        return list(self.info.values())

    def restart(self, service: str, vars=None, env=None) -> InstanceInfo:
        self.restarts.append((service, env))
        if self.fail is not None:
            raise self.fail
        main = next(i for i in self.info.values() if i.service == service and i.main)
        main.env = dict(env or {})
        return main

    def close(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture
def runtime():
    rt = FakeRuntime()
    rt.spawn("api", "api", main=True, env={"EXISTING": "1"})
    rt.spawn("api", "api-canary", main=False)
    rt.spawn("worker", "worker", main=True)
    yield rt
    rt.close()


@pytest.fixture
def make(tmp_path, payments, traffic, runtime):
    """A FaultManager over this test's state dir, and a client for its routes."""
    made: list[FaultManager] = []

    def _make(**overrides) -> tuple[FaultManager, TestClient]:
        kwargs = {
            "state_dir": tmp_path / "state",
            "payments_url": payments,
            "faults_file": tmp_path / "state" / "faults.json",
            "traffic_url": traffic[0],
            "traffic_token": TRAFFIC_TOKEN,
            "runtime": runtime,
            "reconcile_interval": None,
            **overrides,
        }
        manager = FaultManager(**kwargs)
        made.append(manager)
        app = Starlette(routes=fault_routes(manager, ADMIN))
        return manager, TestClient(app, headers={"Authorization": f"Bearer {ADMIN}"})

    yield _make
    for manager in made:
        manager.stop_all()
        manager.close()


def _start(client: TestClient, spec: dict) -> dict:
    resp = client.post("/api/v1/faults", json=spec)
    assert resp.status_code == 201, resp.text
    return resp.json()["fault"]


def _faults_file(tmp_path: Path) -> dict:
    return json.loads((tmp_path / "state" / "faults.json").read_text())


# ---- payments -----------------------------------------------------------------------------------


def test_payments_faults_take_effect_and_stopping_restores_none(make, payments):
    _, client = make()
    latency = _start(client, {"kind": "payments_latency", "latency_ms": 400})
    assert latency["id"] == "f-1" and latency["status"] == "active"
    assert httpx.get(payments + "/admin/faults").json()["latency_ms"] == 400
    status, took = _charge(payments)
    assert status == 201 and took >= 0.4

    errors = _start(client, {"kind": "payments_errors", "rate": 1.0})
    assert errors["id"] == "f-2"
    state = httpx.get(payments + "/admin/faults").json()
    assert (state["latency_ms"], state["failure_rate"], state["failure_mode"]) == (
        400,
        1.0,
        "error",
    )
    assert _charge(payments)[0] == 503

    clash = client.post("/api/v1/faults", json={"kind": "payments_latency", "latency_ms": 50})
    assert clash.status_code == 409 and "f-1" in clash.json()["error"]

    assert client.delete("/api/v1/faults/f-1").json()["fault"]["status"] == "stopped"
    state = httpx.get(payments + "/admin/faults").json()
    assert (state["latency_ms"], state["failure_rate"]) == (0, 1.0)

    client.delete("/api/v1/faults/f-2")
    state = httpx.get(payments + "/admin/faults").json()
    assert (state["latency_ms"], state["jitter_ms"], state["failure_rate"]) == (0, 0, 0.0)
    status, took = _charge(payments)
    assert status == 201 and took < 0.4
    listed = client.get("/api/v1/faults").json()["faults"]
    assert [(f["id"], f["status"], f["stop_reason"]) for f in listed] == [
        ("f-1", "stopped", "requested"),
        ("f-2", "stopped", "requested"),
    ]


def test_payments_errors_can_decline(make, payments):
    _, client = make()
    _start(client, {"kind": "payments_errors", "rate": 1.0, "status": 402})
    assert httpx.get(payments + "/admin/faults").json()["failure_mode"] == "decline"
    assert _charge(payments)[0] == 402


def test_payments_faults_are_reasserted_when_payments_forgets_them(make, payments):
    _, client = make(reconcile_interval=0.2)
    _start(client, {"kind": "payments_latency", "latency_ms": 120, "jitter_ms": 10})
    httpx.post(payments + "/admin/faults", json={})  # as a restart (or a redeploy) would
    deadline = time.monotonic() + 5
    while httpx.get(payments + "/admin/faults").json()["latency_ms"] != 120:
        assert time.monotonic() < deadline, "the manager did not set the latency again"
        time.sleep(0.1)
    assert httpx.get(payments + "/admin/faults").json()["jitter_ms"] == 10


# ---- the faults file ----------------------------------------------------------------------------


def test_db_slow_and_worker_stall_rewrite_the_faults_file(make, tmp_path):
    _, client = make()
    _start(client, {"kind": "db_slow", "latency_ms": 250, "services": ["api", "api"]})
    assert _faults_file(tmp_path) == {"db_latency_ms": 250, "db_latency_services": ["api"]}
    stall = _start(client, {"kind": "worker_stall"})
    content = _faults_file(tmp_path)
    assert content == {"db_latency_ms": 250, "db_latency_services": ["api"], "worker_stall": True}

    # The app reads it as meant (acme/common/faults.py).
    check = (
        "import json, sys; from acme.common.faults import parse_faults; "
        "s = parse_faults(json.load(open(sys.argv[1]))); "
        "print(s.db_delay_for('api'), s.db_delay_for('worker'), s.worker_stall)"
    )
    out = subprocess.run(
        [sys.executable, "-c", check, str(tmp_path / "state" / "faults.json")],
        env={**os.environ, "PYTHONPATH": str(APP)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert out == ["0.25", "0.0", "True"]

    client.delete("/api/v1/faults/f-1")
    assert _faults_file(tmp_path) == {"worker_stall": True}
    client.delete(f"/api/v1/faults/{stall['id']}")
    assert _faults_file(tmp_path) == {}


def test_db_slow_for_every_service(make, tmp_path):
    _, client = make()
    _start(client, {"kind": "db_slow", "latency_ms": 40})
    assert _faults_file(tmp_path) == {"db_latency_ms": 40}


# ---- processes: crash and bad config ----------------------------------------------------------


def _dead(proc: subprocess.Popen, timeout: float = 5) -> bool:
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        return False
    # Its child was killed with it: nothing of the group is left but zombies (this machine's
    # pid 1 may not reap the orphans).
    ps = subprocess.run(
        ["ps", "-o", "stat=", "-g", str(proc.pid)], capture_output=True, text=True, check=False
    )
    return all(stat.startswith("Z") for stat in ps.stdout.split())


def test_service_crash_kills_the_process_group(make, runtime):
    _, client = make()
    fault = _start(client, {"kind": "service_crash", "service": "api"})
    assert fault["status"] == "stopped" and fault["stop_reason"] == "one-shot"
    assert f"pid {runtime.procs['api'].pid}" in fault["detail"]
    assert _dead(runtime.procs["api"])
    assert runtime.procs["api-canary"].poll() is None and runtime.procs["worker"].poll() is None

    canary = _start(client, {"kind": "service_crash", "service": "api", "instance": "api-canary"})
    assert "api-canary" in canary["detail"] and _dead(runtime.procs["api-canary"])

    again = client.post("/api/v1/faults", json={"kind": "service_crash", "service": "api"})
    assert again.status_code == 409 and "not running" in again.json()["error"]
    unknown = client.post("/api/v1/faults", json={"kind": "service_crash", "service": "billing"})
    assert unknown.status_code == 404 and "services: api, worker" in unknown.json()["error"]
    missing = client.post(
        "/api/v1/faults", json={"kind": "service_crash", "service": "api", "instance": "api-9"}
    )
    assert missing.status_code == 404 and "api-canary" in missing.json()["error"]
    timed = client.post(
        "/api/v1/faults", json={"kind": "service_crash", "service": "worker", "duration_s": 5}
    )
    assert timed.status_code == 422 and "duration_s" in timed.json()["error"]


def test_bad_config_restarts_with_overrides_and_stopping_restores(make, runtime):
    _, client = make()
    fault = _start(
        client, {"kind": "bad_config", "service": "api", "env": {"ACME_DB_POOL_SIZE": "zero"}}
    )
    assert runtime.restarts == [("api", {"EXISTING": "1", "ACME_DB_POOL_SIZE": "zero"})]
    assert fault["restore_env"] == {"EXISTING": "1"} and fault["status"] == "active"
    clash = client.post(
        "/api/v1/faults", json={"kind": "bad_config", "service": "api", "env": {"X": "1"}}
    )
    assert clash.status_code == 409
    client.delete(f"/api/v1/faults/{fault['id']}")
    assert runtime.restarts[-1] == ("api", {"EXISTING": "1"})


def test_bad_config_that_keeps_the_service_down_is_still_active(make, runtime):
    _, client = make()
    runtime.fail = RuntimeControlError("api did not become healthy", 422, ["boom"])
    fault = _start(client, {"kind": "bad_config", "service": "api", "env": {"ACME_X": "1"}})
    assert fault["status"] == "active" and "failed" in fault["detail"]

    runtime.fail = RuntimeControlError("cannot reach the runtime control API")
    refused = client.post(
        "/api/v1/faults", json={"kind": "bad_config", "service": "worker", "env": {"ACME_X": "1"}}
    )
    assert refused.status_code == 502 and "cannot reach" in refused.json()["error"]
    assert [f["id"] for f in client.get("/api/v1/faults").json()["faults"]] == ["f-1"]


# ---- hostile traffic ------------------------------------------------------------------------------


def test_hostile_traffic_goes_through_the_traffic_admin_endpoint(make, traffic):
    _, attacks = traffic
    _, client = make()
    fault = _start(client, {"kind": "hostile_traffic", "attack": "scraping", "rate": 12})
    assert attacks.calls == [("start", "scraping", 12.0)]
    assert "12" in fault["detail"]
    _start(client, {"kind": "hostile_traffic", "attack": "credential_stuffing"})
    assert attacks.running == {"scraping": 12.0, "credential_stuffing": 5.0}
    dup = client.post("/api/v1/faults", json={"kind": "hostile_traffic", "attack": "scraping"})
    assert dup.status_code == 409

    attacks.running.pop("credential_stuffing")  # the traffic process restarted, say
    client.delete(f"/api/v1/faults/{fault['id']}")
    assert attacks.running == {}
    body = client.delete("/api/v1/faults").json()  # stopping one it no longer runs is fine
    assert [f["id"] for f in body["stopped"]] == ["f-2"] and body["errors"] == []


def test_hostile_attacks_are_the_traffic_processes(make):
    from typing import get_args

    from environments.ops.faults import Attack

    assert set(get_args(Attack)) == set(ATTACKS)


def test_without_traffic_hostile_traffic_is_unavailable(make):
    _, client = make(traffic_url=None)
    resp = client.post("/api/v1/faults", json={"kind": "hostile_traffic", "attack": "scraping"})
    assert resp.status_code == 503 and "no traffic" in resp.json()["error"]


# ---- the API ----------------------------------------------------------------------------------


def test_the_admin_token_is_required(make):
    _, client = make()
    for headers in ({"Authorization": ""}, {"Authorization": "Bearer wrong"}):
        resp = client.get("/api/v1/faults", headers=headers)
        assert resp.status_code == 401 and "token" in resp.json()["error"]
    resp = client.post(
        "/api/v1/faults", json={"kind": "worker_stall"}, headers={"Authorization": ""}
    )
    assert resp.status_code == 401


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"{not json", 400, "not JSON"),
        (b"[1, 2]", 400, "JSON object"),
        (b"{}", 422, "kind: required; use one of payments_latency"),
        (b'{"kind": "meteor"}', 422, "kind: unknown kind 'meteor'"),
        (b'{"kind": "payments_latency"}', 422, "latency_ms: Field required"),
        (b'{"kind": "payments_latency", "latency_ms": -5}', 422, "latency_ms: Input should be"),
        (b'{"kind": "payments_errors", "rate": 2}', 422, "rate: Input should be less than"),
        (b'{"kind": "payments_errors", "rate": 0.5, "status": 500}', 422, "status"),
        (b'{"kind": "db_slow", "latency_ms": 5, "services": ["web"]}', 422, "services.0"),
        (b'{"kind": "worker_stall", "colour": "red"}', 422, "colour: Extra inputs"),
        (b'{"kind": "worker_stall", "duration_s": 0}', 422, "duration_s"),
        (b'{"kind": "bad_config", "service": "api", "env": {}}', 422, "env"),
        (b'{"kind": "bad_config", "service": "api", "env": {"1X": "y"}}', 422, "'1X' is not"),
        (b'{"kind": "bad_config", "service": "api", "env": {"PRODBENCH_RUN_ID": "y"}}', 422, "env"),
        (b'{"kind": "service_crash", "service": "API!"}', 422, "service: String should match"),
        (b'{"kind": "hostile_traffic", "attack": "ddos"}', 422, "attack: Input should be"),
        (b'{"kind": "hostile_traffic", "attack": "scraping", "rate": 0}', 422, "rate"),
    ],
)
def test_bad_input_is_a_4xx_naming_the_field(make, body, status, message):
    _, client = make()
    resp = client.post("/api/v1/faults", content=body)
    assert resp.status_code == status, resp.text
    assert message in resp.json()["error"], resp.json()
    if status == 422:
        assert resp.json()["details"] and all("field" in d for d in resp.json()["details"])


def test_unknown_ids_and_filters(make):
    _, client = make()
    assert client.delete("/api/v1/faults/f-99").status_code == 404
    assert client.get("/api/v1/faults/f-99").status_code == 404
    bad = client.get("/api/v1/faults", params={"status": "weird"})
    assert bad.status_code == 400 and "status" in bad.json()["error"]
    fault = _start(client, {"kind": "worker_stall"})
    assert client.get(f"/api/v1/faults/{fault['id']}").json()["fault"]["id"] == fault["id"]
    assert [f["id"] for f in client.get("/api/v1/faults?status=active").json()["faults"]] == ["f-1"]
    assert client.get("/api/v1/faults?status=stopped").json()["faults"] == []
    first = client.delete("/api/v1/faults/f-1").json()["fault"]
    assert client.delete("/api/v1/faults/f-1").json()["fault"] == first  # already stopped: as is


def test_faults_persist_across_a_new_manager(make, tmp_path):
    manager, client = make()
    _start(client, {"kind": "db_slow", "latency_ms": 100})
    _start(client, {"kind": "worker_stall"})
    client.delete("/api/v1/faults/f-1")
    before = client.get("/api/v1/faults").json()["faults"]
    manager.close()
    saved = json.loads((tmp_path / "state" / "ops" / "faults.json").read_text())
    assert saved["next_id"] == 3 and [f["id"] for f in saved["faults"]] == ["f-1", "f-2"]

    _, again = make()
    assert again.get("/api/v1/faults").json()["faults"] == before
    assert _start(again, {"kind": "payments_latency", "latency_ms": 5})["id"] == "f-3"
    again.delete("/api/v1/faults/f-2")
    assert _faults_file(tmp_path) == {}


def test_duration_stops_a_fault_by_itself(make, tmp_path):
    _, client = make()
    fault = _start(client, {"kind": "worker_stall", "duration_s": 0.5})
    assert fault["expires_at"] is not None and _faults_file(tmp_path) == {"worker_stall": True}
    deadline = time.monotonic() + 5
    while client.get("/api/v1/faults/f-1").json()["fault"]["status"] == "active":
        assert time.monotonic() < deadline, "the fault did not expire"
        time.sleep(0.05)
    assert client.get("/api/v1/faults/f-1").json()["fault"]["stop_reason"] == "expired"
    assert _faults_file(tmp_path) == {}


def test_a_fault_that_expired_while_ops_was_down_stops_at_start(make, tmp_path):
    manager, client = make()
    _start(client, {"kind": "worker_stall", "duration_s": 0.3})
    manager.close()  # no ticker: it cannot expire now
    time.sleep(0.5)
    assert _faults_file(tmp_path) == {"worker_stall": True}
    _, again = make()
    deadline = time.monotonic() + 5
    while _faults_file(tmp_path) != {}:
        assert time.monotonic() < deadline, "the expired fault was not stopped"
        time.sleep(0.05)
    assert again.get("/api/v1/faults/f-1").json()["fault"]["stop_reason"] == "expired"
