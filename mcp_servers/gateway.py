"""The MCP gateway: every MCP server of a run in one process, at `/<server>/mcp`.

    python -m mcp_servers.gateway --run-dir runs/<id> --host 127.0.0.1 --port 8400

Each server is built with its module's `create_server(base_url, token)` from the run's
`env.json` and the agent's credentials (see `configs`), mounted as a streamable-HTTP app,
and has the call log attached, so `runs/<id>/calls.jsonl` gets one line per tool call. A server
whose module does not exist (yet) or cannot be built is skipped with a logged warning and
listed as skipped by `/healthz`; the others are served. On start the gateway writes
`runs/<id>/mcp.json` naming exactly the servers it serves.

Both MCP protocol generations are served at the same URL: the 2026-07-28 per-request protocol
and the older initialize handshake with sessions. DNS-rebinding protection stays on and admits
the Host headers the gateway is reached by (127.0.0.1:PORT, localhost:PORT, and `--allow-host`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import logging
import logging.config
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from environments.tools.common.logs import JsonFormatter
from mcp_servers.calllog import CallLog
from mcp_servers.configs import (
    MCP_PATH,
    TEAM_TOOLS,
    ConfigError,
    GatewayConfig,
    McpJson,
    ServerTarget,
    load_gateway_config,
)
from mcp_servers.errors import tidy_argument_errors

logger = logging.getLogger("prodbench.mcp.gateway")


class ServerUnavailable(ConfigError):
    """A server that cannot be built in this run; the message says why."""


@dataclass
class Mounted:
    """What the gateway serves: servers by name, and the ones it had to skip, with the reason."""

    servers: dict[str, MCPServer] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)


def build_server(target: ServerTarget, call_log: CallLog | None = None) -> MCPServer:
    """The server `target` describes, with the call log attached."""
    try:
        module = importlib.import_module(target.module)
    except ModuleNotFoundError as exc:
        if exc.name and target.module.startswith(exc.name):
            raise ServerUnavailable(f"module {target.module} does not exist") from None
        raise
    create = getattr(module, "create_server", None)
    if create is None:
        raise ServerUnavailable(f"module {target.module} has no create_server(base_url, token)")
    if target.name in TEAM_TOOLS and not target.token:
        raise ServerUnavailable(f"no agent token for {target.name} in the run's agent credentials")
    if target.name in TEAM_TOOLS and not target.base_url:
        raise ServerUnavailable(f"the run has no {target.name} service")
    srv = create(target.base_url, target.token, **target.options)
    if not isinstance(srv, MCPServer):
        raise ServerUnavailable(
            f"{target.module}.create_server returned {type(srv).__name__}, not an MCPServer"
        )
    if call_log is not None:  # outermost of the two: it logs what the agent was sent
        srv.middleware.append(call_log.middleware(target.name))
    srv.middleware.append(tidy_argument_errors)
    return srv


def build_servers(config: GatewayConfig, call_log: CallLog | None) -> Mounted:
    """Every server of the config that can be built; the rest skipped with a logged reason."""
    mounted = Mounted()
    for target in config.servers:
        try:
            mounted.servers[target.name] = build_server(target, call_log)
        except ServerUnavailable as exc:
            mounted.skipped[target.name] = str(exc)
            logger.warning("MCP server %s skipped: %s", target.name, exc)
        except Exception as exc:
            mounted.skipped[target.name] = f"{exc.__class__.__name__}: {exc}"
            logger.exception("MCP server %s skipped: building it failed", target.name)
    return mounted


def transport_security(
    config: GatewayConfig, extra_hosts: Sequence[str] = ()
) -> TransportSecuritySettings:
    hosts = [f"127.0.0.1:{config.port}", f"localhost:{config.port}", f"[::1]:{config.port}"]
    if config.host not in ("127.0.0.1", "localhost", "::1", "0.0.0.0", ""):
        hosts.append(f"{config.host}:{config.port}")
    hosts += list(extra_hosts)
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=hosts,
        allowed_origins=[f"http://{h}" for h in hosts] + [f"https://{h}" for h in hosts],
    )


def create_app(
    config: GatewayConfig,
    *,
    call_log: CallLog | None = None,
    allow_hosts: Sequence[str] = (),
    mounted: Mounted | None = None,
) -> Starlette:
    """The gateway's ASGI app: `/healthz` and one streamable-HTTP endpoint per server."""
    if call_log is None:
        call_log = CallLog(config.calls_path)
    if mounted is None:
        mounted = build_servers(config, call_log)
    security = transport_security(config, allow_hosts)
    routes: list[Route | Mount] = [Route("/healthz", _health(mounted, config))]
    for name, srv in mounted.servers.items():
        app = srv.streamable_http_app(streamable_http_path=MCP_PATH, transport_security=security)
        routes.append(Mount(f"/{name}", app=app))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        # Mounted apps' own lifespans never run: each session manager is entered here.
        async with contextlib.AsyncExitStack() as stack:
            for srv in mounted.servers.values():
                await stack.enter_async_context(srv.session_manager.run())
            logger.info(
                "serving MCP servers %s at %s/<server>%s",
                ", ".join(mounted.servers) or "(none)",
                config.base_url,
                MCP_PATH,
            )
            yield

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.mounted = mounted
    return app


def _health(mounted: Mounted, config: GatewayConfig):
    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "status": "ok",
                "servers": {n: f"{config.base_url}/{n}{MCP_PATH}" for n in mounted.servers},
                "skipped": mounted.skipped,
            }
        )

    return healthz


# ---- running ---------------------------------------------------------------------------------


def configure_logging(level: str = "info") -> None:
    """JSON lines on stderr, like every service of a run; the SDK's per-call INFO lines are
    left out (calls.jsonl has every call)."""
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {"json": {"()": JsonFormatter, "service": "mcp"}},
            "handlers": {
                "stderr": {
                    "class": "logging.StreamHandler",
                    "formatter": "json",
                    "stream": "ext://sys.stderr",
                }
            },
            "root": {"handlers": ["stderr"], "level": level.upper()},
            "loggers": {
                "mcp": {"level": "WARNING"},
                "httpx": {"level": "WARNING"},
                "uvicorn.access": {"level": "WARNING"},
            },
        }
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m mcp_servers.gateway", description=__doc__)
    ap.add_argument("--run-dir", type=Path, required=True, help="the run directory (env.json)")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument(
        "--allow-host",
        action="append",
        default=[],
        help="another Host header to accept, e.g. mcp:8000 in a container network (repeatable)",
    )
    ap.add_argument("--log-level", default="info", choices=["debug", "info", "warning"])
    args = ap.parse_args(argv)
    if not 1 <= args.port <= 65535:
        ap.error(f"--port {args.port}: give a port between 1 and 65535")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    import uvicorn

    args = parse_args(argv)
    configure_logging(args.log_level)
    try:
        config = load_gateway_config(args.run_dir, args.host, args.port)
    except ConfigError as exc:
        print(f"mcp gateway: {exc}", file=sys.stderr)
        return 2
    call_log = CallLog(config.calls_path)
    mounted = build_servers(config, call_log)
    app = create_app(config, call_log=call_log, allow_hosts=args.allow_host, mounted=mounted)
    McpJson.for_gateway(config.base_url, list(mounted.servers)).write(config.mcp_json_path)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=args.host,
            port=args.port,
            log_config=None,
            access_log=False,
            server_header=False,
            timeout_graceful_shutdown=2,
        )
    )
    server.run()
    return 0


def run_stdio(run_dir: Path, name: str) -> None:
    """Serve one server of a run over stdin/stdout, its calls logged like the gateway's."""
    config = load_gateway_config(run_dir)
    targets = {t.name: t for t in config.servers}
    if name not in targets:
        raise ConfigError(
            f"no MCP server {name!r} in this run; servers: {', '.join(targets) or 'none'}"
        )
    srv = build_server(targets[name], CallLog(config.calls_path))
    asyncio.run(srv.run_stdio_async())


if __name__ == "__main__":
    sys.exit(main())
