"""task.yaml, typed: what a task is, what is done to a run before the agent starts, how it is graded.

A task folder is `task.yaml` + `tests/` (hidden, copied out only at grading) + `solution/` (the
oracle) + whatever files the setup names (patches, tool fixtures). Every path in task.yaml is
relative to the task folder and must stay inside it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from environments.ops.faults import FaultSpec
from graders.config import GradingSpec, Service
from graders.models import Category

TASK_ID = r"^[a-z0-9][a-z0-9-]{2,63}$"
Tool = Literal["slack", "linear", "notion", "sentry", "statuspage"]
Difficulty = Literal["easy", "medium", "hard"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _relative(value: str) -> str:
    if value.startswith("/") or ".." in value.split("/"):
        raise ValueError(f"{value!r}: paths are relative to the task folder and stay inside it")
    return value


class SetupCommit(_Model):
    """A commit made in the workspace before the agent starts (the company's recent history)."""

    message: str = Field(min_length=1)
    patch: str = Field(description="a unified diff in the task folder, applied with `git apply`")
    author: str = Field("Priya Raman <priya@acme.test>", pattern=r"^[^<>]+ <[^<>@\s]+@[^<>\s]+>$")
    date: dt.datetime | None = Field(
        None,
        description="when it was committed (so git log agrees with the tickets and threads); "
        "default: an hour after the commit before it",
    )

    _rel = field_validator("patch")(_relative)


class TrafficSetup(_Model):
    shape: Literal["steady", "diurnal", "spike"] = "steady"
    users: int = Field(3, ge=1, le=50)


class TaskSetup(_Model):
    """`commits` go into the workspace before the run starts (production's first release has
    them); the rest is applied once it is healthy: deploy, fixtures, flags, faults, alerts."""

    commits: list[SetupCommit] = Field(default_factory=list)
    deploy: list[Service] = Field(
        default_factory=list,
        description="redeployed through the deployer (as prodbench) once the run is up; the "
        "commits are live from the start without it",
    )
    fixtures: dict[Tool, str] = Field(
        default_factory=dict, description="tool -> fixture file, applied on top of the seed"
    )
    flags: dict[str, Any] = Field(default_factory=dict)
    faults: list[FaultSpec] = Field(default_factory=list)
    traffic: TrafficSetup = Field(default_factory=TrafficSetup)
    wait_for_alerts: list[str] = Field(
        default_factory=list, description="alerts firing before the agent starts (incidents)"
    )
    wait_timeout: float = Field(90.0, gt=0, description="seconds to wait for those alerts")

    @field_validator("fixtures")
    @classmethod
    def _fixture_paths(cls, value: dict[str, str]) -> dict[str, str]:
        for path in value.values():
            _relative(path)
        return value


class TaskSpec(_Model):
    id: str = Field(pattern=TASK_ID)
    title: str = Field(min_length=3, max_length=120)
    category: Category
    difficulty: Difficulty = "medium"
    prompt: str = Field(min_length=40, description="what the agent is told, and only that")
    time_limit: int = Field(3600, ge=60, le=6 * 3600, description="seconds for the agent")
    seed: int = Field(0, ge=0, description="the run's seed unless the runner is given one")
    tags: list[str] = Field(default_factory=list)
    setup: TaskSetup = Field(default_factory=TaskSetup)
    grading: GradingSpec = Field(default_factory=GradingSpec)
