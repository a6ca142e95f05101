"""Charge lifecycle rules: authorize → capture → refund, or authorize → cancel.

Behaviour mirrors common processors closely enough for the shop's client code
to be realistic: card errors are HTTP 402 with a ``decline_code``, well-known
test card numbers trigger specific declines, and amounts are integer cents.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from acme.common.db import Database
from acme.models.base import utcnow
from acme.payments.models import Charge, ChargeStatus, Refund, WebhookDelivery

# Test card numbers -> decline code (the same convention the big processors document).
TEST_CARD_DECLINES = {
    "4000000000000002": "card_declined",
    "4000000000009995": "insufficient_funds",
    "4000000000009987": "lost_card",
    "4000000000009979": "stolen_card",
    "4000000000000069": "expired_card",
    "4000000000000127": "incorrect_cvc",
    "4000000000000119": "processing_error",
}
DECLINE_MESSAGES = {
    "card_declined": "Your card was declined.",
    "insufficient_funds": "Your card has insufficient funds.",
    "lost_card": "Your card was declined.",
    "stolen_card": "Your card was declined.",
    "expired_card": "Your card has expired.",
    "incorrect_cvc": "Your card's security code is incorrect.",
    "processing_error": "An error occurred while processing your card. Try again.",
    "invalid_number": "Your card number is invalid.",
}


@dataclass
class Result:
    status_code: int
    body: dict[str, Any]
    events: list[int] = field(default_factory=list)


def error(status: int, code: str, message: str, **extra: Any) -> Result:
    return Result(status, {"error": {"code": code, "message": message, **extra}})


def luhn_ok(number: str) -> bool:
    if not number.isdigit() or not 12 <= len(number) <= 19:
        return False
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def card_brand(number: str) -> str:
    if number.startswith("4"):
        return "visa"
    if number[:2] in {"51", "52", "53", "54", "55"} or "2221" <= number[:4] <= "2720":
        return "mastercard"
    if number[:2] in {"34", "37"}:
        return "amex"
    if number.startswith("6011") or number.startswith("65"):
        return "discover"
    return "unknown"


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def charge_json(c: Charge) -> dict[str, Any]:
    return {
        "id": c.id,
        "object": "charge",
        "status": c.status,
        "amount_cents": c.amount_cents,
        "currency": c.currency,
        "captured_cents": c.captured_cents,
        "refunded_cents": c.refunded_cents,
        "card_last4": c.card_last4,
        "card_brand": c.card_brand,
        "decline_code": c.decline_code,
        "metadata": c.metadata_ or {},
        "created": int(c.created_at.timestamp()),
    }


def refund_json(r: Refund) -> dict[str, Any]:
    return {
        "id": r.id, "object": "refund", "charge_id": r.charge_id, "amount_cents": r.amount_cents,
        "reason": r.reason, "status": r.status, "created": int(r.created_at.timestamp()),
    }


class Processor:
    def __init__(self, db: Database, *, today: dt.date | None = None) -> None:
        self.db = db
        self._today = today

    def _now_month(self) -> tuple[int, int]:
        today = self._today or utcnow().date()
        return today.year, today.month

    def _event(self, s: DbSession, event_type: str, charge: Charge) -> WebhookDelivery:
        event_id = new_id("evt")
        payload = {
            "id": event_id,
            "type": event_type,
            "created": int(time.time()),
            "data": {"charge": charge_json(charge)},
        }
        delivery = WebhookDelivery(
            event_id=event_id, event_type=event_type, payload=json.dumps(payload),
            status="pending", attempts=0, created_at=utcnow(),
        )
        s.add(delivery)
        s.flush()
        return delivery

    def authorize(self, body: dict[str, Any]) -> Result:
        card = body["card"]
        number: str = card["number"]
        capture = bool(body.get("capture", True))
        decline = None
        if not luhn_ok(number):
            decline = "invalid_number"
        elif number in TEST_CARD_DECLINES:
            decline = TEST_CARD_DECLINES[number]
        elif (int(card["exp_year"]), int(card["exp_month"])) < self._now_month():
            decline = "expired_card"
        now = utcnow()
        with self.db.session() as s:
            charge = Charge(
                id=new_id("ch"), amount_cents=body["amount_cents"], currency=body["currency"].upper(),
                status=ChargeStatus.FAILED if decline else ChargeStatus.AUTHORIZED,
                captured_cents=0, refunded_cents=0, card_last4=number[-4:],
                card_brand=card_brand(number), decline_code=decline,
                metadata_=body.get("metadata") or {}, created_at=now, updated_at=now,
            )
            s.add(charge)
            s.flush()
            if decline:
                event = self._event(s, "charge.failed", charge)
                return Result(402, {"error": {
                    "type": "card_error", "code": "card_declined", "decline_code": decline,
                    "message": DECLINE_MESSAGES.get(decline, "Your card was declined."),
                    "charge_id": charge.id,
                }}, [event.id])
            events = []
            if capture:
                charge.status = ChargeStatus.CAPTURED
                charge.captured_cents = charge.amount_cents
                events.append(self._event(s, "charge.captured", charge).id)
            return Result(201, charge_json(charge), events)

    def _load(self, s: DbSession, charge_id: str) -> Charge | None:
        stmt = select(Charge).where(Charge.id == charge_id)
        if self.db.is_postgres:
            stmt = stmt.with_for_update()
        return s.scalar(stmt)

    def capture(self, charge_id: str, amount_cents: int | None) -> Result:
        with self.db.session() as s:
            charge = self._load(s, charge_id)
            if charge is None:
                return error(404, "resource_missing", f"No such charge: {charge_id}")
            if charge.status != ChargeStatus.AUTHORIZED:
                return error(409, "charge_not_capturable", f"Charge is {charge.status}.")
            amount = charge.amount_cents if amount_cents is None else amount_cents
            if amount > charge.amount_cents:
                return error(400, "amount_too_large", "Capture exceeds the authorized amount.")
            charge.status = ChargeStatus.CAPTURED
            charge.captured_cents = amount
            charge.updated_at = utcnow()
            event = self._event(s, "charge.captured", charge)
            return Result(200, charge_json(charge), [event.id])

    def cancel(self, charge_id: str) -> Result:
        with self.db.session() as s:
            charge = self._load(s, charge_id)
            if charge is None:
                return error(404, "resource_missing", f"No such charge: {charge_id}")
            if charge.status != ChargeStatus.AUTHORIZED:
                return error(409, "charge_not_cancelable", f"Charge is {charge.status}.")
            charge.status = ChargeStatus.CANCELED
            charge.updated_at = utcnow()
            return Result(200, charge_json(charge))

    def refund(self, charge_id: str, amount_cents: int | None, reason: str) -> Result:
        with self.db.session() as s:
            charge = self._load(s, charge_id)
            if charge is None:
                return error(404, "resource_missing", f"No such charge: {charge_id}")
            if charge.status != ChargeStatus.CAPTURED:
                return error(409, "charge_not_refundable", f"Charge is {charge.status}.")
            remaining = charge.captured_cents - charge.refunded_cents
            amount = remaining if amount_cents is None else amount_cents
            if amount <= 0 or amount > remaining:
                return error(400, "amount_too_large",
                             f"Refund exceeds the remaining {remaining} cents.")
            refund = Refund(id=new_id("re"), charge_id=charge.id, amount_cents=amount,
                            reason=reason[:200], status="succeeded", created_at=utcnow())
            s.add(refund)
            charge.refunded_cents += amount
            charge.updated_at = utcnow()
            s.flush()
            event = self._event(s, "charge.refunded", charge)
            return Result(201, refund_json(refund), [event.id])

    def get(self, charge_id: str) -> Result:
        with self.db.session(write=False) as s:
            charge = s.get(Charge, charge_id)
            if charge is None:
                return error(404, "resource_missing", f"No such charge: {charge_id}")
            return Result(200, charge_json(charge))

    def recent(self, limit: int) -> Result:
        with self.db.session(write=False) as s:
            rows = s.scalars(select(Charge).order_by(Charge.created_at.desc()).limit(limit))
            return Result(200, {"data": [charge_json(c) for c in rows]})
