"""Where the system binaries a run needs live, under the names each platform gives them."""

from __future__ import annotations

import os
import shutil

# Debian ships Alertmanager as `prometheus-alertmanager`; upstream and Homebrew call it `alertmanager`.
BINARY_NAMES: dict[str, tuple[str, ...]] = {
    "prometheus": ("prometheus",),
    "promtool": ("promtool",),
    "alertmanager": ("alertmanager", "prometheus-alertmanager"),
    "git": ("git",),
    "docker": ("docker",),
    "redis-server": ("redis-server",),
    "postgres": ("postgres",),
}
EXTRA_DIRS = ("/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin", "/usr/local/bin")


def find_binary(tool: str) -> str | None:
    """Absolute path of `tool` under any of its names, or None; PRODBENCH_<TOOL> overrides."""
    override = os.environ.get("PRODBENCH_" + tool.upper().replace("-", "_"))
    if override:
        return override if os.access(override, os.X_OK) else None
    for name in BINARY_NAMES.get(tool, (tool,)):
        found = shutil.which(name)
        if found:
            return found
        for d in EXTRA_DIRS:
            candidate = os.path.join(d, name)
            if os.access(candidate, os.X_OK):
                return candidate
    return None
