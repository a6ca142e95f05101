"""The environments prodbench ships, by name, imported only when used.

Importing an environment pulls in its models (Acme's workspace builder alone costs ~0.3 s),
which every CLI command would otherwise pay before doing anything.
"""

from __future__ import annotations

import importlib

from environments.stacks import EnvironmentDef

_BUILTIN: dict[str, tuple[str, str]] = {
    "acme": ("environments.acme.environment", "ACME"),
    "ops": ("environments.stacks", "OPS"),
}
DEFAULT_STACK = "acme"


def builtin_names() -> list[str]:
    return list(_BUILTIN)


def builtin(name: str) -> EnvironmentDef | None:
    """The built-in environment called `name`, or None."""
    if name not in _BUILTIN:
        return None
    module, attr = _BUILTIN[name]
    return getattr(importlib.import_module(module), attr)
