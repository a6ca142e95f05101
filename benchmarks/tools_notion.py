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
import sys
import tempfile
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))  # _support, from any cwd
from _support import SEED, admin_fixtures, mib, rss_kib, start_tool, stats, timed

FIXTURES = SEED / "notion.yaml"
TOKEN = "ntn_562184930172AcmeAgentLocalIntegrationToken01"
PEOPLE = ["maya.chen", "tomasz.nowak", "aisha.bello", "emily.zhang", "grace.kim", "mei.lin"]
STATUSES = ["Draft", "In review", "Accepted", "Implemented", "Rejected"]


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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=2000)
    ap.add_argument("--blocks", type=int, default=1000)
    ap.add_argument("--requests", type=int, default=1000)
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-notion-") as tmp:
        service = start_tool("notion", tmp, [FIXTURES], "--log-level", "warning")
        try:
            rss_idle = rss_kib(service.pid)
            load_s = admin_fixtures(service.url, bench_document(args.rows, args.blocks))

            headers = {"Authorization": f"Bearer {TOKEN}", "Notion-Version": "2025-09-03"}
            with httpx.Client(base_url=service.url + "/v1/", headers=headers, timeout=30) as client:
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

                def retrieve(i: int) -> httpx.Response:
                    return client.get(f"pages/{row_ids[i % len(row_ids)]}")

                def children(i: int) -> httpx.Response:
                    return client.get(f"blocks/{page}/children", params={"page_size": 100})

                def query(i: int) -> httpx.Response:
                    return client.post(
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
                    timed(args.warmup, fn)
                    results[name] = (stats(timed(n, fn)), n)
            rss_end = rss_kib(service.pid)
        finally:
            service.stop()

    report = {
        "rows_loaded": args.rows,
        "blocks_loaded": args.blocks,
        "load_seconds": round(load_s, 2),
        "startup_seconds": round(service.startup_seconds, 2),
        **{f"{name}_ms": {**ms, "requests": n} for name, (ms, n) in results.items()},
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
        f"Notion service: {args.rows} extra rows and {args.blocks} blocks loaded in "
        f"{report['load_seconds']}s (startup {report['startup_seconds']}s)"
    )
    for name, (ms, n) in results.items():
        print(
            f"  {name:<22} p50 {ms['p50']:6.2f} ms   p99 {ms['p99']:6.2f} ms   "
            f"mean {ms['mean']:6.2f} ms   ({n} requests)"
        )
    m = report["rss_mib"]
    print(f"  RSS: idle {m['idle']} MiB, after load {m['end']} MiB, peak {m['peak']} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
