"""What a graded trial is: the typed result every grader, the scorer and the reports share.

`result.json` of a trial is a `TrialResult`. Every check a grader made is kept with what was
expected and what was observed, so a reader can see why a point was lost. The schema is
versioned (`SCHEMA_VERSION`); a report refuses results of a version it does not know.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1

Dimension = Literal["feature", "devops", "quality"]
TrialStatus = Literal["scored", "infra_error"]
Category = Literal[
    "feature-rollout",
    "feature-flag",
    "security-incident",
    "latency",
    "error-rate",
    "api-migration",
    "flaky-test",
]
CATEGORIES: tuple[str, ...] = Category.__args__  # type: ignore[attr-defined]
WEIGHTS: dict[str, float] = {"feature": 60.0, "devops": 30.0, "quality": 10.0}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Check(_Model):
    """One thing a grader looked at. `score` in [0, 1] (partial credit), weighted in its dimension."""

    name: str
    dimension: Dimension
    weight: float = Field(1.0, ge=0)
    score: float = Field(ge=0, le=1)
    expected: Any = None
    observed: Any = None
    detail: str | None = None
    penalty: bool = Field(
        False, description="a deduction (regression, unexpected alert): score 1 = no deduction"
    )

    @property
    def passed(self) -> bool:
        return self.score >= 1.0


class Judge(_Model):
    """How the quality score was reached: by a model, or the deterministic fallback."""

    method: Literal["llm", "fallback"]
    model: str | None = None
    rubric: dict[str, float] = Field(default_factory=dict)
    penalties: dict[str, float] = Field(default_factory=dict)
    rationale: str | None = None
    signals: dict[str, Any] = Field(default_factory=dict)
    error: str | None = None


class TrialResult(_Model):
    schema_version: int = SCHEMA_VERSION
    task: str
    category: str
    agent: str
    trial: int = Field(0, ge=0, description="the run index k of this task and agent")
    seed: int = 0
    status: TrialStatus = "scored"
    infra_error: str | None = None
    feature: float | None = Field(None, ge=0, le=1)
    devops: float | None = Field(None, ge=0, le=1)
    quality: float | None = Field(None, ge=0, le=1)
    passed: bool | None = None
    composite: float | None = Field(None, ge=0, le=100)
    checks: list[Check] = Field(default_factory=list)
    judge: Judge | None = None
    timings: dict[str, float] = Field(default_factory=dict, description="seconds per phase")
    started_at: str | None = None
    finished_at: str | None = None
