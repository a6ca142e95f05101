"""`python -m traffic`: seeded locust traffic, synthetic probes and their metrics, one process.

    python -m traffic --target http://127.0.0.1:8080 --seed 1 --shape steady --users 3 \
        --metrics-port 9100 [--no-probes] [--duration 0] [--think-scale 1.0] [--admin-token T]

Runs locust headless through its library API (locust monkey-patches this process for gevent,
which is why traffic is a process of its own), serves `/metrics` and `/healthz` (200 once the
first requests have been sent) on the metrics port, and writes one JSON line per journey
(user, iteration, journey and its seeded choices) to stdout or `--journey-log`. With an admin
token the same port also serves `/admin/hostile` (see admin.py): seeded hostile traffic
(hostile.py) started and stopped while the run goes on.
"""

from __future__ import annotations

import argparse
import os
import sys
from urllib.parse import urlsplit

from traffic.shapes import SHAPES

MAX_USERS = 200


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m traffic", description="Seeded user traffic and synthetic probes."
    )
    parser.add_argument("--target", required=True, help="base URL of the ingress")
    parser.add_argument("--seed", type=int, required=True, help="drives every random choice")
    parser.add_argument("--shape", choices=SHAPES, default="steady")
    parser.add_argument("--users", type=int, default=3, help=f"base load, 1..{MAX_USERS}")
    parser.add_argument("--metrics-port", type=int, required=True)
    parser.add_argument("--metrics-host", default="127.0.0.1")
    parser.add_argument("--no-probes", action="store_true", help="no synthetic probes")
    parser.add_argument("--probe-interval", type=float, default=5.0, help="seconds")
    parser.add_argument("--duration", type=float, default=0.0, help="seconds; 0 runs until stopped")
    parser.add_argument("--think-scale", type=float, default=1.0, help="multiplies think times")
    parser.add_argument("--setup-timeout", type=float, default=60.0, help="seconds")
    parser.add_argument("--journey-log", help="file for the journey JSON lines (default stdout)")
    parser.add_argument(
        "--admin-token",
        default=os.environ.get("TRAFFIC_ADMIN_TOKEN"),
        help="bearer token for /admin/hostile (default $TRAFFIC_ADMIN_TOKEN; none disables it)",
    )
    args = parser.parse_args(argv)
    target = urlsplit(args.target)
    if target.scheme not in ("http", "https") or not target.netloc:
        parser.error(
            f"--target must be an http(s) URL like http://127.0.0.1:8080, got {args.target!r}"
        )
    if not 1 <= args.users <= MAX_USERS:
        parser.error(f"--users must be between 1 and {MAX_USERS}, got {args.users}")
    if not 1 <= args.metrics_port <= 65535:
        parser.error(f"--metrics-port must be between 1 and 65535, got {args.metrics_port}")
    if args.probe_interval <= 0:
        parser.error(f"--probe-interval must be positive, got {args.probe_interval}")
    if args.duration < 0:
        parser.error(f"--duration must be 0 (run until stopped) or positive, got {args.duration}")
    if args.think_scale <= 0:
        parser.error(f"--think-scale must be positive, got {args.think_scale}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)  # before locust: bad arguments fail fast, without gevent

    import locust  # noqa: F401  (monkey-patches the process: first, before requests is imported)

    return _run(args)


def _run(args: argparse.Namespace) -> int:
    import json
    import signal

    import gevent
    from gevent.pywsgi import WSGIServer
    from locust.env import Environment
    from prometheus_client import disable_created_metrics, make_wsgi_app

    from traffic import metrics
    from traffic.admin import PREFIX, admin_app
    from traffic.hostile import HostileTraffic
    from traffic.journeys import AcmeVisitor
    from traffic.plan import WorldUnavailable, load_world
    from traffic.probes import Probes
    from traffic.shapes import make_shape

    log = open(args.journey_log, "a", buffering=1) if args.journey_log else sys.stdout  # noqa: SIM115
    sent = {"requests": 0}

    def emit(event: str, **fields: object) -> None:
        sys.stdout.write(json.dumps({"event": event, **fields}) + "\n")
        sys.stdout.flush()

    disable_created_metrics()
    metrics_app = make_wsgi_app(metrics.REGISTRY)
    hostile = HostileTraffic(args.target, args.seed, emit)
    admin = admin_app(hostile, args.admin_token)

    def app(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == PREFIX or path.startswith(PREFIX + "/"):
            return admin(environ, start_response)
        if environ.get("PATH_INFO") == "/healthz":
            ready = sent["requests"] > 0
            body = json.dumps({"status": "ok" if ready else "starting", **sent}).encode()
            status = "200 OK" if ready else "503 Service Unavailable"
            start_response(status, [("Content-Type", "application/json")])
            return [body]
        return metrics_app(environ, start_response)

    try:
        server = WSGIServer((args.metrics_host, args.metrics_port), app, log=None)
        server.start()
    except OSError as exc:
        print(
            f"traffic: cannot serve metrics on {args.metrics_host}:{args.metrics_port}: {exc}",
            file=sys.stderr,
        )
        return 1
    try:
        world = load_world(args.target, timeout=args.setup_timeout)
    except WorldUnavailable as exc:
        print(f"traffic: {exc}", file=sys.stderr)
        return 1
    emit(
        "started",
        target=args.target,
        seed=args.seed,
        shape=args.shape,
        users=args.users,
        products=len(world.products),
        customers=len(world.customers),
    )

    AcmeVisitor.configure(world, args.seed, args.think_scale, log)
    env = Environment(
        user_classes=[AcmeVisitor], shape_class=make_shape(args.shape, args.users), host=args.target
    )

    def on_request(
        request_type, name, response_time, response_length, response=None, exception=None, **_kwargs
    ):
        code = getattr(response, "status_code", 0) or 0
        status = str(code) if code else "error"
        metrics.REQUESTS.labels(name, request_type, status).inc()
        metrics.LATENCY.labels(name, request_type).observe((response_time or 0) / 1000)
        sent["requests"] += 1

    env.events.request.add_listener(on_request)
    runner = env.create_local_runner()

    def stop(*_args: object) -> None:
        gevent.spawn(hostile.stop_all)
        gevent.spawn(runner.quit)

    gevent.signal_handler(signal.SIGTERM, stop)
    gevent.signal_handler(signal.SIGINT, stop)
    if not args.no_probes:
        probes = Probes(args.target, world)
        gevent.spawn(probes.run_forever, args.probe_interval)
    if args.duration:
        gevent.spawn_later(args.duration, runner.quit)
    runner.start_shape()
    runner.greenlet.join()
    hostile.stop_all()
    server.stop(timeout=1)
    emit("stopped", requests=sent["requests"])
    if log is not sys.stdout:
        log.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
