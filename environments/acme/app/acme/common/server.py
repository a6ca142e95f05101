"""Process entry point shared by every service: ``python -m acme.<service> --host H --port P``."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from typing import Any

import uvicorn

from acme.common.logging import configure_logging
from acme.common.sentry import init_sentry
from acme.common.settings import Settings, SettingsError

log = logging.getLogger(__name__)


def parse_args(service: str, argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=f"python -m acme.{service}")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log-level", default=None, help="overrides ACME_LOG_LEVEL")
    return parser.parse_args(argv)


def main(service: str, factory: Callable[[Settings], Any], argv: list[str] | None = None) -> int:
    """Parse args, configure logging/Sentry, build the app and serve it with uvicorn."""
    args = parse_args(service, argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    if args.log_level:
        settings = settings.replace(log_level=args.log_level.upper())
    configure_logging(service, settings.instance_for(service), settings.log_level)
    init_sentry(settings, service)
    app = factory(settings)
    log.info(
        "starting",
        extra={"host": args.host, "port": args.port, "release": settings.release},
    )
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_config=None,
        access_log=False,
        proxy_headers=True,
        forwarded_allow_ips="127.0.0.1",
        timeout_graceful_shutdown=10,
        timeout_keep_alive=30,
    )
    return 0
