"""A task's setup commits: applied as their authors, at their dates or an hour after their
parents, so the same task always gives the same shas; bad input is a readable HistoryError."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from environments.history import HistoryError, WorkspaceCommit, apply_commits

BASE = 1_790_000_000  # the repository's first commit, epoch seconds
PATCH = """--- a/app.py
+++ b/app.py
@@ -1 +1 @@
-VALUE = 1
+VALUE = 2
"""


def git(repo: Path, *args: str, **env: str) -> str:
    proc = subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=True,
        env={**os.environ, **env},
    )  # fmt: skip
    return proc.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "app.py").write_text("VALUE = 1\n")
    git(repo, "add", "app.py")
    stamp = f"{BASE} +0000"
    git(repo, "-c", "user.name=A", "-c", "user.email=a@acme.test", "commit", "-qm", "first",
        GIT_AUTHOR_DATE=stamp, GIT_COMMITTER_DATE=stamp)  # fmt: skip
    (tmp_path / "change.patch").write_text(PATCH)
    return repo


def test_a_commit_is_dated_as_asked_or_an_hour_after_its_parent(repo: Path) -> None:
    patch = repo.parent / "change.patch"
    dated = WorkspaceCommit("Bump", patch, "Ben Carter <ben.carter@acme.dev>", at=BASE + 86400)
    (sha,) = apply_commits(repo, [dated])
    assert git(repo, "log", "-1", "--format=%ct %an <%ae> %s") == (
        f"{BASE + 86400} Ben Carter <ben.carter@acme.dev> Bump"
    )
    git(repo, "reset", "-q", "--hard", "HEAD~1")
    (undated,) = apply_commits(repo, [WorkspaceCommit("Bump", patch, "Ben Carter <b@acme.dev>")])
    assert git(repo, "log", "-1", "--format=%ct") == str(BASE + 3600)
    assert undated != sha
    git(repo, "reset", "-q", "--hard", "HEAD~1")
    assert apply_commits(repo, [dated]) == [sha]  # same input, same sha


def test_bad_commits_say_what_is_wrong(repo: Path) -> None:
    patch = repo.parent / "change.patch"
    with pytest.raises(HistoryError, match="not after its parent"):
        apply_commits(repo, [WorkspaceCommit("Old", patch, "A <a@acme.test>", at=BASE - 1)])
    (repo.parent / "stale.patch").write_text(PATCH.replace("VALUE = 1", "VALUE = 9"))
    with pytest.raises(HistoryError, match="stale.patch does not apply"):
        apply_commits(repo, [WorkspaceCommit("Stale", repo.parent / "stale.patch", "A <a@b.c>")])
