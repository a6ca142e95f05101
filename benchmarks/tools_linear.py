"""Latency and memory of the Linear service with a big backlog.

Starts the service the way a run does (its own process, Acme's fixtures), tops the state up
to N issues through the admin fixtures API (labels, assignees, every state), then times over
loopback with one keep-alive httpx client, and reports p50/p99, the service's CPU time per request (what the wall clock would be on
an idle machine, minus loopback and client time) and its memory:

- the list an agent asks for most: ``issues(filter: {team: {key: {eq: "ENG"}}, state: {type:
  {eq: "started"}}}, first: 50)`` with ids, titles, priority, url, state, assignee, labels
- ``issue(id: "ENG-123")`` with its state, assignee, labels and comments
- ``issueUpdate`` moving an issue between two states (a write, for scale)

    .venv/bin/python benchmarks/tools_linear.py [--issues 2000] [--requests 2000] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "environments" / "acme" / "seed" / "tools" / "linear.yaml"
AGENT_KEY = "lin_api_AcmeAgentLocalKey7301000000000000000101"
ADMIN = "bench-admin-token"
PEOPLE = ["maya.chen", "emily.zhang", "omar.haddad", "hannah.schmidt", "grace.kim", "mei.lin"]
STATES = ["Backlog", "Todo", "In Progress", "In Review", "Done", "Canceled", "Triage"]
LABELS = [["bug", "api"], ["feature", "web"], ["tech-debt"], ["performance", "api"], []]
SEEDED = 230  # issues in Acme's fixtures

ISSUES = """query Started($first: Int) {
  issues(filter: {team: {key: {eq: "ENG"}}, state: {type: {eq: "started"}}}, first: $first) {
    nodes {
      id identifier title priority priorityLabel url createdAt updatedAt
      state { id name type }
      assignee { id name email }
      labels { nodes { id name } }
    }
    pageInfo { hasNextPage endCursor }
  }
}"""
ISSUE = """{
  issue(id: "ENG-123") {
    id identifier title description priority priorityLabel url branchName
    state { name type } assignee { name } team { key }
    labels { nodes { name } } comments { nodes { body user { name } createdAt } }
  }
}"""
UPDATE = """mutation Move($id: String!, $state: String!) {
  issueUpdate(id: $id, input: {stateId: $state}) { success issue { identifier state { name } } }
}"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_kib(pid: int) -> dict[str, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0])
    return fields


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (load on the machine does not inflate it)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_document(n: int) -> dict:
    """n more ENG issues from 2024 on (older than Acme's own), in every state."""
    issues = []
    start = 1_704_067_200  # 2024-01-01
    for i in range(n):
        entry = {
            "title": f"Bench issue {i}: api latency regression in route group {i % 37}",
            "description": f"Seen in canary {i * 7919 % 10000}.\n\n- p99 up\n- error rate flat",
            "state": STATES[i % len(STATES)],
            "priority": i % 5,
            "labels": LABELS[i % len(LABELS)],
            "created": start + i * 3600,
        }
        if i % 6:
            entry["assignee"] = PEOPLE[i % len(PEOPLE)]
        if i % 10 == 0:
            entry["comments"] = [{"user": PEOPLE[(i + 1) % len(PEOPLE)], "body": "looking"}]
        issues.append(entry)
    return {"issues": {"ENG": issues}}


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def timed(client: httpx.Client, n: int, body, pid: int | None = None) -> list[float]:
    """Wall-clock ms per request; with ``pid``, the server's CPU ms per request is appended."""
    out = []
    cpu = cpu_seconds(pid) if pid else 0.0
    for i in range(n):
        payload = body(i)
        t0 = time.perf_counter()
        response = client.post("/graphql", json=payload)
        elapsed = time.perf_counter() - t0
        parsed = response.json()
        if response.status_code != 200 or "errors" in parsed:
            raise SystemExit(f"request failed: {parsed}")
        out.append(elapsed * 1000)
    if pid:
        CPU[len(CPU)] = (cpu_seconds(pid) - cpu) * 1000 / n
    return out


CPU: dict[int, float] = {}


def summary(samples: list[float], cpu: float) -> dict[str, float]:
    return {
        "p50": round(percentile(samples, 0.5), 2),
        "p99": round(percentile(samples, 0.99), 2),
        "mean": round(statistics.fmean(samples), 2),
        "server_cpu": round(cpu, 2),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--issues", type=int, default=2000, help="issues in state in total")
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-linear-") as tmp:
        port = free_port()
        env = {**os.environ, "PRODBENCH_ADMIN_TOKEN": ADMIN}
        argv = [
            sys.executable,
            "-m",
            "environments.tools.linear",
            "--port",
            str(port),
            "--state-dir",
            tmp,
            "--fixtures",
            str(FIXTURES),
        ]
        proc = subprocess.Popen(
            argv, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )
        try:
            base = f"http://127.0.0.1:{port}"
            started = time.perf_counter()
            while True:
                try:
                    if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if proc.poll() is not None or time.perf_counter() - started > 30:
                    raise SystemExit("the Linear service did not start")
                time.sleep(0.02)
            startup = time.perf_counter() - started
            rss_idle = rss_kib(proc.pid)

            t0 = time.perf_counter()
            extra = max(0, args.issues - SEEDED)
            loaded = httpx.post(
                base + "/_admin/fixtures",
                json=bench_document(extra),
                headers={"Authorization": f"Bearer {ADMIN}"},
                timeout=300,
            )
            loaded.raise_for_status()
            load_s = time.perf_counter() - t0

            headers = {"Authorization": AGENT_KEY}
            with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
                states = client.post(
                    "/graphql",
                    json={"query": '{ team(id: "ENG") { states { nodes { id name } } } }'},
                ).json()["data"]["team"]["states"]["nodes"]
                by_name = {s["name"]: s["id"] for s in states}
                counts = client.post(
                    "/graphql", json={"query": "{ teams { nodes { key issueCount } } }"}
                ).json()["data"]["teams"]["nodes"]
                total = sum(team["issueCount"] for team in counts)
                eng = next(team["issueCount"] for team in counts if team["key"] == "ENG")

                def listing(i: int) -> dict:
                    return {"query": ISSUES, "variables": {"first": 50}}

                def one(i: int) -> dict:
                    return {"query": ISSUE}

                def move(i: int) -> dict:
                    target = "In Progress" if i % 2 else "Todo"
                    return {
                        "query": UPDATE,
                        "variables": {"id": "ENG-130", "state": by_name[target]},
                    }

                listed = client.post("/graphql", json=listing(0)).json()["data"]["issues"]
                timed(client, args.warmup, listing)
                list_ms = timed(client, args.requests, listing, proc.pid)
                timed(client, args.warmup, one)
                one_ms = timed(client, args.requests, one, proc.pid)
                timed(client, args.warmup // 4, move)
                move_ms = timed(client, max(50, args.requests // 4), move, proc.pid)
            rss_end = rss_kib(proc.pid)
        finally:
            proc.terminate()
            proc.wait(timeout=10)

    report = {
        "issues_in_state": total,
        "eng_issues": eng,
        "listed_per_request": len(listed["nodes"]),
        "load_seconds": round(load_s, 2),
        "startup_seconds": round(startup, 2),
        "requests_each": args.requests,
        "issues_started_first50_ms": summary(list_ms, CPU[0]),
        "issue_by_identifier_ms": summary(one_ms, CPU[1]),
        "issueUpdate_ms": summary(move_ms, CPU[2]),
        "rss_mib": {
            "idle": round(rss_idle["VmRSS"] / 1024, 1),
            "end": round(rss_end["VmRSS"] / 1024, 1),
            "peak": round(rss_end["VmHWM"] / 1024, 1),
        },
    }
    if args.json:
        print(json.dumps(report))
        return 0
    print(
        f"Linear service: {report['issues_in_state']} issues, {report['eng_issues']} in ENG "
        f"({extra} loaded in "
        f"{report['load_seconds']}s, startup {report['startup_seconds']}s)"
    )
    for label, key in (
        ("issues(team ENG, started, first 50)", "issues_started_first50_ms"),
        ('issue(id: "ENG-123")', "issue_by_identifier_ms"),
        ("issueUpdate (state move)", "issueUpdate_ms"),
    ):
        r = report[key]
        print(
            f"  {label:<38} p50 {r['p50']:6.2f} ms   p99 {r['p99']:6.2f} ms   "
            f"mean {r['mean']:6.2f} ms   server CPU {r['server_cpu']:5.2f} ms/request"
        )
    m = report["rss_mib"]
    print(f"  RSS: idle {m['idle']} MiB, after load {m['end']} MiB, peak {m['peak']} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
