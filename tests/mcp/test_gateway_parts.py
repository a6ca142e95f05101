"""The gateway's parts on their own: run config, skipping servers, the call log, agent configs,
argument errors, and the ops servers (monitoring, deploy) with and without their services."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
import time
import tomllib
from typing import Any

import pytest
import uvicorn
from mcp import Client
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from environments.runs import Endpoint, EnvInfo, write_json_atomic
from mcp_servers import deploy, monitoring
from mcp_servers.calllog import CallLog
from mcp_servers.configs import (
    CREDENTIALS_FILE,
    AgentCredentials,
    GatewayConfig,
    McpJson,
    ServerTarget,
    load_gateway_config,
)
from mcp_servers.errors import tidy_report
from mcp_servers.gateway import build_servers
from tests.tools.conftest import free_port

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend():
    return "asyncio"


def create_server(base_url, token):
    """Stands in for a server module whose create_server is broken."""
    raise RuntimeError("cannot reach the moon")


def write_env(run_dir, services: dict[str, Endpoint]) -> None:
    env = EnvInfo(
        run_id=run_dir.name,
        stack="acme",
        seed=0,
        created_at="2026-11-20T00:00:00Z",
        run_dir=str(run_dir),
        services=services,
    )
    write_json_atomic(run_dir / "env.json", env)


def test_the_run_config_comes_from_env_json_and_the_agents_credentials(tmp_path):
    write_env(
        tmp_path,
        {
            "tools": Endpoint(
                host="127.0.0.1", ports={"http": 9000, "slack": 9001, "linear": 9002}
            ),
            "prometheus": Endpoint(
                host="127.0.0.1", ports={"http": 9090}, url="http://127.0.0.1:9090"
            ),
        },
    )
    AgentCredentials(tokens={"slack": "xoxb-agent", "linear": "lin_api_agent"}).write(
        tmp_path / CREDENTIALS_FILE
    )
    config = load_gateway_config(tmp_path, port=8400)
    targets = {t.name: t for t in config.servers}
    assert list(targets) == [
        "slack",
        "linear",
        "monitoring",
        "deploy",
    ]  # no notion/sentry in this run
    assert targets["slack"] == ServerTarget(
        name="slack",
        module="mcp_servers.slack",
        base_url="http://127.0.0.1:9001",
        token="xoxb-agent",
    )
    assert targets["monitoring"].base_url is None
    assert targets["monitoring"].options == {"prometheus_url": "http://127.0.0.1:9090"}
    assert targets["deploy"].base_url is None and targets["deploy"].token is None
    assert config.base_url == "http://127.0.0.1:8400"


def test_servers_that_cannot_be_built_are_skipped_with_a_logged_reason(tmp_path, caplog):
    config = GatewayConfig(
        run_dir=tmp_path,
        port=8400,
        servers=[
            ServerTarget(name="ghost", module="mcp_servers.ghost"),
            ServerTarget(name="broken", module=__name__),
            ServerTarget(name="slack", module="mcp_servers.slack", base_url="http://127.0.0.1:1"),
            ServerTarget(name="deploy", module="mcp_servers.deploy"),
        ],
    )
    with caplog.at_level(logging.WARNING, logger="prodbench.mcp.gateway"):
        mounted = build_servers(config, CallLog(tmp_path / "calls.jsonl"))
    assert list(mounted.servers) == ["deploy"]
    assert mounted.skipped == {
        "ghost": "module mcp_servers.ghost does not exist",
        "broken": "RuntimeError: cannot reach the moon",
        "slack": "no agent token for slack in the run's agent credentials",
    }
    logged = caplog.text
    assert "MCP server ghost skipped: module mcp_servers.ghost does not exist" in logged
    assert "MCP server broken skipped" in logged and "MCP server slack skipped" in logged


def test_the_gateway_refuses_to_start_outside_a_run(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "mcp_servers.gateway", "--run-dir", str(tmp_path), "--port", "8400"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "no env.json in" in done.stderr and "prodbench up" in done.stderr


async def test_the_call_log_records_results_errors_and_bad_arguments(tmp_path):
    log = CallLog(tmp_path / "calls.jsonl")
    config = GatewayConfig(
        run_dir=tmp_path, port=1, servers=[ServerTarget(name="deploy", module="mcp_servers.deploy")]
    )
    server = build_servers(config, log).servers["deploy"]
    async with Client(server) as client:
        await client.call_tool("list_services", {})
        bad = await client.call_tool("deploy", {"services": []})
        assert bad.content[0].text.startswith("invalid arguments for deploy: services: List should")
        await client.call_tool("no_such_tool", {"x": 1})
    first, second, third = log.read()
    assert (first.tool, first.arguments, first.server) == ("list_services", {}, "deploy")
    assert first.error.endswith(
        "not available in this run: the deployer arrives with the ops services"
    )
    assert second.error == bad.content[0].text  # what the agent read
    assert third.error == "Unknown tool: no_such_tool" and third.arguments == {"x": 1}
    assert all(r.result_bytes > 0 for r in (first, second, third))


def test_the_call_log_keeps_whole_lines_under_concurrent_writers(tmp_path):
    from mcp_servers.calllog import CallRecord

    log = CallLog(tmp_path / "calls.jsonl")
    record = CallRecord(
        time="2026-11-20T00:00:00.000Z",
        server="slack",
        tool="slack_post_message",
        arguments={"text": "x" * 5000},
        duration_ms=1.0,
        error=None,
        result_bytes=10,
    )
    threads = [
        threading.Thread(target=lambda: [log.append_sync(record) for _ in range(25)])
        for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert log.read() == [record] * 100


def test_agent_configs_in_each_harness_form():
    config = McpJson.for_gateway("http://127.0.0.1:8400", ["slack", "linear"])
    claude = json.loads(config.render("claude"))
    assert claude == {
        "mcpServers": {
            "slack": {"type": "http", "url": "http://127.0.0.1:8400/slack/mcp"},
            "linear": {"type": "http", "url": "http://127.0.0.1:8400/linear/mcp"},
        }
    }
    openhands = json.loads(config.render("openhands"))["mcpServers"]
    assert openhands["slack"] == {"url": "http://127.0.0.1:8400/slack/mcp", "transport": "http"}
    codex = tomllib.loads(config.render("codex"))
    assert codex == {
        "mcp_servers": {
            "slack": {"url": "http://127.0.0.1:8400/slack/mcp"},
            "linear": {"url": "http://127.0.0.1:8400/linear/mcp"},
        }
    }


def test_pydantic_argument_reports_become_one_line():
    report = (
        "Error executing tool slack_post_message: 2 validation errors for slack_post_messageArguments\n"
        "channel_id\n  Input should be a valid string [type=string_type, input_value=5, input_type=int]\n"
        "    For further information visit https://errors.pydantic.dev/2.14/v/string_type\n"
        "text\n  Field required [type=missing, input_value={'channel_id': 5}, input_type=dict]\n"
        "    For further information visit https://errors.pydantic.dev/2.14/v/missing"
    )
    assert tidy_report(report) == (
        "invalid arguments for slack_post_message: channel_id: Input should be a valid string; "
        "text: Field required (see the tool's input schema)"
    )
    assert tidy_report("Error executing tool x: channel_not_found") is None


# ---- ops servers ---------------------------------------------------------------------------


def minimal_arguments(schema: dict[str, Any]) -> dict[str, Any]:
    samples = {"string": "api", "integer": 1, "number": 1, "boolean": True, "array": ["api"]}
    args = {}
    for name in schema.get("required", []):
        prop = schema["properties"][name]
        kind = prop.get("type") or next(
            (a["type"] for a in prop.get("anyOf", []) if a.get("type") != "null"), "string"
        )
        args[name] = samples[kind]
    return args


@pytest.mark.parametrize(
    ("module", "expected"),
    [
        (
            deploy,
            {
                "list_services",
                "deploy",
                "deploy_status",
                "deploy_logs",
                "rollback",
                "deploy_history",
                "get_flags",
                "set_flag",
                "restart",
            },
        ),
        (
            monitoring,
            {
                "query",
                "query_range",
                "list_alerts",
                "list_rules",
                "list_targets",
                "search_logs",
                "golden_signals",
            },
        ),
    ],
)
async def test_ops_servers_without_their_services_say_so_for_every_tool(module, expected):
    async with Client(module.create_server(None, None)) as client:
        tools = (await client.list_tools()).tools
        assert {t.name for t in tools} == expected
        for tool in tools:
            result = await client.call_tool(tool.name, minimal_arguments(tool.input_schema))
            assert result.is_error, tool.name
            assert "not available in this run: " in result.content[0].text, tool.name
            assert result.content[0].text.endswith("arrives with the ops services"), tool.name


@pytest.fixture
def fake_deployer():
    """A stand-in deployer recording the requests it gets."""
    seen: list[dict[str, Any]] = []

    async def record(request: Request) -> JSONResponse:
        body = await request.body()
        seen.append(
            {
                "method": request.method,
                "path": request.url.path,
                "query": dict(request.query_params),
                "json": json.loads(body) if body else None,
                "auth": request.headers.get("authorization"),
            }
        )
        if request.url.path.endswith("/services/nope/restart"):
            return JSONResponse({"detail": "unknown service 'nope'"}, status_code=404)
        return JSONResponse({"id": "d-1", "state": "running"})

    app = Starlette(routes=[Route("/api/v1/{path:path}", record, methods=["GET", "POST", "PUT"])])
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}", seen
    finally:
        server.should_exit = True
        thread.join(timeout=10)


async def test_deploy_tools_call_the_deployer_api_with_the_agents_token(fake_deployer):
    url, seen = fake_deployer
    async with Client(deploy.create_server(url, "agent-deploy-token")) as client:
        started = await client.call_tool("deploy", {"services": ["api", "web"], "ref": "main"})
        assert not started.is_error and json.loads(started.content[0].text)["id"] == "d-1"
        await client.call_tool("deploy_status", {"deploy_id": "d-1"})
        await client.call_tool("deploy_logs", {"deploy_id": "d-1", "tail": 50})
        await client.call_tool("rollback", {"service": "api"})
        await client.call_tool("deploy_history", {"service": "api", "limit": 5})
        await client.call_tool("set_flag", {"name": "pdp_gallery_v2", "value": False})
        refused = await client.call_tool("restart", {"service": "nope"})
        assert refused.is_error
        assert (
            "the deployer refused POST /api/v1/services/nope/restart: unknown service 'nope' (HTTP 404)"
            in (refused.content[0].text)
        )
    assert [(r["method"], r["path"], r["json"], r["query"]) for r in seen] == [
        ("POST", "/api/v1/deploys", {"services": ["api", "web"], "ref": "main"}, {}),
        ("GET", "/api/v1/deploys/d-1", None, {}),
        ("GET", "/api/v1/deploys/d-1/logs", None, {"tail": "50"}),
        ("POST", "/api/v1/services/api/rollback", {"to": None}, {}),
        ("GET", "/api/v1/deploys", None, {"service": "api", "limit": "5"}),
        ("PUT", "/api/v1/flags/pdp_gallery_v2", {"value": False}, {}),
        ("POST", "/api/v1/services/nope/restart", None, {}),
    ]
    assert {r["auth"] for r in seen} == {"Bearer agent-deploy-token"}
