"""Checks: the monorepo's fast tests and an import check of each deployed service's app.

Both run in the release directory, in parallel, with the production settings stripped from
their environment (tests make their own databases). A tree that passed once passes again, so
results are cached by git tree: a re-deploy or a rollback does not wait for the same tests.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from environments.paths import cache_dir
from environments.runs import write_json_atomic

OUTPUT_TAIL = 60


@dataclass
class CheckResult:
    name: str
    ok: bool
    seconds: float
    output: str


def _clean_env() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ACME_", "SENTRY_", "PRODBENCH_", "OPS_", "TRAFFIC_"))
    }
    env.update(PYTHONDONTWRITEBYTECODE="1", PYTHONPATH="")
    return env


def _run(name: str, argv: list[str], cwd: Path, timeout: float) -> CheckResult:
    started = time.monotonic()
    try:
        proc = subprocess.run(
            argv,
            cwd=cwd,
            env=_clean_env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        ok, output = proc.returncode == 0, proc.stdout + proc.stderr
        if not ok:
            output += f"\n(exit code {proc.returncode})"
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else ""
        ok, output = False, out + f"\n(timed out after {timeout:.0f}s)"
    tail = "\n".join(output.strip().splitlines()[-OUTPUT_TAIL:])
    return CheckResult(name, ok, round(time.monotonic() - started, 3), tail)


def run_checks(
    release: Path,
    python: str,
    tests: list[str],
    modules: list[str],
    tree: str,
    timeout: float,
) -> tuple[list[CheckResult], bool]:
    """(results, cached): every check's outcome; `cached` when the tree passed before."""
    key = hashlib.sha256(json.dumps([tree, python, tests, sorted(modules)]).encode()).hexdigest()
    marker = cache_dir() / "deploy-checks" / f"{key[:32]}.json"
    if marker.exists():
        return [CheckResult("cached", True, 0.0, f"tree {tree[:12]} passed before")], True
    jobs = []
    if modules:
        code = "import importlib, sys\nfor m in sys.argv[1:]:\n    importlib.import_module(m)\n"
        jobs.append(("import check", [python, "-c", code, *modules]))
    scratch = Path(tempfile.mkdtemp(prefix="pb-checks-"))
    if tests:
        argv = [python if a == "{python}" else a for a in tests]
        if "pytest" in argv:  # its own temporary folder, not the shared, pruned one
            argv.append(f"--basetemp={scratch / 'pytest'}")
        jobs.append(("fast tests", argv))
    try:
        with ThreadPoolExecutor(max_workers=max(1, len(jobs))) as pool:
            results = list(pool.map(lambda j: _run(j[0], j[1], release, timeout), jobs))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if all(r.ok for r in results):
        marker.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(marker, {"tree": tree, "at": time.time()})
    return results, False
