"""What the MCP gateway adds to a tool call: the same read, direct and through MCP.

Brings up a whole Acme run (``prepare_run`` + ``start_run`` in a temporary runs dir; the run
is always stopped at the end, even on error), reads the run's ``env.json`` for the tools'
ports and the gateway, and the agent's tokens from ``state/agent-credentials.json``. Then,
for a few representative reads, it times

  direct   the tool's own HTTP API with one keep-alive httpx client, sending what the MCP
           server sends for that tool (the same endpoint, parameters and GraphQL selection);
  via MCP  the equivalent MCP tool call through the gateway, from one ``mcp`` client session
           per server (streamable HTTP), opened once and kept open for every call;

interleaved call by call so the load of the rest of the run falls on both alike. Each MCP
call makes exactly one backend request once warmed up (name lookups are cached by the
servers), so the difference of the p50s is what the gateway adds per call: HTTP + JSON-RPC
in and out, argument validation, the call log line, and the MCP server's own work (its API
client and shaping the result). A trivial tool that makes no backend request (the deploy
server's, which has no deployer in this run and answers at once) shows the MCP overhead
alone, in both protocol generations. Target: added p50 <= 10 ms.

    .venv/bin/python benchmarks/mcp_gateway.py [--calls 300] [--warmup 30] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))  # _support, from any cwd
from _support import stats
from mcp import Client

from environments.acme.environment import ACME
from environments.runs import RunHandle
from environments.runtime.procs import run_processes
from mcp_servers.linear import COMMENT, ISSUE_FULL, PAGE
from prodbench.session import prepare_run, start_run, stop_run

TARGET_MS = 10.0
SLACK_CHANNEL = "oncall"
LINEAR_ISSUE = "ENG-12"
# What mcp_servers/linear.py's get_issue sends for one issue (find_issue with the comments).
LINEAR_QUERY = (
    f"query($id: String!) {{ issue(id: $id) {{ {ISSUE_FULL} "
    f"comments(first: 50) {{ nodes {{ {COMMENT} }} {PAGE} }} }} }}"
)
# What mcp_servers/sentry.py's search_issues sends with its defaults.
SENTRY_PARAMS = {
    "query": "is:unresolved",
    "sort": "date",
    "statsPeriod": "30d",
    "limit": 10,
    "collapse": ["stats", "unhandled"],
}

Direct = Callable[[], Awaitable[httpx.Response]]


@dataclass
class Kind:
    """One call kind: the direct request (None for the MCP-only kind) and the MCP tool call."""

    name: str
    server: str
    tool: str
    arguments: dict[str, Any]
    direct: Direct | None = None
    direct_ok: Callable[[httpx.Response], bool] = lambda r: r.status_code == 200
    expect_error: bool = False  # the trivial tool answers a tool error, by design
    mode: str = "auto"  # the mcp Client's mode: "auto" (2026-07-28) or "legacy"


def slack_ok(response: httpx.Response) -> bool:
    return response.status_code == 200 and bool(response.json().get("ok"))


def linear_ok(response: httpx.Response) -> bool:
    body = response.json()
    return response.status_code == 200 and not body.get("errors") and body["data"]["issue"]


async def kinds_for_run(run_dir: Path, http: httpx.AsyncClient) -> list[Kind]:
    """The call kinds, wired to this run's ports and the agent's tokens."""
    env = json.loads((run_dir / "env.json").read_text())
    tokens = json.loads((run_dir / "state" / "agent-credentials.json").read_text())["tokens"]
    tools = env["services"]["tools"]
    base = {name: f"http://{tools['host']}:{port}" for name, port in tools["ports"].items()}

    slack_auth = {"Authorization": f"Bearer {tokens['slack']}"}
    channels = (
        await http.get(
            f"{base['slack']}/api/conversations.list",
            params={"limit": 1000, "types": "public_channel,private_channel"},
            headers=slack_auth,
        )
    ).json()["channels"]
    oncall = next(c["id"] for c in channels if c["name"] == SLACK_CHANNEL)

    linear_auth = {"Authorization": tokens["linear"], "Content-Type": "application/json"}
    sentry_auth = {"Authorization": f"Bearer {tokens['sentry']}", "Accept": "application/json"}
    orgs = (await http.get(f"{base['sentry']}/api/0/organizations/", headers=sentry_auth)).json()
    org = orgs[0]["slug"]

    def slack_history() -> Awaitable[httpx.Response]:
        return http.get(
            f"{base['slack']}/api/conversations.history",
            params={"channel": oncall, "limit": 10},
            headers=slack_auth,
        )

    def linear_issue() -> Awaitable[httpx.Response]:
        return http.post(
            f"{base['linear']}/graphql",
            json={"query": LINEAR_QUERY, "variables": {"id": LINEAR_ISSUE}},
            headers=linear_auth,
        )

    def sentry_issues() -> Awaitable[httpx.Response]:
        return http.get(
            f"{base['sentry']}/api/0/organizations/{org}/issues/",
            params=SENTRY_PARAMS,
            headers=sentry_auth,
        )

    return [
        Kind(
            f"slack history #{SLACK_CHANNEL} (10)",
            "slack",
            "slack_get_channel_history",
            {"channel_id": f"#{SLACK_CHANNEL}", "limit": 10},
            slack_history,
            slack_ok,
        ),
        Kind(
            f"linear issue {LINEAR_ISSUE}",
            "linear",
            "get_issue",
            {"id": LINEAR_ISSUE},
            linear_issue,
            linear_ok,
        ),
        Kind("sentry search issues", "sentry", "search_issues", {}, sentry_issues),
        Kind("trivial (no backend)", "deploy", "list_services", {}, expect_error=True),
        Kind(
            "trivial, legacy proto",
            "deploy",
            "list_services",
            {},
            expect_error=True,
            mode="legacy",
        ),
    ]


class Failed(Exception):
    """A call that did not answer what it should: the figures would mean nothing."""


async def measure(run_dir: Path, gateway: str, calls: int, warmup: int) -> list[dict]:
    """p50/p99 of every kind, direct and via MCP; a failed call ends the benchmark.

    The failure is raised only once the MCP sessions are closed: raised inside them, the
    SDK's task groups would wrap it in exception groups."""
    try:
        return await _measure(run_dir, gateway, calls, warmup)
    except* Failed as group:
        first: BaseException = group
        while isinstance(first, BaseExceptionGroup):  # nested once per task group
            first = first.exceptions[0]
        raise SystemExit(str(first)) from None


async def _measure(run_dir: Path, gateway: str, calls: int, warmup: int) -> list[dict]:
    """Every kind timed alternately, direct then via MCP, call by call."""
    limits = httpx.Limits(max_keepalive_connections=4, max_connections=4)
    async with AsyncExitStack() as stack:
        http = await stack.enter_async_context(httpx.AsyncClient(limits=limits, timeout=30))
        served = (await http.get(f"{gateway}/healthz")).json()["servers"]
        kinds = await kinds_for_run(run_dir, http)
        sessions: dict[tuple[str, str], Client] = {}
        for kind in kinds:
            if kind.server not in served:
                raise Failed(f"the gateway does not serve {kind.server}: {served}")
            key = (kind.server, kind.mode)
            if key not in sessions:  # one session per server, open for every call
                client = Client(served[kind.server], mode=kind.mode)
                sessions[key] = await stack.enter_async_context(client)

        rows = []
        for kind in kinds:
            session = sessions[(kind.server, kind.mode)]
            direct_ms: list[float] = []
            mcp_ms: list[float] = []
            for i in range(warmup + calls):
                if kind.direct is not None:
                    t0 = time.perf_counter()
                    response = await kind.direct()
                    elapsed = time.perf_counter() - t0
                    if not kind.direct_ok(response):
                        raise Failed(
                            f"{kind.name}: direct call failed: "
                            f"{response.status_code} {response.text[:300]}"
                        )
                    if i >= warmup:
                        direct_ms.append(elapsed * 1000)
                t0 = time.perf_counter()
                result = await session.call_tool(kind.tool, kind.arguments)
                elapsed = time.perf_counter() - t0
                if result.is_error != kind.expect_error:
                    text = result.content[0].text if result.content else ""
                    raise Failed(f"{kind.name}: MCP call answered {text[:300]!r}")
                if i >= warmup:
                    mcp_ms.append(elapsed * 1000)
            row: dict[str, Any] = {"kind": kind.name, "tool": f"{kind.server}.{kind.tool}"}
            row["mcp"] = stats(mcp_ms)
            if direct_ms:
                row["direct"] = stats(direct_ms)
                row["added_p50"] = round(row["mcp"]["p50"] - row["direct"]["p50"], 2)
            rows.append(row)
        return rows


def print_table(rows: list[dict], calls: int, warmup: int, up_seconds: float) -> None:
    print(
        f"MCP gateway added latency, Acme run up in {up_seconds:.1f} s; "
        f"{calls} calls per kind after {warmup} warm-up, ms"
    )
    head = f"{'call kind':<26}{'direct p50/p99':>16}{'via MCP p50/p99':>18}{'added p50':>11}"
    print(head)
    print("-" * len(head))
    for r in rows:
        d = r.get("direct")
        direct = f"{d['p50']:.2f}/{d['p99']:.2f}" if d else "-"
        via = f"{r['mcp']['p50']:.2f}/{r['mcp']['p99']:.2f}"
        added = f"{r['added_p50']:.2f}" if "added_p50" in r else f"({r['mcp']['p50']:.2f})"
        print(f"{r['kind']:<26}{direct:>16}{via:>18}{added:>11}")
    worst = max(r["added_p50"] for r in rows if "added_p50" in r)
    verdict = "met" if worst <= TARGET_MS else "MISSED"
    print(f"worst added p50 {worst:.2f} ms: target <= {TARGET_MS:.0f} ms {verdict}")
    print("(trivial rows: the whole MCP round trip of a tool that makes no backend request)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=300, help="timed calls per kind and path")
    ap.add_argument("--warmup", type=int, default=30, help="untimed calls first")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON instead")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="pb-mcp-bench-"))
    handle: RunHandle | None = None
    try:
        paths = prepare_run(ACME, work / "runs", run_id="mcp-bench")
        handle = RunHandle(paths)
        t0 = time.perf_counter()
        up = start_run(paths)
        up_seconds = time.perf_counter() - t0
        if up.status != "healthy" or up.env is None:
            raise SystemExit(f"the Acme run did not come up: {up.status}: {up.error}")
        gateway = up.env.services["mcp"].url
        rows = asyncio.run(measure(paths.root, gateway, args.calls, args.warmup))
    finally:
        if handle is not None:
            stop_run(handle)
            left = run_processes(handle.run_id)
            if left:
                print(f"warning: processes of the run left behind: {left}", file=sys.stderr)
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps({"calls": args.calls, "warmup": args.warmup, "rows": rows}, indent=2))
    else:
        print_table(rows, args.calls, args.warmup, up_seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
