"""The deployer's typed boundaries: its configuration, its API payloads and its history."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Strategy = Literal["canary", "recreate"]
DeployKind = Literal["initial", "deploy", "rollback", "restart", "flag"]
DeployStatus = Literal["queued", "running", "succeeded", "failed", "rolled_back"]
StageStatus = Literal["pending", "running", "passed", "failed", "skipped"]

SERVICE_PATTERN = r"^[a-z][a-z0-9-]{0,39}$"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ServiceConfig(_Model):
    """How one deployable service is rolled out."""

    strategy: Strategy = Field(
        description="canary: a new instance beside the stable one, analysed, then promoted; "
        "recreate: replace the single instance (health gate, smoke, bake analysis)"
    )
    route: str | None = Field(None, description="ingress prefix whose traffic a canary shares")
    stable_instance: str = Field(description="the stable instance's name at the ingress")
    module: str = Field(description="imported by the import check, e.g. acme.api.app")
    smoke: list[str] = Field(default_factory=lambda: ["/healthz"])
    load: list[str] = Field(
        default_factory=list,
        description="paths a load tester GETs on the canary through the ingress while it is "
        "analysed (Flagger's loadtester), so light live traffic still gives a verdict",
    )
    metrics: bool = True


class AnalysisConfig(_Model):
    """Canary analysis in the manner of Flagger: checks at an interval, abort at a threshold."""

    interval: float = Field(4.0, gt=0)
    iterations: int = Field(5, ge=1)
    max_failed_checks: int = Field(2, ge=1)
    canary_weight: float = Field(30.0, gt=0, lt=100)
    min_requests: int = Field(5, ge=1, description="fewer requests measured: no verdict")
    max_error_ratio: float = Field(0.05, ge=0, le=1)
    max_latency_p95: float = Field(0.25, gt=0, description="seconds; and 1.5x stable")
    latency_factor: float = Field(1.5, ge=1)
    min_window: int = Field(6, ge=2, description="seconds; checks see all since the canary began")
    bake: float = Field(6.0, ge=0, description="seconds a recreated service is watched")
    load_rps: float = Field(4.0, ge=0, le=50, description="the load tester's rate; 0 = off")


class DeployerConfig(_Model):
    """Written by the environment at prepare time; URLs come from the run's env.json."""

    workspace: Path
    releases: Path
    state: Path
    base_release: str = Field(description="the release whose dependencies are installed")
    database_url: str
    services: dict[str, ServiceConfig]
    initial_order: list[str] = Field(description="start order of the initial deploy")
    fast_tests: list[str] = Field(
        default_factory=list, description="argv run in a release to check it; [] = none"
    )
    migrate: list[str] = Field(default_factory=list, description="argv; [] = no migrations")
    migrations_dir: str | None = Field(
        None, description="the release's Alembic versions directory: at head already -> skip"
    )
    checks_timeout: float = 180.0
    analysis: AnalysisConfig = Field(default_factory=AnalysisConfig)
    slack_webhook_path: str | None = Field(None, description="#deploys incoming webhook path")
    prometheus_targets: Path | None = Field(
        None, description="directory of file_sd target files, one per service"
    )


class DeployRequest(_Model):
    services: list[str] = Field(min_length=1, max_length=10)
    ref: str = Field("HEAD", min_length=1, max_length=200)


class RollbackRequest(_Model):
    to: str | None = Field(None, max_length=200)


class FlagRequest(_Model):
    value: bool | int | float | str | dict[str, Any]


class Stage(_Model):
    name: str
    status: StageStatus = "pending"
    started_at: float | None = None
    finished_at: float | None = None
    detail: str | None = None

    @property
    def seconds(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return round(self.finished_at - self.started_at, 3)


class Deploy(_Model):
    """One entry of the audited history: a deploy, a rollback, a restart or a flag change."""

    id: str
    kind: DeployKind
    services: list[str]
    ref: str | None = None
    sha: str | None = None
    subject: str | None = None
    actor: str
    status: DeployStatus = "queued"
    stages: list[Stage] = Field(default_factory=list)
    previous: dict[str, str | None] = Field(default_factory=dict)
    detail: dict[str, Any] = Field(default_factory=dict)
    error: str | None = None
    created_at: float = Field(default_factory=time.time)
    finished_at: float | None = None

    def public(self) -> dict[str, Any]:
        """The API view: stages with their durations."""
        data = self.model_dump()
        for stage, raw in zip(self.stages, data["stages"], strict=True):
            raw["seconds"] = stage.seconds
        data["seconds"] = round(self.finished_at - self.created_at, 3) if self.finished_at else None
        return data
