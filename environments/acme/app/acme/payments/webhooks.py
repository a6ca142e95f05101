"""Outbound webhooks to the merchant (the shop API), signed with HMAC-SHA256.

Deliveries are persisted before they are attempted, so a restart resumes
pending ones; failures retry with exponential backoff like real processors.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import httpx
from prometheus_client import Counter
from sqlalchemy import select, update
from starlette.concurrency import run_in_threadpool

from acme.common.db import Database
from acme.common.security import SIGNATURE_HEADER, sign_payload
from acme.models.base import utcnow
from acme.payments.models import WebhookDelivery

log = logging.getLogger(__name__)
WEBHOOK_PATH = "/api/v1/payments/webhook"


class WebhookDispatcher:
    def __init__(
        self,
        db: Database,
        deliveries: Counter,
        *,
        target_base_url: str | None,
        secret: str,
        transport: httpx.AsyncBaseTransport | None = None,
        max_attempts: int = 6,
        base_delay: float = 1.0,
    ) -> None:
        self.db = db
        self.deliveries = deliveries
        self.url = f"{target_base_url.rstrip('/')}{WEBHOOK_PATH}" if target_base_url else None
        self.secret = secret
        self.transport = transport
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.queue: asyncio.Queue[int] | None = None
        self._task: asyncio.Task[None] | None = None
        self._client: httpx.AsyncClient | None = None

    @property
    def enabled(self) -> bool:
        return self.url is not None

    async def start(self) -> None:
        if not self.enabled:
            return
        self.queue = asyncio.Queue()
        self._client = httpx.AsyncClient(transport=self.transport, timeout=5.0)
        pending = await run_in_threadpool(self._pending_ids)
        for delivery_id in pending:
            self.queue.put_nowait(delivery_id)
        self._task = asyncio.create_task(self._run(), name="webhook-dispatcher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._client is not None:
            await self._client.aclose()

    def notify(self, delivery_ids: list[int]) -> None:
        if self.queue is None:
            return
        for delivery_id in delivery_ids:
            self.queue.put_nowait(delivery_id)

    def _pending_ids(self) -> list[int]:
        with self.db.session(write=False) as s:
            return list(s.scalars(select(WebhookDelivery.id)
                                  .where(WebhookDelivery.status == "pending")
                                  .order_by(WebhookDelivery.id)))

    def _load(self, delivery_id: int) -> tuple[str, int] | None:
        with self.db.session(write=False) as s:
            d = s.get(WebhookDelivery, delivery_id)
            if d is None or d.status != "pending":
                return None
            return d.payload, d.attempts

    def _record(self, delivery_id: int, **values: Any) -> None:
        with self.db.session() as s:
            s.execute(update(WebhookDelivery).where(WebhookDelivery.id == delivery_id).values(**values))

    async def _run(self) -> None:
        assert self.queue is not None
        while True:
            delivery_id = await self.queue.get()
            try:
                await self.deliver(delivery_id)
            except asyncio.CancelledError:
                raise
            except Exception:  # never let one bad delivery kill the dispatcher
                log.exception("webhook delivery crashed", extra={"delivery_id": delivery_id})

    async def deliver(self, delivery_id: int) -> bool:
        """Attempt one delivery now; schedules a retry on failure. Returns success."""
        loaded = await run_in_threadpool(self._load, delivery_id)
        if loaded is None or self._client is None or self.url is None:
            return False
        payload, attempts = loaded
        body = payload.encode()
        status: int | None = None
        err: str | None = None
        try:
            resp = await self._client.post(
                self.url, content=body,
                headers={"Content-Type": "application/json",
                         SIGNATURE_HEADER: sign_payload(self.secret, body)},
            )
            status = resp.status_code
        except httpx.HTTPError as exc:
            err = f"{type(exc).__name__}: {exc}"
        attempts += 1
        if status is not None and 200 <= status < 300:
            await run_in_threadpool(self._record, delivery_id, status="delivered", attempts=attempts,
                                    last_status=status, last_error=None, delivered_at=utcnow())
            self.deliveries.labels("delivered").inc()
            return True
        final = attempts >= self.max_attempts
        await run_in_threadpool(
            self._record, delivery_id, status="failed" if final else "pending", attempts=attempts,
            last_status=status, last_error=err or f"HTTP {status}",
        )
        self.deliveries.labels("failed" if final else "retry").inc()
        log.warning("webhook delivery failed", extra={"delivery_id": delivery_id, "status": status,
                                                      "error": err, "attempts": attempts})
        if not final and self.queue is not None:
            delay = self.base_delay * 2 ** (attempts - 1)
            asyncio.get_running_loop().call_later(delay, self.queue.put_nowait, delivery_id)
        return False
