"""The Acme monorepo suite as the feature grader runs it, uncached: wall and CPU seconds.

The first grading of a change waits on this (every test file whose inputs the change touched
reruns); it is the largest part of grading that is machinery rather than a task's own hidden
tests. Runs `graders.feature.run_monorepo` on a copy of environments/acme/app with an empty
result cache, --runs times, and prints each run's wall time, the CPU its pytest processes used,
and how many shards ran.

    .venv/bin/python benchmarks/monorepo_suite.py [--runs 3] [--files tests/test_web.py ...]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    from environments.ops.deployer.build import precompile
    from graders import feature

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--files", nargs="*", default=["tests"], help="paths in the monorepo")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="pb-bench-monorepo-"))
    try:
        root = scratch / "app"
        shutil.copytree(
            REPO / "environments" / "acme" / "app",
            root,
            ignore=shutil.ignore_patterns("var", "__pycache__", ".venv", ".pytest_cache"),
        )
        precompile(root)  # as the grader's export is: bytecode from the deployer's cache
        walls, cpus = [], []
        for i in range(args.runs):
            cache = Path(tempfile.mkdtemp(dir=scratch, prefix="cache-"))
            cpu_before, started = _children_cpu(), time.monotonic()
            result = feature.run_monorepo(root, args.files, sys.executable, cache, 600)
            wall, cpu = time.monotonic() - started, _children_cpu() - cpu_before
            walls.append(wall)
            cpus.append(cpu)
            status = "passed" if result.ok else f"FAILED {result.failures[:3]}"
            print(
                f"run {i + 1}: {wall:5.1f} s wall, {cpu:5.1f} s CPU, {len(result.ran)} files "
                f"in {min(feature.SHARDS, len(result.ran))} shards: {status}"
            )
        print(
            f"median: {statistics.median(walls):.1f} s wall, {statistics.median(cpus):.1f} s CPU "
            f"({len(walls)} runs, uncached)"
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
