"""Payments simulator application factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

import httpx
from fastapi import Body, FastAPI, Header, Query, Request
from fastapi.responses import JSONResponse
from prometheus_client import Counter, Gauge
from starlette.concurrency import run_in_threadpool

from acme import __version__
from acme.common.db import Database
from acme.common.errors import install_error_handlers
from acme.common.faults import RuntimeFaults
from acme.common.observability import instrument
from acme.common.settings import Settings
from acme.payments.faults import FaultConfig, FaultInjector
from acme.payments.idempotency import IdempotencyStore, request_hash
from acme.payments.models import PaymentsBase
from acme.payments.processor import DECLINE_MESSAGES, Processor, Result
from acme.payments.schemas import CaptureIn, ChargeIn, FaultsIn, RefundIn
from acme.payments.webhooks import WebhookDispatcher

log = logging.getLogger(__name__)
SERVICE = "payments"
IdemKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=128)]


def create_app(
    settings: Settings, *, webhook_transport: httpx.AsyncBaseTransport | None = None
) -> FastAPI:
    """Build the processor. Webhooks go to ``ACME_API_URL`` unless it is empty."""
    db = Database(settings.payments_database_url, pool_size=5,
                  faults=RuntimeFaults(settings.faults_file, SERVICE))
    PaymentsBase.metadata.create_all(db.engine)  # a third party's schema, not ours to migrate
    processor = Processor(db)
    idempotency = IdempotencyStore(db)
    faults = FaultInjector()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await dispatcher.start()
        log.info("payments ready", extra={"webhooks": dispatcher.enabled})
        yield
        await dispatcher.stop()
        db.dispose()

    app = FastAPI(title="Acme Payments Simulator", version=__version__, lifespan=lifespan,
                  docs_url="/docs", redoc_url=None)
    metrics = instrument(app, SERVICE, settings)
    install_error_handlers(app)
    charges_total = Counter("payments_charges_total", "Charge attempts by outcome.", ["outcome"],
                            registry=metrics.registry)
    injected = Counter("payments_injected_faults_total", "Injected failures by mode.", ["mode"],
                       registry=metrics.registry)
    fault_latency = Gauge("payments_fault_latency_ms", "Configured injected latency.",
                          registry=metrics.registry)
    fault_rate = Gauge("payments_fault_failure_rate", "Configured injected failure rate.",
                       registry=metrics.registry)
    dispatcher = WebhookDispatcher(
        db,
        Counter("payments_webhook_deliveries_total", "Webhook delivery attempts by result.",
                ["result"], registry=metrics.registry),
        target_base_url=settings.api_url or None,
        secret=settings.webhook_secret,
        transport=webhook_transport,
    )
    app.state.processor = processor
    app.state.faults = faults
    app.state.dispatcher = dispatcher

    def respond(result: Result) -> JSONResponse:
        dispatcher.notify(result.events)
        return JSONResponse(result.body, status_code=result.status_code)

    async def execute(
        key: str | None, endpoint: str, payload: dict[str, Any], op: Callable[[], Result]
    ) -> JSONResponse:
        """Apply injected faults, then run ``op`` under idempotency-key protection."""
        mode = await faults.apply()
        if mode is not None:
            injected.labels(mode).inc()
            if mode == "decline":
                charges_total.labels("processing_error").inc()
                return JSONResponse({"error": {
                    "type": "card_error", "code": "card_declined", "decline_code": "processing_error",
                    "message": DECLINE_MESSAGES["processing_error"]}}, status_code=402)
            return JSONResponse({"error": {"code": "processor_unavailable",
                                           "message": "The processor is temporarily unavailable."}},
                                status_code=503)
        if key is None:
            return respond(await run_in_threadpool(op))
        claim = await run_in_threadpool(idempotency.claim, key, endpoint, request_hash(endpoint, payload))
        if claim.outcome == "replay":
            assert claim.status_code is not None
            return JSONResponse(claim.response, status_code=claim.status_code,
                                headers={"Idempotent-Replayed": "true"})
        if claim.outcome == "mismatch":
            return JSONResponse({"error": {"code": "idempotency_key_reuse",
                                           "message": "Keys must not be reused with different parameters."}},
                                status_code=409)
        if claim.outcome == "in_flight":
            return JSONResponse({"error": {"code": "idempotency_key_in_use",
                                           "message": "A request with this key is in progress."}},
                                status_code=409)
        try:
            result = await run_in_threadpool(op)
        except BaseException:
            await run_in_threadpool(idempotency.release, key, endpoint)
            raise
        if result.status_code >= 500:
            await run_in_threadpool(idempotency.release, key, endpoint)
        else:
            await run_in_threadpool(idempotency.finish, key, endpoint, result.status_code, result.body)
        return respond(result)

    def counted(op: Callable[[], Result]) -> Callable[[], Result]:
        def run() -> Result:
            result = op()
            err = result.body.get("error", {}) if isinstance(result.body, dict) else {}
            charges_total.labels(err.get("decline_code") or ("ok" if result.status_code < 300
                                                              else err.get("code", "error"))).inc()
            return result
        return run

    @app.post("/v1/charges", status_code=201)
    async def create_charge(body: ChargeIn, idempotency_key: IdemKey = None) -> JSONResponse:
        payload = body.model_dump()
        return await execute(idempotency_key, "charges.create", payload,
                             counted(lambda: processor.authorize(payload)))

    @app.get("/v1/charges")
    async def list_charges(limit: Annotated[int, Query(ge=1, le=100)] = 20) -> JSONResponse:
        return respond(await run_in_threadpool(processor.recent, limit))

    @app.get("/v1/charges/{charge_id}")
    async def get_charge(charge_id: str) -> JSONResponse:
        return respond(await run_in_threadpool(processor.get, charge_id))

    @app.post("/v1/charges/{charge_id}/capture")
    async def capture_charge(
        charge_id: str, body: Annotated[CaptureIn | None, Body()] = None, idempotency_key: IdemKey = None
    ) -> JSONResponse:
        amount = body.amount_cents if body else None
        return await execute(idempotency_key, f"charges.capture:{charge_id}", {"amount_cents": amount},
                             lambda: processor.capture(charge_id, amount))

    @app.post("/v1/charges/{charge_id}/cancel")
    async def cancel_charge(charge_id: str, idempotency_key: IdemKey = None) -> JSONResponse:
        return await execute(idempotency_key, f"charges.cancel:{charge_id}", {},
                             lambda: processor.cancel(charge_id))

    @app.post("/v1/charges/{charge_id}/refunds", status_code=201)
    async def refund_charge(charge_id: str, body: RefundIn, idempotency_key: IdemKey = None) -> JSONResponse:
        payload = body.model_dump()
        return await execute(idempotency_key, f"charges.refund:{charge_id}", payload,
                             lambda: processor.refund(charge_id, body.amount_cents, body.reason))

    @app.get("/admin/faults")
    async def get_faults() -> dict[str, Any]:
        return faults.state()

    @app.post("/admin/faults")
    async def set_faults(body: FaultsIn) -> dict[str, Any]:
        faults.configure(FaultConfig(**body.model_dump()))
        fault_latency.set(body.latency_ms)
        fault_rate.set(body.failure_rate)
        log.warning("fault injection changed", extra=faults.state())
        return faults.state()

    @app.get("/healthz", include_in_schema=False)
    async def healthz(request: Request) -> JSONResponse:
        try:
            await run_in_threadpool(db.ping)
            ok = True
        except Exception:
            ok = False
        return JSONResponse(
            {"status": "ok" if ok else "error", "service": SERVICE,
             "instance": settings.instance_for(SERVICE), "release": settings.release,
             "faults": faults.state(), "webhooks": dispatcher.enabled},
            status_code=200 if ok else 503,
        )

    return app
