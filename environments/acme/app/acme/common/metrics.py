"""Prometheus metrics with a per-app registry.

Each app owns a :class:`Metrics` instance so several apps can live in one
process (tests, the dev runner) without colliding in the global registry.
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
UNMATCHED_ROUTE = "<unmatched>"

# ``*_created`` series double the scrape size and nothing here uses them.
disable_created_metrics()  # type: ignore[no-untyped-call]


class Metrics:
    """The standard HTTP metrics plus Acme's business metrics, in one registry."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.http_requests = Counter(
            "http_requests_total",
            "HTTP requests handled, by route template.",
            ["service", "route", "method", "status"],
            registry=r,
        )
        self.http_duration = Histogram(
            "http_request_duration_seconds",
            "HTTP request latency, by route template.",
            ["service", "route", "method"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.http_in_flight = Gauge(
            "http_requests_in_flight", "Requests currently being served.", ["service"], registry=r
        )
        self.orders = Counter(
            "acme_orders_total", "Orders by terminal checkout status.", ["status"], registry=r
        )
        self.payment_failures = Counter(
            "acme_payment_failures_total",
            "Failed payment attempts by reason (decline code or transport error).",
            ["reason"],
            registry=r,
        )
        self.queue_depth = Gauge(
            "acme_queue_depth", "Jobs waiting to run, per queue.", ["queue"], registry=r
        )
        self.queue_lag = Gauge(
            "acme_queue_lag_seconds",
            "Age of the oldest runnable job (0 when the queue is empty).",
            registry=r,
        )
        self.cache_requests = Counter(
            "acme_cache_requests_total", "Cache lookups by result.", ["result"], registry=r
        )
        self.jobs_processed = Counter(
            "acme_jobs_processed_total",
            "Jobs finished by the worker, by kind and outcome.",
            ["kind", "outcome"],
            registry=r,
        )
        self.build_info = Gauge(
            "acme_build_info", "Always 1; labels carry the release.", ["service", "release"],
            registry=r,
        )

    def render(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST

    def response(self) -> Response:
        body, content_type = self.render()
        return Response(body, media_type=content_type)


def route_template(scope: Scope) -> str:
    """The matched route's path template (``/api/v1/products/{product_id}``).

    Raw paths would explode label cardinality, so unmatched requests share one label.
    """
    # Apps without templated routes (the ingress) label requests themselves.
    label = scope.get("acme.route")
    if isinstance(label, str):
        return label
    # FastAPI >= 0.16x resolves included routers lazily and records the full template on
    # its effective route context; ``scope["route"]`` then only knows the inner path.
    fastapi_scope = scope.get("fastapi")
    effective: Any = fastapi_scope.get("effective_route_context") if isinstance(fastapi_scope, dict) else None
    path = getattr(effective, "path_format", None)
    if path:
        return str(path)
    route: Any = scope.get("route")
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    if not path:
        return UNMATCHED_ROUTE
    root = scope.get("root_path", "") or ""
    return f"{root}{path}" if root and not path.startswith(root) else path


class MetricsMiddleware:
    """Pure-ASGI middleware recording request counts and latencies per route template."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        start = time.perf_counter()
        m = self.metrics

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        m.http_in_flight.labels(m.service).inc()
        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            m.http_in_flight.labels(m.service).dec()
            route = route_template(scope)
            method = scope.get("method", "GET")
            m.http_requests.labels(m.service, route, method, str(status)).inc()
            m.http_duration.labels(m.service, route, method).observe(time.perf_counter() - start)


def metrics_endpoint(metrics: Metrics):  # type: ignore[no-untyped-def]
    """Build a ``GET /metrics`` endpoint bound to one registry."""

    async def endpoint(request: Request) -> Response:
        return metrics.response()

    return endpoint
