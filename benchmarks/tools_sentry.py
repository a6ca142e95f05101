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
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
SEED = REPO / "environments" / "acme" / "seed" / "tools"
ADMIN = "bench-admin-token"
TOKEN = "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"
API_KEY = "294d8a50d4c5c8a353a8210b1ccc071f"
TARGET_P50_MS = 5.0


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


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def start(tool: str, fixtures: Path, state: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            f"environments.tools.{tool}",
            "--port",
            str(port),
            "--state-dir",
            state,
            "--fixtures",
            str(fixtures),
        ],
        cwd=REPO,
        env={**os.environ, "PRODBENCH_ADMIN_TOKEN": ADMIN},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    started = time.perf_counter()
    while True:
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.perf_counter() - started > 30:
            raise SystemExit(f"the {tool} service did not start")
        time.sleep(0.02)


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


def timed(client: httpx.Client, requests: list, expect: int = 200) -> list[float]:
    out = []
    for method, url, kwargs in requests:
        t0 = time.perf_counter()
        response = client.request(method, url, **kwargs)
        elapsed = time.perf_counter() - t0
        if response.status_code != expect:
            raise SystemExit(f"{method} {url}: {response.status_code} {response.text[:300]}")
        out.append(elapsed * 1000)
    return out


def stats(samples: list[float]) -> dict[str, float]:
    return {
        "p50": round(percentile(samples, 0.5), 2),
        "p99": round(percentile(samples, 0.99), 2),
        "mean": round(statistics.fmean(samples), 2),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--issues", type=int, default=2000)
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args()

    envelope, event_id = sdk_envelope()
    bodies = []
    for _ in range(args.warmup + args.requests):
        fresh = uuid.uuid4().hex
        bodies.append(gzip.compress(envelope.replace(event_id.encode(), fresh.encode())))

    with tempfile.TemporaryDirectory(prefix="bench-sentry-") as tmp:
        sentry, sentry_url = start("sentry", SEED / "sentry.yaml", f"{tmp}/sentry")
        page, page_url = start("statuspage", SEED / "statuspage.yaml", f"{tmp}/statuspage")
        try:
            rss_idle = rss_kib(sentry.pid)
            t0 = time.perf_counter()
            loaded = httpx.post(
                sentry_url + "/_admin/fixtures",
                json=bench_issues(args.issues),
                headers={"Authorization": f"Bearer {ADMIN}"},
                timeout=300,
            )
            loaded.raise_for_status()
            load_s = time.perf_counter() - t0

            ingest = [
                (
                    "POST",
                    "/api/2/envelope/",
                    {
                        "content": body,
                        "headers": {
                            "Content-Type": "application/x-sentry-envelope",
                            "Content-Encoding": "gzip",
                            "X-Sentry-Auth": f"Sentry sentry_key={API_KEY}, sentry_version=7, "
                            "sentry_client=sentry.python/2.75.0",
                        },
                    },
                )
                for body in bodies
            ]
            listing = [
                (
                    "GET",
                    "/api/0/organizations/acme/issues/",
                    {
                        "params": {
                            "query": "is:unresolved",
                            "statsPeriod": "14d",
                            "sort": "date",
                            "limit": 25,
                            "collapse": "unhandled",
                        },
                        "headers": {"Authorization": f"Bearer {TOKEN}"},
                    },
                )
            ] * (args.warmup + args.requests)
            with httpx.Client(base_url=sentry_url, timeout=10) as client:
                timed(client, ingest[: args.warmup])
                ingest_ms = timed(client, ingest[args.warmup :])
                hits = client.get(listing[0][1], **listing[0][2]).headers["x-hits"]
                timed(client, listing[: args.warmup])
                list_ms = timed(client, listing[args.warmup :])
            with httpx.Client(base_url=page_url, timeout=10) as client:
                summary = [("GET", "/api/v2/summary.json", {})] * (args.warmup + args.requests)
                timed(client, summary[: args.warmup])
                summary_ms = timed(client, summary[args.warmup :])
            rss_sentry, rss_page = rss_kib(sentry.pid), rss_kib(page.pid)
        finally:
            for proc in (sentry, page):
                proc.terminate()
                proc.wait(timeout=10)

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
            "sentry_idle": round(rss_idle["VmRSS"] / 1024, 1),
            "sentry_end": round(rss_sentry["VmRSS"] / 1024, 1),
            "sentry_peak": round(rss_sentry["VmHWM"] / 1024, 1),
            "statuspage_end": round(rss_page["VmRSS"] / 1024, 1),
            "statuspage_peak": round(rss_page["VmHWM"] / 1024, 1),
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
