"""What a tool service is started with: one typed settings object, from argv and environment."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

ADMIN_TOKEN_ENV = "PRODBENCH_ADMIN_TOKEN"


class ToolSettings(BaseModel):
    """Everything a tool's ``create_app(settings)`` needs; nothing is read from globals later."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    state_dir: Path = Field(description="Directory holding <tool>.db (created if missing).")
    fixtures: tuple[Path, ...] = Field(
        default=(), description="Fixture files applied in order on first start only."
    )
    seed: int = Field(default=0, ge=0, description="Seed for derived ids; same seed, same ids.")
    admin_token: str | None = Field(
        default=None,
        description=f"Bearer token for /_admin/ (env {ADMIN_TOKEN_ENV}); None disables admin.",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=0, ge=0, le=65535)
    max_body_bytes: int = Field(default=2 * 1024 * 1024, ge=1024)

    @classmethod
    def from_env(cls, **values) -> ToolSettings:
        """Settings with the admin token taken from the environment unless given."""
        values.setdefault("admin_token", os.environ.get(ADMIN_TOKEN_ENV) or None)
        return cls(**values)
