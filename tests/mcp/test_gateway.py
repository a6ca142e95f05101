"""The MCP gateway in a real Acme run: `up` starts it, agents reach every server over HTTP.

One run is shared by the module (it costs seconds). Everything goes through real processes and
real clients: the `mcp` client over streamable HTTP in both protocol generations, stdio through
the CLI, slack_sdk to read back what the agent did, the CLI for the agent configs.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import tomllib

import anyio
import httpx
import pytest
from mcp import Client, StdioServerParameters
from slack_sdk import WebClient

from environments.acme.environment import ACME
from environments.runs import RunHandle, RunRequest
from environments.runtime.procs import run_processes
from mcp_servers import SERVER_NAMES
from mcp_servers.calllog import CallLog
from prodbench.session import prepare_run, start_run, stop_run
from tests.tools.conftest import MAYA_TOKEN

pytestmark = pytest.mark.anyio
MODERN, LEGACY = "auto", "legacy"


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    runs_dir = tmp_path_factory.mktemp("mcp-runs")
    paths = prepare_run(ACME, runs_dir, seed=3, run_id="mcp-e2e")
    result = start_run(paths)
    handle = RunHandle(paths)
    try:
        assert result.status == "healthy", result.error
        yield handle
    finally:
        stop_run(handle)
        assert run_processes(handle.run_id) == []


@pytest.fixture(scope="module")
def gateway(run) -> str:
    return run.env().services["mcp"].url


@pytest.fixture(scope="module")
def served(gateway) -> dict[str, str]:
    return httpx.get(f"{gateway}/healthz").json()["servers"]


def secrets_of(run: RunHandle) -> list[str]:
    """Values the agent must never see: the run's admin tokens and internal secrets."""
    request = RunRequest.model_validate_json(run.paths.request.read_text())
    return [v for k, v in request.vars.items() if k.endswith(("_token", "_secret"))]


def test_up_serves_every_server_that_exists_and_skips_the_rest_with_a_reason(run, gateway):
    health = httpx.get(f"{gateway}/healthz").json()
    assert health["status"] == "ok"
    assert set(health["servers"]) | set(health["skipped"]) == set(SERVER_NAMES)
    assert {"slack", "monitoring", "deploy"} <= set(health["servers"])
    for name, reason in health["skipped"].items():
        assert reason == f"module mcp_servers.{name} does not exist", (name, reason)
        log = run.paths.service_log("mcp").read_text()
        assert f"MCP server {name} skipped" in log


async def test_every_server_lists_its_tools_over_http_in_both_protocols(served):
    for name, url in served.items():
        for mode in (MODERN, LEGACY):
            async with Client(url, mode=mode) as client:
                tools = (await client.list_tools()).tools
                assert tools, name
                assert all(t.description and t.input_schema for t in tools), name
                if mode == MODERN:
                    assert client.protocol_version == "2026-07-28"
                else:
                    assert client.protocol_version < "2026-07-28"


@pytest.mark.parametrize("mode", [MODERN, LEGACY])
async def test_a_slack_call_over_http_posts_for_real(run, served, mode):
    async with Client(served["slack"], mode=mode) as client:
        result = await client.call_tool(
            "slack_post_message", {"channel_id": "#incidents", "text": f"Investigating ({mode})"}
        )
        assert not result.is_error, result.content[0].text
        ts = result.structured_content["ts"]
    tools = run.env().services["tools"]
    maya = WebClient(token=MAYA_TOKEN, base_url=f"http://127.0.0.1:{tools.ports['slack']}/api/")
    incidents = next(
        c["id"] for c in maya.conversations_list(limit=200)["channels"] if c["name"] == "incidents"
    )
    latest = maya.conversations_history(channel=incidents, limit=1)["messages"][0]
    assert (latest["ts"], latest["text"]) == (ts, f"Investigating ({mode})")


@pytest.mark.parametrize("mode", [MODERN, LEGACY])
async def test_bad_arguments_are_tool_errors_and_the_session_goes_on(served, mode):
    async with Client(served["slack"], mode=mode) as client:
        bad = await client.call_tool("slack_get_channel_history", {"channel_id": 42, "limit": 0})
        assert bad.is_error
        assert bad.content[0].text == (
            "invalid arguments for slack_get_channel_history: channel_id: Input should be a "
            "valid string; limit: Input should be greater than or equal to 1 "
            "(see the tool's input schema)"
        )
        unknown = await client.call_tool("slack_delete_everything", {})
        assert unknown.is_error and "Unknown tool" in unknown.content[0].text
        missing = await client.call_tool("slack_get_channel_history", {"channel_id": "#nowhere"})
        assert missing.is_error and "no channel named #nowhere" in missing.content[0].text
        fine = await client.call_tool("slack_list_channels", {"limit": 1})
        assert not fine.is_error


async def test_monitoring_queries_the_runs_prometheus_and_says_what_is_not_there_yet(served):
    async with Client(served["monitoring"]) as client:
        deadline = time.monotonic() + 20
        while True:  # Prometheus has no sample until its first scrape of itself
            up = await client.call_tool("query", {"query": 'up{job="prometheus"}'})
            assert not up.is_error, up.content[0].text
            series = up.structured_content["series"]
            if series or time.monotonic() > deadline:
                break
            await anyio.sleep(0.25)
        assert (
            series[0]["metric"].startswith('up{instance="127.0.0.1:') and series[0]["value"] == "1"
        )
        # The app's instances come from file_sd target files the deployer writes; Prometheus
        # passes discovery updates on at most every 5 s.
        deadline = time.monotonic() + 20
        while True:
            targets = await client.call_tool("list_targets", {})
            jobs = {t["job"] for t in targets.structured_content["targets"]}
            if {"api", "web", "prometheus"} <= jobs or time.monotonic() > deadline:
                break
            await anyio.sleep(0.5)
        assert {"api", "web", "prometheus"} <= jobs
        parse = await client.call_tool("query", {"query": "sum(rate(up[5m]"})
        assert parse.is_error and "parse error" in parse.content[0].text
        logs = await client.call_tool("search_logs", {"service": "api", "limit": 5})
        assert not logs.is_error, logs.content[0].text
        lines = logs.structured_content["lines"]
        assert lines and all(line["service"] == "api" for line in lines)
        hidden = await client.call_tool("search_logs", {"service": "ops"})
        assert hidden.is_error  # prodbench's own services are not the company's logs
    async with Client(served["deploy"]) as client:
        services = await client.call_tool("list_services", {})
        assert not services.is_error, services.content[0].text
        listed = json.loads(services.content[0].text)["services"]
        assert {s["service"] for s in listed} >= {"api", "web"}
        history = await client.call_tool("deploy_history", {"limit": 5})
        assert json.loads(history.content[0].text)["deploys"][-1]["kind"] == "initial"
        bad = await client.call_tool("deploy", {"services": ["api"], "ref": "no-such-ref"})
        assert bad.is_error and "names no commit" in bad.content[0].text
        flags = await client.call_tool("get_flags", {})
        assert not flags.is_error and "flags" in json.loads(flags.content[0].text)


async def test_every_call_is_in_calls_jsonl_with_its_fields(run, served):
    log = CallLog(run.paths.calls)
    before = len(log.read())
    async with Client(served["slack"]) as client:
        await client.call_tool("slack_get_users", {"limit": 2})
        await client.call_tool("slack_get_user_profile", {"user_id": "@nobody"})
    async with Client(served["monitoring"], mode=LEGACY) as client:
        await client.call_tool("list_alerts", {})
    records = log.read()[before:]
    assert [(r.server, r.tool) for r in records] == [
        ("slack", "slack_get_users"),
        ("slack", "slack_get_user_profile"),
        ("monitoring", "list_alerts"),
    ]
    ok, failed, alerts = records
    assert ok.arguments == {"limit": 2} and ok.error is None and ok.result_bytes > 100
    assert failed.arguments == {"user_id": "@nobody"}
    assert "no user with handle @nobody" in failed.error and failed.result_bytes > 0
    assert alerts.error is None
    for r in records:
        assert r.time.endswith("Z") and r.duration_ms >= 0
    lines = run.paths.calls.read_text().splitlines()
    assert all(json.loads(line) for line in lines)  # one complete JSON object per line


def test_unknown_host_headers_are_refused_as_dns_rebinding(gateway, served):
    hello = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    headers = {"Accept": "application/json, text/event-stream"}
    port = gateway.rsplit(":", 1)[1]
    rebound = httpx.post(
        served["slack"], json=hello, headers={**headers, "Host": f"evil.example:{port}"}
    )
    assert rebound.status_code == 421
    local = httpx.post(
        served["slack"], json=hello, headers={**headers, "Host": f"localhost:{port}"}
    )
    assert local.status_code != 421


def test_mcp_json_names_the_served_servers_and_holds_no_secret(run, gateway, served):
    text = run.paths.mcp_json.read_text()
    config = json.loads(text)
    assert config == {
        "mcpServers": {name: {"type": "http", "url": url} for name, url in served.items()}
    }
    assert all(url.startswith(f"{gateway}/") and url.endswith("/mcp") for url in served.values())
    credentials = (run.paths.state / "agent-credentials.json").read_text()
    assert "xoxb-7301000000001-7301000000101-AcmeAgentBotLocalToken01" in credentials
    for secret in secrets_of(run):
        assert secret not in text and secret not in credentials
    assert "_admin" not in text


@pytest.mark.parametrize("fmt", ["claude", "openhands", "codex"])
def test_mcp_config_prints_each_harness_form_without_secrets(run, served, fmt):
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "prodbench",
            "mcp-config",
            "--run",
            run.run_id,
            "--format",
            fmt,
            "--runs-dir",
            str(run.paths.root.parent),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if fmt == "claude":
        assert json.loads(out) == json.loads(run.paths.mcp_json.read_text())
    elif fmt == "openhands":
        servers = json.loads(out)["mcpServers"]
        assert servers == {n: {"url": u, "transport": "http"} for n, u in served.items()}
    else:
        assert tomllib.loads(out) == {"mcp_servers": {n: {"url": u} for n, u in served.items()}}
    for secret in secrets_of(run):
        assert secret not in out
    for token in json.loads((run.paths.state / "agent-credentials.json").read_text())[
        "tokens"
    ].values():
        assert token not in out  # the gateway holds the credentials; configs are URLs only


async def test_a_server_over_stdio_through_the_cli_is_logged_too(run):
    params = StdioServerParameters(
        command=sys.executable,
        args=[
            "-m",
            "prodbench",
            "mcp",
            "stdio",
            "slack",
            "--run",
            run.run_id,
            "--runs-dir",
            str(run.paths.root.parent),
        ],
    )
    log = CallLog(run.paths.calls)
    before = len(log.read())
    async with Client(params) as client:
        assert len((await client.list_tools()).tools) == 9
        result = await client.call_tool(
            "slack_get_channel_history", {"channel_id": "#oncall", "limit": 1}
        )
        assert not result.is_error, result.content[0].text
    assert [(r.server, r.tool) for r in log.read()[before:]] == [
        ("slack", "slack_get_channel_history")
    ]


def test_stdio_for_an_unknown_server_is_refused_with_the_list(run):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "prodbench",
            "mcp",
            "stdio",
            "jira",
            "--run",
            run.run_id,
            "--runs-dir",
            str(run.paths.root.parent),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1 and done.stdout == ""
    assert "no MCP server 'jira' in this run" in done.stderr and "slack" in done.stderr


# ---- The step's acceptance script: one agent's morning, over HTTP only ----------------------

LINEAR_ADMIN_QUERY = (
    "query($id: String!) { issue(id: $id) { state { name } comments { nodes { body } } } }"
)
SENTRY_TOKEN = "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"  # Maya's
STATUSPAGE_KEY = "0b9e4d2c-7a61-4f3e-8c5d-1e2f3a4b5c6d"  # Chloé's


def _payload(result) -> object:
    """A tool result as data: the structured content, else its text parsed as JSON if it is."""
    assert not result.is_error, result.content[0].text
    if result.structured_content is not None:
        data = result.structured_content
        return (
            data.get("result", data) if isinstance(data, dict) and set(data) == {"result"} else data
        )
    text = result.content[0].text
    try:
        return json.loads(text)
    except ValueError:
        return text


def _first(data: object, key: str) -> str:
    """The first value of `key` anywhere in nested JSON (results differ in shape per tool)."""
    if isinstance(data, dict):
        if key in data:
            return data[key]
        items = list(data.values())
    elif isinstance(data, list):
        items = data
    else:
        raise KeyError(key)
    for item in items:
        try:
            return _first(item, key)
        except KeyError:
            continue
    raise KeyError(key)


async def test_a_scripted_session_over_http_touches_every_tool_and_is_logged(run, served):
    tools = run.env().services["tools"].ports
    log = CallLog(run.paths.calls)
    before = len(log.read())
    # Slack: read #oncall
    async with Client(served["slack"]) as slack:
        history = _payload(
            await slack.call_tool(
                "slack_get_channel_history", {"channel_id": "#oncall", "limit": 5}
            )
        )
    assert "oncall" in json.dumps(history).lower() or len(json.dumps(history)) > 200
    # Linear: find a ticket by identifier, move it to In Progress with a comment
    async with Client(served["linear"]) as linear:
        todo = _payload(
            await linear.call_tool("list_issues", {"team": "ENG", "state": "Todo", "limit": 1})
        )
        ident = _first(todo, "identifier")
        issue = _payload(await linear.call_tool("get_issue", {"id": ident}))
        assert ident in json.dumps(issue)
        await linear.call_tool("update_issue", {"id": ident, "state": "In Progress"})
        await linear.call_tool(
            "create_comment", {"issueId": ident, "body": "Picking this up: on it this morning."}
        )
    async with httpx.AsyncClient() as http:
        resp = await http.post(
            f"http://127.0.0.1:{tools['linear']}/graphql",
            headers={"Authorization": "lin_api_AcmeAgentLocalKey7301000000000000000101"},
            json={"query": LINEAR_ADMIN_QUERY, "variables": {"id": ident}},
        )
    gql = resp.json()
    assert gql["data"]["issue"]["state"]["name"] == "In Progress"
    assert any("Picking this up" in c["body"] for c in gql["data"]["issue"]["comments"]["nodes"])
    # Notion: read a runbook
    async with Client(served["notion"]) as notion:
        found = _payload(await notion.call_tool("search", {"query": "Runbook: Payments pool"}))
        page_id = _first(found, "id")
        page = await notion.call_tool("fetch", {"id": page_id})
    assert not page.is_error and "pool" in page.content[0].text.lower()
    # Sentry: resolve an issue with a note
    async with Client(served["sentry"]) as sentry:
        issues = _payload(
            await sentry.call_tool(
                "search_issues", {"query": "is:unresolved", "period": "3650d", "limit": 1}
            )
        )
        short_id = _first(issues, "shortId")
        await sentry.call_tool("update_issue", {"issueId": short_id, "status": "resolved"})
        await sentry.call_tool(
            "add_issue_note",
            {"issueId": short_id, "text": "Fixed by the pool size bump; resolving."},
        )
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{tools['sentry']}/api/0",
        headers={"Authorization": f"Bearer {SENTRY_TOKEN}"},
    ) as web:
        issue = (await web.get(f"/organizations/acme/issues/{short_id}/")).json()
        notes = (await web.get(f"/organizations/acme/issues/{short_id}/notes/")).json()
    assert issue["status"] == "resolved"
    assert any("pool size bump" in json.dumps(n) for n in notes)
    # Status page: open an incident and post an update to it
    async with Client(served["statuspage"]) as status:
        created = _payload(
            await status.call_tool(
                "create_incident",
                {
                    "name": "Elevated checkout errors",
                    "status": "investigating",
                    "body": "We are looking into failed checkouts.",
                    "components": {"Checkout": "degraded_performance"},
                },
            )
        )
        incident_id = _first(created, "id")
        await status.call_tool(
            "update_incident",
            {
                "incident_id": incident_id,
                "status": "monitoring",
                "body": "A fix is deployed; we are monitoring.",
            },
        )
    async with httpx.AsyncClient() as http:
        resp = await http.get(
            f"http://127.0.0.1:{tools['statuspage']}/v1/pages/acmestatus26/incidents/{incident_id}",
            headers={"Authorization": f"OAuth {STATUSPAGE_KEY}"},
        )
    incident = resp.json()
    assert incident["status"] == "monitoring"
    assert "monitoring" in json.dumps(incident["incident_updates"][0]).lower()
    # Every one of those calls is in calls.jsonl, in order, without errors
    records = log.read()[before:]
    assert [(r.server, r.tool) for r in records] == [
        ("slack", "slack_get_channel_history"),
        ("linear", "list_issues"),
        ("linear", "get_issue"),
        ("linear", "update_issue"),
        ("linear", "create_comment"),
        ("notion", "search"),
        ("notion", "fetch"),
        ("sentry", "search_issues"),
        ("sentry", "update_issue"),
        ("sentry", "add_issue_note"),
        ("statuspage", "create_incident"),
        ("statuspage", "update_incident"),
    ]
    assert all(r.error is None for r in records), [r for r in records if r.error]
