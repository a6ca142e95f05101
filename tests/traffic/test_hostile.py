"""Hostile traffic: seeded attack sequences, and the traffic process's admin endpoint for them.

The process tests run `python -m traffic` for real against a small recording HTTP server on
loopback, which answers just enough of Acme's API for the traffic to start.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import islice, pairwise
from pathlib import Path
from urllib.parse import parse_qsl

import httpx
import pytest

from traffic.hostile import ATTACKS, ENUMERATED, attack_requests, attacker

ROOT = Path(__file__).resolve().parents[2]
SEED = 7
TOKEN = "hostile-admin-token"


# ---- the seeded sequences ----------------------------------------------------------------


def _first(seed: int, kind: str, n: int = 300) -> list:
    return list(islice(attack_requests(seed, kind), n))


@pytest.mark.parametrize("kind", ATTACKS)
def test_the_seed_decides_the_sequence_and_the_fingerprint(kind):
    assert _first(SEED, kind) == _first(SEED, kind)
    assert _first(SEED, kind) != _first(SEED + 1, kind)
    who = attacker(SEED, kind)
    assert 3 <= len(who.ips) <= 6 and len(set(who.ips)) == len(who.ips)
    assert len({ip.rsplit(".", 1)[0] for ip in who.ips}) <= 2  # one or two provider blocks
    for req in _first(SEED, kind):
        assert req.ip in who.ips
        assert req.headers["User-Agent"] == who.user_agent
    assert attacker(SEED, kind) != attacker(SEED + 1, kind)


def test_credential_stuffing_posts_leaked_logins_to_both_login_routes():
    reqs = _first(SEED, "credential_stuffing")
    assert {(r.method, r.path) for r in reqs} == {("POST", "/api/v1/sessions"), ("POST", "/login")}
    emails = {(r.json or r.form)["email"] for r in reqs}
    assert len(emails) > 250  # a leaked list, not one account
    assert all(
        r.form and set(r.form) == {"email", "password", "next"} for r in reqs if r.path == "/login"
    )


def test_id_enumeration_walks_sequential_ids():
    reqs = _first(SEED, "id_enumeration", 1000)
    templates = {t for t, _ in ENUMERATED.values()}
    ids = []
    for r in reqs:
        assert r.method == "GET"
        assert re.sub(r"/\d+", "/{id}", r.path) in templates, r.path
        ids.append(int(re.search(r"/(\d+)", r.path).group(1)))
    steps = [b - a for a, b in pairwise(ids)]
    runs = sum(1 for s in steps if s != 1)
    assert steps.count(1) > 0.9 * len(steps) and runs >= 5
    assert len({re.sub(r"/\d+", "/{id}", r.path) for r in reqs}) >= 3


def test_scraping_crawls_the_catalogue_as_a_bot():
    reqs = _first(SEED, "scraping")
    paths = [r.path for r in reqs]
    assert sum(p.startswith("/products/") for p in paths) > 200
    assert any(p.startswith("/search?q=") for p in paths)
    assert any(p.startswith("/products?page=") for p in paths)
    assert re.search(r"bot|scrapy", attacker(SEED, "scraping").user_agent, re.IGNORECASE)


def test_an_unknown_attack_is_refused():
    with pytest.raises(ValueError, match="unknown attack 'ddos'"):
        next(attack_requests(1, "ddos"))


# ---- the process ----------------------------------------------------------------------------


class Recorder(ThreadingHTTPServer):
    """Answers what `load_world` reads; records every request the attackers send."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.hostile: list[dict] = []
        self.other = 0
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def since(self, n: int) -> list[dict]:
        with self.lock:
            return list(self.hostile[n:])


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *_args) -> None:
        pass

    def _answer(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _handle(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        path = self.path.split("?")[0]
        server: Recorder = self.server  # type: ignore[assignment]
        if "X-Forwarded-For" in self.headers:
            kind = self.headers.get("Content-Type", "")
            body = json.loads(raw) if "json" in kind else dict(parse_qsl(raw.decode())) or None
            record = {
                "method": self.command,
                "path": self.path,
                "ip": self.headers["X-Forwarded-For"],
                "ua": self.headers.get("User-Agent"),
                "auth": self.headers.get("Authorization"),
                "body": body,
                "at": time.monotonic(),
            }
            with server.lock:
                server.hostile.append(record)
            self._answer(401 if self.command == "POST" else 404, {"error": "no"})
            return
        with server.lock:
            server.other += 1
        if path == "/api/v1/sessions":
            self._answer(201, {"token": "admin-token"})
        elif path == "/api/v1/admin/users":
            users = [{"id": 1, "email": "admin@acme.test", "is_admin": True}] + [
                {"id": i, "email": f"c{i}@example.com", "is_admin": False} for i in range(2, 6)
            ]
            self._answer(200, {"total": len(users), "items": users})
        elif path == "/api/v1/products":
            self._answer(200, {"items": [{"id": 1, "in_stock": True}, {"id": 2, "in_stock": True}]})
        elif path == "/api/v1/categories":
            self._answer(200, [{"slug": "gear"}])
        else:
            self._answer(404, {"error": "not here"})

    do_GET = do_POST = do_PUT = do_DELETE = _handle


@pytest.fixture
def recorder():
    server = Recorder()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_traffic(target: str, *extra: str) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "traffic",
            "--target",
            target,
            "--seed",
            str(SEED),
            "--users",
            "1",
            "--metrics-port",
            str(port),
            "--no-probes",
            "--think-scale",
            "0.2",
            *extra,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"traffic exited: {proc.stderr.read()[-2000:]}")
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return proc, base
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise AssertionError("traffic did not become healthy")


def _stop(proc: subprocess.Popen) -> str:
    proc.terminate()
    out, _ = proc.communicate(timeout=20)
    return out


def _wait_for(recorder: Recorder, start: int, n: int, timeout: float = 10) -> list[dict]:
    deadline = time.monotonic() + timeout
    while len(recorder.since(start)) < n and time.monotonic() < deadline:
        time.sleep(0.05)
    return recorder.since(start)


def _expected(kind: str, n: int) -> list[tuple]:
    return [
        (r.method, r.path, r.ip, r.headers["User-Agent"], r.json or r.form)
        for r in islice(attack_requests(SEED, kind), n)
    ]


def _seen(records: list[dict]) -> list[tuple]:
    return [(r["method"], r["path"], r["ip"], r["ua"], r["body"]) for r in records]


def test_hostile_traffic_starts_changes_and_stops_through_the_admin_endpoint(recorder):
    proc, base = _start_traffic(recorder.url, "--admin-token", TOKEN)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    admin = httpx.Client(base_url=base + "/admin/hostile", headers=auth, timeout=10)
    try:
        assert admin.get("").json() == {"active": []}

        # The seeded sequence, at roughly the asked rate, with the attacker's fingerprint.
        started = time.monotonic()
        resp = admin.put("/credential_stuffing", json={"rate": 20})
        assert resp.status_code == 200 and resp.json()["attack"]["rate"] == 20
        time.sleep(2.0)
        got = recorder.since(0)
        elapsed = time.monotonic() - started
        assert 0.6 * 20 * elapsed <= len(got) <= 1.3 * 20 * elapsed + 2, (len(got), elapsed)
        assert _seen(got[:25]) == _expected("credential_stuffing", 25)
        others_before = recorder.other
        active = admin.get("").json()["active"]
        assert [(a["kind"], a["rate"]) for a in active] == [("credential_stuffing", 20)]

        # A new rate applies to the running attack, without restarting its sequence.
        assert admin.put("/credential_stuffing", json={"rate": 4}).status_code == 200
        mark = len(recorder.since(0))
        time.sleep(1.5)
        slow = len(recorder.since(mark))
        assert 2 <= slow <= 10, slow

        # Stop stops it.
        stopped = admin.delete("/credential_stuffing")
        assert (
            stopped.status_code == 200
            and stopped.json()["stopped"]["kind"] == "credential_stuffing"
        )
        time.sleep(0.3)
        settled = len(recorder.since(0))
        time.sleep(1.0)
        assert len(recorder.since(0)) == settled
        assert admin.get("").json() == {"active": []}
        assert admin.delete("/credential_stuffing").status_code == 404

        # Starting again replays the same sequence from its beginning.
        assert admin.put("/credential_stuffing", json={"rate": 50}).status_code == 200
        again = _wait_for(recorder, settled, 10)
        admin.delete("/credential_stuffing")
        assert _seen(again[:10]) == _expected("credential_stuffing", 10)

        # The other attacks, side by side, each with its own fingerprint.
        mark = len(recorder.since(0))
        for kind in ("id_enumeration", "scraping"):
            assert admin.put(f"/{kind}", json={"rate": 30}).status_code == 200
        assert {a["kind"] for a in admin.get("").json()["active"]} == {"id_enumeration", "scraping"}
        records = _wait_for(recorder, mark, 40)
        for kind in ("id_enumeration", "scraping"):
            admin.delete(f"/{kind}")
        for kind in ("id_enumeration", "scraping"):
            who = attacker(SEED, kind)
            mine = [r for r in records if r["ua"] == who.user_agent]
            assert len(mine) >= 10 and all(r["ip"] in who.ips for r in mine)
            assert _seen(mine[:10]) == _expected(kind, 10)

        metrics = httpx.get(base + "/metrics", timeout=5).text
        assert 'traffic_hostile_requests_total{kind="credential_stuffing",status="401"}' in metrics
        assert 'traffic_hostile_requests_total{kind="scraping",status="404"}' in metrics
        assert 'traffic_hostile_rate{kind="scraping"} 0.0' in metrics
        assert recorder.other > others_before, "the simulated users stopped while attacked"
    finally:
        admin.close()
        out = _stop(proc)
    events = [json.loads(line)["event"] for line in out.splitlines() if line.startswith("{")]
    assert "hostile_started" in events and "hostile_stopped" in events


def test_the_admin_endpoint_refuses_bad_calls(recorder):
    proc, base = _start_traffic(recorder.url, "--admin-token", TOKEN)
    url = base + "/admin/hostile"
    auth = {"Authorization": f"Bearer {TOKEN}"}
    try:
        cases = [
            (httpx.get(url, timeout=5), 401, "bearer token"),
            (httpx.get(url, headers={"Authorization": "Bearer nope"}, timeout=5), 401, "token"),
            (httpx.put(url + "/ddos", headers=auth, json={"rate": 1}, timeout=5), 404, "no attack"),
            (
                httpx.put(url + "/scraping", headers=auth, json={"rate": "fast"}, timeout=5),
                400,
                "rate",
            ),
            (httpx.put(url + "/scraping", headers=auth, json={"rate": 0}, timeout=5), 400, "rate"),
            (
                httpx.put(url + "/scraping", headers=auth, json={"rate": 1e6}, timeout=5),
                400,
                "at most",
            ),
            (
                httpx.put(url + "/scraping", headers=auth, json={"speed": 3}, timeout=5),
                400,
                "speed",
            ),
            (httpx.put(url + "/scraping", headers=auth, content=b"{nope", timeout=5), 400, "JSON"),
            (httpx.put(url + "/scraping", headers=auth, json=[1], timeout=5), 400, "object"),
            (httpx.post(url, headers=auth, timeout=5), 405, "GET"),
            (httpx.delete(url + "/scraping", headers=auth, timeout=5), 404, "not running"),
        ]
        for resp, status, message in cases:
            assert resp.status_code == status, (resp.request.url, resp.text)
            assert message in resp.json()["error"], resp.text
        assert httpx.get(url, headers=auth, timeout=5).json() == {"active": []}
        assert recorder.hostile == []
    finally:
        _stop(proc)


def test_without_a_token_the_admin_endpoint_is_disabled(recorder):
    proc, base = _start_traffic(recorder.url)
    try:
        resp = httpx.put(
            base + "/admin/hostile/scraping",
            headers={"Authorization": "Bearer anything"},
            json={"rate": 5},
            timeout=5,
        )
        assert resp.status_code == 403 and "admin endpoint disabled" in resp.json()["error"]
        assert httpx.get(base + "/metrics", timeout=5).status_code == 200
    finally:
        _stop(proc)
    assert recorder.hostile == []
