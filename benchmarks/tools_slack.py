"""Latency and memory of the Slack service with a busy workspace.

Starts the service the way a run does (its own process, Acme's fixtures), loads N extra
messages into one channel through the admin fixtures API (threads and reactions included), then
times `chat.postMessage` and `conversations.history` (limit 100, newest page) over loopback with
one keep-alive httpx client, and reports p50/p99 and the service's resident memory.

    .venv/bin/python benchmarks/tools_slack.py [--messages 10000] [--requests 2000] [--json]
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

FIXTURES = SEED / "slack.yaml"
BOT = "xoxb-7301000000001-7301000000101-AcmeAgentBotLocalToken01"
PEOPLE = ["maya.chen", "tomasz.nowak", "aisha.bello", "emily.zhang", "grace.kim", "mei.lin"]


def slack_ok(response: httpx.Response) -> bool:
    """Slack answers 200 with ``ok: false`` for a failed call; the body says."""
    return bool(response.json().get("ok"))


def bench_document(n: int) -> dict:
    """A channel with n messages: every 10th starts a thread of 3 replies, some reactions."""
    messages = []
    start = 1_788_000_000  # 2026-08-29
    made = 0
    i = 0
    while made < n:
        entry: dict = {
            "at": start + i * 60,
            "user": PEOPLE[i % len(PEOPLE)],
            "text": f"bench message {i}: deploy api build {i * 7919 % 100000}",
        }
        made += 1
        if i % 10 == 0 and made + 3 <= n:
            entry["replies"] = [
                {"user": PEOPLE[(i + k) % len(PEOPLE)], "text": f"reply {k}"} for k in range(1, 4)
            ]
            made += 3
        if i % 7 == 0:
            entry["reactions"] = {"eyes": [PEOPLE[(i + 1) % len(PEOPLE)]]}
        messages.append(entry)
        i += 1
    return {
        "channels": [{"name": "bench", "members": PEOPLE + ["bot:agent"]}],
        "messages": {"bench": messages},
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=10_000)
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-slack-") as tmp:
        service = start_tool("slack", tmp, [FIXTURES])
        try:
            rss_idle = rss_kib(service.pid)
            load_s = admin_fixtures(service.url, bench_document(args.messages), timeout=120)

            headers = {"Authorization": f"Bearer {BOT}"}
            with httpx.Client(base_url=service.url, headers=headers, timeout=10) as client:
                channels = client.post("/api/conversations.list").json()["channels"]
                bench = next(c["id"] for c in channels if c["name"] == "bench")

                def post(i: int) -> httpx.Response:
                    return client.post(
                        "/api/chat.postMessage",
                        json={"channel": bench, "text": f"load test message {i}"},
                    )

                def history(i: int) -> httpx.Response:
                    return client.post(
                        "/api/conversations.history", data={"channel": bench, "limit": 100}
                    )

                timed(args.warmup, history, slack_ok)
                history_ms = timed(args.requests, history, slack_ok)
                timed(args.warmup, post, slack_ok)
                post_ms = timed(args.requests, post, slack_ok)
            rss_end = rss_kib(service.pid)
        finally:
            service.stop()

    report = {
        "messages_loaded": args.messages,
        "load_seconds": round(load_s, 2),
        "startup_seconds": round(service.startup_seconds, 2),
        "requests_each": args.requests,
        "chat.postMessage_ms": stats(post_ms),
        "conversations.history_ms": stats(history_ms),
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
        f"Slack service: {args.messages} extra messages loaded in {report['load_seconds']}s "
        f"(startup {report['startup_seconds']}s)"
    )
    for name in ("chat.postMessage", "conversations.history"):
        r = report[f"{name}_ms"]
        print(
            f"  {name:<22} p50 {r['p50']:6.2f} ms   p99 {r['p99']:6.2f} ms   "
            f"mean {r['mean']:6.2f} ms   ({args.requests} requests)"
        )
    m = report["rss_mib"]
    print(f"  RSS: idle {m['idle']} MiB, after load {m['end']} MiB, peak {m['peak']} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
