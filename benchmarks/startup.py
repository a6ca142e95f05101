"""Time from `prodbench up` to all-healthy for a 12-service stack, and the supervisor's cost.

The stack is 12 small Python HTTP servers (`python -m http.server`) in three dependency
levels (6 -> 4 -> 2), so the figure includes health-gated ordering, not just spawning.
Prints, over several runs: wall time of the `prodbench up` command (what a user waits for),
the supervisor's own time to healthy, and the supervisor's memory and CPU.

    .venv/bin/python benchmarks/startup.py [--runs 5] [--services 12]
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

import yaml

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def stack(n: int) -> dict:
    first, second = n // 2, n // 3
    services = []
    for i in range(n):
        if i < first:
            deps = []
        elif i < first + second:
            deps = [f"s{(i - first) % first:02d}"]
        else:
            deps = [f"s{first + (i - first - second) % second:02d}"]
        services.append(
            {
                "name": f"s{i:02d}",
                "argv": [
                    "{python}",
                    "-m",
                    "http.server",
                    "{port}",
                    "--bind",
                    "{host}",
                    "--directory",
                    "{state_dir}",
                ],
                "health": {"path": "/"},
                "depends_on": deps,
            }
        )
    return {"name": "bench", "services": services}


def proc_cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/statm") as fh:
        return int(fh.read().split()[1]) * PAGE / 1e6


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--services", type=int, default=12)
    ap.add_argument("--idle", type=float, default=5.0, help="seconds of idle monitoring to measure")
    args = ap.parse_args()

    prodbench = str(Path(sys.executable).with_name("prodbench"))
    work = Path(tempfile.mkdtemp(prefix="pb-bench-"))
    stack_file = work / "stack.yaml"
    stack_file.write_text(yaml.safe_dump(stack(args.services)))
    env = {**os.environ, "PRODBENCH_RUNS_DIR": str(work / "runs")}

    walls, internal, rss, start_cpu, idle_cpu, guard_rss = [], [], [], [], [], []
    for i in range(args.runs):
        run_id = f"bench-{i}"
        t0 = time.perf_counter()
        subprocess.run(
            [prodbench, "up", "--stack", str(stack_file), "--run-id", run_id],
            env=env,
            check=True,
            capture_output=True,
        )
        walls.append(time.perf_counter() - t0)
        state = json.loads((work / "runs" / run_id / "supervisor.json").read_text())
        internal.append(state["healthy_at"] - state["started_at"])
        pid = state["pid"]
        start_cpu.append(proc_cpu_seconds(pid))
        rss.append(proc_rss_mb(pid))
        guard = subprocess.run(
            ["pgrep", "-f", "runtime/guard.py"], capture_output=True, text=True, check=False
        )
        gpids = [int(p) for p in guard.stdout.split()]
        if gpids:
            guard_rss.append(min(proc_rss_mb(p) for p in gpids))
        if i == 0:
            before = proc_cpu_seconds(pid)
            time.sleep(args.idle)
            idle_cpu.append((proc_cpu_seconds(pid) - before) / args.idle * 100)
        subprocess.run([prodbench, "down", run_id], env=env, check=True, capture_output=True)

    def fmt(xs: list[float], unit: str, digits: int = 3) -> str:
        return (
            f"median {statistics.median(xs):.{digits}f}{unit}  min {min(xs):.{digits}f}{unit}  "
            f"max {max(xs):.{digits}f}{unit}"
        )

    print(
        f"stack: {args.services} python http.server services in 3 dependency levels; "
        f"{args.runs} runs on {os.cpu_count()} cores"
    )
    print(f"`prodbench up` wall time to all-healthy : {fmt(walls, ' s')}")
    print(f"supervisor start -> all healthy        : {fmt(internal, ' s')}")
    print(f"supervisor CPU used during start-up    : {fmt(start_cpu, ' s')}")
    print(f"supervisor RSS when healthy            : {fmt(rss, ' MB', 1)}")
    if guard_rss:
        print(f"guard process RSS                      : {fmt(guard_rss, ' MB', 1)}")
    print(
        f"supervisor CPU while idle-monitoring   : {idle_cpu[0]:.2f} % of one core "
        f"(over {args.idle:.0f} s)"
    )
    target = 1.5
    verdict = "meets" if statistics.median(walls) <= target else "MISSES"
    print(f"target <= {target} s for `up`: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
