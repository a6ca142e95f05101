"""Put a healthy run into the state a task starts from, then hand it to the agent.

The setup commits (the company's recent history) are not applied here: they go into the
workspace before the run starts (`run_options`), so the first production release has them.
Here, in order: a deploy through the deployer as prodbench (only when the task asks for one),
the tools' fixtures, the flags, the faults, and the alerts the incident must show before the
agent looks. Everything
goes through the run's own APIs with grader-only tokens; the agent sees only the result.

A failure here is never the agent's: it raises `TaskSetupError`, which the runner records as
an infra error (or, for `prodbench tasks validate`, as a broken task).
"""

from __future__ import annotations

import datetime as dt
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from environments.history import WorkspaceCommit
from graders.runview import RunView, TaskState
from prodbench.tasks.loader import Task

FINAL = {"succeeded", "failed", "rolled_back"}
Log = Callable[[str], None]


class TaskSetupError(RuntimeError):
    """The run could not be put in the task's starting state."""


def apply_setup(task: Task, view: RunView, *, log: Log = lambda _msg: None) -> TaskState:
    setup = task.spec.setup
    count = len(setup.commits)
    commits = _git(view.workspace, "log", f"-{count}", "--format=%H").split()[::-1] if count else []
    deploys: list[str] = []
    with view.ops() as ops:
        if setup.deploy:
            deploys.append(_deploy(ops, setup.deploy, log))
        for tool, rel in setup.fixtures.items():
            _fixture(view, tool, task.file(rel))
            log(f"setup: {tool} fixtures from {rel}")
        for name, value in setup.flags.items():
            _ok(ops.put(f"/api/v1/flags/{name}", json={"value": value}), f"flag {name}")
            log(f"setup: flag {name} = {value!r}")
        faults = []
        for fault in setup.faults:
            body = fault.model_dump(mode="json", exclude_none=True)
            faults.append(_ok(ops.post("/api/v1/faults", json=body), "fault")["fault"]["id"])
            log(f"setup: fault {fault.kind} ({faults[-1]})")
    for alert in setup.wait_for_alerts:
        _wait_firing(view, alert, setup.wait_timeout)
        log(f"setup: alert {alert} is firing")
    state = TaskState(
        task=task.id,
        base_commit=_git(view.workspace, "rev-parse", "HEAD"),
        setup_commits=commits,
        setup_deploys=deploys,
        faults=faults,
        agent_started_at=time.time(),
    )
    view.write_task_state(state)
    return state


def _git(workspace: Path, *args: str) -> str:
    proc = subprocess.run(
        ["git", *args], cwd=workspace, capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise TaskSetupError(f"git {' '.join(args)} failed: {proc.stderr.strip()}")
    return proc.stdout.strip()


def run_options(task: Task) -> dict:
    """What `prepare_run` takes from a task: its traffic and its recent history."""
    setup = task.spec.setup
    return {
        "options": {
            "traffic_shape": setup.traffic.shape,
            "traffic_users": str(setup.traffic.users),
        },
        "commits": tuple(
            WorkspaceCommit(c.message, task.file(c.patch), c.author, _epoch(c.date))
            for c in setup.commits
        ),
    }


def _ok(resp: httpx.Response, what: str) -> dict:
    if resp.is_error:
        raise TaskSetupError(f"setup {what}: {resp.status_code} {resp.text[:300]}")
    return resp.json()


def _deploy(ops: httpx.Client, services: list[str], log: Log, timeout: float = 240) -> str:
    deploy = _ok(ops.post("/api/v1/deploys", json={"services": services, "ref": "HEAD"}), "deploy")
    deploy_id = deploy["id"]
    deadline = time.monotonic() + timeout
    while deploy["status"] not in FINAL:
        if time.monotonic() > deadline:
            raise TaskSetupError(f"setup deploy {deploy_id} did not finish in {timeout:.0f} s")
        time.sleep(0.5)
        deploy = _ok(ops.get(f"/api/v1/deploys/{deploy_id}"), "deploy status")
    if deploy["status"] != "succeeded":
        raise TaskSetupError(
            f"setup deploy {deploy_id} of {', '.join(services)} {deploy['status']}: "
            f"{deploy.get('error')}"
        )
    log(f"setup: deployed {', '.join(services)} ({deploy_id}, {deploy.get('seconds')} s)")
    return deploy_id


def _fixture(view: RunView, tool: str, path: Path) -> None:
    with view.tool_admin(tool) as client:
        resp = client.post(
            "/_admin/fixtures",
            content=path.read_bytes(),
            headers={"Content-Type": "application/yaml"},
        )
    _ok(resp, f"{tool} fixtures {path.name}")


def _wait_firing(view: RunView, alert: str, timeout: float) -> None:
    query = f'ALERTS{{alertname="{alert}",alertstate="firing"}}'
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if view.prometheus(query):
            return
        time.sleep(1.0)
    raise TaskSetupError(f"setup: alert {alert} was not firing after {timeout:.0f} s")


def _epoch(when: dt.datetime | None) -> int | None:
    """Epoch seconds of a setup commit's date; a date without a zone is UTC."""
    if when is None:
        return None
    return int((when if when.tzinfo else when.replace(tzinfo=dt.UTC)).timestamp())
