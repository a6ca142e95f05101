"""Deterministic signals of engineering quality: what an agent's commits changed, what linters
say the change added, and how the agent used its tools.

`collect_signals(repo, base, head, calls_path)` looks at the commits `base..head` of a git
repository (the agent's work) and the run's `calls.jsonl`, and returns `Signals`:

- **the change**: files changed and lines added/removed (`git diff --numstat base head`, renames
  detected, binary files counted as files only), the commit messages of `base..head` (oldest
  first), and the unified diff for the judge's prompt, capped at `max_diff_chars` (see
  `cap_diff`: every file keeps a fair share and a truncation says what was left out).
- **findings added**: ruff and bandit are run on the changed Python files as they were at
  `base` and as they are at `head` (both trees written to a temporary directory from
  `git cat-file`, so the workspace is never touched). A finding is keyed by file (its path at
  head, renames followed), rule and message, never by line number, so code that merely moved
  is not new, and numbers in the message are ignored too (a function "too complex (12 > 10)"
  that was "(11 > 10)" is not a new finding); "added" is the multiset difference head - base.
  Both tools run isolated from the repository's own configuration (the same rules for every
  repository); suppression comments (`# noqa`, `# nosec`) are honoured, and visible to the
  judge in the diff:
  - ruff `RUFF_RULES`: pyflakes (F), pycodestyle errors (E, without the line-length rule
    E501, which is a house-style matter), bugbear (B), perflint (PERF), flake8-async (ASYNC:
    blocking calls in async code, without ASYNC109, a `timeout` parameter, which is a style
    opinion), pylint errors (PLE) and mccabe complexity over 10 (C901).
    Security rules (S) are left to bandit so that one issue is not counted twice; PERF and
    ASYNC findings are the "performance" ones.
  - bandit, every test but B101 (`assert`, which tests are made of), with its severity.
- **the calls**: from `calls.jsonl`, the number of calls and of failed calls, counts per
  server and tool, the failures, the first and last calls in order, and repeated identical
  calls: the same server, tool and arguments `REPEAT_THRESHOLD` (3) or more times.
  `redundant_calls` counts the calls of such groups after their first; `redundant_failed_calls`
  the failed ones among those after the group's first failure (retrying the same failing call).

Git failures (not a repository, an unknown commit) raise `SignalError`: the grader cannot
judge anything and the trial is an infra error. A linter that is missing, times out or fails
is recorded in `Signals.errors` and its findings are `None` ("not measured"), never a crash.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

RUFF_RULES = "E,F,B,PERF,ASYNC,PLE,C901"
RUFF_IGNORE = "E501,ASYNC109"
PERFORMANCE_PREFIXES = ("PERF", "ASYNC")
BANDIT_SKIP = "B101"
REPEAT_THRESHOLD = 3
MAX_DIFF_CHARS = 60_000
MAX_ANALYSED_FILES = 400  # Python files linted per tree; more are listed in `errors`
GIT_TIMEOUT = 60.0
LINT_TIMEOUT = 120.0
FIRST_CALLS = 40
LAST_CALLS = 10
ERRORS_SHOWN = 15
ARGS_SHOWN = 160  # characters of a call's arguments in the summary
ERROR_SHOWN = 200  # characters of a call's error in the summary


class SignalError(RuntimeError):
    """The signals cannot be collected at all (git failed): says what and what to check."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Finding(_Model):
    tool: Literal["ruff", "bandit"]
    path: str
    line: int | None = None
    rule: str
    message: str
    severity: str | None = None  # bandit: LOW, MEDIUM or HIGH

    def key(self) -> tuple[str, str, str]:
        # Numbers are left out: "too complex (12 > 10)" is the same finding as "(11 > 10)".
        return (self.path, self.rule, re.sub(r"\d+", "#", self.message))

    def describe(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        sev = f" [{self.severity}]" if self.severity else ""
        return f"{where} {self.rule}{sev} {self.message}"


class RepeatedCall(_Model):
    server: str
    tool: str
    arguments: str  # canonical JSON, shortened
    count: int
    failed: int


class CallsSummary(_Model):
    path: str | None = None
    found: bool = False
    total: int = 0
    errors: int = 0
    invalid_lines: int = 0
    by_tool: dict[str, dict[str, int]] = Field(default_factory=dict)  # "server.tool" -> counts
    repeated: list[RepeatedCall] = Field(default_factory=list)
    redundant_calls: int = 0
    redundant_failed_calls: int = 0
    error_calls: list[str] = Field(default_factory=list)
    first_calls: list[str] = Field(default_factory=list)
    last_calls: list[str] = Field(default_factory=list)


class Commit(_Model):
    sha: str
    message: str

    @property
    def subject(self) -> str:
        return self.message.strip().splitlines()[0].strip() if self.message.strip() else ""


class Signals(_Model):
    base: str
    head: str
    commits: list[Commit] = Field(default_factory=list)
    files_changed: int = 0
    lines_added: int = 0
    lines_removed: int = 0
    python_files: list[str] = Field(default_factory=list)
    diff: str = ""
    diff_chars: int = 0  # of the full diff
    diff_truncated: bool = False
    ruff_added: list[Finding] | None = None  # None: not measured (see errors)
    bandit_added: list[Finding] | None = None
    calls: CallsSummary = Field(default_factory=CallsSummary)
    errors: list[str] = Field(default_factory=list)

    @property
    def commit_count(self) -> int:
        return len(self.commits)

    @property
    def lines_changed(self) -> int:
        return self.lines_added + self.lines_removed

    def bandit_by_severity(self) -> dict[str, int]:
        counts = Counter((f.severity or "LOW").upper() for f in self.bandit_added or [])
        return {s: counts.get(s, 0) for s in ("HIGH", "MEDIUM", "LOW")}

    def performance_findings(self) -> list[Finding]:
        return [f for f in self.ruff_added or [] if f.rule.startswith(PERFORMANCE_PREFIXES)]

    def compact(self) -> dict[str, Any]:
        """What `Judge.signals` keeps: counts and the findings, not the diff."""
        return {
            "base": self.base,
            "head": self.head,
            "commits": self.commit_count,
            "commit_subjects": [c.subject for c in self.commits][:50],
            "files_changed": self.files_changed,
            "lines_added": self.lines_added,
            "lines_removed": self.lines_removed,
            "diff_chars": self.diff_chars,
            "diff_truncated": self.diff_truncated,
            "ruff_added": None if self.ruff_added is None else len(self.ruff_added),
            "ruff_findings": [f.describe() for f in (self.ruff_added or [])[:50]],
            "bandit_added": None if self.bandit_added is None else len(self.bandit_added),
            "bandit_by_severity": None if self.bandit_added is None else self.bandit_by_severity(),
            "bandit_findings": [f.describe() for f in (self.bandit_added or [])[:50]],
            "calls_total": self.calls.total,
            "calls_failed": self.calls.errors,
            "repeated_calls": [r.model_dump() for r in self.calls.repeated[:20]],
            "redundant_calls": self.calls.redundant_calls,
            "redundant_failed_calls": self.calls.redundant_failed_calls,
            "errors": list(self.errors),
        }

    def render(self) -> str:
        """The signals as the judge reads them (everything but the diff itself)."""
        lines = [f"{self.files_changed} files changed, +{self.lines_added} -{self.lines_removed}"]
        for name, found in (("ruff", self.ruff_added), ("bandit", self.bandit_added)):
            if found is None:
                lines.append(f"{name}: not measured")
            elif not found:
                lines.append(f"{name}: none added")
            else:
                lines.append(f"{name}: {len(found)} added")
                lines += [f"  - {f.describe()}" for f in found[:30]]
                if len(found) > 30:
                    lines.append(f"  ... and {len(found) - 30} more")
        return "\n".join(lines)


# --- running tools ---------------------------------------------------------------------


def _run(
    argv: Sequence[str], *, cwd: Path | None = None, timeout: float, what: str, ok=(0,), **kw
) -> subprocess.CompletedProcess[bytes]:
    try:
        proc = subprocess.run(  # argv lists built here, never a shell
            list(argv), cwd=cwd, capture_output=True, timeout=timeout, check=False, **kw
        )
    except FileNotFoundError as exc:
        raise SignalError(f"{what}: executable {argv[0]!r} not found ({exc})") from exc
    except subprocess.TimeoutExpired as exc:
        raise SignalError(f"{what}: timed out after {timeout:g} s") from exc
    if proc.returncode not in ok:
        err = proc.stderr.decode(errors="replace").strip()[-1000:]
        raise SignalError(f"{what}: exit code {proc.returncode}: {err or '(no output)'}")
    return proc


def _git(repo: Path, *args: str, timeout: float = GIT_TIMEOUT, **kw) -> bytes:
    git = shutil.which("git")
    if git is None:
        raise SignalError("git is not installed or not on PATH: install git to grade quality")
    argv = [git, "-c", "core.quotepath=off", "-C", str(repo), *args]
    return _run(argv, timeout=timeout, what=f"git {args[0]} in {repo}", **kw).stdout


def ruff_command() -> list[str]:
    """How to run ruff: the one installed with this package, else one on PATH."""
    try:
        from ruff.__main__ import find_ruff_bin

        return [find_ruff_bin()]
    except (ImportError, FileNotFoundError):
        pass
    found = shutil.which("ruff")
    if found is None:
        raise SignalError("ruff is not installed: `pip install ruff` (a prodbench dependency)")
    return [found]


def bandit_command() -> list[str]:
    """How to run bandit: the module installed with this package, else one on PATH."""
    import importlib.util

    if importlib.util.find_spec("bandit") is not None:
        return [sys.executable, "-m", "bandit"]
    found = shutil.which("bandit")
    if found is None:
        raise SignalError("bandit is not installed: `pip install bandit` (a prodbench dependency)")
    return [found]


# --- the change ------------------------------------------------------------------------


def resolve(repo: Path, rev: str) -> str:
    if not (repo / ".git").exists() and not repo.joinpath("HEAD").exists():
        raise SignalError(f"{repo} is not a git repository")
    try:
        return _git(repo, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}").decode().strip()
    except SignalError as exc:
        raise SignalError(f"{rev!r} is not a commit of {repo}: {exc}") from exc


def read_commits(repo: Path, base: str, head: str) -> list[Commit]:
    out = _git(repo, "log", "--reverse", "--format=%H%x1f%B%x1e", f"{base}..{head}")
    commits = []
    for record in out.decode(errors="replace").split("\x1e"):
        record = record.strip("\n")
        if "\x1f" in record:
            sha, message = record.split("\x1f", 1)
            commits.append(Commit(sha=sha.strip(), message=message.strip()))
    return commits


def diff_stats(repo: Path, base: str, head: str) -> tuple[int, int, int]:
    """(files changed, lines added, lines removed); binary files count as files only."""
    out = _git(repo, "diff", "--numstat", "-M", "--no-ext-diff", "--no-textconv", base, head)
    files = added = removed = 0
    for line in out.decode(errors="replace").splitlines():
        parts = line.split("\t", 2)
        if len(parts) < 3:
            continue
        files += 1
        added += int(parts[0]) if parts[0].isdigit() else 0
        removed += int(parts[1]) if parts[1].isdigit() else 0
    return files, added, removed


def changed_python_files(repo: Path, base: str, head: str) -> dict[str, str | None]:
    """Python files added, modified, renamed or copied in base..head.

    Maps each file's path at head to the path of its previous version at base: itself when
    modified, the old name when renamed from a Python file, None when new (added, copied, or
    renamed from a non-Python file), so a new file's findings are all new.
    """
    out = _git(repo, "diff", "--name-status", "-z", "-M", "--no-ext-diff", base, head)
    fields = out.decode(errors="surrogateescape").split("\0")
    changed: dict[str, str | None] = {}
    i = 0
    while i + 1 < len(fields) and fields[i]:
        status = fields[i][0]
        if status in "RC":
            old, new = fields[i + 1], fields[i + 2]
            i += 3
        else:
            old = new = fields[i + 1]
            i += 2
        if status == "D" or not new.endswith((".py", ".pyi")):
            continue
        previous = old if status in "MTR" else None
        changed[new] = previous if previous and previous.endswith((".py", ".pyi")) else None
    return changed


def unified_diff(repo: Path, base: str, head: str) -> str:
    out = _git(
        repo,
        "diff",
        "-M",
        "--no-color",
        "--no-ext-diff",
        "--no-textconv",
        "--stat=100",
        "--patch",
        base,
        head,
    )
    return out.decode(errors="replace")


def cap_diff(diff: str, limit: int = MAX_DIFF_CHARS) -> tuple[str, bool]:
    """The diff cut to about `limit` characters, every file keeping a fair share.

    The diff is split into its stat preamble and one chunk per file (`diff --git`). Going
    from the smallest chunk up, each is kept whole if it fits in an equal share of the budget
    left, else cut to that share at a line end with a note of how many lines were left out.
    A first line says the diff was truncated and how much of it is shown.
    """
    if len(diff) <= limit:
        return diff, False
    start = diff.find("diff --git ")
    preamble, body = (diff, "") if start < 0 else (diff[:start], diff[start:])
    chunks = [c for c in re.split(r"(?m)^(?=diff --git )", body) if c]
    preamble = preamble[: limit // 4]
    budget = max(limit - len(preamble) - 120 * (len(chunks) + 1), 1000)
    shares: dict[int, int] = {}
    remaining = budget
    order = sorted(range(len(chunks)), key=lambda k: len(chunks[k]))
    for n, k in enumerate(order):
        shares[k] = min(len(chunks[k]), remaining // (len(order) - n))
        remaining -= shares[k]
    parts = [preamble]
    for k, chunk in enumerate(chunks):
        if shares[k] >= len(chunk):
            parts.append(chunk)
            continue
        cut = chunk[: shares[k]]
        cut = cut[: cut.rfind("\n") + 1] if "\n" in cut else ""
        left = chunk[len(cut) :].count("\n") or 1
        parts.append(cut + f"[... {left} more lines of this file's diff left out ...]\n")
    shown = "".join(parts)
    note = f"[diff truncated: {len(shown):,} of {len(diff):,} characters shown]\n"
    return note + shown, True


# --- linters ---------------------------------------------------------------------------


def _safe_relpath(path: str) -> PurePosixPath | None:
    p = PurePosixPath(path)
    if p.is_absolute() or ".." in p.parts or "\n" in path or not p.parts:
        return None
    return p


def _write_trees(
    repo: Path, base: str, head: str, files: dict[str, str | None], into: Path
) -> tuple[Path, Path]:
    """Write the changed files as at base (under their head path) and at head into `into`."""
    requests: list[tuple[Path, str]] = []
    base_dir, head_dir = into / "base", into / "head"
    for new, old in files.items():
        rel = _safe_relpath(new)
        if rel is None:
            continue
        requests.append((head_dir / rel, f"{head}:{new}"))
        if old is not None:
            requests.append((base_dir / rel, f"{base}:{old}"))
    base_dir.mkdir(parents=True, exist_ok=True)
    head_dir.mkdir(parents=True, exist_ok=True)
    if not requests:
        return base_dir, head_dir
    stdin = "".join(spec + "\n" for _, spec in requests).encode(errors="surrogateescape")
    out = _git(repo, "cat-file", "--batch", input=stdin)
    pos = 0
    for target, _spec in requests:
        eol = out.index(b"\n", pos)
        header = out[pos:eol]
        pos = eol + 1
        if header.endswith((b" missing", b" ambiguous")):  # e.g. a submodule's path
            continue
        _oid, kind, size_text = header.rsplit(b" ", 2)
        size = int(size_text)
        content = out[pos : pos + size]
        pos += size + 1
        if kind == b"blob":
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
    return base_dir, head_dir


def _tree_files(tree: Path, suffixes: tuple[str, ...]) -> list[str]:
    """Files of `tree` to lint, named explicitly so no default exclusion (build/, venv/) hides one."""
    return sorted(p.relative_to(tree).as_posix() for p in tree.rglob("*") if p.suffix in suffixes)


def run_ruff(tree: Path, timeout: float = LINT_TIMEOUT) -> list[Finding]:
    tree = tree.resolve()
    files = _tree_files(tree, (".py", ".pyi"))
    if not files:
        return []
    argv = [
        *ruff_command(),
        "check",
        "--isolated",
        "--no-cache",
        "--output-format",
        "json",
        "--select",
        RUFF_RULES,
        "--ignore",
        RUFF_IGNORE,
        "--exit-zero",
        "--",
        *files,
    ]
    proc = _run(argv, cwd=tree, timeout=timeout, what="ruff")
    try:
        data = json.loads(proc.stdout or b"[]")
    except json.JSONDecodeError as exc:
        raise SignalError(f"ruff: output is not JSON ({exc})") from exc
    findings = []
    for item in data:
        path = Path(item.get("filename", ""))
        rel = path.relative_to(tree) if path.is_absolute() and path.is_relative_to(tree) else path
        loc = item.get("location") or {}
        findings.append(
            Finding(
                tool="ruff",
                path=rel.as_posix(),
                line=loc.get("row"),
                rule=item.get("code") or "invalid-syntax",
                message=item.get("message", ""),
            )
        )
    return findings


def run_bandit(tree: Path, timeout: float = LINT_TIMEOUT) -> list[Finding]:
    files = _tree_files(tree, (".py",))
    if not files:
        return []
    argv = [
        *bandit_command(),
        "-q",
        "-f",
        "json",
        "--skip",
        BANDIT_SKIP,
        *(f"./{f}" for f in files),
    ]
    proc = _run(argv, cwd=tree, timeout=timeout, what="bandit", ok=(0, 1))
    try:
        data = json.loads(proc.stdout or b"{}")
    except json.JSONDecodeError as exc:
        err = proc.stderr.decode(errors="replace").strip()[-500:]
        raise SignalError(f"bandit: output is not JSON ({exc}): {err}") from exc
    findings = []
    for item in data.get("results", []):
        findings.append(
            Finding(
                tool="bandit",
                path=PurePosixPath(item.get("filename", "")).as_posix().removeprefix("./"),
                line=item.get("line_number"),
                rule=item.get("test_id", "?"),
                message=item.get("issue_text", ""),
                severity=(item.get("issue_severity") or "LOW").upper(),
            )
        )
    return findings


def added_findings(before: list[Finding], after: list[Finding]) -> list[Finding]:
    """Findings of `after` beyond those of `before` with the same file, rule and message."""
    budget = Counter(f.key() for f in before)
    added = []
    for f in after:
        if budget[f.key()] > 0:
            budget[f.key()] -= 1
        else:
            added.append(f)
    return added


def lint_delta(
    repo: Path, base: str, head: str, files: dict[str, str | None]
) -> tuple[list[Finding] | None, list[Finding] | None, list[str]]:
    """(ruff findings added, bandit findings added, errors); None where a linter failed."""
    errors: list[str] = []
    if not files:
        return [], [], errors
    if len(files) > MAX_ANALYSED_FILES:
        errors.append(
            f"{len(files)} Python files changed: only the first {MAX_ANALYSED_FILES} were linted"
        )
        files = dict(sorted(files.items())[:MAX_ANALYSED_FILES])
    with tempfile.TemporaryDirectory(prefix="prodbench-signals-") as tmp:
        base_dir, head_dir = _write_trees(repo, base, head, files, Path(tmp))
        results: dict[str, list[Finding] | None] = {}

        def job(name: str, fn, tree: Path):
            try:
                return name, fn(tree)
            except SignalError as exc:
                return name, exc

        jobs = [
            ("ruff-base", run_ruff, base_dir),
            ("ruff-head", run_ruff, head_dir),
            ("bandit-base", run_bandit, base_dir),
            ("bandit-head", run_bandit, head_dir),
        ]
        with ThreadPoolExecutor(max_workers=4) as pool:
            for name, outcome in pool.map(lambda j: job(*j), jobs):
                if isinstance(outcome, SignalError):
                    results[name] = None
                    errors.append(str(outcome))
                else:
                    results[name] = outcome
    out: list[list[Finding] | None] = []
    for tool in ("ruff", "bandit"):
        before, after = results[f"{tool}-base"], results[f"{tool}-head"]
        out.append(None if before is None or after is None else added_findings(before, after))
    return out[0], out[1], sorted(set(errors), key=errors.index)


# --- the calls -------------------------------------------------------------------------


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


POLLING_TOOLS = frozenset({"deploy_status", "deploy_logs", "list_alerts", "get_alerts"})


def summarize_calls(path: Path | None) -> CallsSummary:
    """Read `calls.jsonl` (see mcp_servers/calllog.py) into a `CallsSummary`.

    A missing file means no call was made. Lines that are not call records are counted in
    `invalid_lines` and skipped.
    """
    summary = CallsSummary(path=str(path) if path else None)
    if path is None or not path.exists():
        return summary
    summary.found = True
    records: list[dict[str, Any]] = []
    for line in path.read_text(errors="replace").splitlines():
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            summary.invalid_lines += 1
            continue
        if not isinstance(record, dict) or "tool" not in record:
            summary.invalid_lines += 1
            continue
        records.append(record)

    groups: dict[tuple[str, str, str], list[bool]] = defaultdict(list)
    lines: list[str] = []
    by_tool: dict[str, dict[str, int]] = {}
    for rec in records:
        server, tool = str(rec.get("server", "?")), str(rec.get("tool", "?"))
        args = rec.get("arguments") if isinstance(rec.get("arguments"), dict) else {}
        canon = json.dumps(args, sort_keys=True, separators=(",", ":"), default=str)
        error = rec.get("error")
        failed = error is not None
        groups[(server, tool, canon)].append(failed)
        counts = by_tool.setdefault(f"{server}.{tool}", {"calls": 0, "errors": 0})
        counts["calls"] += 1
        counts["errors"] += failed
        stamp = str(rec.get("time", ""))[11:19]
        outcome = f"ERROR {_short(str(error), ERROR_SHOWN)}" if failed else "ok"
        lines.append(f"{stamp} {server}.{tool}({_short(canon, ARGS_SHOWN)}) -> {outcome}")
        if failed and len(summary.error_calls) < ERRORS_SHOWN:
            summary.error_calls.append(lines[-1])
    summary.total = len(records)
    summary.errors = sum(c["errors"] for c in by_tool.values())
    summary.by_tool = dict(sorted(by_tool.items(), key=lambda kv: (-kv[1]["calls"], kv[0])))
    summary.first_calls = lines[:FIRST_CALLS]
    if len(lines) > FIRST_CALLS:
        summary.last_calls = lines[max(FIRST_CALLS, len(lines) - LAST_CALLS) :]
    for (server, tool, canon), outcomes in groups.items():
        # Following a deploy or an alert is polling, not a loop: repeats of status reads that
        # all succeeded are not redundant.
        if len(outcomes) < REPEAT_THRESHOLD or (tool in POLLING_TOOLS and not any(outcomes)):
            continue
        failed = sum(outcomes)
        summary.repeated.append(
            RepeatedCall(
                server=server,
                tool=tool,
                arguments=_short(canon, ARGS_SHOWN),
                count=len(outcomes),
                failed=failed,
            )
        )
        summary.redundant_calls += len(outcomes) - 1
        summary.redundant_failed_calls += max(0, failed - 1)
    summary.repeated.sort(key=lambda r: (-r.count, r.server, r.tool))
    return summary


def render_calls(summary: CallsSummary) -> str:
    """The calls summary as the judge reads it."""
    if not summary.found:
        return "no calls.jsonl: the agent made no MCP tool call"
    out = [f"{summary.total} calls, {summary.errors} failed"]
    if summary.invalid_lines:
        out.append(f"({summary.invalid_lines} unreadable lines skipped)")
    out.append(
        "per tool (calls/failed): "
        + ", ".join(
            f"{name} {c['calls']}/{c['errors']}" for name, c in list(summary.by_tool.items())[:40]
        )
    )
    if summary.repeated:
        out.append(f"identical calls repeated {REPEAT_THRESHOLD}+ times:")
        out += [
            f"  - {r.server}.{r.tool}({r.arguments}) x{r.count}, {r.failed} failed"
            for r in summary.repeated[:15]
        ]
    if summary.error_calls:
        out.append("failed calls:")
        out += [f"  - {line}" for line in summary.error_calls]
    out.append(f"first {len(summary.first_calls)} calls in order:")
    out += [f"  {line}" for line in summary.first_calls]
    if summary.last_calls:
        out.append(f"... last {len(summary.last_calls)} calls:")
        out += [f"  {line}" for line in summary.last_calls]
    return "\n".join(out)


# --- all together ----------------------------------------------------------------------


def collect_signals(
    repo: Path | str,
    base: str,
    head: str,
    calls_path: Path | str | None,
    *,
    max_diff_chars: int = MAX_DIFF_CHARS,
    lint: bool = True,
) -> Signals:
    """Every deterministic signal of the agent's work `base..head` in `repo` (module doc)."""
    repo = Path(repo)
    if not repo.is_dir():
        raise SignalError(f"{repo} does not exist or is not a directory")
    base_sha, head_sha = resolve(repo, base), resolve(repo, head)
    files, added, removed = diff_stats(repo, base_sha, head_sha)
    full = unified_diff(repo, base_sha, head_sha) if files else ""
    diff, truncated = cap_diff(full, max_diff_chars)
    python = changed_python_files(repo, base_sha, head_sha)
    signals = Signals(
        base=base_sha,
        head=head_sha,
        commits=read_commits(repo, base_sha, head_sha),
        files_changed=files,
        lines_added=added,
        lines_removed=removed,
        python_files=sorted(python),
        diff=diff,
        diff_chars=len(full),
        diff_truncated=truncated,
        calls=summarize_calls(Path(calls_path) if calls_path else None),
    )
    if lint:
        signals.ruff_added, signals.bandit_added, signals.errors = lint_delta(
            repo, base_sha, head_sha, python
        )
    else:
        signals.errors.append("linters not run (lint=False)")
    return signals


__all__ = [
    "CallsSummary",
    "Commit",
    "Finding",
    "RepeatedCall",
    "SignalError",
    "Signals",
    "cap_diff",
    "collect_signals",
    "render_calls",
    "summarize_calls",
]
