"""Latency and memory of the Sentry and status page services with a busy Sentry.

Starts both services the way a run does (own processes, Acme's fixtures), loads N extra issues
into Sentry through the admin fixtures API, then over loopback with one keep-alive httpx client
times (a) envelope ingestion: a gzip envelope made by the real sentry-sdk for a captured
exception (each request with a fresh event id), and (b) the issue list query sentry-mcp sends
(``is:unresolved``, 14 days, sorted by date, limit 25). Also times the public summary.json of
the status page, and reports both services' resident memory.

    .venv/bin/python benchmarks/tools_sentry.py [--issues 2000] [--requests 2000] [--json]
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))  # _support, from any cwd
from _support import SEED, admin_fixtures, mib, rss_kib, start_tool, stats, timed

TOKEN = "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"
API_KEY = "294d8a50d4c5c8a353a8210b1ccc071f"
TARGET_P50_MS = 5.0
ENVELOPE_HEADERS = {
    "Content-Type": "application/x-sentry-envelope",
    "Content-Encoding": "gzip",
    "X-Sentry-Auth": f"Sentry sentry_key={API_KEY}, sentry_version=7, "
    "sentry_client=sentry.python/2.75.0",
}
ISSUE_LIST = "/api/0/organizations/acme/issues/"
ISSUE_LIST_PARAMS = {
    "query": "is:unresolved",
    "statsPeriod": "14d",
    "sort": "date",
    "limit": 25,
    "collapse": "unhandled",
}


def bench_issues(n: int) -> dict:
    """n distinct issues (one event each) spread over the last 10 days, across projects."""
    projects = ["acme-api", "acme-web", "acme-worker", "acme-payments", "acme-ingress"]
    now = time.time()
    issues = []
    for i in range(n):
        at = now - 10 * 86400 + i * (10 * 86400 / n)
        issues.append(
            {
                "key": f"bench-{i}",
                "project": projects[i % len(projects)],
                "first_seen": at,
                "last_seen": at + 60,
                "times_seen": 1 + i % 50,
                "samples": 1,
                "status": ["unresolved", "unresolved", "resolved", "ignored"][i % 4],
                "event": {
                    "level": "error",
                    "tags": {"service": projects[i % len(projects)], "route": f"/v1/r{i % 40}"},
                    "exception": {
                        "values": [
                            {
                                "type": f"BenchError{i % 97}",
                                "value": f"bench failure {i}",
                                "stacktrace": {
                                    "frames": [
                                        {
                                            "module": "acme.api.app",
                                            "function": "dispatch",
                                            "lineno": 10,
                                            "in_app": True,
                                        },
                                        {
                                            "module": f"acme.bench.m{i}",
                                            "function": f"handler_{i}",
                                            "lineno": 42,
                                            "context_line": "    raise BenchError()",
                                            "in_app": True,
                                        },
                                    ]
                                },
                            }
                        ]
                    },
                },
            }
        )
    return {"issues": issues}


def sdk_envelope() -> tuple[bytes, str]:
    """The bytes sentry-sdk sends for one captured exception, and the event id in them."""
    import sentry_sdk
    from sentry_sdk.transport import Transport

    captured: list[bytes] = []

    class Capture(Transport):
        def capture_envelope(self, envelope) -> None:
            captured.append(envelope.serialize())

    sentry_sdk.init(
        dsn=f"http://{API_KEY}@127.0.0.1:1/2",
        transport=Capture,
        release="bench01",
        environment="production",
        server_name="api-1",
        auto_enabling_integrations=False,
    )
    sentry_sdk.set_tag("service", "api")
    sentry_sdk.set_user({"id": "4812", "email": "customer@example.com"})
    for step in range(20):
        sentry_sdk.add_breadcrumb(category="http", message=f"GET /v1/products/{step}", level="info")

    def compute_totals(cart: dict) -> int:
        subtotal = sum(line["price"] * line["qty"] for line in cart["lines"])
        return subtotal + cart["store"]["tax_lines"]

    try:
        compute_totals({"lines": [{"price": 1200, "qty": 2}], "store": {}})
    except KeyError:
        event_id = sentry_sdk.capture_exception()
    sentry_sdk.flush()
    body = next(b for b in captured if b'"type":"event"' in b)
    return body, event_id


def gzip_envelopes(envelope: bytes, event_id: str, n: int) -> list[bytes]:
    """n gzip bodies of ``envelope``, each with a fresh event id (Sentry drops a repeated one)."""
    return [
        gzip.compress(envelope.replace(event_id.encode(), uuid.uuid4().hex.encode()))
        for _ in range(n)
    ]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--issues", type=int, default=2000)
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args()

    envelope, event_id = sdk_envelope()
    bodies = gzip_envelopes(envelope, event_id, args.warmup + args.requests)

    with tempfile.TemporaryDirectory(prefix="bench-sentry-") as tmp:
        sentry = start_tool("sentry", f"{tmp}/sentry", [SEED / "sentry.yaml"])
        page = start_tool("statuspage", f"{tmp}/statuspage", [SEED / "statuspage.yaml"])
        try:
            rss_idle = rss_kib(sentry.pid)
            load_s = admin_fixtures(sentry.url, bench_issues(args.issues))
            auth = {"Authorization": f"Bearer {TOKEN}"}

            with httpx.Client(base_url=sentry.url, timeout=10) as client:

                def ingest(i: int) -> httpx.Response:
                    return client.post(
                        "/api/2/envelope/", content=bodies[i], headers=ENVELOPE_HEADERS
                    )

                def listing(i: int) -> httpx.Response:
                    return client.get(ISSUE_LIST, params=ISSUE_LIST_PARAMS, headers=auth)

                timed(args.warmup, ingest)
                ingest_ms = timed(args.requests, lambda i: ingest(args.warmup + i))
                hits = listing(0).headers["x-hits"]
                timed(args.warmup, listing)
                list_ms = timed(args.requests, listing)
            with httpx.Client(base_url=page.url, timeout=10) as client:

                def summary(i: int) -> httpx.Response:
                    return client.get("/api/v2/summary.json")

                timed(args.warmup, summary)
                summary_ms = timed(args.requests, summary)
            rss_sentry, rss_page = rss_kib(sentry.pid), rss_kib(page.pid)
        finally:
            for service in (sentry, page):
                service.stop()

    report = {
        "issues_loaded": args.issues,
        "load_seconds": round(load_s, 2),
        "requests_each": args.requests,
        "envelope_bytes": {"raw": len(envelope), "gzip": len(bodies[0])},
        "unresolved_issues_listed_from": int(hits),
        "envelope_ingest_ms": stats(ingest_ms),
        "issue_list_ms": stats(list_ms),
        "statuspage_summary_ms": stats(summary_ms),
        "rss_mib": {
            "sentry_idle": mib(rss_idle["VmRSS"]),
            "sentry_end": mib(rss_sentry["VmRSS"]),
            "sentry_peak": mib(rss_sentry["VmHWM"]),
            "statuspage_end": mib(rss_page["VmRSS"]),
            "statuspage_peak": mib(rss_page["VmHWM"]),
        },
    }
    report["target_met"] = (
        report["envelope_ingest_ms"]["p50"] <= TARGET_P50_MS
        and report["issue_list_ms"]["p50"] <= TARGET_P50_MS
    )
    if args.json:
        print(json.dumps(report))
        return 0
    print(
        f"Sentry: {args.issues} extra issues loaded in {report['load_seconds']}s; "
        f"sdk envelope {len(envelope)} B ({len(bodies[0])} B gzip)"
    )
    for name in ("envelope_ingest_ms", "issue_list_ms", "statuspage_summary_ms"):
        s = report[name]
        print(f"  {name:24s} p50 {s['p50']:6.2f}  p99 {s['p99']:6.2f}  mean {s['mean']:6.2f}")
    r = report["rss_mib"]
    print(
        f"  RSS MiB: sentry idle {r['sentry_idle']}, end {r['sentry_end']}, peak {r['sentry_peak']}; "
        f"statuspage end {r['statuspage_end']}, peak {r['statuspage_peak']}"
    )
    print(f"  target p50 <= {TARGET_P50_MS} ms: {'met' if report['target_met'] else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
