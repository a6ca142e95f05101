"""The environments prodbench ships, by name."""

from __future__ import annotations

from environments.acme.environment import ACME
from environments.stacks import OPS, EnvironmentDef

BUILTIN: dict[str, EnvironmentDef] = {env.name: env for env in (ACME, OPS)}
DEFAULT_STACK = "acme"
