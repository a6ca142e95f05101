"""The tools' quoted figures: latency with a busy state, and what the five tools cost in memory.

Starts ONE ``python -m environments.tools.host`` serving all five tools, seeded with Acme's
fixtures plus the bench documents of the per-tool benchmarks (imported from them, not copied):
10k more Slack messages, Linear topped up to 2k issues, 2k more Sentry issues, Notion's bench
database and long page. Then, over loopback with one keep-alive httpx client per tool, it times

- Slack ``chat.postMessage`` (the bot into the 10k-message channel),
- the Linear issues query agents send most (team ENG, state started, first 50),
- a Sentry envelope ingest (the gzip bytes the real sentry-sdk sends for a captured exception,
  a fresh event id each time),

and prints p50/p99 against the 5 ms target and the host's VmRSS/VmHWM against 250 MB. Last, it
starts the same five tools as five processes (same fixtures, idle) and prints their RSS, so the
one-process host's saving is measured, not assumed.

    .venv/bin/python benchmarks/tools.py [--requests 1000] [--warmup 100] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))  # _support and the tool benchmarks
import tools_linear
import tools_notion
import tools_sentry
import tools_slack
from _support import (
    SEED,
    Service,
    free_port,
    mib,
    rss_kib,
    spawn_module,
    start_tool,
    stats,
    timed,
    wait_healthy,
)

TOOLS = ("slack", "linear", "notion", "sentry", "statuspage")
TARGET_P50_MS = 5.0
TARGET_RSS_MB = 250  # megabytes (10^6 bytes), judged on the host's peak resident set
MB_PER_MIB = 1024 * 1024 / 1_000_000
SLACK_MESSAGES, LINEAR_ISSUES, SENTRY_ISSUES = 10_000, 2_000, 2_000


def write_fixtures(folder: Path) -> dict[str, list[Path]]:
    """Each tool's fixture files: Acme's, then its bench document (as JSON) where it has one."""
    folder.mkdir(parents=True)
    bench = {
        "slack": tools_slack.bench_document(SLACK_MESSAGES),
        "linear": tools_linear.bench_document(max(0, LINEAR_ISSUES - tools_linear.SEEDED)),
        "notion": tools_notion.bench_document(2000, 1000),
        "sentry": tools_sentry.bench_issues(SENTRY_ISSUES),
    }
    files: dict[str, list[Path]] = {}
    for tool in TOOLS:
        files[tool] = [SEED / f"{tool}.yaml"]
        if tool in bench:
            path = folder / f"{tool}-bench.json"
            path.write_text(json.dumps(bench[tool]), encoding="utf-8")
            files[tool].append(path)
    return files


def start_host(state_dir: Path, fixtures: dict[str, list[Path]]) -> tuple[Service, dict]:
    """The host serving every tool; its Service (url = health port) and each tool's URL."""
    ports = {tool: free_port() for tool in TOOLS}
    args = ["--state-dir", str(state_dir), "--health-port", str(health := free_port())]
    args += ["--log-level", "warning"]
    for tool in TOOLS:
        args += ["--serve", f"{tool}={ports[tool]}"]
        for path in fixtures[tool]:
            args += ["--fixtures", f"{tool}={path}"]
    proc = spawn_module("environments.tools.host", *args)
    url = f"http://127.0.0.1:{health}"
    startup = wait_healthy(proc, url + "/healthz", "the tools host", timeout=120)
    return Service("host", proc, url, startup), {
        t: f"http://127.0.0.1:{p}" for t, p in ports.items()
    }


def slack_bench(url: str, requests: int, warmup: int) -> list[float]:
    headers = {"Authorization": f"Bearer {tools_slack.BOT}"}
    with httpx.Client(base_url=url, headers=headers, timeout=10) as client:
        channels = client.post("/api/conversations.list", data={"limit": 1000}).json()
        bench = next(c["id"] for c in channels["channels"] if c["name"] == "bench")

        def post(i: int) -> httpx.Response:
            return client.post(
                "/api/chat.postMessage", json={"channel": bench, "text": f"load test message {i}"}
            )

        timed(warmup, post, tools_slack.slack_ok)
        return timed(requests, post, tools_slack.slack_ok)


def linear_bench(url: str, requests: int, warmup: int) -> tuple[list[float], int]:
    """Timings of the started-issues list, and the number of issues in state."""
    headers = {"Authorization": tools_linear.AGENT_KEY}
    with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
        counts = client.post(
            "/graphql", json={"query": "{ teams { nodes { key issueCount } } }"}
        ).json()["data"]["teams"]["nodes"]
        body = {"query": tools_linear.ISSUES, "variables": {"first": 50}}

        def listing(i: int) -> httpx.Response:
            return client.post("/graphql", json=body)

        timed(warmup, listing, tools_linear.graphql_ok)
        samples = timed(requests, listing, tools_linear.graphql_ok)
    return samples, sum(team["issueCount"] for team in counts)


def sentry_bench(url: str, requests: int, warmup: int) -> tuple[list[float], int]:
    """Timings of envelope ingestion, and the number of issues in state (before it)."""
    envelope, event_id = tools_sentry.sdk_envelope()
    bodies = tools_sentry.gzip_envelopes(envelope, event_id, warmup + requests)
    with httpx.Client(base_url=url, timeout=10) as client:
        hits = client.get(
            tools_sentry.ISSUE_LIST,
            params={"query": "", "statsPeriod": "36500d", "limit": 1},  # every issue
            headers={"Authorization": f"Bearer {tools_sentry.TOKEN}"},
        ).headers["x-hits"]

        def ingest(i: int) -> httpx.Response:
            return client.post(
                "/api/2/envelope/", content=bodies[i], headers=tools_sentry.ENVELOPE_HEADERS
            )

        timed(warmup, ingest)
        return timed(requests, lambda i: ingest(warmup + i)), int(hits)


def separate_processes(root: Path, fixtures: dict[str, list[Path]]) -> dict[str, dict[str, int]]:
    """VmRSS/VmHWM (KiB) of each tool started alone in its own process, seeded and idle."""
    services: list[Service] = []
    try:
        for tool in TOOLS:
            services.append(start_tool(tool, root / tool, fixtures[tool], "--log-level", "warning"))
        return {s.name: rss_kib(s.pid) for s in services}
    finally:
        for service in services:
            service.stop()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=1000, help="timed requests of each kind")
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-tools-") as tmp:
        fixtures = write_fixtures(Path(tmp) / "fixtures")
        host, urls = start_host(Path(tmp) / "host", fixtures)
        try:
            rss_idle = rss_kib(host.pid)
            post_ms = slack_bench(urls["slack"], args.requests, args.warmup)
            list_ms, linear_issues = linear_bench(urls["linear"], args.requests, args.warmup)
            ingest_ms, sentry_issues = sentry_bench(urls["sentry"], args.requests, args.warmup)
            rss_end = rss_kib(host.pid)
        finally:
            host.stop()
        alone = separate_processes(Path(tmp) / "alone", fixtures)

    latency = {
        "chat.postMessage": stats(post_ms),
        "linear issues(ENG, started, first 50)": stats(list_ms),
        "sentry envelope ingest (sdk, gzip)": stats(ingest_ms),
    }
    alone_total = sum(r["VmRSS"] for r in alone.values())
    report = {
        "state": {
            "slack_bench_messages": SLACK_MESSAGES,
            "linear_issues": linear_issues,
            "sentry_issues": sentry_issues,
        },
        "requests_each": args.requests,
        "host_startup_seconds": round(host.startup_seconds, 2),
        "latency_ms": latency,
        "latency_target_met": all(s["p50"] <= TARGET_P50_MS for s in latency.values()),
        "host_rss_mib": {
            "idle": mib(rss_idle["VmRSS"]),
            "VmRSS": mib(rss_end["VmRSS"]),
            "VmHWM": mib(rss_end["VmHWM"]),
        },
        "memory_target_met": rss_end["VmHWM"] * 1024 <= TARGET_RSS_MB * 1_000_000,
        "separate_rss_mib": {
            **{tool: mib(r["VmRSS"]) for tool, r in alone.items()},
            "total": mib(alone_total),
        },
        "host_saving_mib": mib(alone_total - rss_idle["VmRSS"]),
    }
    if args.json:
        print(json.dumps(report))
        return 0

    s = report["state"]
    print(
        f"tools host: slack +{s['slack_bench_messages']} messages, linear {s['linear_issues']} "
        f"issues, sentry {s['sentry_issues']} issues in state (host up and seeded in "
        f"{report['host_startup_seconds']}s); {args.requests} keep-alive requests each"
    )
    print(f"  {'request':<40} {'p50 ms':>7} {'p99 ms':>7} {'mean ms':>8}  p50<={TARGET_P50_MS:g}")
    for name, r in latency.items():
        verdict = "yes" if r["p50"] <= TARGET_P50_MS else "NO"
        print(f"  {name:<40} {r['p50']:7.2f} {r['p99']:7.2f} {r['mean']:8.2f}  {verdict}")
    h = report["host_rss_mib"]
    limit_mib = TARGET_RSS_MB / MB_PER_MIB
    print(
        f"  host memory: VmRSS {h['VmRSS']} MiB, VmHWM {h['VmHWM']} MiB (idle after seeding "
        f"{h['idle']} MiB); target <= {TARGET_RSS_MB} MB ({limit_mib:.1f} MiB) on VmHWM: "
        f"{'met' if report['memory_target_met'] else 'NOT met'}"
    )
    each = ", ".join(f"{t} {v}" for t, v in report["separate_rss_mib"].items() if t != "total")
    print(
        f"  five separate processes, idle: {report['separate_rss_mib']['total']} MiB VmRSS "
        f"({each}); the host saves {report['host_saving_mib']} MiB idle vs idle"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
