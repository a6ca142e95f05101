"""Bytecode for prodbench's own packages when the interpreter is told never to write it.

With PYTHONDONTWRITEBYTECODE set (common in containers and CI images), every service process
of every run compiles the modules of `environments`, `mcp_servers`, `traffic` and `prodbench`
it imports from source, again and again, on the cores `up` is waiting for. The supervisor
starts `compileall` once per run, in the background at low CPU priority: it writes what an
interpreter without the variable would have written on import (`__pycache__/` beside the
sources, the same timestamp-checked files), and on later runs only checks they are current.
The release a run deploys gets its bytecode at build time (ops/deployer/build.py).
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import signal
import subprocess
import sys
from pathlib import Path

PACKAGES = ("environments", "mcp_servers", "traffic", "prodbench")
# The app template is the agent's monorepo, not code a service imports: runs deploy releases.
EXCLUDE = r"[/\\]environments[/\\]acme[/\\]app[/\\]"
NICENESS = 10


def package_dirs(names: tuple[str, ...] = PACKAGES) -> list[str]:
    """Where the packages' sources are, found without importing them."""
    dirs = []
    for name in names:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        for location in (spec.submodule_search_locations or []) if spec else []:
            if Path(location).is_dir() and os.access(location, os.W_OK):
                dirs.append(location)
    return dirs


def _background() -> None:  # runs in the child between fork and exec
    os.nice(NICENESS)
    try:  # and it goes with the supervisor
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def start_compiling(dirs: list[str] | None = None) -> subprocess.Popen | None:
    """Start compiling the packages in the background, or None when there is nothing to do."""
    if not sys.flags.dont_write_bytecode:
        return None  # every process writes the bytecode of what it imports itself
    dirs = package_dirs() if dirs is None else dirs
    if not dirs:
        return None
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "compileall", "-q", "-x", EXCLUDE, *dirs],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_background,  # noqa: PLW1509 - spawned before the supervisor has threads
        )
    except OSError:
        return None
