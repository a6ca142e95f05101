"""Runtime faults (ACME_FAULTS_FILE): reload rules, slow queries, and a stalled worker."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from acme.common.db import Database
from acme.common.faults import NO_FAULTS, FaultState, RuntimeFaults, parse_faults
from acme.common.queue import enqueue
from acme.common.settings import Settings
from acme.worker import create_app


def write_faults(path: Path, data: object) -> None:
    """Atomic replace, the way the ops service does it."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_parse_faults() -> None:
    assert parse_faults({}) == NO_FAULTS
    state = parse_faults({"db_latency_ms": 250, "db_latency_services": ["api"], "worker_stall": True})
    assert state == FaultState(250, frozenset({"api"}), True)
    assert state.db_delay_for("api") == 0.25 and state.db_delay_for("worker") == 0.0
    assert parse_faults({"db_latency_ms": 10}).db_delay_for("payments") == 0.01
    for bad, field in [
        ([], "object"),
        ({"db_latency_ms": "slow"}, "db_latency_ms"),
        ({"db_latency_ms": -1}, "db_latency_ms"),
        ({"db_latency_ms": True}, "db_latency_ms"),
        ({"db_latency_services": "api"}, "db_latency_services"),
        ({"worker_stall": "yes"}, "worker_stall"),
    ]:
        with pytest.raises(ValueError, match=field):
            parse_faults(bad)


def test_no_file_means_no_faults(tmp_path: Path) -> None:
    assert RuntimeFaults(None, "api").current() == NO_FAULTS
    assert RuntimeFaults(str(tmp_path / "missing.json"), "api").current() == NO_FAULTS


def test_reloads_on_change_at_most_every_interval(tmp_path: Path) -> None:
    path = tmp_path / "faults.json"
    clock = Clock()
    faults = RuntimeFaults(str(path), "worker", check_interval=0.5, clock=clock)
    assert not faults.worker_stalled()
    write_faults(path, {"worker_stall": True})
    assert not faults.worker_stalled()  # not checked again before the interval is up
    clock.now = 0.6
    assert faults.worker_stalled()
    write_faults(path, {"db_latency_ms": 40})
    clock.now = 1.2
    assert not faults.worker_stalled() and faults.db_delay() == 0.04
    path.unlink()
    clock.now = 1.8
    assert faults.current() == NO_FAULTS


def test_a_bad_file_keeps_the_last_good_value(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "faults.json"
    write_faults(path, {"worker_stall": True})
    clock = Clock()
    faults = RuntimeFaults(str(path), "worker", clock=clock)
    assert faults.worker_stalled()
    path.write_text('{"worker_stall": fal')  # half written
    clock.now = 1
    assert faults.worker_stalled()
    assert "faults file unreadable" in caplog.text
    write_faults(path, {"worker_stall": "no"})  # well-formed JSON, wrong type
    clock.now = 2
    assert faults.worker_stalled()
    write_faults(path, {"worker_stall": False})
    clock.now = 3
    assert not faults.worker_stalled()


def _time_query(db: Database) -> float:
    started = time.perf_counter()
    with db.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return time.perf_counter() - started


def test_db_latency_slows_only_the_named_services(tmp_path: Path) -> None:
    path = tmp_path / "faults.json"
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    api = Database(url, faults=RuntimeFaults(str(path), "api", check_interval=0))
    worker = Database(url, faults=RuntimeFaults(str(path), "worker", check_interval=0))
    plain = Database(url)
    try:
        write_faults(path, {"db_latency_ms": 80, "db_latency_services": ["api"]})
        assert _time_query(api) >= 0.08
        assert _time_query(worker) < 0.08 and _time_query(plain) < 0.08
        write_faults(path, {"db_latency_ms": 80})
        assert _time_query(worker) >= 0.08
        write_faults(path, {})
        assert _time_query(api) < 0.08 and _time_query(worker) < 0.08
    finally:
        for db in (api, worker, plain):
            db.dispose()


def _queued(settings: Settings) -> int:
    db = Database(settings.database_url)
    try:
        with db.session(write=False) as s:
            return int(s.scalar(text("SELECT count(*) FROM jobs WHERE status = 'queued'")) or 0)
    finally:
        db.dispose()


def test_a_stalled_worker_claims_nothing_but_stays_healthy(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "faults.json"
    write_faults(path, {"worker_stall": True})
    settings = settings.replace(faults_file=str(path), worker_poll_interval_seconds=0.05)
    db = Database(settings.database_url)
    with db.session() as s:
        enqueue(s, "search_reindex", {"product_ids": [1]}, queue="search")
    db.dispose()
    backlog = _queued(settings)
    assert backlog >= 1

    app = create_app(settings)
    with TestClient(app) as client:
        runner = app.state.runner
        first_poll = runner.last_poll
        time.sleep(0.3)
        health = client.get("/healthz")
        assert health.status_code == 200 and health.json()["processed"] == 0
        assert runner.last_poll > first_poll  # the heartbeat goes on
        assert "acme_queue_depth" in client.get("/metrics").text
        depth = runner.metrics.registry.get_sample_value("acme_queue_depth", {"queue": "search"})
        assert depth is not None and depth >= 1  # periodic jobs pile up too
        assert _queued(settings) >= backlog

        write_faults(path, {})
        deadline = time.monotonic() + 5
        while runner.processed == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert runner.processed >= 1
