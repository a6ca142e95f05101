"""One oracle trial end to end on the docker runtime scores what it scores on the local runtime.

`prodbench run --agent oracle --runtime docker`, as a user types it, on payments-retry-backoff:
the run is a compose project; the task's setup deploys nothing but injects the processor fault
and waits for PaymentFailuresHigh; the oracle commits the fix in the run's workspace (the
run directory is the containers' bind-mounted volume) and deploys it through the MCP deploy
tool, so the deployer in `ops` builds the commit into an image and the `runtime` service puts
it in a canary container, then replaces `api`'s container; grading reads the run from the host.
The same command with `--runtime local` must give the same feature and devops scores.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from graders.models import TrialResult

pytestmark = [pytest.mark.docker, pytest.mark.timeout(1800)]

TASK = "payments-retry-backoff"


def oracle_trial(out: Path, runs_dir: Path, runtime: str) -> tuple[TrialResult, float]:
    env = {k: v for k, v in os.environ.items() if k != "PRODBENCH_RUNS_DIR"}
    argv = [sys.executable, "-m", "prodbench", "run", "--agent", "oracle", "--tasks", TASK]
    argv += ["--runtime", runtime, "--out", str(out), "--runs-dir", str(runs_dir)]
    started = time.monotonic()
    done = subprocess.run(argv, capture_output=True, text=True, timeout=1500, env=env, check=False)
    seconds = time.monotonic() - started
    [path] = out.glob(f"oracle/{TASK}/run-0/result.json")
    result = TrialResult.model_validate_json(path.read_text())
    log = (path.parent / "trial.log").read_text()
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}\n{log}"
    assert result.status != "infra_error", f"{result.infra_error}\n{log}"
    return result, seconds


def test_the_oracle_scores_the_same_on_docker_as_on_local(tmp_path: Path) -> None:
    docker, docker_seconds = oracle_trial(tmp_path / "docker", tmp_path / "runs", "docker")
    trial = tmp_path / "docker" / "oracle" / TASK / "run-0"
    print(f"\noracle trial on docker: {docker_seconds:.1f} s, timings {docker.timings}")
    # The fix went out through the docker runtime: an image built from the agent's commit,
    # first in a canary container, then as api's own container.
    calls = [json.loads(line) for line in (trial / "calls.jsonl").read_text().splitlines()]
    assert any((c["server"], c["tool"]) == ("deploy", "deploy") for c in calls)
    runtime_log = (trial / "logs" / "runtime.log").read_text()
    assert "built prodbench/acme-app:" in runtime_log, runtime_log
    assert "started api-canary (api)" in runtime_log, runtime_log
    assert "replaced api's container" in runtime_log, runtime_log
    leftovers = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"label=com.docker.compose.project=prodbench-{TASK}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert leftovers == [], "the trial's containers outlived it"

    local, local_seconds = oracle_trial(tmp_path / "local", tmp_path / "runs", "local")
    print(f"oracle trial on local: {local_seconds:.1f} s")
    print(
        f"composite docker {docker.composite} local {local.composite}; "
        f"F {docker.feature}/{local.feature} D {docker.devops}/{local.devops} "
        f"Q {docker.quality}/{local.quality}"
    )
    assert docker.passed and local.passed
    assert (docker.feature, docker.devops) == (local.feature, local.devops)
    assert {c.name: c.passed for c in docker.checks} == {c.name: c.passed for c in local.checks}
    assert docker.composite is not None and local.composite is not None
    assert abs(docker.composite - local.composite) <= 1.0
