"""A release gets its bytecode at build time, shared by content through the cache."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from environments.ops.deployer.build import export_release, precompile

FLAGS_CHECKED_HASH = 0b11  # hash-based pyc whose source is checked on import


def _pyc(source: Path) -> Path:
    return Path(importlib.util.cache_from_source(str(source)))


@pytest.fixture
def repo(tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(ws), *args], check=True, capture_output=True)

    git("init", "-q", "-b", "main")
    git("config", "user.email", "t@example.com")
    git("config", "user.name", "t")
    (ws / "pkg").mkdir()
    (ws / "pkg" / "__init__.py").write_text("")
    (ws / "pkg" / "mod.py").write_text("VALUE = 41 + 1\n")
    (ws / "broken.py").write_text("def nope(:\n")
    git("add", ".")
    git("commit", "-q", "-m", "first")
    return ws


def test_an_export_carries_hash_checked_bytecode_shared_through_the_cache(
    repo, tmp_path, monkeypatch
):
    monkeypatch.setenv("PRODBENCH_CACHE_DIR", str(tmp_path / "cache"))
    first, second = tmp_path / "releases" / "a", tmp_path / "releases" / "b"
    export_release(repo, "HEAD", first)
    pyc = _pyc(first / "pkg" / "mod.py")
    assert int.from_bytes(pyc.read_bytes()[4:8], "little") == FLAGS_CHECKED_HASH
    # A file that does not compile is left for the checks to report; the export still works.
    assert (first / "broken.py").exists() and not _pyc(first / "broken.py").exists()
    export_release(repo, "HEAD", second)  # same content elsewhere: copied, not compiled
    assert _pyc(second / "pkg" / "mod.py").read_bytes() == pyc.read_bytes()
    assert precompile(second) == 0
    out = subprocess.run(
        [sys.executable, "-c", "import pkg.mod, sys; print(pkg.mod.VALUE, pkg.mod.__file__)"],
        cwd=second,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert out == ["42", str(second / "pkg" / "mod.py")]


def test_stale_bytecode_never_wins_over_the_source(repo, tmp_path, monkeypatch):
    monkeypatch.setenv("PRODBENCH_CACHE_DIR", str(tmp_path / "cache"))
    release = tmp_path / "rel"
    export_release(repo, "HEAD", release)
    (release / "pkg" / "mod.py").write_text("VALUE = 7\n")  # edited after the build
    out = subprocess.run(
        [sys.executable, "-c", "import pkg.mod; print(pkg.mod.VALUE)"],
        cwd=release,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert out == "7"
    assert precompile(release) == 1  # new content: compiled once, then cached
    assert precompile(release) == 0
