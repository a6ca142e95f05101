"""Orders, order items, refunds and inbound payment events."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.orm import selectinload

from acme.models import Order, OrderItem, PaymentEvent, Refund, utcnow


class OrderRepository:
    def __init__(self, db: DbSession) -> None:
        self.db = db

    def get(self, order_id: int, *, lock: bool = False) -> Order | None:
        stmt = select(Order).options(selectinload(Order.items)).where(Order.id == order_id)
        if lock:
            stmt = stmt.with_for_update()
        return self.db.scalar(stmt)

    def by_idempotency_key(self, user_id: int, key: str) -> Order | None:
        return self.db.scalar(
            select(Order)
            .options(selectinload(Order.items))
            .where(Order.user_id == user_id, Order.idempotency_key == key)
        )

    def by_charge(self, charge_id: str) -> Order | None:
        return self.db.scalar(select(Order).where(Order.payment_charge_id == charge_id))

    def add(self, order: Order) -> Order:
        self.db.add(order)
        self.db.flush()
        return order

    def page(
        self, *, user_id: int | None = None, status: str | None = None, offset: int, limit: int
    ) -> tuple[list[tuple[Order, int]], int]:
        conds = []
        if user_id is not None:
            conds.append(Order.user_id == user_id)
        if status is not None:
            conds.append(Order.status == status)
        total = self.db.scalar(select(func.count()).select_from(Order).where(*conds)) or 0
        item_count = (
            select(func.coalesce(func.sum(OrderItem.quantity), 0))
            .where(OrderItem.order_id == Order.id)
            .correlate(Order)
            .scalar_subquery()
        )
        rows = self.db.execute(
            select(Order, item_count)
            .where(*conds)
            .order_by(Order.created_at.desc(), Order.id.desc())
            .offset(offset)
            .limit(limit)
        )
        return [(o, int(n)) for o, n in rows], int(total)

    def count_by_status(self) -> dict[str, int]:
        return {
            status: int(n)
            for status, n in self.db.execute(
                select(Order.status, func.count()).group_by(Order.status).order_by(Order.status)
            )
        }

    def revenue_since(self, since: dt.datetime) -> tuple[int, int]:
        total, count = self.db.execute(
            select(func.coalesce(func.sum(Order.total_cents - Order.refunded_cents), 0), func.count())
            .where(Order.created_at >= since, Order.status.in_(("paid", "shipped", "partially_refunded")))
        ).one()
        return int(total), int(count)

    def add_refund(self, refund: Refund) -> Refund:
        self.db.add(refund)
        self.db.flush()
        return refund

    def refunds(self, order_id: int) -> list[Refund]:
        return list(self.db.scalars(select(Refund).where(Refund.order_id == order_id).order_by(Refund.id)))

    def record_event(self, event_id: str, type_: str, charge_id: str | None, payload: dict[str, Any]) -> bool:
        """Store a webhook event; False if this event id was already processed."""
        if self.db.scalar(select(PaymentEvent.id).where(PaymentEvent.event_id == event_id)) is not None:
            return False
        try:
            with self.db.begin_nested():
                self.db.add(PaymentEvent(event_id=event_id, type=type_, charge_id=charge_id,
                                         payload=payload, received_at=utcnow()))
        except IntegrityError:
            return False
        return True
