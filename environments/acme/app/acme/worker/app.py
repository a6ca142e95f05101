"""Worker process: the job loop runs in background threads; HTTP serves health and metrics."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from acme.common.db import Database
from acme.common.faults import RuntimeFaults
from acme.common.objectstore import create_object_store
from acme.common.observability import instrument
from acme.common.queue import JobQueue
from acme.common.settings import Settings
from acme.worker.handlers import WorkerContext
from acme.worker.runner import WorkerRunner

log = logging.getLogger(__name__)
SERVICE = "worker"


def create_app(settings: Settings, *, start_runner: bool = True) -> Starlette:
    """Build the worker. ``start_runner=False`` lets tests drive ``app.state.runner`` by hand."""
    faults = RuntimeFaults(settings.faults_file, SERVICE)
    db = Database(
        settings.database_url, pool_size=max(2, settings.worker_concurrency + 1), faults=faults
    )
    ctx = WorkerContext(
        settings=settings,
        db=db,
        objects=create_object_store(settings.object_store, settings.s3_endpoint_url),
        queue=JobQueue(db),
    )
    stale_after = max(30.0, settings.worker_poll_interval_seconds * 20)

    async def healthz(request: Request) -> JSONResponse:
        runner: WorkerRunner = request.app.state.runner
        age = None if runner.last_poll is None else round(time.monotonic() - runner.last_poll, 3)
        ok = (not start_runner) or (runner.alive and age is not None and age < stale_after)
        return JSONResponse(
            {"status": "ok" if ok else "error", "service": SERVICE,
             "instance": settings.instance_for(SERVICE), "release": settings.release,
             "last_poll_age_seconds": age, "processed": runner.processed},
            status_code=200 if ok else 503,
        )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if start_runner:
            runner.start()
            # Readiness means the first poll succeeded, so wait briefly for it.
            deadline = time.monotonic() + 5
            while runner.last_poll is None and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
        log.info("worker ready", extra={"worker_id": runner.worker_id})
        yield
        runner.stop()
        db.dispose()

    app = Starlette(routes=[Route("/healthz", healthz, methods=["GET"])], lifespan=lifespan)
    metrics = instrument(app, SERVICE, settings)
    runner = WorkerRunner(ctx, metrics, worker_id=settings.instance_for(SERVICE), faults=faults)
    app.state.runner = runner
    app.state.ctx = ctx
    return app
