"""Back-office operations: store settings, order management, refunds, product edits."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy.orm import Session as DbSession

from acme.api.repositories.orders import OrderRepository
from acme.api.repositories.products import ProductRepository
from acme.api.repositories.settings import SettingsRepository
from acme.api.repositories.users import UserRepository
from acme.api.schemas.admin import ProductUpdate, StoreSettingsUpdate
from acme.api.services.catalog import CatalogService
from acme.api.services.context import ApiContext
from acme.api.services.orders import summary_json
from acme.api.services.payments_client import PaymentDeclined, PaymentError, PaymentUnavailable
from acme.common.errors import ApiError, Conflict, NotFound, Unavailable
from acme.common.queue import JobQueue, enqueue
from acme.models import Order, OrderStatus, Product, Refund, User, utcnow

log = logging.getLogger(__name__)


def refund_json(r: Refund) -> dict[str, Any]:
    return {
        "id": r.id, "order_id": r.order_id, "amount_cents": r.amount_cents, "reason": r.reason,
        "status": r.status, "processor_refund_id": r.processor_refund_id, "created_at": r.created_at,
    }


class AdminService:
    def __init__(self, ctx: ApiContext, db: DbSession) -> None:
        self.ctx = ctx
        self.db = db
        self.orders = OrderRepository(db)
        self.products = ProductRepository(db)
        self.store = SettingsRepository(db)
        self.users = UserRepository(db)

    # -- settings -----------------------------------------------------------------
    def settings(self) -> dict[str, Any]:
        return self.store.all()

    def update_settings(self, admin: User, data: StoreSettingsUpdate) -> dict[str, Any]:
        changes = data.model_dump(exclude_none=True)
        if not changes:
            raise ApiError("no settings to change", code="empty_update")
        self.store.update(changes, admin.id)
        result = self.store.all()
        self.db.commit()
        log.info("store settings changed", extra={"keys": sorted(changes), "admin_id": admin.id})
        return result

    # -- orders -------------------------------------------------------------------
    def list_orders(self, *, status: str | None, page: int, page_size: int) -> dict[str, Any]:
        if status is not None and status not in OrderStatus.ALL:
            raise ApiError(f"unknown status {status!r}", code="invalid_status")
        rows, total = self.orders.page(status=status, offset=(page - 1) * page_size, limit=page_size)
        return {"items": [summary_json(o, n) for o, n in rows], "page": page,
                "page_size": page_size, "total": total}

    def get_order(self, order_id: int) -> Order:
        order = self.orders.get(order_id)
        if order is None:
            raise NotFound(f"order {order_id} not found", code="order_not_found")
        return order

    def order_refunds(self, order_id: int) -> list[dict[str, Any]]:
        self.get_order(order_id)
        return [refund_json(r) for r in self.orders.refunds(order_id)]

    def ship(self, order_id: int) -> Order:
        order = self.orders.get(order_id, lock=True)
        if order is None:
            raise NotFound(f"order {order_id} not found", code="order_not_found")
        if order.status != OrderStatus.PAID:
            raise Conflict(f"cannot ship an order that is {order.status}", code="invalid_transition")
        order.status = OrderStatus.SHIPPED
        order.updated_at = utcnow()
        self.db.commit()
        return order

    def refund(self, admin: User, order_id: int, amount_cents: int | None, reason: str) -> dict[str, Any]:
        """Refund through the processor, then record it; safe to retry (idempotency key)."""
        order = self.get_order(order_id)
        if order.status not in OrderStatus.REFUNDABLE or not order.payment_charge_id:
            raise Conflict(f"order is {order.status} and cannot be refunded", code="not_refundable")
        remaining = order.total_cents - order.refunded_cents
        amount = remaining if amount_cents is None else amount_cents
        if amount <= 0 or amount > remaining:
            raise ApiError(f"refund must be between 1 and {remaining} cents",
                           code="invalid_refund_amount", details={"remaining_cents": remaining})
        sequence = len(self.orders.refunds(order.id)) + 1
        charge_id = order.payment_charge_id
        self.db.rollback()  # no transaction (and no SQLite write lock) across the network call
        try:
            result = self.ctx.payments.refund(
                charge_id, amount_cents=amount, reason=reason or "requested_by_customer",
                idempotency_key=f"refund-{charge_id}-{sequence}-{amount}",
            )
        except PaymentUnavailable as exc:
            self.ctx.metrics.payment_failures.labels(f"refund_{exc.reason}").inc()
            raise Unavailable("payment processor unavailable, please retry",
                              code="payment_unavailable") from None
        except (PaymentDeclined, PaymentError) as exc:
            self.ctx.metrics.payment_failures.labels(f"refund_{exc.reason}").inc()
            raise Conflict(f"processor refused the refund: {exc.reason}", code="refund_failed") from None

        locked = self.orders.get(order_id, lock=True)
        assert locked is not None
        order = locked
        for existing in self.orders.refunds(order_id):
            if existing.processor_refund_id == result.id:  # replayed request
                self.db.commit()
                return refund_json(existing)
        refund = self.orders.add_refund(Refund(
            order_id=order.id, amount_cents=result.amount_cents, reason=reason, status=result.status,
            processor_refund_id=result.id, created_by=admin.id, created_at=utcnow(),
        ))
        order.refunded_cents = min(order.total_cents, order.refunded_cents + result.amount_cents)
        order.status = (OrderStatus.REFUNDED if order.refunded_cents >= order.total_cents
                        else OrderStatus.PARTIALLY_REFUNDED)
        order.updated_at = utcnow()
        enqueue(self.db, "refund_notification", {"order_id": order.id, "refund_id": refund.id},
                queue="email")
        self.db.commit()
        self.ctx.metrics.orders.labels(order.status).inc()
        return refund_json(refund)

    # -- catalogue ----------------------------------------------------------------
    def update_product(self, product_id: int, data: ProductUpdate) -> Product:
        product = self.products.get(product_id)
        if product is None:
            raise NotFound(f"product {product_id} not found", code="product_not_found")
        changes = data.model_dump(exclude_none=True)
        if not changes:
            raise ApiError("no product fields to change", code="empty_update")
        for field, value in changes.items():
            setattr(product, field, value)
        product.updated_at = utcnow()
        if {"name", "description", "is_active"} & changes.keys():
            enqueue(self.db, "search_reindex", {"product_ids": [product_id]}, queue="search",
                    dedupe_key=f"reindex:product:{product_id}", requeue_finished=True)
        self.db.commit()
        CatalogService(self.ctx, self.db).invalidate()
        return product

    # -- people and numbers -------------------------------------------------------
    def list_users(self, *, query: str | None, page: int, page_size: int) -> dict[str, Any]:
        rows, total = self.users.page(query=query, offset=(page - 1) * page_size, limit=page_size)
        return {
            "items": [{"id": u.id, "email": u.email, "name": u.name, "is_admin": u.is_admin,
                       "created_at": u.created_at} for u in rows],
            "page": page, "page_size": page_size, "total": total,
        }

    def stats(self) -> dict[str, Any]:
        revenue, orders_24h = self.orders.revenue_since(utcnow() - dt.timedelta(hours=24))
        queue_stats = JobQueue(self.ctx.db).stats()
        return {
            "users": self.users.count(),
            "products": self.products.count(),
            "orders_by_status": self.orders.count_by_status(),
            "revenue_cents_24h": revenue,
            "orders_24h": orders_24h,
            "queue_depth": queue_stats.depth,
            "flags": self.ctx.flags.snapshot(),
        }
