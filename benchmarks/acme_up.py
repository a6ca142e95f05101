"""What a user waits for and pays for when Acme starts: the figures of step 2.

Prints, over several `prodbench up` runs of the acme stack: the workspace build, the seed
load (migrations and data, as the db-init job reports them), the whole `up` to healthy, and
the resident memory of every service once healthy (each process with its children).
With --app-tests it also times the monorepo's own test suite.

    .venv/bin/python benchmarks/acme_up.py [--runs 3] [--app-tests]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mb(pid: int) -> float:
    """RSS of a process and its descendants."""
    total = 0
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/statm") as fh:
                total += int(fh.read().split()[1]) * PAGE
            with open(f"/proc/{p}/task/{p}/children") as fh:
                todo += [int(c) for c in fh.read().split()]
        except OSError:
            continue
    return total / 1e6


def workspace_seconds(runs: int) -> list[float]:
    from environments.acme.environment import APP_DIR
    from environments.acme.workspace import build_workspace

    out = []
    for i in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            build_workspace(APP_DIR, Path(tmp) / "ws", seed=i)
            out.append(time.perf_counter() - t0)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--app-tests", action="store_true")
    args = ap.parse_args()
    prodbench = str(Path(sys.executable).with_name("prodbench"))
    work = Path(tempfile.mkdtemp(prefix="pb-acme-bench-"))
    env = {**os.environ, "PRODBENCH_RUNS_DIR": str(work)}

    ws = workspace_seconds(args.runs)
    walls, migrate, load, job = [], [], [], []
    memory: dict[str, list[float]] = {}
    for i in range(args.runs):
        run_id = f"acme-{i}"
        t0 = time.perf_counter()
        subprocess.run(
            [prodbench, "up", "--run-id", run_id, "--seed", str(i)],
            env=env,
            check=True,
            capture_output=True,
        )
        walls.append(time.perf_counter() - t0)
        run = work / run_id
        state = json.loads((run / "supervisor.json").read_text())
        db = state["services"]["db-init"]
        job.append(db["healthy_at"] - db["started_at"])
        summary = [
            json.loads(line)
            for line in (run / "logs" / "db-init.log").read_text().splitlines()
            if line.startswith("{") and "load_seconds" in line
        ][-1]
        migrate.append(summary["migrate_seconds"])
        load.append(summary["load_seconds"])
        time.sleep(1.0)  # let services settle after their first requests
        for name, svc in state["services"].items():
            if svc["pid"] and svc["status"] == "healthy":
                memory.setdefault(name, []).append(rss_mb(svc["pid"]))
        memory.setdefault("(supervisor)", []).append(rss_mb(state["pid"]))
        subprocess.run([prodbench, "down", run_id], env=env, check=True, capture_output=True)

    def fmt(xs: list[float], unit: str = " s", digits: int = 2) -> str:
        return f"median {statistics.median(xs):.{digits}f}{unit} (min {min(xs):.{digits}f}, max {max(xs):.{digits}f})"

    print(f"acme, {args.runs} runs on {os.cpu_count()} cores")
    print(f"workspace build (history + checkout)   : {fmt(ws)}")
    print(f"seed: migrations to head               : {fmt(migrate)}")
    print(f"seed: data load (2k users, 500 products, 10k orders): {fmt(load)}")
    print(f"db-init job, process start to exit     : {fmt(job)}")
    print(f"`prodbench up` to all healthy          : {fmt(walls)}")
    print("memory per service once healthy (RSS, with children):")
    total = 0.0
    for name, xs in memory.items():
        med = statistics.median(xs)
        total += med if name != "(supervisor)" else 0
        print(f"  {name:<14} {med:7.1f} MB")
    print(f"  {'total':<14} {total:7.1f} MB (services)")
    if args.app_tests:
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider"],
            cwd=REPO / "environments/acme/app",
            capture_output=True,
            text=True,
            check=False,
        )
        tail = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr[-200:]
        print(f"app test suite: {time.perf_counter() - t0:.1f} s wall ({tail})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
