"""Put a healthy run into the state a task starts from, then hand it to the agent.

In order: the setup commits (the company's recent history, with fixed dates so the same task
gives the same shas), their deploy through the deployer as prodbench, the tools' fixtures, the
flags, the faults, and the alerts the incident must show before the agent looks. Everything
goes through the run's own APIs with grader-only tokens; the agent sees only the result.

A failure here is never the agent's: it raises `TaskSetupError`, which the runner records as
an infra error (or, for `prodbench tasks validate`, as a broken task).
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from graders.runview import RunView, TaskState
from prodbench.tasks.loader import Task

FINAL = {"succeeded", "failed", "rolled_back"}
Log = Callable[[str], None]


class TaskSetupError(RuntimeError):
    """The run could not be put in the task's starting state."""


def apply_setup(task: Task, view: RunView, *, log: Log = lambda _msg: None) -> TaskState:
    setup = task.spec.setup
    commits = [_commit(task, view.workspace, i) for i in range(len(setup.commits))]
    if commits:
        log(f"setup: {len(commits)} commit(s), HEAD {commits[-1][:12]}")
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


def _git(workspace: Path, *args: str, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(
        ["git", *args], cwd=workspace, capture_output=True, text=True, env=env, check=False
    )
    if proc.returncode != 0:
        raise TaskSetupError(f"git {' '.join(args)} failed: {proc.stderr.strip()}")
    return proc.stdout.strip()


def _commit(task: Task, workspace: Path, index: int) -> str:
    """One setup commit, dated an hour after its parent so its sha is the same every run."""
    commit = task.spec.setup.commits[index]
    patch = task.file(commit.patch)
    proc = subprocess.run(
        ["git", "apply", "--index", "--whitespace=nowarn", str(patch)],
        cwd=workspace,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise TaskSetupError(
            f"task {task.id}: {commit.patch} does not apply to the workspace: {proc.stderr.strip()}"
        )
    parent = int(_git(workspace, "log", "-1", "--format=%ct"))
    name, email = commit.author[:-1].split(" <")
    when = f"{parent + 3600} +0000"
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": name,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_COMMITTER_NAME": name,
        "GIT_COMMITTER_EMAIL": email,
        "GIT_AUTHOR_DATE": when,
        "GIT_COMMITTER_DATE": when,
    }
    _git(workspace, "commit", "-q", "--no-verify", "-m", commit.message, env=env)
    return _git(workspace, "rev-parse", "HEAD")


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
