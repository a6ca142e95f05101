"""What a user waits for and pays for when Acme starts: the figures of step 2.

Prints, over several `prodbench up` runs of the acme stack (seed 0, a private cache): the
workspace build, the seed load (migrations and data, as the app's seed reports them), `up` to
healthy on the first run (cold: seeding) and on the later ones (warm: the seeded databases
come from the cache), and the resident memory of every service once healthy (each process
with its children). With --app-tests it also times the monorepo's own test suite.

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
    env = {
        **os.environ,
        "PRODBENCH_RUNS_DIR": str(work / "runs"),
        "PRODBENCH_CACHE_DIR": str(work / "cache"),
    }

    ws = workspace_seconds(args.runs)
    ups, jobs = [], []
    seed_summary: dict = {}
    memory: dict[str, list[float]] = {}
    for i in range(args.runs):
        run_id = f"acme-{i}"
        t0 = time.perf_counter()
        cmd = [prodbench, "up", "--run-id", run_id]
        subprocess.run(cmd, env=env, check=True, capture_output=True)
        ups.append(time.perf_counter() - t0)
        run = work / "runs" / run_id
        state = json.loads((run / "supervisor.json").read_text())
        db = state["services"]["db-init"]
        jobs.append(db["healthy_at"] - db["started_at"])
        if i == 0:  # the cold run seeded for real; the app's seed says how long that took
            log = (run / "logs" / "db-init.log").read_text().splitlines()
            seed_summary = [
                json.loads(x) for x in log if x.startswith("{") and "load_seconds" in x
            ][-1]
        time.sleep(1.0)  # let services settle after their first requests
        for name, svc in state["services"].items():
            if svc["pid"] and svc["status"] == "healthy":
                memory.setdefault(name, []).append(rss_mb(svc["pid"]))
        with open(f"/proc/{state['pid']}/statm") as fh:  # the supervisor alone
            memory.setdefault("(supervisor)", []).append(int(fh.read().split()[1]) * PAGE / 1e6)
        subprocess.run([prodbench, "down", run_id], env=env, check=True, capture_output=True)

    def fmt(xs: list[float], unit: str = " s", digits: int = 2) -> str:
        return (
            f"median {statistics.median(xs):.{digits}f}{unit} "
            f"(min {min(xs):.{digits}f}, max {max(xs):.{digits}f})"
        )

    print(f"acme, seed 0, {args.runs} runs on {os.cpu_count()} cores (first cold, then warm)")
    print(f"workspace build (history + checkout)  : {fmt(ws)}")
    print(f"seed: migrations to head              : {seed_summary['migrate_seconds']:.2f} s")
    print(
        f"seed: data load (2k users, 500 products, 10k orders): "
        f"{seed_summary['load_seconds']:.2f} s"
    )
    print(f"db-init job, cold (seeds)             : {jobs[0]:.2f} s")
    print(f"`prodbench up` to all healthy, cold   : {ups[0]:.2f} s")
    if args.runs > 1:
        print(f"db-init job, warm (from the cache)    : {fmt(jobs[1:])}")
        print(f"`prodbench up` to all healthy, warm   : {fmt(ups[1:])}")
    print("memory per service once healthy (RSS, each process with its children):")
    total = 0.0
    for name, xs in memory.items():
        med = statistics.median(xs)
        total += 0 if name == "(supervisor)" else med
        print(f"  {name:<14} {med:7.1f} MB")
    print(f"  {'all services':<14} {total:7.1f} MB")
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
