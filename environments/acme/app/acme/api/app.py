"""API application factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from acme import __version__
from acme.api.routes import admin, cart, health, orders, payments, products, sessions, store, users
from acme.api.services.context import ApiContext
from acme.api.services.payments_client import PaymentsClient
from acme.common.cache import create_cache
from acme.common.db import Database
from acme.common.errors import install_error_handlers
from acme.common.faults import RuntimeFaults
from acme.common.flags import Flags
from acme.common.objectstore import create_object_store
from acme.common.observability import instrument
from acme.common.security import PasswordHasher
from acme.common.settings import Settings

log = logging.getLogger(__name__)
SERVICE = "api"
# Routers go straight into the app: a nested APIRouter makes FastAPI rebuild every route's
# dependency state per app (~40 ms an app, once per test).
API_PREFIX = "/api/v1"


def create_app(settings: Settings, *, payments_http: httpx.Client | None = None) -> FastAPI:
    """Build the API. ``payments_http`` lets tests route processor calls in-process."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        log.info("api ready", extra={"database": ctx.db.dialect})
        yield
        ctx.close()

    app = FastAPI(
        title="Acme API",
        version=__version__,
        lifespan=lifespan,
        docs_url="/api/docs",
        openapi_url="/api/openapi.json",
        redoc_url=None,
    )
    metrics = instrument(app, SERVICE, settings)
    ctx = ApiContext(
        settings=settings,
        db=Database(
            settings.database_url,
            pool_size=settings.db_pool_size,
            faults=RuntimeFaults(settings.faults_file, SERVICE),
        ),
        cache=create_cache(settings.cache_url, metrics),
        flags=Flags(settings.flags_file, settings.instance_for(SERVICE)),
        metrics=metrics,
        payments=PaymentsClient(
            settings.payments_url, timeout=settings.payments_timeout_seconds, http=payments_http
        ),
        objects=create_object_store(settings.object_store, settings.s3_endpoint_url),
        hasher=PasswordHasher(settings.password_hash_cost),
    )
    app.state.ctx = ctx
    install_error_handlers(app)

    for module in (sessions, users, products, cart, orders, admin, payments, store):
        app.include_router(module.router, prefix=API_PREFIX)
    app.add_api_route(f"{API_PREFIX}/health", health.healthz, methods=["GET"], include_in_schema=False)
    app.include_router(health.router)
    return app
