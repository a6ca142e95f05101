"""Job handlers. Each must be idempotent: a job can run twice after a crash or retry."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session as DbSession

from acme.common.db import Database
from acme.common.objectstore import ObjectStore
from acme.common.queue import JobQueue
from acme.common.settings import Settings
from acme.common.textsearch import boost_for, build_document
from acme.models import (
    AppSetting,
    Cart,
    EmailOutbox,
    Order,
    Product,
    Refund,
    SearchDocument,
    Session,
    User,
    utcnow,
)
from acme.models.ops import DEFAULT_STORE_SETTINGS

log = logging.getLogger(__name__)


class PermanentJobError(Exception):
    """The job can never succeed (e.g. its order vanished); do not retry."""


@dataclass
class WorkerContext:
    settings: Settings
    db: Database
    objects: ObjectStore
    queue: JobQueue


Handler = Callable[[WorkerContext, dict[str, Any]], dict[str, Any]]


def _money(cents: int, currency: str = "USD") -> str:
    symbol = "$" if currency == "USD" else f"{currency} "
    return f"{symbol}{cents / 100:,.2f}"


def _store_name(s: DbSession) -> str:
    row = s.get(AppSetting, "store_name")
    return str(row.value) if row else str(DEFAULT_STORE_SETTINGS["store_name"])


def _load_order(s: DbSession, payload: dict[str, Any]) -> tuple[Order, User]:
    try:
        order_id = int(payload["order_id"])
    except (KeyError, TypeError, ValueError) as exc:
        raise PermanentJobError(f"bad payload: {payload!r}") from exc
    order = s.get(Order, order_id)
    if order is None:
        raise PermanentJobError(f"order {order_id} does not exist")
    user = s.get(User, order.user_id)
    assert user is not None
    return order, user


def _lines(order: Order) -> list[str]:
    return [
        f"  {i.quantity} x {i.product_name} @ {_money(i.unit_price_cents, order.currency)}"
        f" = {_money(i.quantity * i.unit_price_cents, order.currency)}"
        for i in order.items
    ]


def _add_email(s: DbSession, to: str, subject: str, body: str, template: str, order_id: int) -> bool:
    """Insert unless this (template, order) email already exists; True if inserted."""
    values = {"to_address": to, "subject": subject, "body": body, "template": template,
              "order_id": order_id, "created_at": utcnow(), "sent_at": None}
    table = EmailOutbox.__table__
    assert isinstance(table, Table)
    dialect = s.get_bind().dialect.name
    if dialect in ("sqlite", "postgresql"):
        ins = (sqlite_insert if dialect == "sqlite" else pg_insert)(table).values(**values)
        result = s.execute(ins.on_conflict_do_nothing(index_elements=["template", "order_id"]))
        return bool(result.rowcount)  # type: ignore[attr-defined]
    exists = s.scalar(select(EmailOutbox.id).where(EmailOutbox.template == template,
                                                   EmailOutbox.order_id == order_id))
    if exists is None:
        s.add(EmailOutbox(**values))
    return exists is None


def order_confirmation(ctx: WorkerContext, payload: dict[str, Any]) -> dict[str, Any]:
    with ctx.db.session() as s:
        order, user = _load_order(s, payload)
        store = _store_name(s)
        body = "\n".join([
            f"Hi {user.name},",
            "",
            f"Thanks for shopping at {store}! We've received order #{order.id}.",
            "",
            *_lines(order),
            "",
            f"Subtotal: {_money(order.subtotal_cents, order.currency)}",
            f"Shipping: {_money(order.shipping_cents, order.currency)}",
            f"Tax:      {_money(order.tax_cents, order.currency)}",
            f"Total:    {_money(order.total_cents, order.currency)}",
            "",
            f"Shipping to: {order.shipping_name}, {order.shipping_address}",
        ])
        inserted = _add_email(s, user.email, f"{store}: order #{order.id} confirmed", body,
                              "order_confirmation", order.id)
    return {"order_id": order.id, "inserted": inserted}


def order_receipt(ctx: WorkerContext, payload: dict[str, Any]) -> dict[str, Any]:
    with ctx.db.session(write=False) as s:
        order, user = _load_order(s, payload)
        store = _store_name(s)
        text = "\n".join([
            f"{store} — RECEIPT",
            f"Order #{order.id}    Date: {order.created_at:%Y-%m-%d %H:%M} UTC",
            f"Customer: {user.name} <{user.email}>",
            f"Payment reference: {order.payment_charge_id or '-'}",
            "",
            *_lines(order),
            "",
            f"Subtotal  {_money(order.subtotal_cents, order.currency):>12}",
            f"Shipping  {_money(order.shipping_cents, order.currency):>12}",
            f"Tax       {_money(order.tax_cents, order.currency):>12}",
            f"TOTAL     {_money(order.total_cents, order.currency):>12}",
            "",
        ])
    location = ctx.objects.put(f"receipts/{order.id}.txt", text.encode("utf-8"),
                               content_type="text/plain; charset=utf-8")
    return {"order_id": order.id, "location": location}


def refund_notification(ctx: WorkerContext, payload: dict[str, Any]) -> dict[str, Any]:
    with ctx.db.session() as s:
        order, user = _load_order(s, payload)
        refund = s.get(Refund, int(payload.get("refund_id", 0)))
        if refund is None:
            raise PermanentJobError(f"refund {payload.get('refund_id')} does not exist")
        store = _store_name(s)
        body = (f"Hi {user.name},\n\nWe've refunded {_money(refund.amount_cents, order.currency)} "
                f"for order #{order.id}. It can take 5-10 business days to appear on your statement.")
        inserted = _add_email(s, user.email, f"{store}: refund for order #{order.id}", body,
                              f"refund_notification:{refund.id}", order.id)
    return {"order_id": order.id, "inserted": inserted}


def search_reindex(ctx: WorkerContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Rebuild search documents for some products (or all when no ids are given)."""
    ids = payload.get("product_ids")
    with ctx.db.session() as s:
        stmt = select(Product)
        if ids:
            stmt = stmt.where(Product.id.in_([int(i) for i in ids]))
        products = list(s.scalars(stmt))
        if ids:
            s.execute(delete(SearchDocument).where(SearchDocument.product_id.in_([p.id for p in products])))
        else:
            s.execute(delete(SearchDocument))
        now = utcnow()
        s.add_all(SearchDocument(
            product_id=p.id,
            document=build_document(p.name, p.category.name, p.description, p.sku),
            boost=boost_for(p.rating_avg, p.rating_count),
            updated_at=now,
        ) for p in products)
    return {"indexed": len(products)}


def cleanup(ctx: WorkerContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Housekeeping: expired sessions and carts, old finished jobs, stuck jobs."""
    now = utcnow()
    with ctx.db.session() as s:
        sessions = s.execute(delete(Session).where(Session.expires_at < now)).rowcount  # type: ignore[attr-defined]
        carts = s.execute(delete(Cart).where(Cart.expires_at.is_not(None), Cart.expires_at < now)).rowcount  # type: ignore[attr-defined]
    jobs = ctx.queue.purge_finished(dt.timedelta(days=7))
    requeued = ctx.queue.requeue_stale(visibility_timeout_seconds=300)
    result = {"sessions": int(sessions or 0), "carts": int(carts or 0), "jobs_purged": jobs,
              "jobs_requeued": requeued}
    log.info("cleanup finished", extra=result)
    return result


HANDLERS: dict[str, Handler] = {
    "order_confirmation": order_confirmation,
    "order_receipt": order_receipt,
    "refund_notification": refund_notification,
    "search_reindex": search_reindex,
    "cleanup": cleanup,
}
QUEUES = ("default", "email", "documents", "search")
