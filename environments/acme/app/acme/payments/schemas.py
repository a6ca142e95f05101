"""Request bodies accepted by the processor API."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class CardIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    number: str = Field(min_length=12, max_length=19, pattern=r"^[0-9]+$")
    exp_month: int = Field(ge=1, le=12)
    exp_year: int = Field(ge=2000, le=2100)
    cvc: str = Field(min_length=3, max_length=4, pattern=r"^[0-9]+$")


class ChargeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount_cents: int = Field(ge=50, le=99_999_999)
    currency: str = Field(min_length=3, max_length=3, pattern=r"^[A-Za-z]{3}$")
    card: CardIn
    capture: bool = True
    description: str | None = Field(default=None, max_length=500)
    metadata: dict[str, str | int] = Field(default_factory=dict, max_length=20)


class CaptureIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount_cents: int | None = Field(default=None, ge=1)


class RefundIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount_cents: int | None = Field(default=None, ge=1)
    reason: str = Field(default="", max_length=200)


class FaultsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    latency_ms: int = Field(default=0, ge=0, le=60_000)
    jitter_ms: int = Field(default=0, ge=0, le=60_000)
    failure_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    failure_mode: Literal["error", "decline", "timeout"] = "error"
    seed: int = 0
