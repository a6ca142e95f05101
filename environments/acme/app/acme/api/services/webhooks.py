"""Processor webhooks: verify, de-duplicate, and reconcile order state."""

from __future__ import annotations

import json
import logging
from typing import Any

from sqlalchemy.orm import Session as DbSession

from acme.api.repositories.orders import OrderRepository
from acme.api.services.context import ApiContext
from acme.api.services.orders import enqueue_paid_jobs
from acme.common.errors import ApiError
from acme.common.security import verify_signature
from acme.models import OrderStatus, utcnow

log = logging.getLogger(__name__)


class WebhookService:
    def __init__(self, ctx: ApiContext, db: DbSession) -> None:
        self.ctx = ctx
        self.db = db
        self.orders = OrderRepository(db)

    def handle(self, body: bytes, signature: str | None) -> dict[str, Any]:
        if not verify_signature(self.ctx.settings.webhook_secret, body, signature):
            raise ApiError("webhook signature verification failed", code="invalid_signature")
        try:
            event = json.loads(body)
            event_id, event_type = str(event["id"]), str(event["type"])
            charge = dict(event.get("data", {}).get("charge") or {})
        except (ValueError, KeyError, TypeError, AttributeError):
            raise ApiError("malformed webhook event", code="invalid_event") from None
        charge_id = charge.get("id")
        if not self.orders.record_event(event_id, event_type, charge_id, event):
            self.db.commit()
            return {"received": True, "duplicate": True}
        handler = {
            "charge.captured": self._captured,
            "charge.refunded": self._refunded,
            "charge.failed": self._failed,
        }.get(event_type)
        if handler is not None:
            handler(charge)
        self.db.commit()
        return {"received": True, "duplicate": False}

    def _order_for(self, charge: dict[str, Any]) -> Any:
        raw_id = (charge.get("metadata") or {}).get("order_id")
        order_id = int(raw_id) if isinstance(raw_id, int | str) and str(raw_id).isdigit() else None
        order = self.orders.get(order_id, lock=True) if order_id is not None else None
        if order is None and charge.get("id"):
            order = self.orders.by_charge(str(charge["id"]))
        return order

    def _captured(self, charge: dict[str, Any]) -> None:
        order = self._order_for(charge)
        if order is None:
            return
        if order.status == OrderStatus.PENDING and int(charge.get("captured_cents", 0)) == order.total_cents:
            # The API crashed or timed out after capture; the processor's word settles it.
            order.status = OrderStatus.PAID
            order.payment_charge_id = charge["id"]
            order.updated_at = utcnow()
            enqueue_paid_jobs(self.db, order.id)
            log.info("order reconciled from webhook", extra={"order_id": order.id})
        elif order.status == OrderStatus.PAYMENT_FAILED:
            self.ctx.metrics.payment_failures.labels("orphaned_capture").inc()
            log.error("captured charge for a failed order; refund required",
                      extra={"order_id": order.id, "charge_id": charge.get("id")})

    def _refunded(self, charge: dict[str, Any]) -> None:
        order = self._order_for(charge)
        if order is None or order.status not in OrderStatus.REFUNDABLE + (OrderStatus.REFUNDED,):
            return
        refunded = min(order.total_cents, int(charge.get("refunded_cents", 0)))
        if refunded > order.refunded_cents:
            order.refunded_cents = refunded
            order.status = (OrderStatus.REFUNDED if refunded >= order.total_cents
                            else OrderStatus.PARTIALLY_REFUNDED)
            order.updated_at = utcnow()

    def _failed(self, charge: dict[str, Any]) -> None:
        order = self._order_for(charge)
        if order is not None and order.status == OrderStatus.PENDING:
            log.warning("processor reports failure for pending order", extra={"order_id": order.id})
