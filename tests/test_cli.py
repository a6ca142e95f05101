"""The `prodbench` command as a user runs it: a real subprocess each time."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from environments.runtime.procs import run_processes
from tests.conftest import http_service

PRODBENCH = [str(Path(sys.executable).with_name("prodbench"))]
COMMANDS = ["up", "down", "status", "logs", "ls", "doctor"]


def cli(
    *args: str, runs_dir: Path | None = None, check: bool = False, timeout: float = 60
) -> subprocess.CompletedProcess:
    argv = [*PRODBENCH, *args]
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    if runs_dir is not None:
        env["PRODBENCH_RUNS_DIR"] = str(runs_dir)
    proc = subprocess.run(
        argv, capture_output=True, text=True, env=env, timeout=timeout, check=False
    )
    if check:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


@pytest.fixture
def stack_file(tmp_path) -> Path:
    path = tmp_path / "stack.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "name": "demo",
                "services": [http_service("db"), http_service("api", depends_on=["db"])],
            }
        )
    )
    return path


def test_help_lists_every_command():
    out = cli("--help", check=True).stdout
    for name in COMMANDS:
        assert f" {name} " in out, name


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_a_useful_help(command):
    out = cli(command, "--help", check=True).stdout
    assert f"Usage: prodbench {command}" in out
    assert len(out.split("Options")[0].strip().splitlines()) >= 3, "help needs a description"


def test_up_status_logs_ls_down(stack_file, runs_dir):
    up = cli("up", "--stack", str(stack_file), "--run-id", "r1", runs_dir=runs_dir, check=True)
    assert "run r1 is healthy" in up.stdout
    env = json.loads((runs_dir / "r1" / "env.json").read_text())
    assert env["services"]["api"]["url"] in up.stdout
    status = cli("status", "--json", runs_dir=runs_dir, check=True)
    data = json.loads(status.stdout)
    assert data["status"] == "healthy"
    assert {s["status"] for s in data["supervisor"]["services"].values()} == {"healthy"}
    table = cli("status", "r1", runs_dir=runs_dir, check=True).stdout
    assert "run r1: healthy" in table and env["services"]["db"]["url"] in table
    logs = cli("logs", "r1", "api", runs_dir=runs_dir, check=True).stdout
    assert "api | api: listening on" in logs.replace("  ", " ")
    listing = cli("ls", runs_dir=runs_dir, check=True).stdout
    assert "r1" in listing and "healthy" in listing and "demo" in listing
    down = cli("down", "r1", runs_dir=runs_dir, check=True)
    assert "r1: stopped" in down.stdout
    assert run_processes("r1") == []
    assert (
        json.loads(cli("ls", "--json", runs_dir=runs_dir, check=True).stdout)[0]["status"]
        == "stopped"
    )


def test_up_failure_exits_nonzero_and_says_which_service(tmp_path, runs_dir):
    path = tmp_path / "bad.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "name": "bad",
                "services": [http_service("broken", "--exit-code", "2", restart={"policy": "no"})],
            }
        )
    )
    proc = cli("up", "--stack", str(path), runs_dir=runs_dir)
    assert proc.returncode == 1
    assert "service 'broken' failed: exited with code 2" in proc.stderr
    assert "boom: broken refuses to start" in proc.stderr


def test_invalid_stack_file_is_explained(tmp_path, runs_dir):
    path = tmp_path / "cyclic.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "name": "c",
                "services": [
                    {"name": "a", "argv": ["true"], "depends_on": ["b"]},
                    {"name": "b", "argv": ["true"], "depends_on": ["a"]},
                ],
            }
        )
    )
    proc = cli("up", "--stack", str(path), runs_dir=runs_dir)
    assert proc.returncode == 1
    assert "dependency cycle: a -> b -> a" in proc.stderr
    assert "Traceback" not in proc.stderr
    valid = cli("stack", "validate", str(path))
    assert valid.returncode == 1 and "dependency cycle" in valid.stderr


def test_stack_validate_accepts_a_good_file(stack_file):
    out = cli("stack", "validate", str(stack_file), check=True).stdout
    assert "ok: stack 'demo', 2 services; start order [db] -> [api]" in out


def test_unknown_run_and_unknown_stack_are_clear(runs_dir, stack_file):
    proc = cli("status", "nope", runs_dir=runs_dir)
    assert proc.returncode == 1 and "no runs in" in proc.stderr
    cli("up", "--stack", str(stack_file), "--run-id", "r2", runs_dir=runs_dir, check=True)
    proc = cli("logs", "nope", runs_dir=runs_dir)
    assert proc.returncode == 1 and "no run 'nope'" in proc.stderr and "prodbench ls" in proc.stderr
    proc = cli("up", "--stack", "no-such-stack", runs_dir=runs_dir)
    assert proc.returncode == 1 and "unknown stack 'no-such-stack'" in proc.stderr


def test_foreground_run_tears_down_on_ctrl_c(stack_file, runs_dir):
    env = {**os.environ, "PRODBENCH_RUNS_DIR": str(runs_dir), "NO_COLOR": "1", "COLUMNS": "200"}
    proc = subprocess.Popen(
        [*PRODBENCH, "up", "--foreground", "--stack", str(stack_file), "--run-id", "fg"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        line = ""
        deadline = time.monotonic() + 30
        while "is healthy" not in line and time.monotonic() < deadline:
            line = proc.stdout.readline()
        assert "run fg is healthy" in line
        assert len(run_processes("fg")) >= 2
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0
    finally:
        proc.kill()
    assert run_processes("fg") == []
    assert json.loads((runs_dir / "fg" / "supervisor.json").read_text())["status"] == "stopped"


def test_doctor_reports_every_tool_with_install_hints():
    proc = cli("doctor", "--json")
    checks = {c["name"]: c for c in json.loads(proc.stdout)}
    assert {
        "python",
        "git",
        "prometheus",
        "alertmanager",
        "docker",
        "postgres",
        "redis-server",
    } <= set(checks)
    assert checks["python"]["ok"] is True
    assert checks["git"]["ok"] is (shutil.which("git") is not None)
    for c in checks.values():
        assert c["install_debian"].startswith("apt-get install") and c["install_macos"]
    required_ok = all(c["ok"] for c in checks.values() if c["need"] == "required")
    assert proc.returncode == (0 if required_ok else 1)


def test_stack_show_prints_builtin_and_file_stacks_as_yaml(stack_file):
    ops = yaml.safe_load(cli("stack", "show", "ops", check=True).stdout)
    assert ops["name"] == "ops"
    assert [s["name"] for s in ops["services"]] == ["alertmanager", "prometheus"]
    assert ops["services"][1]["depends_on"] == ["alertmanager"]
    demo = yaml.safe_load(cli("stack", "show", str(stack_file), check=True).stdout)
    assert [s["name"] for s in demo["services"]] == ["db", "api"]
