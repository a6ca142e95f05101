"""Web application factory: templates, static assets, error pages."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from acme.common.observability import instrument
from acme.common.settings import Settings
from acme.web.client import ApiClient, ApiFailure, ApiUnavailable
from acme.web.state import SESSION_COOKIE, WebState, login_redirect, render
from acme.web.views import router

log = logging.getLogger(__name__)
SERVICE = "web"
HERE = Path(__file__).resolve().parent


def money(cents: int | None, currency: str = "USD") -> str:
    if cents is None:
        return "-"
    symbol = "$" if currency == "USD" else f"{currency} "
    return f"{symbol}{cents / 100:,.2f}"


def date(value: Any) -> str:
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return str(value)
    if isinstance(value, dt.datetime):
        return value.strftime("%b %d, %Y")
    return str(value)


def stars(rating: float) -> str:
    full = int(round(rating))
    return "★" * full + "☆" * (5 - full)


def create_app(settings: Settings, *, api_transport: httpx.AsyncBaseTransport | None = None) -> FastAPI:
    """Build the storefront. ``api_transport`` lets tests call the API in-process."""
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.filters.update(money=money, date=date, stars=stars)
    state = WebState(settings=settings, api=ApiClient(settings.api_url, transport=api_transport),
                     templates=templates)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        log.info("web ready", extra={"api_url": settings.api_url})
        yield
        await state.api.close()

    app = FastAPI(title="Acme Storefront", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None)
    app.state.web = state
    instrument(app, SERVICE, settings)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.include_router(router)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> JSONResponse:
        # Readiness is local: an API outage should show error pages, not restart the web tier.
        return JSONResponse({"status": "ok", "service": SERVICE, "instance": settings.instance_for(SERVICE),
                             "release": settings.release, "api_url": settings.api_url})

    @app.exception_handler(ApiFailure)
    async def api_failure(request: Request, exc: ApiFailure) -> Response:
        if exc.status == 401:
            response = login_redirect(request)
            response.delete_cookie(SESSION_COOKIE, path="/")
            return response
        status = exc.status if 400 <= exc.status < 600 else 502
        return await render(request, "error.html", status_code=status, title=_title(status),
                            message=exc.message)

    @app.exception_handler(ApiUnavailable)
    async def api_unavailable(request: Request, exc: ApiUnavailable) -> Response:
        return await _safe_error(request, 503, "We're having trouble reaching our catalogue. "
                                               "Please try again in a moment.")

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> Response:
        return await _safe_error(request, 400, "That request didn't look right.")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = "We couldn't find that page." if exc.status_code == 404 else str(exc.detail)
        return await _safe_error(request, exc.status_code, message)

    @app.exception_handler(Exception)
    async def crash(request: Request, exc: Exception) -> Response:
        log.exception("unhandled web error")
        return await _safe_error(request, 500, "Something went wrong on our side.")

    return app


def _title(status: int) -> str:
    return {400: "Bad request", 401: "Please sign in", 403: "Not allowed", 404: "Not found",
            409: "Conflict", 503: "Temporarily unavailable"}.get(status, "Something went wrong")


async def _safe_error(request: Request, status: int, message: str) -> Response:
    """Render the error page; if even that fails (API down), fall back to plain text."""
    try:
        return await render(request, "error.html", status_code=status, title=_title(status), message=message)
    except Exception:
        return Response(f"{_title(status)}: {message}", status_code=status, media_type="text/plain")
