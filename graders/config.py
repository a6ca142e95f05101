"""How a task is graded: the `grading:` section of task.yaml, typed.

Each grader reads its own part: `feature` (hidden tests, weights, regression checks), `devops`
(what must be live, deploy order, alerts, the team's tools), `quality` (what the judge expects).
Weights are relative within a dimension; a check's weight of 0 reports it without scoring it.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SERVICES = ("api", "web", "worker", "payments", "ingress")
Service = Literal["api", "web", "worker", "payments", "ingress"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _regex(value: str | None) -> str | None:
    if value is not None:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {value!r} ({exc})") from None
    return value


class RegressionGrading(_Model):
    """What the agent must not have broken; each failing group is a deduction from F."""

    monorepo: bool = Field(True, description="the monorepo's own test suite at the deployed commit")
    smoke: bool = Field(True, description="the global storefront journeys against production")
    penalty: float = Field(
        0.25, ge=0, le=1, description="deducted from F per failing group (monorepo, smoke)"
    )
    monorepo_tests: list[str] = Field(
        default_factory=lambda: ["tests"],
        description="paths inside the monorepo passed to pytest",
    )


class FeatureGrading(_Model):
    tests: str = Field("tests", description="the hidden tests' folder inside the task folder")
    weights: dict[str, float] = Field(
        default_factory=dict,
        description="test function name (or file::name) -> weight; unnamed tests weigh "
        "`default_weight`",
    )
    default_weight: float = Field(1.0, ge=0)
    timeout: float = Field(300.0, gt=0, description="seconds for the hidden tests")
    regression: RegressionGrading = Field(default_factory=RegressionGrading)
    require_deploy: bool = Field(
        True,
        description="F is 0 when no service in devops.deploy.services is live at a commit "
        "with the agent's work (a build that does not deploy scores 0 here)",
    )

    @field_validator("weights")
    @classmethod
    def _non_negative(cls, value: dict[str, float]) -> dict[str, float]:
        for name, weight in value.items():
            if weight < 0:
                raise ValueError(f"weight of {name!r} must be >= 0")
        return value


class DeployOrder(_Model):
    """`before` must be live with the agent's work before `after` gets it (e.g. api, then web)."""

    before: Service
    after: Service
    weight: float = Field(1.0, ge=0)


class DeployGrading(_Model):
    services: list[Service] = Field(
        default_factory=list,
        description="services whose live release must contain the agent's final commit "
        "touching them ([] = no deploy expected)",
    )
    order: list[DeployOrder] = Field(default_factory=list)
    failed_deploy_penalty: float = Field(
        0.25,
        ge=0,
        le=1,
        description="per failed or rolled-back agent deploy; D is scaled by (1 - the deductions)",
    )
    migrations_at_head: bool = Field(True, description="the database is at the live code's head")


class AlertGrading(_Model):
    """Prometheus' own ALERTS history over the window after the agent's first deploy."""

    expected: list[str] = Field(
        default_factory=list, description="alerts the task's setup causes: tolerated"
    )
    resolved: list[str] = Field(
        default_factory=list,
        description="alerts that must no longer fire at grading time (the incident is over)",
    )
    unexpected_penalty: float = Field(
        0.5,
        ge=0,
        le=1,
        description="when any other alert fired; D is scaled by (1 - the deductions)",
    )


class LinearIssueCheck(_Model):
    kind: Literal["linear_issue"]
    issue: str = Field(description="identifier (e.g. ACME-12) or a title regex")
    state: str | None = Field(None, description="workflow state name or type, e.g. Done")
    comment: str | None = Field(None, description="a comment on it must match this regex")
    weight: float = Field(1.0, ge=0)

    _check_comment = field_validator("comment")(_regex)


class SentryIssueCheck(_Model):
    kind: Literal["sentry_issue"]
    title: str = Field(description="regex over the issue's title")
    status: Literal["resolved", "ignored", "unresolved"] = "resolved"
    weight: float = Field(1.0, ge=0)

    _check_title = field_validator("title")(_regex)


class StatuspageIncidentCheck(_Model):
    kind: Literal["statuspage_incident"]
    name: str = Field(".*", description="regex over the incident's name")
    status: str = Field("resolved", description="investigating|identified|monitoring|resolved")
    update: str | None = Field(None, description="an update's body must match this regex")
    weight: float = Field(1.0, ge=0)

    _check_name = field_validator("name", "update")(_regex)


class SlackMessageCheck(_Model):
    kind: Literal["slack_message"]
    channel: str = Field(description="channel name without #")
    pattern: str = Field(description="regex a message by the agent must match")
    weight: float = Field(1.0, ge=0)

    _check_pattern = field_validator("pattern")(_regex)


class NotionPageCheck(_Model):
    kind: Literal["notion_page"]
    title: str = Field(description="regex over a page's title")
    content: str | None = Field(None, description="regex over the page's text")
    weight: float = Field(1.0, ge=0)

    _check_title = field_validator("title", "content")(_regex)


class FlagCheck(_Model):
    kind: Literal["flag"]
    name: str
    value: Any
    weight: float = Field(1.0, ge=0)


ToolCheck = Annotated[
    LinearIssueCheck
    | SentryIssueCheck
    | StatuspageIncidentCheck
    | SlackMessageCheck
    | NotionPageCheck
    | FlagCheck,
    Field(discriminator="kind"),
]


class DevopsGrading(_Model):
    deploy: DeployGrading = Field(default_factory=DeployGrading)
    alerts: AlertGrading = Field(default_factory=AlertGrading)
    tools: list[ToolCheck] = Field(default_factory=list)


class QualityGrading(_Model):
    expect_code_change: bool = Field(True, description="no diff at all scores 0 when True")


class GradingSpec(_Model):
    feature: FeatureGrading = Field(default_factory=FeatureGrading)
    devops: DevopsGrading = Field(default_factory=DevopsGrading)
    quality: QualityGrading = Field(default_factory=QualityGrading)

    @model_validator(mode="after")
    def _order_names_deployed(self) -> GradingSpec:
        deployed = set(self.devops.deploy.services)
        for rule in self.devops.deploy.order:
            missing = {rule.before, rule.after} - deployed
            if missing:
                raise ValueError(
                    f"deploy order {rule.before} -> {rule.after} names {sorted(missing)}, "
                    "not in devops.deploy.services"
                )
        return self
