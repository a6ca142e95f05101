"""What graders see of a live run: its URLs, the grader-only tokens, the task's setup record.

Everything goes over the run's real HTTP APIs (tools' `/_admin/`, the ops service with its
admin token, Prometheus); the one exception is the app's database, read only, for what no API
shows (the schema revision, rows a hidden test checks).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel, Field

from environments.ops.deployer.models import DeployerConfig
from environments.runs import EnvInfo, write_json_atomic

TASK_STATE = "task-state.json"
DEPLOYER_CONFIG = "state/ops/deployer.json"
CONTAINER_RUN_DIR = "/srv/run"  # a docker run's directory inside its containers (compose.RUN_MOUNT)


class TaskState(BaseModel):
    """Written by the task setup when the agent is handed the run (state/task-state.json)."""

    task: str
    base_commit: str = Field(description="the workspace HEAD the agent started from")
    setup_commits: list[str] = Field(default_factory=list)
    setup_deploys: list[str] = Field(default_factory=list, description="deploy ids of the setup")
    faults: list[str] = Field(default_factory=list, description="fault ids the setup started")
    agent_started_at: float = Field(description="epoch seconds")
    agent_finished_at: float | None = None


class RunView:
    """A run as a grader reads it. `timeout` bounds every HTTP call."""

    def __init__(self, run_dir: Path, timeout: float = 15.0):
        self.run_dir = Path(run_dir)
        self.env = EnvInfo.model_validate_json((self.run_dir / "env.json").read_text())
        request = json.loads((self.run_dir / "run-request.json").read_text())
        self.vars: dict[str, str] = request.get("vars", {})
        self.timeout = timeout

    # -- where things are ---------------------------------------------------------------------
    @property
    def workspace(self) -> Path:
        return self.run_dir / "workspace"

    @property
    def calls_path(self) -> Path:
        return self.run_dir / "calls.jsonl"

    def deployer_config(self) -> DeployerConfig:
        """The deployer's config: where releases live and the app's database URL, from here.

        A docker run's deployer sees the run volume and PostgreSQL by their container names;
        a grader on the host reaches the same through the run directory and the published port.
        """
        text = (self.run_dir / DEPLOYER_CONFIG).read_text()
        if self.env.runtime == "docker":
            text = text.replace(f'"{CONTAINER_RUN_DIR}/', f'"{self.run_dir}/')
            postgres = self.env.services.get("postgres")
            published = postgres.ports.get("5432") if postgres else None
            if published:
                text = text.replace("@postgres:5432/", f"@127.0.0.1:{published}/")
        return DeployerConfig.model_validate_json(text)

    def url(self, service: str) -> str:
        endpoint = self.env.services.get(service)
        if endpoint is None or endpoint.url is None:
            raise KeyError(f"the run has no HTTP service {service!r}")
        return endpoint.url

    def tool_url(self, tool: str) -> str:
        tools = self.env.services["tools"]
        return f"http://{tools.host}:{tools.ports[tool]}"

    @property
    def admin_token(self) -> str:
        """The tools' admin token (grader-only)."""
        return self.vars["tools_admin_token"]

    @property
    def ops_token(self) -> str:
        return self.vars["ops_admin_token"]

    # -- clients ------------------------------------------------------------------------------
    def ops(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.url("ops"),
            headers={"Authorization": f"Bearer {self.ops_token}"},
            timeout=self.timeout,
        )

    def tool_admin(self, tool: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.tool_url(tool),
            headers={"Authorization": f"Bearer {self.admin_token}"},
            timeout=self.timeout,
        )

    def tool_export(self, tool: str) -> dict[str, Any]:
        """A tool's whole state (`GET /_admin/export`)."""
        with self.tool_admin(tool) as client:
            resp = client.get("/_admin/export")
            resp.raise_for_status()
            return resp.json()["state"]

    def prometheus(self, query: str, at: float | None = None) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"query": query}
        if at is not None:
            params["time"] = at
        resp = httpx.get(
            self.url("prometheus") + "/api/v1/query", params=params, timeout=self.timeout
        )
        resp.raise_for_status()
        return resp.json()["data"]["result"]

    def prometheus_range(
        self, query: str, start: float, end: float, step: float = 1.0
    ) -> list[dict[str, Any]]:
        resp = httpx.get(
            self.url("prometheus") + "/api/v1/query_range",
            params={"query": query, "start": start, "end": end, "step": step},
            timeout=self.timeout,
        )
        resp.raise_for_status()
        return resp.json()["data"]["result"]

    # -- the task's record ----------------------------------------------------------------------
    def task_state(self) -> TaskState:
        path = self.run_dir / "state" / TASK_STATE
        if not path.exists():
            raise FileNotFoundError(f"{path}: the run was not set up for a task")
        return TaskState.model_validate_json(path.read_text())

    def write_task_state(self, state: TaskState) -> None:
        write_json_atomic(self.run_dir / "state" / TASK_STATE, state)
