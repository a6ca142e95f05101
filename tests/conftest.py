"""Shared fixtures: a runs dir that is always torn down, and a builder for fixture stacks."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from environments.runs import RunHandle, list_runs
from environments.runtime.procs import kill_run_processes, run_processes
from environments.stack import StackSpec
from prodbench.session import prepare_run, start_run, stop_run

FIXTURE_SERVICE = str(Path(__file__).parent / "fixtures" / "httpsvc.py")


def http_service(name: str, *flags: str, depends_on=(), **extra) -> dict:
    """A stack entry for the fixture HTTP server; `flags` go to its argv."""
    return {
        "name": name,
        "argv": [sys.executable, FIXTURE_SERVICE, "--port", "{port}", *flags],
        "depends_on": list(depends_on),
        **extra,
    }


def stack(*services: dict, name: str = "fixture") -> StackSpec:
    return StackSpec.model_validate({"name": name, "services": list(services)})


@pytest.fixture
def runs_dir(tmp_path):
    path = tmp_path / "runs"
    yield path
    for handle in list_runs(path):
        stop_run(handle, timeout=10)
        kill_run_processes(handle.run_id)
        assert run_processes(handle.run_id) == [], f"run {handle.run_id} left processes behind"


@pytest.fixture
def up(runs_dir):
    """Bring a stack up the way `prodbench up` does; returns (result, handle)."""

    def _up(spec: StackSpec, **kwargs):
        paths = prepare_run(spec, runs_dir, **kwargs)
        result = start_run(paths)
        return result, RunHandle(paths)

    return _up
