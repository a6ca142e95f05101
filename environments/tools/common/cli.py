"""``python -m environments.tools.<tool>``: parse argv, build the app, serve it with uvicorn.

    python -m environments.tools.slack --host 127.0.0.1 --port 8101 \\
        --state-dir runs/<id>/state --fixtures environments/acme/seed/tools/slack.yaml --seed 7

The admin token comes from the environment (PRODBENCH_ADMIN_TOKEN), never from argv, so it
does not show up in ``ps``.
"""

from __future__ import annotations

import argparse
import logging
import logging.config
import sqlite3
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from pydantic import ValidationError
from starlette.applications import Starlette

from environments.tools.common.fixtures import FixtureError, describe_validation_error
from environments.tools.common.logs import log_config
from environments.tools.common.settings import ADMIN_TOKEN_ENV, ToolSettings

# What building a tool's app may raise for a reason its operator can fix (bad settings, bad
# fixtures, an unusable state dir); anything else is a bug and keeps its traceback.
STARTUP_ERRORS = (ValidationError, FixtureError, OSError, sqlite3.Error)


def parse_args(tool: str, argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog=f"python -m environments.tools.{tool}",
        description=f"Serve the local {tool} imitation. Admin token: env {ADMIN_TOKEN_ENV}.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--state-dir", type=Path, required=True, help=f"holds {tool}.db")
    parser.add_argument(
        "--fixtures",
        type=Path,
        action="append",
        default=[],
        help="fixture file applied on first start (repeatable, applied in order)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning"])
    return parser.parse_args(argv)


def startup_failed(
    exc: BaseException, *, who: str, settings: str, state_dir: Path, their: str = "its"
) -> int:
    """Print why ``who`` cannot start (one of :data:`STARTUP_ERRORS`) and return exit status 2.

    One message per cause, without a traceback, so whoever starts the tools (a run, a task
    author) reads what to fix: ``settings`` names the settings in a validation error, ``their``
    is ``"their"`` when ``who`` is several tools.
    """
    if isinstance(exc, ValidationError):
        print(describe_validation_error(exc, settings), file=sys.stderr)
    elif isinstance(exc, FixtureError):
        print(f"{who}: cannot seed {their} state: {exc}", file=sys.stderr)
    else:
        print(f"{who}: cannot open {their} state in {state_dir}: {exc}", file=sys.stderr)
    return 2


def main(
    tool: str,
    create_app: Callable[[ToolSettings], Starlette],
    argv: Sequence[str] | None = None,
) -> int:
    import uvicorn

    args = parse_args(tool, argv)
    logging.config.dictConfig(log_config(tool, args.log_level))
    log = logging.getLogger("prodbench.tools")
    try:
        settings = ToolSettings.from_env(
            host=args.host,
            port=args.port,
            state_dir=args.state_dir,
            fixtures=tuple(args.fixtures),
            seed=args.seed,
        )
        app = create_app(settings)
    except STARTUP_ERRORS as exc:
        return startup_failed(exc, who=tool, settings=f"{tool} settings", state_dir=args.state_dir)
    if settings.admin_token is None:
        log.warning("%s: %s is not set; the admin API refuses every request", tool, ADMIN_TOKEN_ENV)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_config=log_config(tool, args.log_level),
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=3,
    )
    return 0
