"""Build the agent's workspace: Acme's git monorepo with a believable, reproducible history.

``build_workspace`` turns the app template (``environments/acme/app``) into a git repository
whose log reads like a real team's: the commits scripted in ``seed/history.yaml``, written by
the people of ``seed/company.yaml`` between 2025 and 2026. The whole history is written by one
``git fast-import`` process and checked out once, so a workspace is ready in a fraction of a
second, and the same template, history and seed always give the same commit hashes.

History rules (``seed/history.yaml``):

- ``paths``: glob patterns relative to the app root (``*`` and ``?`` stay inside one path
  segment, ``**`` crosses directories, a pattern naming a directory takes everything under it).
  Each file is added once, by the first commit whose ``paths`` match it, in its final form.
- ``touch``: patterns of files added earlier that this commit brings closer to their final
  form. A touched file first appears as a shorter draft (a prefix cut at a heading or
  paragraph) and grows at each touch, reaching its final bytes at the last one (touches beyond
  the number of places a file can be cut change nothing). Meant for README, docs and config.
- A commit left with no changes is an error naming it, unless it says ``optional: true``.
- Files no pattern matches go into a final ``chore: sync`` commit and are reported.
- ``date``: ISO 8601 with a UTC offset, or ``+2d``, ``+3h30m``... after the previous commit.
  The seed moves each commit by a few minutes; nothing else depends on it.
- The author must own the component the message names (``api: ...``, ``fix(payments): ...``).
"""

from __future__ import annotations

import datetime as dt
import os
import random
import re
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from environments.acme.company import YAML_LOADER, Company, Employee, load_company

__all__ = [
    "DEFAULT_APP_DIR",
    "DEFAULT_HISTORY_PATH",
    "CommitInfo",
    "GitError",
    "History",
    "HistoryCommit",
    "HistoryError",
    "WorkspaceInfo",
    "add_commit",
    "build_workspace",
    "load_history",
]

DEFAULT_APP_DIR = Path(__file__).resolve().parent / "app"
DEFAULT_HISTORY_PATH = Path(__file__).resolve().parent / "seed" / "history.yaml"

BRANCH = "main"
SYNC_MESSAGE = "chore: sync"
MAX_JITTER_MINUTES = 40
EXCLUDED_NAMES = frozenset(
    {".git", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".venv"}
)
EXCLUDED_SUFFIXES = (".pyc", ".pyo", ".db", ".egg-info")

_GIT_CONFIG = (
    f"init.defaultBranch={BRANCH}",
    "commit.gpgsign=false",
    "core.autocrlf=false",
    "core.fileMode=true",
    "gc.auto=0",
)
_MODE_FILE, _MODE_EXEC, _MODE_LINK = "100644", "100755", "120000"


class HistoryError(ValueError):
    """history.yaml does not fit the company or the template; the message names the commit."""


class GitError(RuntimeError):
    """A git command failed; the message has the command and git's own words."""


# -- models ---------------------------------------------------------------------------------


class HistoryCommit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message: str = Field(min_length=1, description="Conventional subject, optional body.")
    author: str = Field(description="Employee id from company.yaml.")
    date: dt.datetime | str = Field(description="ISO 8601 with offset, or '+1d2h' after previous.")
    paths: list[str] = Field(default_factory=list, description="Files first added here.")
    touch: list[str] = Field(default_factory=list, description="Earlier files grown here.")
    optional: bool = Field(default=False, description="Skip instead of failing when empty.")
    component: str | None = Field(default=None, description="Default: from the message prefix.")

    @property
    def subject(self) -> str:
        return self.message.strip().splitlines()[0]


class History(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sync_author: str = Field(description="Author of the closing 'chore: sync' commit, if any.")
    commits: list[HistoryCommit] = Field(min_length=1)


class CommitInfo(BaseModel):
    sha: str
    message: str = Field(description="Full message as committed, without the final newline.")
    author: str = Field(description="Employee id.")
    date: dt.datetime


class WorkspaceInfo(BaseModel):
    path: Path
    head: str
    commit_count: int
    commits: list[CommitInfo] = Field(description="Oldest first.")
    unmatched: list[str] = Field(description="Template files no history pattern matched.")


def load_history(path: str | Path | None = None) -> History:
    path = Path(path) if path is not None else DEFAULT_HISTORY_PATH
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=YAML_LOADER)
        return History.model_validate(data)
    except FileNotFoundError:
        raise HistoryError(f"{path}: file not found") from None
    except (yaml.YAMLError, ValidationError) as exc:
        raise HistoryError(f"{path} is invalid:\n{exc}") from None


# -- public API -----------------------------------------------------------------------------


def build_workspace(
    app_dir: Path,
    dest: Path,
    *,
    seed: int,
    company: Company | None = None,
    history_path: Path | None = None,
) -> WorkspaceInfo:
    """Create the git monorepo at ``dest`` (absent or empty) from the template ``app_dir``.

    Same template + history + company + seed => same commit hashes.
    """
    app_dir, dest = Path(app_dir), Path(dest)
    if not app_dir.is_dir():
        raise FileNotFoundError(f"app template {app_dir} is not a directory")
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise FileExistsError(f"workspace destination {dest} exists and is not empty")
    company = company if company is not None else load_company()
    history = load_history(history_path)

    files = _scan_template(app_dir)
    commits, unmatched = _plan(files, history, company, seed)

    created = not dest.exists()
    dest.mkdir(parents=True, exist_ok=True)
    try:
        with tempfile.TemporaryDirectory(prefix="prodbench-git-") as home:
            env = _git_env(home)
            _git(["init", "-q", "--template=", str(dest)], cwd=dest, env=env)
            marks = dest / ".git" / "prodbench-import-marks"
            _git(
                ["fast-import", "--quiet", "--date-format=raw", f"--export-marks={marks}"],
                cwd=dest,
                env=env,
                stdin=_fast_import_stream(commits),
            )
            shas = _read_marks(marks)
            marks.unlink()
            _git(["reset", "-q", "--hard", BRANCH], cwd=dest, env=env)
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)  # never leave a half-built repository behind
        if not created:
            dest.mkdir()
        raise

    infos = [
        CommitInfo(sha=shas[i + 1], message=c.message.rstrip(), author=c.author.id, date=c.when)
        for i, c in enumerate(commits)
    ]
    return WorkspaceInfo(
        path=dest,
        head=infos[-1].sha,
        commit_count=len(infos),
        commits=infos,
        unmatched=unmatched,
    )


def add_commit(
    dest: Path,
    files: Mapping[str, bytes | None],
    message: str,
    author: Employee,
    date: dt.datetime,
) -> str:
    """Commit ``files`` (path -> bytes; None deletes) on top of HEAD in ``dest``; return the sha.

    For task setup. The work tree and index are updated too; other changes in the index would be
    committed with it, so call it on a clean workspace. Deterministic: same repo state, files,
    message, author and date give the same sha.
    """
    dest = Path(dest)
    if not files:
        raise ValueError("add_commit: no files given")
    if date.tzinfo is None or date.utcoffset() is None:
        raise ValueError(f"add_commit: date {date.isoformat()} needs a timezone")
    writes, deletes = [], []
    for path, data in sorted(files.items()):
        _check_relative_path(path)
        target = dest / path
        if data is None:
            if target.is_symlink() or target.is_file():
                target.unlink()
            deletes.append(path)
        else:
            if target.is_symlink() or target.is_dir():
                raise ValueError(f"add_commit: {path} is a symlink or directory in {dest}")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            writes.append(path)
    with tempfile.TemporaryDirectory(prefix="prodbench-git-") as home:
        env = _git_env(home, author, date)
        if deletes:
            _git(["rm", "-q", "--cached", "--ignore-unmatch", "--", *deletes], cwd=dest, env=env)
        if writes:
            _git(["add", "-f", "--", *writes], cwd=dest, env=env)
        staged = _git(
            ["diff", "--cached", "--quiet", "--exit-code"], cwd=dest, env=env, check=False
        )
        if staged.returncode == 0:
            raise ValueError(f"add_commit: {message.strip().splitlines()[0]!r} changes nothing")
        _git(
            ["commit", "-q", "--no-verify", "--cleanup=verbatim", "-F", "-"],
            cwd=dest,
            env=env,
            stdin=_normalise_message(message).encode(),
        )
        return _git(["rev-parse", "HEAD"], cwd=dest, env=env).stdout.decode().strip()


# -- template -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _File:
    mode: str
    data: bytes


def _excluded(name: str) -> bool:
    return name in EXCLUDED_NAMES or name.endswith(EXCLUDED_SUFFIXES)


def _scan_template(app_dir: Path) -> dict[str, _File]:
    """Every file of the template, by POSIX path, in sorted order."""
    found: dict[str, _File] = {}
    for root, dirs, names in os.walk(app_dir):
        kept = []
        for d in dirs:
            if _excluded(d):
                continue
            if os.path.islink(os.path.join(root, d)):  # a symlink to a directory: keep the link
                names.append(d)
            else:
                kept.append(d)
        dirs[:] = kept
        for name in names:
            if _excluded(name):
                continue
            full = os.path.join(root, name)
            rel = os.path.relpath(full, app_dir).replace(os.sep, "/")
            st = os.lstat(full)
            if stat.S_ISLNK(st.st_mode):
                found[rel] = _File(_MODE_LINK, os.fsencode(os.readlink(full)))
            elif stat.S_ISREG(st.st_mode):
                mode = _MODE_EXEC if st.st_mode & stat.S_IXUSR else _MODE_FILE
                with open(full, "rb") as fh:
                    found[rel] = _File(mode, fh.read())
    return dict(sorted(found.items()))


# -- planning -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Commit:
    message: str
    author: Employee
    when: dt.datetime
    changes: dict[str, _File]


_RELATIVE = re.compile(r"^\+\s*(?:(\d+)d)?\s*(?:(\d+)h)?\s*(?:(\d+)m)?$")
_PREFIX = re.compile(r"^([a-z0-9-]+)(?:\(([a-z0-9-]+)\))?!?:")


def _plan(
    files: dict[str, _File], history: History, company: Company, seed: int
) -> tuple[list[_Commit], list[str]]:
    """Decide what every commit contains; pure, so it fails before any git runs."""
    entries = history.commits
    authors = [_author(company, c, i) for i, c in enumerate(entries)]
    try:
        sync_author = company.employee(history.sync_author)
    except KeyError as exc:
        raise HistoryError(f"history sync_author: {exc.args[0]}") from None
    dates = _resolve_dates(entries)

    first: dict[str, int] = {}
    touches: dict[str, list[int]] = {}
    for i, entry in enumerate(entries):
        add = [_glob(p, i, entry) for p in entry.paths]
        grow = [_glob(p, i, entry) for p in entry.touch]
        for path in files:
            if path not in first:
                if any(rx.match(path) for rx in add):
                    first[path] = i
            elif any(rx.match(path) for rx in grow):
                touches.setdefault(path, []).append(i)

    changes: list[dict[str, _File]] = [{} for _ in entries]
    for path, i in first.items():
        final = files[path]
        later = touches.get(path, [])
        drafts = _drafts(final.data, path, len(later)) if later and final.mode != _MODE_LINK else []
        versions = [_File(final.mode, d) for d in drafts] + [final]
        for index, version in zip([i, *later], versions, strict=False):
            changes[index][path] = version
        # touches beyond the versions a file has (none without drafts) change nothing

    rng = random.Random(seed)
    commits: list[_Commit] = []
    for i, entry in enumerate(entries):
        when = _jitter(dates[i], rng)
        if not changes[i]:
            if entry.optional:
                continue
            raise HistoryError(
                f"history commit #{i + 1} {entry.subject!r} would be empty: its patterns "
                f"(paths={entry.paths}, touch={entry.touch}) match no file that an earlier commit "
                "did not already take. Fix the patterns or mark it `optional: true`."
            )
        if commits and when <= commits[-1].when:
            when = commits[-1].when + dt.timedelta(minutes=3)
        commits.append(_Commit(_normalise_message(entry.message), authors[i], when, changes[i]))

    unmatched = [p for p in files if p not in first]
    if unmatched:
        when = _jitter(dates[-1] + dt.timedelta(days=1), rng)
        if commits and when <= commits[-1].when:
            when = commits[-1].when + dt.timedelta(minutes=3)
        commits.append(
            _Commit(
                _normalise_message(SYNC_MESSAGE),
                sync_author,
                when,
                {p: files[p] for p in unmatched},
            )
        )
    if not commits:
        raise HistoryError("history produced no commits: is the app template empty?")
    return commits, unmatched


def _author(company: Company, entry: HistoryCommit, index: int) -> Employee:
    where = f"history commit #{index + 1} {entry.subject!r}"
    try:
        author = company.employee(entry.author)
    except KeyError as exc:
        raise HistoryError(f"{where}: author {exc.args[0]}") from None
    component = entry.component
    if component is None:
        m = _PREFIX.match(entry.subject)
        if m:
            component = next((g for g in (m[2], m[1]) if g in company.components), None)
    elif component not in company.components:
        raise HistoryError(f"{where}: unknown component {component!r}")
    if component is not None:
        owners = company.owners_of(component)
        if author not in owners:
            raise HistoryError(
                f"{where}: author {author.id!r} ({author.team}) does not own component "
                f"{component!r}; its owners are {', '.join(e.id for e in owners)}"
            )
    return author


def _resolve_dates(entries: list[HistoryCommit]) -> list[dt.datetime]:
    dates: list[dt.datetime] = []
    for i, entry in enumerate(entries):
        where = f"history commit #{i + 1} {entry.subject!r}"
        value = entry.date
        if isinstance(value, str):
            m = _RELATIVE.match(value.strip())
            if m and any(m.groups()):
                if not dates:
                    raise HistoryError(f"{where}: the first commit needs an absolute date")
                days, hours, minutes = (int(g or 0) for g in m.groups())
                value = dates[-1] + dt.timedelta(days=days, hours=hours, minutes=minutes)
            else:
                try:
                    value = dt.datetime.fromisoformat(value)
                except ValueError:
                    raise HistoryError(
                        f"{where}: date {entry.date!r} is neither ISO 8601 nor '+1d2h30m'"
                    ) from None
        if value.tzinfo is None or value.utcoffset() is None:
            raise HistoryError(f"{where}: date {value.isoformat()} needs a UTC offset")
        if dates and value <= dates[-1]:
            raise HistoryError(
                f"{where}: date {value.isoformat()} is not after the previous commit's "
                f"{dates[-1].isoformat()}"
            )
        dates.append(value)
    return dates


def _jitter(when: dt.datetime, rng: random.Random) -> dt.datetime:
    minutes = rng.randint(-MAX_JITTER_MINUTES, MAX_JITTER_MINUTES)
    return when.replace(second=rng.randint(0, 59), microsecond=0) + dt.timedelta(minutes=minutes)


def _glob(pattern: str, index: int, entry: HistoryCommit) -> re.Pattern[str]:
    if not pattern.strip("/"):
        raise HistoryError(f"history commit #{index + 1} {entry.subject!r}: empty pattern")
    return _glob_regex(pattern.strip("/"))


@lru_cache(maxsize=1024)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    """Anchored glob: ``*``/``?`` within a segment, ``**`` across; a match takes its subtree."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:[^/]+/)*")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[" and "]" in pattern[i + 2 :]:
            end = pattern.index("]", i + 2)
            body = pattern[i + 1 : end]
            out.append("[" + ("^" + body[1:] if body.startswith("!") else body) + "]")
            i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"(?:/.*)?\Z")


def _drafts(data: bytes, path: str, count: int) -> list[bytes]:
    """Up to ``count`` growing prefixes of a text file, cut at headings (Markdown) or paragraphs.

    Fewer when the file has fewer places to cut: the last touches then change nothing.
    """
    try:
        lines = data.decode("utf-8").splitlines(keepends=True)
    except UnicodeDecodeError:
        return []
    cuts = [i for i in range(1, len(lines)) if not lines[i - 1].strip() and lines[i].strip()]
    if path.endswith((".md", ".rst")):
        cuts = [i for i in cuts if lines[i].startswith("#")] or cuts
    cuts = cuts or list(range(1, len(lines)))
    if len(cuts) > count:  # spread the cuts evenly over the file
        targets = [len(lines) * k / (count + 1) for k in range(1, count + 1)]
        cuts = sorted({min(cuts, key=lambda c: (abs(c - t), c)) for t in targets})
    drafts: list[bytes] = []
    for cut in cuts:
        draft = ("".join(lines[:cut]).rstrip() + "\n").encode()
        if draft != data and draft not in drafts:  # trailing blank lines can make twins
            drafts.append(draft)
    return drafts


# -- git ------------------------------------------------------------------------------------


def _fast_import_stream(commits: list[_Commit]) -> bytes:
    """One fast-import stream for the whole history; commit N gets mark N (1-based)."""
    out = bytearray()
    blob_marks: dict[bytes, int] = {}
    next_blob = len(commits) + 1
    for number, commit in enumerate(commits, start=1):
        for f in commit.changes.values():
            if f.data not in blob_marks:
                blob_marks[f.data] = next_blob
                out += b"blob\nmark :%d\ndata %d\n" % (next_blob, len(f.data)) + f.data + b"\n"
                next_blob += 1
        who = _ident(commit.author, commit.when)
        message = commit.message.encode()
        out += b"commit refs/heads/%s\nmark :%d\n" % (BRANCH.encode(), number)
        out += b"author %s\ncommitter %s\n" % (who, who)
        out += b"data %d\n%s" % (len(message), message)
        for path in sorted(commit.changes):
            f = commit.changes[path]
            out += b"M %s :%d %s\n" % (f.mode.encode(), blob_marks[f.data], _quote(path))
        out += b"\n"
    out += b"done\n"
    return bytes(out)


def _ident(author: Employee, when: dt.datetime) -> bytes:
    return f"{author.name} <{author.email}> {_raw_date(when)}".encode()


def _raw_date(when: dt.datetime) -> str:
    offset = when.utcoffset() or dt.timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"{int(when.timestamp())} {sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"


def _quote(path: str) -> bytes:
    """C-style quoting, which fast-import always accepts."""
    out = bytearray(b'"')
    for byte in path.encode("utf-8"):
        if byte in (0x22, 0x5C):
            out += b"\\" + bytes([byte])
        elif byte < 0x20 or byte == 0x7F:
            out += b"\\%03o" % byte
        else:
            out.append(byte)
    return bytes(out + b'"')


def _normalise_message(message: str) -> str:
    lines = [line.rstrip() for line in message.strip().splitlines()]
    return "\n".join(lines) + "\n"


def _read_marks(path: Path) -> dict[int, str]:
    marks = {}
    for line in path.read_text().splitlines():
        mark, sha = line.split()
        marks[int(mark.lstrip(":"))] = sha
    return marks


def _check_relative_path(path: str) -> None:
    parts = path.split("/")
    if path.startswith("/") or "\\" in path or any(p in ("", ".", "..", ".git") for p in parts):
        raise ValueError(f"add_commit: {path!r} is not a plain relative path inside the repo")


def _git_env(home: str, author: Employee | None = None, when: dt.datetime | None = None) -> dict:
    """A fixed environment: no user or system config, no inherited GIT_* variables."""
    env = {
        "PATH": os.environ.get("PATH", os.defpath),
        "HOME": home,
        "XDG_CONFIG_HOME": home,
        "LANG": "C",
        "LC_ALL": "C",
        "TZ": "UTC",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_TERMINAL_PROMPT": "0",
    }
    if author is not None and when is not None:
        date = _raw_date(when)
        for role in ("AUTHOR", "COMMITTER"):
            env[f"GIT_{role}_NAME"] = author.name
            env[f"GIT_{role}_EMAIL"] = author.email
            env[f"GIT_{role}_DATE"] = date
    return env


def _git(
    args: Iterable[str],
    *,
    cwd: Path,
    env: dict,
    stdin: bytes | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[bytes]:
    cmd = ["git", *(a for kv in _GIT_CONFIG for a in ("-c", kv)), *args]
    try:
        proc = subprocess.run(cmd, cwd=cwd, env=env, input=stdin, capture_output=True, check=False)
    except FileNotFoundError:
        raise GitError(
            "git is not installed (or not on PATH); install git to build workspaces"
        ) from None
    if check and proc.returncode != 0:
        shown = " ".join(["git", *args])
        raise GitError(
            f"`{shown}` failed in {cwd} (exit {proc.returncode}): "
            f"{proc.stderr.decode(errors='replace').strip()}"
        )
    return proc
