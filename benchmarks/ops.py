"""Step 5's figures for a full Acme run: `up` with traffic, memory, and a good deploy.

For each of --runs runs (seed 0, a private cache; the first run is cold): time from
`prodbench up` to healthy with traffic flowing (up returns once the traffic process has sent
its first requests), then the resident memory of the whole run (every process carrying the
run's id, plus the supervisor and its guard), then one good deploy of the api end to end
(commit -> build -> checks -> migrate -> canary + analysis -> promote), with its stages.

    .venv/bin/python benchmarks/ops.py [--runs 3]
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

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/statm") as fh:
                total += int(fh.read().split()[1]) * PAGE
        except OSError:
            continue
    return total / 1e6


def good_deploy(run: Path, env: dict) -> dict:
    ws = run / "workspace"
    health = ws / "acme/api/routes/health.py"
    health.write_text(
        health.read_text().replace('"status": "ok" if ok', '"status": ("ok") if ok', 1)
    )
    subprocess.run(["git", "-C", str(ws), "commit", "-qam", "bench: a harmless change"], check=True)
    sha = subprocess.run(
        ["git", "-C", str(ws), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    creds = json.loads((run / "state/agent-credentials.json").read_text())["tokens"]
    ops = httpx.Client(
        base_url=env["services"]["ops"]["url"],
        headers={"Authorization": f"Bearer {creds['deploy']}"},
        timeout=60,
    )
    t0 = time.perf_counter()
    deploy_id = ops.post("/api/v1/deploys", json={"services": ["api"], "ref": sha}).json()["id"]
    while True:
        d = ops.get(f"/api/v1/deploys/{deploy_id}").json()
        if d["status"] not in ("queued", "running"):
            break
        time.sleep(0.2)
    d["wall"] = time.perf_counter() - t0
    return d


def main() -> int:
    from environments.runtime.procs import run_processes

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    prodbench = str(Path(sys.executable).with_name("prodbench"))
    work = Path(tempfile.mkdtemp(prefix="pb-ops-bench-"))
    env_vars = {
        **os.environ,
        "PRODBENCH_RUNS_DIR": str(work / "runs"),
        "PRODBENCH_CACHE_DIR": str(work / "cache"),
    }
    ups, mems, deploys = [], [], []
    for i in range(args.runs):
        run_id = f"acme-{i}"
        t0 = time.perf_counter()
        subprocess.run(
            [prodbench, "up", "--run-id", run_id], env=env_vars, check=True, capture_output=True
        )
        ups.append(time.perf_counter() - t0)
        run = work / "runs" / run_id
        env = json.loads((run / "env.json").read_text())
        time.sleep(5)  # steady state: traffic flowing, first scrapes done
        state = json.loads((run / "supervisor.json").read_text())
        pids = run_processes(run_id) + [state["pid"]]
        guard = subprocess.run(
            ["pgrep", "-P", str(state["pid"])], check=False, capture_output=True, text=True
        )
        pids += [int(p) for p in guard.stdout.split() if int(p) not in pids]
        mems.append(rss_mb(sorted(set(pids))))
        deploys.append(good_deploy(run, env))
        subprocess.run([prodbench, "down", run_id], env=env_vars, check=True, capture_output=True)

    def fmt(xs: list[float], unit: str = " s") -> str:
        return f"median {statistics.median(xs):.2f}{unit} (min {min(xs):.2f}, max {max(xs):.2f})"

    print(f"acme with ops, seed 0, {args.runs} runs on {os.cpu_count()} cores (first cold)")
    print(f"`prodbench up` to healthy with traffic, cold : {ups[0]:.2f} s")
    if args.runs > 1:
        print(f"`prodbench up` to healthy with traffic, warm : {fmt(ups[1:])}   (target <= 8 s)")
    print(
        f"memory of the whole run (RSS)                : {fmt(mems, ' MB')}   (target <= 1200 MB)"
    )
    print(
        f"good deploy of api end to end                : {fmt([d['wall'] for d in deploys])}"
        "   (target <= 30 s)"
    )
    print(f"  outcomes: {[d['status'] for d in deploys]}")
    stages: dict[str, list[float]] = {}
    for d in deploys:
        for s in d["stages"]:
            stages.setdefault(s["name"], []).append(s["seconds"] or 0.0)
    for name, xs in stages.items():
        print(f"  {name:<14} {fmt(xs)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
