"""Machine-wide places prodbench uses, standard library only (jobs import this at start-up)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def machine_state_dir() -> Path:
    """Per-user, per-machine state shared by every runs dir (the port reservations)."""
    return Path(tempfile.gettempdir()) / f"prodbench-{os.getuid()}"


def cache_dir() -> Path:
    """Reusable artefacts (seeded databases) keyed by what produced them; safe to delete."""
    return Path(os.environ.get("PRODBENCH_CACHE_DIR") or machine_state_dir() / "cache")
