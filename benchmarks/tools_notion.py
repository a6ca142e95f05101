"""Latency and memory of the Notion service with a busy workspace.

Starts the service the way a run does (its own process, Acme's fixtures), loads N extra rows
into a database and a long page (admin fixtures API), then times, over loopback with one
keep-alive httpx client and Notion-Version 2025-09-03:

- ``GET /v1/pages/{id}`` (a database row),
- ``GET /v1/blocks/{id}/children`` (a 100-block page of the long page),
- ``POST /v1/data_sources/{id}/query`` (status filter + date sort, page_size 100),

and reports p50/p99 and the service's resident memory.

    .venv/bin/python benchmarks/tools_notion.py [--rows 2000] [--blocks 1000] [--requests 1000] [--json]
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
FIXTURES = REPO / "environments" / "acme" / "seed" / "tools" / "notion.yaml"
TOKEN = "ntn_562184930172AcmeAgentLocalIntegrationToken01"
ADMIN = "bench-admin-token"
PEOPLE = ["maya.chen", "tomasz.nowak", "aisha.bello", "emily.zhang", "grace.kim", "mei.lin"]
STATUSES = ["Draft", "In review", "Accepted", "Implemented", "Rejected"]


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


def bench_document(rows: int, blocks: int) -> dict:
    """A database with ``rows`` rows and a page with ``blocks`` paragraphs and list items."""
    body = "\n\n".join(
        f"- step {i}: check `acme_queue_depth` for queue {i % 4}"
        if i % 3
        else f"Paragraph {i} about canary analysis, rollbacks and **error budgets**."
        for i in range(blocks)
    )
    return {
        "pages": [
            {
                "key": "bench-root",
                "parent": "engineering",
                "title": "Benchmark",
                "created": "2026-11-01T00:00:00Z",
                "created_by": "maya.chen",
                "body": body,
                "databases": [
                    {
                        "key": "bench-db",
                        "title": "Bench RFCs",
                        "properties": [
                            {"name": "RFC", "type": "title"},
                            {
                                "name": "Status",
                                "type": "status",
                                "options": [{"name": s} for s in STATUSES],
                            },
                            {"name": "Author", "type": "people"},
                            {"name": "Date", "type": "date"},
                            {"name": "Notes", "type": "rich_text"},
                        ],
                        "rows": [
                            {
                                "key": f"bench-row-{i}",
                                "title": f"Proposal {i}: cache warmup for route {i % 50}",
                                "created": f"2026-{1 + i % 11:02d}-{1 + i % 28:02d}T12:00:00Z",
                                "properties": {
                                    "Status": STATUSES[i % len(STATUSES)],
                                    "Author": PEOPLE[i % len(PEOPLE)],
                                    "Date": f"2026-{1 + i % 11:02d}-{1 + i % 28:02d}",
                                    "Notes": f"ticket BENCH-{i}",
                                },
                            }
                            for i in range(rows)
                        ],
                    }
                ],
            }
        ]
    }


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def timed(client: httpx.Client, n: int, request) -> list[float]:
    out = []
    for i in range(n):
        t0 = time.perf_counter()
        response = request(client, i)
        elapsed = time.perf_counter() - t0
        if response.status_code != 200:
            raise SystemExit(f"request failed: {response.status_code} {response.text[:300]}")
        out.append(elapsed * 1000)
    return out


def summary(samples: list[float]) -> dict[str, float]:
    return {
        "p50": round(percentile(samples, 0.5), 2),
        "p99": round(percentile(samples, 0.99), 2),
        "mean": round(statistics.fmean(samples), 2),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=2000)
    ap.add_argument("--blocks", type=int, default=1000)
    ap.add_argument("--requests", type=int, default=1000)
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-notion-") as tmp:
        port = free_port()
        env = {**os.environ, "PRODBENCH_ADMIN_TOKEN": ADMIN}
        argv = [sys.executable, "-m", "environments.tools.notion", "--port", str(port)]
        argv += ["--state-dir", tmp, "--fixtures", str(FIXTURES), "--log-level", "warning"]
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
                    raise SystemExit("the Notion service did not start")
                time.sleep(0.02)
            startup = time.perf_counter() - started
            rss_idle = rss_kib(proc.pid)

            t0 = time.perf_counter()
            loaded = httpx.post(
                base + "/_admin/fixtures",
                json=bench_document(args.rows, args.blocks),
                headers={"Authorization": f"Bearer {ADMIN}"},
                timeout=300,
            )
            loaded.raise_for_status()
            load_s = time.perf_counter() - t0

            headers = {"Authorization": f"Bearer {TOKEN}", "Notion-Version": "2025-09-03"}
            with httpx.Client(base_url=base + "/v1/", headers=headers, timeout=30) as client:
                found = client.post(
                    "search",
                    json={
                        "query": "Bench RFCs",
                        "filter": {"property": "object", "value": "data_source"},
                    },
                ).json()["results"]
                ds = found[0]["id"]
                rows = client.post(f"data_sources/{ds}/query", json={"page_size": 100}).json()
                row_ids = [r["id"] for r in rows["results"]]
                page = client.post(
                    "search",
                    json={"query": "Benchmark", "filter": {"property": "object", "value": "page"}},
                ).json()["results"][0]["id"]

                def retrieve(c: httpx.Client, i: int) -> httpx.Response:
                    return c.get(f"pages/{row_ids[i % len(row_ids)]}")

                def children(c: httpx.Client, i: int) -> httpx.Response:
                    return c.get(f"blocks/{page}/children", params={"page_size": 100})

                def query(c: httpx.Client, i: int) -> httpx.Response:
                    return c.post(
                        f"data_sources/{ds}/query",
                        json={
                            "filter": {"property": "Status", "status": {"equals": STATUSES[i % 5]}},
                            "sorts": [{"property": "Date", "direction": "descending"}],
                            "page_size": 100,
                        },
                    )

                results = {}
                for name, fn, n in (
                    ("pages.retrieve", retrieve, args.requests),
                    ("blocks.children.list", children, args.requests),
                    ("data_sources.query", query, max(50, args.requests // 5)),
                ):
                    timed(client, args.warmup, fn)
                    results[name] = (summary(timed(client, n, fn)), n)
            rss_end = rss_kib(proc.pid)
        finally:
            proc.terminate()
            proc.wait(timeout=10)

    report = {
        "rows_loaded": args.rows,
        "blocks_loaded": args.blocks,
        "load_seconds": round(load_s, 2),
        "startup_seconds": round(startup, 2),
        **{f"{name}_ms": {**stats, "requests": n} for name, (stats, n) in results.items()},
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
        f"Notion service: {args.rows} extra rows and {args.blocks} blocks loaded in "
        f"{report['load_seconds']}s (startup {report['startup_seconds']}s)"
    )
    for name, (stats, n) in results.items():
        print(
            f"  {name:<22} p50 {stats['p50']:6.2f} ms   p99 {stats['p99']:6.2f} ms   "
            f"mean {stats['mean']:6.2f} ms   ({n} requests)"
        )
    m = report["rss_mib"]
    print(f"  RSS: idle {m['idle']} MiB, after load {m['end']} MiB, peak {m['peak']} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
