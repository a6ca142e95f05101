"""`prodbench doctor`: what this machine has, what is missing, and how to install it."""

from __future__ import annotations

import re
import subprocess
import sys
from typing import Literal

from pydantic import BaseModel

from environments.binaries import find_binary

Need = Literal["required", "optional"]


class Check(BaseModel):
    name: str
    need: Need
    ok: bool
    found: str | None = None
    version: str | None = None
    purpose: str
    install_debian: str | None = None
    install_macos: str | None = None


_TOOLS: list[tuple[str, Need, str, list[str], str, str]] = [
    # name, need, purpose, version argv (after the binary), apt, brew
    (
        "git",
        "required",
        "the agent's monorepo and the deployer",
        ["--version"],
        "apt-get install -y git",
        "brew install git",
    ),
    (
        "prometheus",
        "required",
        "metrics and alert rules of every run",
        ["--version"],
        "apt-get install -y prometheus",
        "brew install prometheus",
    ),
    (
        "promtool",
        "optional",
        "testing alert rules",
        ["--version"],
        "apt-get install -y prometheus",
        "brew install prometheus",
    ),
    (
        "alertmanager",
        "required",
        "routing alerts to the run's Slack",
        ["--version"],
        "apt-get install -y prometheus-alertmanager",
        "brew install alertmanager",
    ),
    (
        "docker",
        "optional",
        "the docker runtime (`--runtime docker`)",
        ["--version"],
        "apt-get install -y docker.io docker-compose",
        "brew install --cask docker",
    ),
    (
        "postgres",
        "optional",
        "running the app on PostgreSQL instead of SQLite",
        ["--version"],
        "apt-get install -y postgresql",
        "brew install postgresql@16",
    ),
    (
        "redis-server",
        "optional",
        "the Redis cache and queue backends",
        ["--version"],
        "apt-get install -y redis-server",
        "brew install redis",
    ),
]


def _version(path: str, args: list[str]) -> str | None:
    try:
        out = subprocess.run([path, *args], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = (out.stdout or out.stderr).strip()
    match = re.search(r"\d+\.\d+(?:\.\d+)?", text)
    return match.group(0) if match else None


def run_checks() -> list[Check]:
    py_ok = sys.version_info >= (3, 11)
    checks = [
        Check(
            name="python",
            need="required",
            ok=py_ok,
            found=sys.executable,
            version=sys.version.split()[0],
            purpose="prodbench itself (3.11 or newer)",
            install_debian="apt-get install -y python3 python3-venv",
            install_macos="brew install python@3.12",
        )
    ]
    for name, need, purpose, vargs, apt, brew in _TOOLS:
        path = find_binary(name)
        checks.append(
            Check(
                name=name,
                need=need,
                ok=path is not None,
                found=path,
                version=_version(path, vargs) if path else None,
                purpose=purpose,
                install_debian=apt,
                install_macos=brew,
            )
        )
    return checks


def healthy(checks: list[Check]) -> bool:
    return all(c.ok for c in checks if c.need == "required")
