"""Step 7's figures: the validation gate on every task, its total time and what a trial costs.

Runs `prodbench tasks validate` over the tasks (the oracle must pass with >= 95, doing nothing
must fail with <= 30), then prints, from the trials' result.json: the verdicts, the gate's
total time, the per-trial overhead (everything but the agent's own time: up, task setup,
grading, down) and the grading time, as medians and maxima. `--from DIR` summarises trials
already run into DIR (by `prodbench run` or an earlier gate) without running anything.

    .venv/bin/python benchmarks/gate.py [--tasks all] [-j 1] [--out DIR]
    .venv/bin/python benchmarks/gate.py --from results/gate-...
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OVERHEAD = ("up", "setup", "prewarm_wait", "grade", "down")


def trials(out: Path) -> list[dict]:
    """Every trial result under a results folder (OUT/<agent>/<task>/run-k/result.json)."""
    return [json.loads(p.read_text()) for p in sorted(out.glob("*/*/run-*/result.json"))]


def spread(values: list[float]) -> str:
    if not values:
        return "-"
    return f"median {statistics.median(values):5.1f} s, max {max(values):5.1f} s (n={len(values)})"


def summarise(out: Path) -> None:
    results = trials(out)
    by_task: dict[str, dict[str, dict]] = {}
    for r in results:
        by_task.setdefault(r["task"], {})[r["agent"]] = r
    valid = 0
    for task, agents in sorted(by_task.items()):
        oracle, noop = agents.get("oracle"), agents.get("noop")
        ok = bool(
            oracle and oracle.get("passed") and (oracle.get("composite") or 0) >= 95
            and noop and not noop.get("passed") and (noop.get("composite") or 0) <= 30
        )  # fmt: skip
        valid += ok
        shown = {a: f"{r.get('composite') or 0:5.1f}" for a, r in agents.items()}
        print(f"  {task:36} oracle {shown.get('oracle', '    -')}  noop "
              f"{shown.get('noop', '    -')}  {'ok' if ok else 'FAIL'}")  # fmt: skip
    print(f"valid: {valid}/{len(by_task)} tasks")
    for agent in ("oracle", "noop"):
        mine = [r for r in results if r["agent"] == agent and r.get("status") == "scored"]
        overhead = [sum(r["timings"].get(k, 0.0) for k in OVERHEAD) for r in mine]
        print(f"{agent}: per-trial overhead {spread(overhead)}")
        for phase in OVERHEAD:
            seconds = [r["timings"][phase] for r in mine if phase in r["timings"]]
            print(f"  {phase:6} {spread(seconds)}")
        if agent == "oracle":
            agent_s = [r["timings"]["agent"] for r in mine if "agent" in r["timings"]]
            print(f"  agent  {spread(agent_s)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", default="all")
    parser.add_argument("-j", "--jobs", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--from", dest="existing", type=Path, default=None)
    args = parser.parse_args()
    if args.existing:
        summarise(args.existing)
        return
    out = args.out or Path(tempfile.mkdtemp(prefix="pb-gate-"))
    started = time.monotonic()
    argv = [sys.executable, "-m", "prodbench", "tasks", "validate", *args.tasks.split(","),
            "-j", str(args.jobs), "--out", str(out)]  # fmt: skip
    code = subprocess.run(argv, cwd=REPO, check=False).returncode
    total = time.monotonic() - started
    summarise(out)
    print(f"gate total: {total:.0f} s for {args.tasks} (exit {code}); trials in {out}")


if __name__ == "__main__":
    main()
