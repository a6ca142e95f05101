"""Build: a commit of the workspace becomes `releases/<sha>/`, as `git archive` has it.

The release runs with the environment's installed dependencies unless the commit changed the
monorepo's dependency list; then it gets its own virtualenv on top of them (system site
packages), so only what changed is installed.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import py_compile
import re
import shutil
import sqlite3
import subprocess
import sys
import tarfile
from pathlib import Path

from environments.paths import cache_dir
from environments.runs import write_json_atomic

REQUIREMENTS = "requirements.txt"


class BuildError(RuntimeError):
    pass


def git(workspace: Path, *args: str) -> str:
    proc = subprocess.run(
        ["git", "-C", str(workspace), *args], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise BuildError(proc.stderr.strip() or f"git {' '.join(args)} failed")
    return proc.stdout.strip()


def resolve(workspace: Path, ref: str) -> tuple[str, str]:
    """The commit sha and subject `ref` names; a clear error for a ref that names none."""
    if ref.startswith("-"):
        raise BuildError(f"{ref!r} is not a git ref")
    try:
        sha = git(workspace, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    except BuildError:
        sha = ""
    if not sha:
        raise BuildError(
            f"{ref!r} names no commit of the monorepo; commit your change and deploy its "
            "sha or branch (git log shows them)"
        )
    return sha, git(workspace, "log", "-1", "--format=%s", sha)


def export_release(workspace: Path, sha: str, dest: Path) -> None:
    """Write commit `sha` of the workspace into `dest` (all or nothing: via a temporary dir)."""
    if (dest / ".release.json").exists():
        return
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    with subprocess.Popen(
        ["git", "-C", str(workspace), "archive", "--format=tar", sha],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as proc:
        assert proc.stdout is not None
        with tarfile.open(fileobj=proc.stdout, mode="r|") as archive:
            # The "data" filter (no absolute paths, links out, devices) where this Python has
            # it (3.11.4 on); git archive of our own workspace writes none of those anyway.
            if hasattr(tarfile, "data_filter"):
                archive.extractall(tmp, filter="data")
            else:  # pragma: no cover - Debian's 3.11.2 in the docker stand-in image
                archive.extractall(tmp)
        err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        raise BuildError(f"git archive {sha} failed: {err.strip()}")
    precompile(tmp)
    write_json_atomic(tmp / ".release.json", {"sha": sha})
    try:
        os.rename(tmp, dest)
    except OSError:  # someone else built it first
        shutil.rmtree(tmp, ignore_errors=True)


def precompile(release: Path, cache: Path | None = None) -> int:
    """Write the bytecode of every module of a release once, so its processes do not each compile.

    Every app process of a run imports the same fresh export; without bytecode each compiles it
    again (always, when PYTHONDONTWRITEBYTECODE is set). The `.pyc` files are hash-checked, so
    they stay valid wherever the release lands and whatever its files' times, and are kept in a
    cache by source content: a later release (another run, or a commit changing a few files)
    copies the unchanged ones instead of compiling them. A file that does not compile is left
    to the checks to report. Returns how many files were compiled rather than copied.
    """
    cache = (cache or cache_dir()) / "pyc" / (sys.implementation.cache_tag or "none")
    compiled = 0
    for source in release.rglob("*.py"):
        if ".venv" in source.relative_to(release).parts:
            continue
        try:
            data = source.read_bytes()
        except OSError:
            continue
        target = Path(importlib.util.cache_from_source(str(source)))
        cached = cache / f"{hashlib.blake2b(data, digest_size=20).hexdigest()}.pyc"
        target.parent.mkdir(exist_ok=True)
        try:
            shutil.copyfile(cached, target)
            continue
        except OSError:
            pass
        try:
            py_compile.compile(
                str(source),
                cfile=str(target),
                doraise=True,
                invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH,
            )
        except (py_compile.PyCompileError, OSError, ValueError):
            continue
        compiled += 1
        with contextlib.suppress(OSError):
            cache.mkdir(parents=True, exist_ok=True)
            tmp = cached.with_name(f".{cached.name}.{os.getpid()}.tmp")
            shutil.copyfile(target, tmp)
            os.replace(tmp, cached)
    return compiled


def python_for(release: Path, base: Path, log) -> str:
    """The interpreter a release runs with: ours, or a venv when its requirements changed."""
    mine, theirs = release / REQUIREMENTS, base / REQUIREMENTS
    same = mine.exists() == theirs.exists() and (
        not mine.exists() or mine.read_bytes() == theirs.read_bytes()
    )
    if same:
        log(f"dependencies unchanged ({REQUIREMENTS}): reusing the installed environment")
        return sys.executable
    venv = release / ".venv"
    python = venv / "bin" / "python"
    if (venv / ".complete").exists():
        log(f"dependencies changed: reusing {venv}")
        return str(python)
    log(f"dependencies changed: installing {REQUIREMENTS} into {venv}")
    steps = [
        [sys.executable, "-m", "venv", "--system-site-packages", str(venv)],
        [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q", "-r", str(mine)],
    ]
    for argv in steps:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=600, check=False)
        log((proc.stdout + proc.stderr).strip())
        if proc.returncode != 0:
            raise BuildError(f"installing dependencies failed (exit {proc.returncode})")
    (venv / ".complete").write_text("ok\n")
    return str(python)


_REVISION = re.compile(r"^revision\b[^=\n]*=\s*['\"]([^'\"]+)['\"]", re.MULTILINE)
_DOWN = re.compile(r"^down_revision\b[^=\n]*=\s*(.+)$", re.MULTILINE)


def migration_heads(versions: Path) -> set[str] | None:
    """The head revisions of an Alembic versions directory, read without importing it.

    None when a file cannot be read this way (then only Alembic itself can say).
    """
    revisions, parents = set(), set()
    for path in versions.glob("*.py"):
        text = path.read_text(encoding="utf-8", errors="replace")
        rev, down = _REVISION.search(text), _DOWN.search(text)
        if not rev or not down:
            return None
        revisions.add(rev.group(1))
        parents.update(re.findall(r"['\"]([^'\"]+)['\"]", down.group(1)))
    return revisions - parents if revisions else None


def sqlite_revisions(database_url: str) -> set[str] | None:
    """The revisions an SQLite database is at, or None when that cannot be read directly."""
    if not database_url.startswith("sqlite:///"):
        return None
    path = database_url.removeprefix("sqlite:///")
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            return {row[0] for row in db.execute("SELECT version_num FROM alembic_version")}
    except sqlite3.Error:
        return None
