"""What every agent adapter takes and gives back, so the runner treats them all alike.

An adapter gets an `AgentContext` (the task's prompt, the run's workspace and MCP config, a time
limit, a folder for what it leaves behind) and returns an `AgentOutcome`. It never sees an admin
token: the context's `env` refuses names that look like one, and adapters that start processes
drop such variables from the environment they inherit (`agent_environ`).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, field_validator

Status = Literal["completed", "timeout", "error"]

# Names of variables that hold the harness's own secrets (OPS_ADMIN_TOKEN, PRODBENCH_ADMIN_TOKEN,
# PRODBENCH_RUNTIME_TOKEN, ...): an agent process never inherits or receives them.
_SECRET_NAME = re.compile(r"ADMIN|^PRODBENCH_RUNTIME_|_SECRET$", re.IGNORECASE)


class AgentError(RuntimeError):
    """An agent that cannot run as configured (CLI not installed, setting missing).

    Raised before anything runs; the message says what to install or set.
    """


class WorkspaceContainer(BaseModel):
    """Where a docker run's agent works: its own container, nothing of prodbench inside.

    Paths are the container's: the workspace, the MCP config naming the gateway by its
    container name, and the prompt (the trial writes it into the mounted agent folder).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    workspace: str = "/workspace"
    mcp_config: str = "/agent/mcp.json"
    prompt_file: str = "/agent/prompt.md"


class AgentContext(BaseModel):
    """One trial as the agent sees it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    task_id: str
    prompt: str
    workspace: Path = Field(description="the run's git monorepo, the agent's working directory")
    prompt_file: Path = Field(description="the prompt as a file, for CLIs that read one")
    mcp_config: Path = Field(description='the run\'s mcp.json: {"mcpServers": {...}}')
    time_limit: float = Field(gt=0, description="seconds the agent may run")
    output_dir: Path = Field(description="the trial's agent folder: trajectory, stderr, notes")
    env: dict[str, str] = Field(
        default_factory=dict, description="extra environment for the agent (API keys, model)"
    )
    container: WorkspaceContainer | None = Field(
        None, description="a docker run's workspace container: command agents run inside it"
    )

    @field_validator("env")
    @classmethod
    def _no_admin_secrets(cls, value: dict[str, str]) -> dict[str, str]:
        leaked = sorted(k for k in value if _SECRET_NAME.search(k))
        if leaked:
            raise ValueError(
                f"{', '.join(leaked)}: admin tokens and harness secrets are never given to an agent"
            )
        return value


class AgentOutcome(BaseModel):
    """How the agent's turn ended; grading decides how well it went."""

    model_config = ConfigDict(extra="forbid")

    status: Status
    exit_code: int | None = None
    seconds: float = Field(ge=0)
    trajectory: Path | None = None
    message: str | None = None


@runtime_checkable
class Agent(Protocol):
    """Anything that can take a trial: `run` returns when the agent is done or out of time."""

    name: str

    def run(self, ctx: AgentContext) -> AgentOutcome: ...


def agent_environ(*layers: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without harness secrets, with `layers` applied in order.

    The interpreter running prodbench comes first on PATH (and is VIRTUAL_ENV when it is a
    venv): the deployer builds and checks releases with it, so `python -m pytest` in the
    workspace finds the Acme app's dependencies for the agent as it does for the deployer.
    """
    env = {k: v for k, v in os.environ.items() if not _SECRET_NAME.search(k)}
    bin_dir = str(Path(sys.executable).parent)
    path = env.get("PATH", os.defpath)
    if path.split(os.pathsep)[0] != bin_dir:
        env["PATH"] = os.pathsep.join([bin_dir, path])
    if sys.prefix != sys.base_prefix:
        env["VIRTUAL_ENV"] = sys.prefix
    for layer in layers:
        env.update(layer)
    return env
