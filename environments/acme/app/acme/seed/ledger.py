"""Mirror seeded orders into the payments simulator's ledger.

Without this, historical orders would reference charge ids the processor has
never heard of, and refunding one from the admin UI would fail.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, func, insert, select

from acme.common.db import WRITE_OPTION
from acme.payments.models import PaymentsBase
from acme.seed.generator import SeedData


def ledger_rows(data: SeedData) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    refunds_by_order = {r["order_id"]: r for r in data.tables["refunds"]}
    charges: list[dict[str, Any]] = []
    refunds: list[dict[str, Any]] = []
    for order in data.tables["orders"]:
        charge_id = order["payment_charge_id"]
        if not charge_id:
            continue
        cancelled = order["status"] == "cancelled"
        refund = refunds_by_order.get(order["id"])
        charges.append({
            "id": charge_id,
            "amount_cents": order["total_cents"],
            "currency": order["currency"],
            "status": "canceled" if cancelled else "captured",
            "captured_cents": 0 if cancelled else order["total_cents"],
            "refunded_cents": refund["amount_cents"] if refund else 0,
            "card_last4": f"{(order['id'] * 7919) % 10000:04d}",
            "card_brand": "visa",
            "decline_code": None,
            "metadata": {"order_id": order["id"], "user_id": order["user_id"]},
            "created_at": order["created_at"],
            "updated_at": refund["created_at"] if refund else order["created_at"],
        })
        if refund:
            refunds.append({
                "id": refund["processor_refund_id"], "charge_id": charge_id,
                "amount_cents": refund["amount_cents"], "reason": refund["reason"],
                "status": "succeeded", "created_at": refund["created_at"],
            })
    return charges, refunds


def ledger_is_empty(engine: Engine) -> bool:
    """True if the processor ledger has no charges yet (or does not exist)."""
    PaymentsBase.metadata.create_all(engine)
    with engine.connect() as conn:
        return not conn.scalar(select(func.count()).select_from(PaymentsBase.metadata.tables["charges"]))


def load_ledger(engine: Engine, data: SeedData, *, replace: bool = False) -> int:
    """Create the processor schema if needed and insert the historical charges."""
    PaymentsBase.metadata.create_all(engine)
    tables = PaymentsBase.metadata.tables
    charges, refunds = ledger_rows(data)
    with engine.execution_options(**{WRITE_OPTION: True}).begin() as conn:
        if replace:
            for name in ("webhook_deliveries", "idempotency_records", "refunds", "charges"):
                conn.execute(tables[name].delete())
        if charges:
            conn.execute(insert(tables["charges"]), charges)
        if refunds:
            conn.execute(insert(tables["refunds"]), refunds)
    return len(charges)

