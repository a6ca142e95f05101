"""Latency and memory of the Linear service with a big backlog.

Starts the service the way a run does (its own process, Acme's fixtures), tops the state up
to N issues through the admin fixtures API (labels, assignees, every state), then times over
loopback with one keep-alive httpx client, and reports p50/p99, the service's CPU time per
request (what the wall clock would be on an idle machine, minus loopback and client time) and
its memory:

- the list an agent asks for most: ``issues(filter: {team: {key: {eq: "ENG"}}, state: {type:
  {eq: "started"}}}, first: 50)`` with ids, titles, priority, url, state, assignee, labels
- ``issue(id: "ENG-123")`` with its state, assignee, labels and comments
- ``issueUpdate`` moving an issue between two states (a write, for scale)

    .venv/bin/python benchmarks/tools_linear.py [--issues 2000] [--requests 2000] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))  # _support, from any cwd
from _support import (
    SEED,
    admin_fixtures,
    cpu_seconds,
    mib,
    rss_kib,
    start_tool,
    stats,
    timed,
)

FIXTURES = SEED / "linear.yaml"
AGENT_KEY = "lin_api_AcmeAgentLocalKey7301000000000000000101"
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


def graphql_ok(response: httpx.Response) -> bool:
    """GraphQL answers 200 with ``errors`` for a failed operation."""
    return response.status_code == 200 and "errors" not in response.json()


def timed_with_cpu(n: int, send: Callable[[int], httpx.Response], pid: int) -> dict[str, float]:
    """:func:`stats` of n timed GraphQL requests plus the server's CPU ms per request."""
    cpu = cpu_seconds(pid)
    samples = timed(n, send, graphql_ok)
    server_cpu = (cpu_seconds(pid) - cpu) * 1000 / n
    return {**stats(samples), "server_cpu": round(server_cpu, 2)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--issues", type=int, default=2000, help="issues in state in total")
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-linear-") as tmp:
        service = start_tool("linear", tmp, [FIXTURES])
        try:
            rss_idle = rss_kib(service.pid)
            extra = max(0, args.issues - SEEDED)
            load_s = admin_fixtures(service.url, bench_document(extra))

            headers = {"Authorization": AGENT_KEY}
            with httpx.Client(base_url=service.url, headers=headers, timeout=30) as client:
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

                def graphql(body: Callable[[int], dict]) -> Callable[[int], httpx.Response]:
                    return lambda i: client.post("/graphql", json=body(i))

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
                timed(args.warmup, graphql(listing), graphql_ok)
                list_ms = timed_with_cpu(args.requests, graphql(listing), service.pid)
                timed(args.warmup, graphql(one), graphql_ok)
                one_ms = timed_with_cpu(args.requests, graphql(one), service.pid)
                timed(args.warmup // 4, graphql(move), graphql_ok)
                move_ms = timed_with_cpu(max(50, args.requests // 4), graphql(move), service.pid)
            rss_end = rss_kib(service.pid)
        finally:
            service.stop()

    report = {
        "issues_in_state": total,
        "eng_issues": eng,
        "listed_per_request": len(listed["nodes"]),
        "load_seconds": round(load_s, 2),
        "startup_seconds": round(service.startup_seconds, 2),
        "requests_each": args.requests,
        "issues_started_first50_ms": list_ms,
        "issue_by_identifier_ms": one_ms,
        "issueUpdate_ms": move_ms,
        "rss_mib": {
            "idle": mib(rss_idle["VmRSS"]),
            "end": mib(rss_end["VmRSS"]),
            "peak": mib(rss_end["VmHWM"]),
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
