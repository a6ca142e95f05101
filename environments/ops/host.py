"""The run's ops service: the deployer, log search and fault injection in one process.

    python -m environments.ops --run-dir RUN_DIR --config CONFIG.json --host H --port P

Before it listens it performs the initial production deploy (the same pipeline every later
deploy takes), so the run's `up` returns only once production is live. URLs come from the
run's env.json; tokens from the environment: OPS_AGENT_TOKEN (the agent, through the deploy
and monitoring MCP servers), OPS_ADMIN_TOKEN (prodbench: task setup, faults, graders),
INGRESS_ADMIN_TOKEN, TRAFFIC_ADMIN_TOKEN, and the runtime's PRODBENCH_RUNTIME_URL/TOKEN.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from environments.runs import EnvInfo, env_json_path
from environments.tools.common.logs import JsonFormatter, log_config

log = logging.getLogger("ops")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m environments.ops", description=__doc__)
    ap.add_argument("--run-dir", required=True, type=Path)
    ap.add_argument("--config", required=True, type=Path, help="the deployer's JSON config")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", required=True, type=int)
    return ap.parse_args(argv)


def _required(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise SystemExit(f"ops: {name} is not set; the run's stack gives it to this service")
    return value


def build_deployer(args: argparse.Namespace):
    """The deployer wired to this run: all the initial deploy needs, imported before it runs."""
    from environments.ops.deployer.analysis import Prometheus
    from environments.ops.deployer.clients import IngressAdmin, SlackWebhook
    from environments.ops.deployer.history import History
    from environments.ops.deployer.models import DeployerConfig
    from environments.ops.deployer.pipeline import Deployer
    from environments.runtime.client import RuntimeClient

    run_dir = args.run_dir.resolve()
    env = EnvInfo.model_validate_json(env_json_path(run_dir).read_text())
    cfg = DeployerConfig.model_validate_json(args.config.read_text())
    for name in ("OPS_AGENT_TOKEN", "OPS_ADMIN_TOKEN"):  # fail before deploying, not after
        _required(name)
    url = {name: ep.url for name, ep in env.services.items()}
    tools = env.services.get("tools")
    webhook = (
        f"http://{tools.host}:{tools.ports['slack']}{cfg.slack_webhook_path}"
        if tools and "slack" in tools.ports and cfg.slack_webhook_path
        else None
    )
    return Deployer(
        cfg,
        runtime=RuntimeClient.from_env(),
        ingress=IngressAdmin(url["ingress"], _required("INGRESS_ADMIN_TOKEN")),
        prometheus=Prometheus(url["prometheus"]),
        slack=SlackWebhook(webhook),
        history=History(cfg.state / "ops"),
        flags_file=cfg.state / "flags.json",
    )


# What only serving needs. main() imports it in the background while the initial deploy waits
# on the services it starts, so it is off the path of `up`.
SERVING_MODULES = (
    "environments.ops.deployer.api",
    "environments.ops.faults",
    "environments.ops.logsearch",
    "starlette.applications",
    "uvicorn",
    "uvicorn.config",
    "uvicorn.server",
)


def _import_serving() -> None:
    for name in SERVING_MODULES:
        try:
            importlib.import_module(name)
        except Exception:  # importing it again in build_app reports it
            log.debug("background import of %s failed", name, exc_info=True)


def build_app(args: argparse.Namespace, deployer):
    """The app serving the deployer's API, log search and faults, wired to this run."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from environments.ops.deployer.api import deployer_routes
    from environments.ops.faults import FaultManager, fault_routes
    from environments.ops.logsearch import log_routes

    run_dir = args.run_dir.resolve()
    env = EnvInfo.model_validate_json(env_json_path(run_dir).read_text())
    agent, admin = _required("OPS_AGENT_TOKEN"), _required("OPS_ADMIN_TOKEN")
    url = {name: ep.url for name, ep in env.services.items()}
    faults = FaultManager(
        state_dir=deployer.cfg.state,
        payments_url=url.get("payments"),
        faults_file=deployer.cfg.state / "faults.json",
        traffic_url=url.get("traffic"),
        traffic_token=os.environ.get("TRAFFIC_ADMIN_TOKEN"),
        runtime=deployer.runtime,
        seed=env.seed,
    )
    ready = {"ok": False}

    async def healthz(request: Request) -> JSONResponse:
        if not ready["ok"]:
            return JSONResponse({"status": "deploying"}, status_code=503)
        return JSONResponse({"status": "ok", "service": "ops"})

    routes = [
        Route("/healthz", healthz),
        *deployer_routes(deployer, {agent: "agent", admin: "prodbench"}),
        *log_routes(run_dir / "logs", {agent, admin}),
        *fault_routes(faults, admin),
    ]
    return Starlette(routes=routes), ready


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter("ops"))
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
    deployer = build_deployer(args)
    threading.Thread(target=_import_serving, name="ops-imports", daemon=True).start()
    initial = deployer.initial()
    if initial.status != "succeeded":
        print(
            f"ops: the initial deploy {initial.id} {initial.status}: {initial.error}\n"
            f"  its log: {deployer.history.log_path(initial.id)}",
            file=sys.stderr,
        )
        for line in deployer.history.tail(initial.id, 40):
            print("  " + line, file=sys.stderr)
        return 1
    app, ready = build_app(args, deployer)
    ready["ok"] = True
    log.info("initial deploy %s succeeded; serving on %s:%s", initial.id, args.host, args.port)
    import uvicorn

    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_config=log_config("ops", "warning"),
        access_log=False,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
