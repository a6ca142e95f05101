"""Ingress application: a streaming reverse proxy with weighted, run-time-adjustable routing."""

from __future__ import annotations

import hmac
import json
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from http.cookiejar import CookieJar, DefaultCookiePolicy

import httpx
from prometheus_client import Counter, Histogram
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from acme.common.errors import error_body
from acme.common.metrics import LATENCY_BUCKETS
from acme.common.observability import instrument
from acme.common.settings import Settings
from acme.ingress.upstreams import (
    Instance,
    RouteEntry,
    UpstreamConfigError,
    UpstreamTable,
    parse_config,
    to_config,
)

log = logging.getLogger(__name__)
SERVICE = "ingress"
MAX_BODY_BYTES = 10 * 1024 * 1024
HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
    "trailers", "transfer-encoding", "upgrade",
})
# Recomputed for the upstream request (host, length), set by us (request id) or ours alone
# (the admin token and the instance pin never reach an app).
PIN_HEADER = "x-ingress-instance"
TOKEN_HEADER = "x-ingress-token"
NOT_FORWARDED = HOP_BY_HOP | {"host", "content-length", "x-request-id", PIN_HEADER, TOKEN_HEADER}
# The request-id middleware sets x-request-id on the way out.
NOT_RETURNED = HOP_BY_HOP | {"x-request-id"}
PROXY_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def initial_routes(settings: Settings) -> tuple[RouteEntry, ...]:
    """Routes from ``ACME_INGRESS_UPSTREAMS``, else one API and one web instance."""
    if settings.ingress_upstreams:
        return parse_config(settings.ingress_upstreams)
    return parse_config({
        "/api": [{"name": "api", "url": settings.api_url}],
        "/": [{"name": "web", "url": settings.web_url}],
    })


def _json_error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(error_body(code, message), status_code=status)


def create_app(settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None) -> Starlette:
    """Build the ingress. ``transport`` lets tests route upstream calls in-process."""
    table = UpstreamTable(initial_routes(settings), seed=settings.ingress_seed)
    state: dict[str, httpx.AsyncClient] = {}

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        state["client"] = httpx.AsyncClient(
            transport=transport,
            # A proxy must not keep cookies: a jar would store one visitor's Set-Cookie and
            # send it upstream with every later request that has none (signing strangers in).
            cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
            timeout=httpx.Timeout(settings.ingress_timeout_seconds, connect=2.0),
            limits=httpx.Limits(max_connections=500, max_keepalive_connections=100),
            follow_redirects=False,
        )
        log.info("ingress ready", extra={"routes": to_config(table.routes)})
        yield
        await state["client"].aclose()

    # -- admin --------------------------------------------------------------------
    def check_token(given: str) -> Response | None:
        token = settings.ingress_admin_token
        if not token:
            return _json_error(403, "admin_disabled", "ACME_INGRESS_ADMIN_TOKEN is not configured")
        if not given or not hmac.compare_digest(given.encode(), token.encode()):
            return _json_error(401, "unauthorized", "missing or invalid ingress admin token")
        return None

    def authorized(request: Request) -> Response | None:
        given = request.headers.get(TOKEN_HEADER) or ""
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            given = auth[7:].strip()
        return check_token(given)

    def pinned_instance(request: Request, route: RouteEntry) -> Instance | Response | None:
        """The instance named by `x-ingress-instance` (admin token required), like nginx's
        canary-by-header: how a deployer's load test reaches one canary through the ingress.
        Only the token header counts: `Authorization` belongs to the app's own users."""
        name = request.headers.get(PIN_HEADER)
        if name is None:
            return None
        denied = check_token(request.headers.get(TOKEN_HEADER) or "")
        if denied is not None:
            return denied
        for inst in route.instances:
            if inst.name == name:
                return inst
        known = ", ".join(i.name for i in route.instances)
        return _json_error(404, "no_instance", f"{route.prefix} has no instance {name!r} ({known})")

    async def upstreams_admin(request: Request) -> Response:
        denied = authorized(request)
        if denied is not None:
            return denied
        if request.method == "PUT":
            try:
                routes = parse_config(json.loads(await request.body()))
            except (UpstreamConfigError, ValueError) as exc:
                return _json_error(400, "invalid_upstreams", str(exc))
            table.replace(routes)
            log.warning("upstreams changed", extra={"routes": to_config(routes), "version": table.version})
        return JSONResponse({"version": table.version, "routes": to_config(table.routes)})

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({
            "status": "ok", "service": SERVICE, "instance": settings.instance_for(SERVICE),
            "release": settings.release, "routes": len(table.routes), "version": table.version,
        })

    # -- proxy --------------------------------------------------------------------
    def forward_headers(request: Request, rid: str) -> list[tuple[str, str]]:
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in NOT_FORWARDED]
        client_ip = request.client.host if request.client else "unknown"
        prior = request.headers.get("x-forwarded-for")
        headers = [(k, v) for k, v in headers if not k.lower().startswith("x-forwarded-")]
        headers += [
            ("x-forwarded-for", f"{prior}, {client_ip}" if prior else client_ip),
            ("x-forwarded-proto", request.url.scheme),
            ("x-forwarded-host", request.headers.get("host", "")),
            ("x-request-id", rid),
        ]
        return headers

    def record(route: RouteEntry, inst: Instance, status: str, started: float) -> None:
        upstream_requests.labels(route.upstream, inst.name, status).inc()
        upstream_duration.labels(route.upstream, inst.name).observe(time.perf_counter() - started)

    async def proxy(request: Request) -> Response:
        path = request.url.path
        route = table.match(path)
        if route is None:
            return _json_error(404, "no_route", f"no upstream serves {path}")
        request.scope["acme.route"] = "/*" if route.prefix == "/" else f"{route.prefix}/*"
        try:
            body = await request.body()
        except ClientDisconnect:
            return Response(status_code=499)
        if len(body) > MAX_BODY_BYTES:
            return _json_error(413, "payload_too_large", "request body exceeds 10 MiB")
        rid = request.scope.get("state", {}).get("request_id", "")
        headers = forward_headers(request, rid)
        client = state["client"]
        pinned = pinned_instance(request, route)
        if isinstance(pinned, Response):
            return pinned
        tried: set[str] = set()
        while (inst := pinned or table.choose(route, tried)) is not None:
            tried.add(inst.name)
            url = inst.url + path + (f"?{request.url.query}" if request.url.query else "")
            started = time.perf_counter()
            upstream_req = client.build_request(request.method, url, headers=headers, content=body)
            try:
                resp = await client.send(upstream_req, stream=True)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                # Nothing reached the instance, so retrying elsewhere is safe for any method.
                table.mark_down(route, inst)
                record(route, inst, "connect_error", started)
                log.warning("upstream connect failed", extra={"instance": inst.name, "error": str(exc)})
                if pinned is not None:
                    break  # a pinned request is for that instance only
                continue
            except httpx.TimeoutException:
                record(route, inst, "timeout", started)
                return _json_error(504, "upstream_timeout", f"{route.upstream} did not respond in time")
            except httpx.HTTPError as exc:
                record(route, inst, "error", started)
                log.warning("upstream error", extra={"instance": inst.name, "error": str(exc)})
                return _json_error(502, "bad_gateway", f"{route.upstream} failed: {type(exc).__name__}")
            table.mark_up(route, inst)
            return stream_response(resp, route, inst, started)
        what = f"instance {pinned.name}" if pinned else f"{route.upstream} instance"
        return _json_error(502, "bad_gateway", f"no {what} is reachable")

    def stream_response(resp: httpx.Response, route: RouteEntry, inst: Instance, started: float) -> Response:
        async def body() -> AsyncIterator[bytes]:
            status = str(resp.status_code)
            try:
                async for chunk in resp.aiter_raw():
                    yield chunk
            except httpx.HTTPError:
                status = "stream_error"
                raise
            finally:
                await resp.aclose()
                record(route, inst, status, started)

        response = StreamingResponse(body(), status_code=resp.status_code)
        response.raw_headers = [
            (k.encode("latin-1"), v.encode("latin-1"))
            for k, v in resp.headers.multi_items()
            if k.lower() not in NOT_RETURNED
        ]
        return response

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return _json_error(exc.status_code, "http_error", str(exc.detail))

    async def unhandled(request: Request, exc: Exception) -> Response:
        log.exception("ingress error")
        return _json_error(500, "internal_error", "internal server error")

    app = Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/_ingress/upstreams", upstreams_admin, methods=["GET", "PUT"]),
        ],
        lifespan=lifespan,
        exception_handlers={HTTPException: http_error, Exception: unhandled},
    )
    metrics = instrument(app, SERVICE, settings)
    app.router.routes.append(Route("/{path:path}", proxy, methods=PROXY_METHODS))
    upstream_requests = Counter(
        "ingress_upstream_requests_total", "Proxied requests by upstream, instance and status.",
        ["upstream", "instance", "status"], registry=metrics.registry,
    )
    upstream_duration = Histogram(
        "ingress_upstream_request_duration_seconds", "Upstream latency including body streaming.",
        ["upstream", "instance"], buckets=LATENCY_BUCKETS, registry=metrics.registry,
    )
    app.state.table = table
    return app
