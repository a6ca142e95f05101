"""Checkout and order history.

Checkout is split into short transactions around the processor calls: the
order is committed as ``pending`` (stock reserved) before any money moves, so
a crash mid-checkout leaves an auditable record instead of a lost payment.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as DbSession

from acme.api.repositories.carts import CartRepository
from acme.api.repositories.orders import OrderRepository
from acme.api.repositories.products import ProductRepository
from acme.api.repositories.settings import SettingsRepository
from acme.api.schemas.orders import CheckoutIn
from acme.api.services.context import ApiContext
from acme.api.services.payments_client import (
    Charge,
    PaymentDeclined,
    PaymentError,
    PaymentRejected,
    PaymentUnavailable,
)
from acme.api.services.pricing import compute_totals
from acme.common.errors import ApiError, Conflict, NotFound, Unavailable
from acme.common.queue import enqueue
from acme.models import Order, OrderItem, OrderStatus, User, utcnow

log = logging.getLogger(__name__)
_KEY_PATTERN = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


def order_json(order: Order) -> dict[str, Any]:
    return {
        "id": order.id,
        "user_id": order.user_id,
        "status": order.status,
        "subtotal_cents": order.subtotal_cents,
        "shipping_cents": order.shipping_cents,
        "tax_cents": order.tax_cents,
        "total_cents": order.total_cents,
        "refunded_cents": order.refunded_cents,
        "currency": order.currency,
        "failure_reason": order.failure_reason,
        "shipping_name": order.shipping_name,
        "shipping_address": order.shipping_address,
        "items": [
            {
                "product_id": i.product_id,
                "product_name": i.product_name,
                "quantity": i.quantity,
                "unit_price_cents": i.unit_price_cents,
                "line_total_cents": i.quantity * i.unit_price_cents,
            }
            for i in order.items
        ],
        "created_at": order.created_at,
        "updated_at": order.updated_at,
    }


def summary_json(order: Order, item_count: int) -> dict[str, Any]:
    return {
        "id": order.id, "user_id": order.user_id, "status": order.status,
        "total_cents": order.total_cents, "refunded_cents": order.refunded_cents,
        "currency": order.currency, "item_count": item_count, "created_at": order.created_at,
    }


def enqueue_paid_jobs(db: DbSession, order_id: int) -> None:
    """Follow-up work for a paid order, committed atomically with the status change."""
    enqueue(db, "order_confirmation", {"order_id": order_id}, queue="email",
            dedupe_key=f"order:{order_id}:confirmation")
    enqueue(db, "order_receipt", {"order_id": order_id}, queue="documents",
            dedupe_key=f"order:{order_id}:receipt")


class CheckoutService:
    def __init__(self, ctx: ApiContext, db: DbSession) -> None:
        self.ctx = ctx
        self.db = db
        self.orders = OrderRepository(db)
        self.carts = CartRepository(db)
        self.products = ProductRepository(db)
        self.store = SettingsRepository(db)

    # -- history -----------------------------------------------------------------
    def list_for_user(self, user: User, *, page: int, page_size: int) -> dict[str, Any]:
        rows, total = self.orders.page(user_id=user.id, offset=(page - 1) * page_size, limit=page_size)
        return {"items": [summary_json(o, n) for o, n in rows], "page": page,
                "page_size": page_size, "total": total}

    def get_for_user(self, user: User, order_id: int) -> Order:
        order = self.orders.get(order_id)
        # Other users' orders are reported as missing, not forbidden, to avoid leaking ids.
        if order is None or (order.user_id != user.id and not user.is_admin):
            raise NotFound(f"order {order_id} not found", code="order_not_found")
        return order

    def receipt(self, user: User, order_id: int) -> bytes:
        order = self.get_for_user(user, order_id)
        try:
            return self.ctx.objects.get(f"receipts/{order.id}.txt")
        except KeyError:
            raise NotFound("receipt is not ready yet", code="receipt_not_ready") from None

    # -- checkout ----------------------------------------------------------------
    def checkout(self, user: User, data: CheckoutIn, idempotency_key: str | None) -> tuple[Order, bool]:
        """Place an order for the user's cart; returns (order, created)."""
        if not self.ctx.flags.enabled("checkout_enabled", user.id):
            raise Unavailable("checkout is temporarily unavailable", code="checkout_disabled")
        if idempotency_key is not None:
            if not _KEY_PATTERN.match(idempotency_key):
                raise ApiError("Idempotency-Key must be 1-64 URL-safe characters",
                               code="invalid_idempotency_key")
            existing = self.orders.by_idempotency_key(user.id, idempotency_key)
            if existing is not None:
                return self._replay(existing), False
        key = idempotency_key or uuid.uuid4().hex

        order = self._create_pending(user, data, key)
        if order is None:  # a concurrent request with the same key won the insert
            existing = self.orders.by_idempotency_key(user.id, key)
            assert existing is not None
            return self._replay(existing), False

        card = data.card.model_dump()
        charge: Charge | None = None
        try:
            charge = self._with_retry(lambda: self.ctx.payments.authorize(
                amount_cents=order.total_cents, currency=order.currency, card=card,
                idempotency_key=f"{key}:authorize",
                metadata={"order_id": order.id, "user_id": user.id},
            ))
            authorized = charge
            charge = self._with_retry(lambda: self.ctx.payments.capture(
                authorized.id, idempotency_key=f"{key}:capture"))
        except PaymentError as exc:
            if charge is not None and isinstance(exc, PaymentUnavailable):
                self._release_authorization(charge.id, key)
            self._fail(order.id, exc)
            raise self._to_api_error(exc, order.id) from None
        return self._mark_paid(order.id, user.id, charge), True

    def _create_pending(self, user: User, data: CheckoutIn, key: str) -> Order | None:
        cart = self.carts.for_user(user.id)
        if cart is None or not cart.items:
            raise ApiError("cart is empty", code="cart_empty")
        products = self.products.get_many([i.product_id for i in cart.items])
        items: list[OrderItem] = []
        for line in cart.items:
            product = products.get(line.product_id)
            if product is None or not product.is_active:
                self.db.rollback()
                raise Conflict(f"product {line.product_id} is no longer available",
                               code="product_unavailable", details={"product_id": line.product_id})
            if not self.products.reserve_stock(product.id, line.quantity):
                self.db.rollback()
                raise Conflict(f"not enough stock for {product.name}", code="insufficient_stock",
                               details={"product_id": product.id})
            items.append(OrderItem(product_id=product.id, product_name=product.name,
                                   quantity=line.quantity, unit_price_cents=product.price_cents))
        store = self.store.all()
        totals = compute_totals(sum(i.quantity * i.unit_price_cents for i in items), store)
        now = utcnow()
        order = Order(
            user_id=user.id, status=OrderStatus.PENDING, subtotal_cents=totals.subtotal_cents,
            shipping_cents=totals.shipping_cents, tax_cents=totals.tax_cents,
            total_cents=totals.total_cents, refunded_cents=0, currency=store["currency"],
            idempotency_key=key, shipping_name=data.shipping_name.strip(),
            shipping_address=data.shipping_address.strip(), created_at=now, updated_at=now,
            items=items,
        )
        try:
            self.orders.add(order)
            self.db.commit()
        except IntegrityError:
            self.db.rollback()
            return None
        return order

    def _with_retry(self, call: Any) -> Charge:
        """Retry once on transport errors when ``payments_retry`` is on (keys make it safe)."""
        attempts = 2 if self.ctx.flags.enabled("payments_retry") else 1
        for attempt in range(1, attempts + 1):
            try:
                return call()  # type: ignore[no-any-return]
            except PaymentUnavailable as exc:
                if attempt == attempts:
                    raise
                log.warning("payment call failed, retrying", extra={"reason": exc.reason})
                time.sleep(0.1)
        raise AssertionError("unreachable")

    def _release_authorization(self, charge_id: str, key: str) -> None:
        try:
            self.ctx.payments.cancel(charge_id, idempotency_key=f"{key}:cancel")
        except PaymentError as exc:
            log.error("could not release authorization", extra={"charge_id": charge_id,
                                                                 "reason": exc.reason})

    def _fail(self, order_id: int, exc: PaymentError) -> None:
        order = self.orders.get(order_id, lock=True)
        assert order is not None
        if order.status == OrderStatus.PENDING:
            order.status = OrderStatus.PAYMENT_FAILED
            order.failure_reason = exc.reason[:64]
            order.payment_charge_id = getattr(exc, "charge_id", None)
            for item in order.items:
                self.products.release_stock(item.product_id, item.quantity)
        self.db.commit()
        self.ctx.metrics.payment_failures.labels(exc.reason).inc()
        self.ctx.metrics.orders.labels(OrderStatus.PAYMENT_FAILED).inc()
        log.info("checkout payment failed", extra={"order_id": order_id, "reason": exc.reason})

    def _mark_paid(self, order_id: int, user_id: int, charge: Charge) -> Order:
        order = self.orders.get(order_id, lock=True)
        assert order is not None
        if order.status == OrderStatus.PENDING:  # a webhook may have reconciled it already
            order.status = OrderStatus.PAID
            order.payment_charge_id = charge.id
            order.updated_at = utcnow()
            enqueue_paid_jobs(self.db, order.id)
        cart = self.carts.for_user(user_id)
        if cart is not None:
            self.carts.clear(cart)
        self.db.commit()
        self.ctx.metrics.orders.labels(OrderStatus.PAID).inc()
        log.info("order paid", extra={"order_id": order.id, "total_cents": order.total_cents})
        return order

    def _replay(self, order: Order) -> Order:
        if order.status == OrderStatus.PENDING:
            raise Conflict("this checkout is still being processed", code="checkout_in_progress",
                           details={"order_id": order.id})
        if order.status == OrderStatus.PAYMENT_FAILED:
            raise ApiError("payment was declined", code="payment_declined", status_code=402,
                           details={"order_id": order.id, "reason": order.failure_reason})
        return order

    @staticmethod
    def _to_api_error(exc: PaymentError, order_id: int) -> ApiError:
        details = {"order_id": order_id, "reason": exc.reason}
        if isinstance(exc, PaymentDeclined):
            return ApiError(exc.message or "payment was declined", code="payment_declined",
                            status_code=402, details=details)
        if isinstance(exc, PaymentRejected):
            return ApiError("payment details were rejected", code="payment_rejected",
                            status_code=402, details=details)
        return Unavailable("payment processor unavailable, please retry", code="payment_unavailable",
                           details=details)
