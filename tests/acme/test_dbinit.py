"""The db-init job: a cached database is the same database the app's own seed produces."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from environments.acme.environment import APP_DIR, export_release
from environments.acme.workspace import build_workspace


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("release")
    info = build_workspace(APP_DIR, root / "ws", seed=3)
    export_release(root / "ws", info.head, root / "rel")
    return root / "rel"


def dbinit(release: Path, state: Path, cache: Path, *extra: str) -> tuple[int, dict | None]:
    state.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(release), "PRODBENCH_CACHE_DIR": str(cache)}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "environments.acme.dbinit",
            "--release",
            str(release),
            "--state-dir",
            str(state),
            "--seed",
            "3",
            "--key",
            "tree-abc",
            *extra,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith('{"cache"')]
    return proc.returncode, (json.loads(lines[-1]) if lines else None)


def dump(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return list(conn.iterdump())


def test_a_cache_hit_restores_exactly_what_seeding_produced(release, tmp_path):
    cache = tmp_path / "cache"
    code, cold = dbinit(release, tmp_path / "cold", cache)
    assert code == 0 and cold["cache"] == "miss"
    code, warm = dbinit(release, tmp_path / "warm", cache)
    assert code == 0 and warm["cache"] == "hit" and warm["entry"] == cold["entry"]
    for name in ("acme.db", "payments.db"):
        cold_rows = dump(tmp_path / "cold" / name)
        assert len(cold_rows) > 10_000, name
        assert dump(tmp_path / "warm" / name) == cold_rows, name


def test_no_cache_always_seeds(release, tmp_path):
    cache = tmp_path / "cache"
    dbinit(release, tmp_path / "a", cache)
    code, result = dbinit(release, tmp_path / "b", cache, "--no-cache")
    assert code == 0 and result["cache"] == "miss"


def test_a_failing_seed_fails_the_job_and_caches_nothing(release, tmp_path):
    cache = tmp_path / "cache"
    state = tmp_path / "state"
    state.mkdir()
    (state / "acme.db").write_bytes(b"this is not a database")
    code, result = dbinit(release, state, cache)
    assert code != 0 and result is None
    assert not any((cache / "acme-db").glob("*"))
