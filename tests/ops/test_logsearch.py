"""Log search over a run's logs directory, through its HTTP route, over files written here."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from environments.ops.logsearch import LogSearch, log_routes

AGENT, ADMIN = "agent-token", "admin-token"
NOW = time.time()  # what the files' times are relative to; set again by each fixture


def iso(seconds_ago: float) -> str:
    return datetime.fromtimestamp(NOW - seconds_ago, UTC).isoformat(timespec="milliseconds")


def app_line(ago: float, msg: str, level: str = "info", **fields) -> str:
    """A line as the Acme services write it (acme/common/logging.py)."""
    record = {
        "ts": iso(ago),
        "level": level,
        "service": fields.pop("service", "api"),
        "instance": fields.pop("instance", "api-1"),
        "request_id": None,
        "logger": "acme",
        "msg": msg,
        **fields,
    }
    return json.dumps(record, separators=(",", ":"))


TRACEBACK = """Traceback (most recent call last):
  File "/srv/acme/api/app.py", line 10, in handler
    return repo.load(order_id)
KeyError: 'order'

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "/srv/acme/api/app.py", line 12, in handler
    raise LookupFailed(order_id)
acme.api.errors.LookupFailed: order 42 vanished"""


def write(path: Path, lines: list[str], mtime_ago: float = 0.0) -> None:
    path.write_text("\n".join(lines) + "\n")
    os.utime(path, (NOW - mtime_ago, NOW - mtime_ago))


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    global NOW
    NOW = time.time()
    d = tmp_path / "logs"
    d.mkdir()
    write(
        d / "api.log",
        [
            "--- prodbench: starting api: python -m acme.api --port 1",
            app_line(600, "starting", logger="acme.common.server"),
            app_line(300, "request", route="/api/v1/orders", status=200, duration_ms=12.5),
            app_line(120, "payments slow", level="warning", upstream="payments"),
            app_line(60, "Unhandled error in GET /api/v1/orders/42", level="error"),
            *TRACEBACK.splitlines(),
            app_line(30, "request", route="/api/v1/products", status=200),
            "INFO:     some plain line from a library",
        ],
        mtime_ago=20,
    )
    write(
        d / "api-canary.log",
        [app_line(45, "canary request", instance="api-canary", route="/api/v1/cart")],
        mtime_ago=45,
    )
    write(
        d / "web.log",  # as the tools write theirs: epoch seconds in `time`
        [json.dumps({"time": NOW - 90, "level": "critical", "service": "web", "msg": "PANIC"})],
        mtime_ago=90,
    )
    write(
        d / "prometheus.log",
        [
            json.dumps(
                {
                    "caller": "scrape.go:1",
                    "level": "warn",
                    "msg": "Scrape failed",
                    "ts": iso(50).replace("+00:00", "Z"),
                }
            )
        ],
        mtime_ago=50,
    )
    write(d / "db-init.log", [json.dumps({"cache": "hit", "seconds": 0.03})], mtime_ago=700)
    write(d / "traffic.log", [json.dumps({"event": "hostile_started", "kind": "scraping"})])
    write(d / "ops.log", [app_line(10, "fault f-1 started", service="ops")])
    write(d / "_supervisor.log", ["supervisor internals"])
    return d


@pytest.fixture
def client(logs: Path) -> TestClient:
    app = Starlette(routes=log_routes(logs, {AGENT, ADMIN}))
    return TestClient(app, headers={"Authorization": f"Bearer {AGENT}"})


def search(client: TestClient, **params) -> dict:
    resp = client.get("/api/v1/logs", params=params)
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_newest_first_across_services_with_their_fields(client):
    body = search(client)
    assert body["truncated"] is False
    lines = body["lines"]
    times = [line["time"] for line in lines]
    assert times == sorted(times, reverse=True)
    first = lines[0]  # the plain line at the end of api.log: the file's mtime
    assert first["msg"] == "INFO:     some plain line from a library"
    assert first["level"] == "info" and first["time_inferred"] is True
    assert (first["service"], first["instance"]) == ("api", "api")
    request = next(line for line in lines if line.get("route") == "/api/v1/products")
    assert request["time"] == iso(30)
    assert request["service"] == "api" and request["instance"] == "api-1"
    assert request["level"] == "info" and request["msg"] == "request" and request["status"] == 200
    assert "ts" not in request and request["logger"] == "acme"
    web = next(line for line in lines if line["service"] == "web")
    assert web["level"] == "critical" and web["msg"] == "PANIC" and web["time"] == iso(90)
    prom = next(line for line in lines if line["service"] == "prometheus")
    assert prom["level"] == "warning" and prom["caller"] == "scrape.go:1"
    seen = {line["service"] for line in lines}
    assert seen == {"api", "web", "prometheus", "db-init"}  # not traffic, ops or _supervisor


def test_a_traceback_is_one_error_entry(client):
    lines = search(client, service="api", level="error")["lines"]
    assert [line["msg"].splitlines()[0] for line in lines] == [
        "Traceback (most recent call last):",
        "Unhandled error in GET /api/v1/orders/42",
    ]
    tb = lines[0]
    assert tb["msg"] == TRACEBACK and tb["level"] == "error" and tb["time_inferred"]
    assert tb["time"] >= iso(60)


def test_service_matches_its_instances(client):
    api = search(client, service="api")["lines"]
    assert {line["instance"] for line in api} >= {"api-1", "api-canary", "api"}
    assert {line["service"] for line in api} == {"api"}
    canary = search(client, service="api-canary")["lines"]
    assert [line["msg"] for line in canary] == ["canary request"]


def test_level_is_a_minimum(client):
    warn = search(client, level="warning")["lines"]
    assert {line["level"] for line in warn} == {"warning", "error", "critical"}
    assert len(warn) == 5  # payments slow, scrape failed, panic, error line, traceback
    assert len(search(client, level="WARN")["lines"]) == 5
    assert [line["msg"] for line in search(client, level="critical")["lines"]] == ["PANIC"]


def test_text_matches_message_or_whole_line(client):
    assert [line["msg"] for line in search(client, text="PAYMENTS SLOW")["lines"]] == [
        "payments slow"
    ]
    cart = search(client, text="/api/v1/cart")["lines"]  # a field, not the message
    assert [line["instance"] for line in cart] == ["api-canary"]
    assert len(search(client, text="lookupfailed")["lines"]) == 1  # inside the traceback


def test_since_and_limit(client):
    recent = search(client, since=100)["lines"]
    assert recent and all(line["time"] >= iso(100) for line in recent)
    assert "starting" not in {line["msg"] for line in recent}
    assert "PANIC" in {line["msg"] for line in recent}
    assert len(search(client, since=10)["lines"]) == 0
    two = search(client, limit=2)
    assert len(two["lines"]) == 2 and two["truncated"] is True
    everything = search(client, limit=500)
    assert everything["truncated"] is False
    assert two["lines"] == everything["lines"][:2]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"level": "loud"}, "level must be one of"),
        ({"limit": "0"}, "limit must be between 1 and 500"),
        ({"limit": "501"}, "limit must be between 1 and 500"),
        ({"limit": "ten"}, "limit must be a whole number"),
        ({"since": "-5"}, "since must be above 0"),
        ({"since": "15m"}, "since must be a number of seconds"),
        ({"service": "a b"}, "service must be a service name"),
        ({"service": "billing"}, "no logs for service 'billing'; services with logs: api,"),
        ({"service": "traffic"}, "no logs for service 'traffic'"),
        ({"grep": "x"}, "unknown parameter(s) grep"),
        ({"text": "x" * 501}, "text must be at most 500"),
    ],
)
def test_bad_parameters_are_a_400_naming_them(client, params, message):
    resp = client.get("/api/v1/logs", params=params)
    assert resp.status_code == 400, resp.text
    assert message in resp.json()["error"]


def test_the_agent_or_admin_token_is_required(logs):
    app = Starlette(routes=log_routes(logs, {AGENT, ADMIN}))
    with TestClient(app) as anon:
        assert anon.get("/api/v1/logs").status_code == 401
        wrong = anon.get("/api/v1/logs", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401 and "token" in wrong.json()["error"]
        for token in (AGENT, ADMIN):
            ok = anon.get("/api/v1/logs", headers={"Authorization": f"Bearer {token}"})
            assert ok.status_code == 200
    with pytest.raises(ValueError, match="token"):
        log_routes(logs, "")


def test_a_big_log_is_read_from_the_end(tmp_path):
    global NOW
    NOW = time.time()
    d = tmp_path / "logs"
    d.mkdir()
    n = 150_000  # ~30 MB
    with open(d / "api.log", "w") as fh:
        fh.writelines(
            app_line((n - i) / 100, f"request {i}", route="/api/v1/products") + "\n"
            for i in range(n)
        )
    os.utime(d / "api.log", (NOW, NOW))
    searcher = LogSearch(d)
    started = time.monotonic()
    newest = searcher.search(limit=3, now=NOW)
    assert [line["msg"] for line in newest["lines"]] == [f"request {n - k}" for k in (1, 2, 3)]
    recent = searcher.search(since=5, limit=500, now=NOW)  # the last 500 lines are the last 5 s
    assert len(recent["lines"]) == 499 and recent["truncated"] is False
    assert time.monotonic() - started < 1.0
    # A rare match scans the whole file, still within a few seconds.
    rare = searcher.search(text="request 17 ", limit=5, now=NOW)  # no such msg: word boundary
    assert rare["lines"] == [] and rare["truncated"] is False
    assert searcher.search(text='"request 17"', limit=5, now=NOW)["lines"][0]["msg"] == "request 17"
