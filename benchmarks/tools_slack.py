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
FIXTURES = REPO / "environments" / "acme" / "seed" / "tools" / "slack.yaml"
BOT = "xoxb-7301000000001-7301000000101-AcmeAgentBotLocalToken01"
ADMIN = "bench-admin-token"
PEOPLE = ["maya.chen", "tomasz.nowak", "aisha.bello", "emily.zhang", "grace.kim", "mei.lin"]


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


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def timed(client: httpx.Client, n: int, request) -> list[float]:
    out = []
    for i in range(n):
        t0 = time.perf_counter()
        response = request(client, i)
        elapsed = time.perf_counter() - t0
        body = response.json()
        if not body.get("ok"):
            raise SystemExit(f"request failed: {body}")
        out.append(elapsed * 1000)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=10_000)
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-slack-") as tmp:
        port = free_port()
        env = {**os.environ, "PRODBENCH_ADMIN_TOKEN": ADMIN}
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "environments.tools.slack",
                "--port",
                str(port),
                "--state-dir",
                tmp,
                "--fixtures",
                str(FIXTURES),
            ],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
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
                    raise SystemExit("the Slack service did not start")
                time.sleep(0.02)
            startup = time.perf_counter() - started
            rss_idle = rss_kib(proc.pid)

            t0 = time.perf_counter()
            loaded = httpx.post(
                base + "/_admin/fixtures",
                json=bench_document(args.messages),
                headers={"Authorization": f"Bearer {ADMIN}"},
                timeout=120,
            )
            loaded.raise_for_status()
            load_s = time.perf_counter() - t0

            headers = {"Authorization": f"Bearer {BOT}"}
            with httpx.Client(base_url=base, headers=headers, timeout=10) as client:
                channels = client.post("/api/conversations.list").json()["channels"]
                bench = next(c["id"] for c in channels if c["name"] == "bench")

                def post(c: httpx.Client, i: int) -> httpx.Response:
                    return c.post(
                        "/api/chat.postMessage",
                        json={"channel": bench, "text": f"load test message {i}"},
                    )

                def history(c: httpx.Client, i: int) -> httpx.Response:
                    return c.post(
                        "/api/conversations.history", data={"channel": bench, "limit": 100}
                    )

                timed(client, args.warmup, history)
                history_ms = timed(client, args.requests, history)
                timed(client, args.warmup, post)
                post_ms = timed(client, args.requests, post)
            rss_end = rss_kib(proc.pid)
        finally:
            proc.terminate()
            proc.wait(timeout=10)

    report = {
        "messages_loaded": args.messages,
        "load_seconds": round(load_s, 2),
        "startup_seconds": round(startup, 2),
        "requests_each": args.requests,
        "chat.postMessage_ms": {
            "p50": round(percentile(post_ms, 0.5), 2),
            "p99": round(percentile(post_ms, 0.99), 2),
            "mean": round(statistics.fmean(post_ms), 2),
        },
        "conversations.history_ms": {
            "p50": round(percentile(history_ms, 0.5), 2),
            "p99": round(percentile(history_ms, 0.99), 2),
            "mean": round(statistics.fmean(history_ms), 2),
        },
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
