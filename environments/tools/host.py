"""Every team tool of a run in one process, each on its own port.

A tool alone costs ~45 MB, most of it the Python/Starlette/uvicorn baseline; hosting the five
in one interpreter shares that baseline. Each tool keeps its own app, port, state file and
admin API, so clients cannot tell the difference. The host's own port answers `/healthz`
only once every tool is serving.

    PRODBENCH_ADMIN_TOKEN=... python -m environments.tools.host --state-dir DIR --seed N \\
        --health-port P --serve slack=PORT --fixtures slack=FILE [--serve linear=PORT ...]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import logging
import logging.config
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from environments.tools.common.cli import STARTUP_ERRORS, startup_failed
from environments.tools.common.logs import log_config
from environments.tools.common.settings import ToolSettings

KNOWN_TOOLS = ("slack", "linear", "notion", "sentry", "statuspage")


def _pairs(values: list[str], flag: str) -> list[tuple[str, str]]:
    out = []
    for value in values:
        name, sep, rest = value.partition("=")
        if not sep or name not in KNOWN_TOOLS or not rest:
            raise SystemExit(
                f"{flag} {value!r}: expected TOOL=VALUE with TOOL one of {', '.join(KNOWN_TOOLS)}"
            )
        out.append((name, rest))
    return out


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m environments.tools.host", description=__doc__)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--health-port", type=int, required=True)
    ap.add_argument("--state-dir", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--serve", action="append", default=[], help="TOOL=PORT (repeatable)")
    ap.add_argument("--fixtures", action="append", default=[], help="TOOL=FILE (repeatable)")
    ap.add_argument("--log-level", default="info", choices=["debug", "info", "warning"])
    args = ap.parse_args(argv)
    args.serve = [(name, int(port)) for name, port in _pairs(args.serve, "--serve")]
    args.fixtures = _pairs(args.fixtures, "--fixtures")
    if not args.serve:
        ap.error("nothing to serve: give at least one --serve TOOL=PORT")
    return args


class _Server:
    """A uvicorn server that leaves signals to the host, which stops every server at once."""

    def __init__(self, app, host: str, port: int, level: str):
        import uvicorn

        class Quiet(uvicorn.Server):
            @contextlib.contextmanager
            def capture_signals(self):
                yield

        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_config=None,
            log_level=level,
            access_log=False,
            server_header=False,
            timeout_graceful_shutdown=3,
        )
        self.server = Quiet(config)


def build_servers(args: argparse.Namespace) -> dict[str, _Server]:
    servers = {}
    for name, port in args.serve:
        module = importlib.import_module(f"environments.tools.{name}")
        settings = ToolSettings.from_env(
            host=args.host,
            port=port,
            state_dir=args.state_dir,
            fixtures=tuple(Path(f) for tool, f in args.fixtures if tool == name),
            seed=args.seed,
        )
        servers[name] = _Server(module.create_app(settings), args.host, port, args.log_level)
    return servers


def health_app(servers: dict[str, _Server]):
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def healthz(request):
        state = {name: s.server.started for name, s in servers.items()}
        ok = all(state.values())
        return JSONResponse(
            {"status": "ok" if ok else "starting", "tools": state}, status_code=200 if ok else 503
        )

    return Starlette(routes=[Route("/healthz", healthz)])


async def serve(args: argparse.Namespace, servers: dict[str, _Server]) -> None:
    health = _Server(health_app(servers), args.host, args.health_port, args.log_level)
    everything = [*servers.values(), health]
    loop = asyncio.get_running_loop()

    def stop() -> None:
        for s in everything:
            s.server.should_exit = True

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop)
    await asyncio.gather(*(s.server.serve() for s in everything))


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.config.dictConfig(log_config("tools", args.log_level))
    try:
        servers = build_servers(args)
    except STARTUP_ERRORS as exc:
        return startup_failed(
            exc, who="tools", settings="tool settings", state_dir=args.state_dir, their="their"
        )
    asyncio.run(serve(args, servers))
    return 0


if __name__ == "__main__":
    sys.exit(main())
