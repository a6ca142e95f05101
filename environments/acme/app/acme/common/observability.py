"""Wire request ids, metrics and the standard ``/metrics`` endpoint into any Starlette app."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Route

from acme.common.metrics import Metrics, MetricsMiddleware, metrics_endpoint
from acme.common.middleware import RequestContextMiddleware
from acme.common.settings import Settings


def instrument(app: Starlette, service: str, settings: Settings) -> Metrics:
    """Create the app's registry, add middleware (request-id outermost) and ``GET /metrics``."""
    metrics = Metrics(service)
    metrics.build_info.labels(service, settings.release).set(1)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.add_middleware(RequestContextMiddleware)
    app.router.routes.append(
        Route("/metrics", metrics_endpoint(metrics), methods=["GET"], include_in_schema=False)
    )
    return metrics
