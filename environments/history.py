"""Commits a task adds to a workspace's history before the run starts (its recent past).

Each is a patch applied with `git apply --index` and committed as its author, at its own date
or an hour after its parent, so the same task always gives the same shas.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path


class HistoryError(RuntimeError):
    """A patch does not apply, or git refused the commit; the message says which and why."""


@dataclass(frozen=True)
class WorkspaceCommit:
    message: str
    patch: Path
    author: str  # "Name <email>"
    at: int | None = None  # epoch seconds; None: an hour after its parent


def _git(workspace: Path, *args: str, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(
        ["git", *args], cwd=workspace, capture_output=True, text=True, env=env, check=False
    )
    if proc.returncode != 0:
        raise HistoryError(f"git {' '.join(args[:2])} failed: {proc.stderr.strip()}")
    return proc.stdout.strip()


def apply_commit(workspace: Path, commit: WorkspaceCommit) -> str:
    """Apply and commit one patch; returns the new HEAD sha."""
    parent = int(_git(workspace, "log", "-1", "--format=%ct"))
    if commit.at is not None and commit.at <= parent:
        raise HistoryError(
            f"{commit.patch.name}: its date is not after its parent's (history runs forward)"
        )
    proc = subprocess.run(
        ["git", "apply", "--index", "--whitespace=nowarn", str(commit.patch)],
        cwd=workspace,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise HistoryError(
            f"{commit.patch.name} does not apply to the workspace: {proc.stderr.strip()}"
        )
    name, _, email = commit.author.rstrip(">").partition(" <")
    when = f"{commit.at if commit.at is not None else parent + 3600} +0000"
    env = {**os.environ}
    for role in ("AUTHOR", "COMMITTER"):
        env.update({f"GIT_{role}_NAME": name, f"GIT_{role}_EMAIL": email, f"GIT_{role}_DATE": when})
    _git(workspace, "commit", "-q", "--no-verify", "-m", commit.message, env=env)
    return _git(workspace, "rev-parse", "HEAD")


def apply_commits(workspace: Path, commits: list[WorkspaceCommit] | tuple) -> list[str]:
    return [apply_commit(workspace, c) for c in commits]
