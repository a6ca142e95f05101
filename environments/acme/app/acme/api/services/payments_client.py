"""HTTP client for the card processor (the payments service).

Every mutating call carries an idempotency key so the checkout can retry a
timed-out request without charging the customer twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import httpx

from acme.common.logging import current_request_id

log = logging.getLogger(__name__)

# A refused connection never reached the processor, so trying it again is always safe; with
# httpcore's backoff (0, 0.5, 1, 2 s) four retries ride out a payments restart during a deploy.
CONNECT_RETRIES = 4


class PaymentError(Exception):
    reason = "payment_error"


class PaymentDeclined(PaymentError):
    """The processor answered and said no (card problem); retrying will not help."""

    def __init__(self, decline_code: str, message: str, charge_id: str | None = None) -> None:
        super().__init__(message)
        self.reason = decline_code
        self.message = message
        self.charge_id = charge_id


class PaymentUnavailable(PaymentError):
    """Transport failure or processor 5xx; safe to retry with the same idempotency key."""

    def __init__(self, reason: str, message: str = "payment processor unavailable") -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


class PaymentRejected(PaymentError):
    """The processor rejected the request itself (4xx other than a decline)."""

    def __init__(self, code: str, message: str, status_code: int) -> None:
        super().__init__(message)
        self.reason = code
        self.message = message
        self.status_code = status_code


@dataclass(frozen=True)
class Charge:
    id: str
    status: str
    amount_cents: int
    captured_cents: int
    refunded_cents: int
    card_last4: str | None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Charge:
        return cls(
            id=str(data["id"]),
            status=str(data["status"]),
            amount_cents=int(data["amount_cents"]),
            captured_cents=int(data.get("captured_cents", 0)),
            refunded_cents=int(data.get("refunded_cents", 0)),
            card_last4=data.get("card_last4"),
        )


@dataclass(frozen=True)
class RefundResult:
    id: str
    charge_id: str
    amount_cents: int
    status: str


class PaymentsClient:
    def __init__(self, base_url: str, *, timeout: float = 5.0, http: httpx.Client | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = http or httpx.Client(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 2.0)),
            transport=httpx.HTTPTransport(
                retries=CONNECT_RETRIES,
                limits=httpx.Limits(max_connections=50, max_keepalive_connections=20),
            ),
        )

    def close(self) -> None:
        self.http.close()

    def _post(self, path: str, body: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
        headers = {"Idempotency-Key": idempotency_key}
        rid = current_request_id()
        if rid:
            headers["X-Request-ID"] = rid
        try:
            resp = self.http.post(path, json=body, headers=headers)
        except httpx.TimeoutException as exc:
            raise PaymentUnavailable("timeout", f"payment processor timed out: {exc}") from exc
        except httpx.TransportError as exc:
            raise PaymentUnavailable("connection_error", f"payment processor unreachable: {exc}") from exc
        try:
            data = resp.json()
        except ValueError:
            data = {}
        if resp.status_code < 300:
            return dict(data)
        err = data.get("error", {}) if isinstance(data, dict) else {}
        code = str(err.get("code") or f"http_{resp.status_code}")
        message = str(err.get("message") or resp.reason_phrase)
        if resp.status_code == 402:
            raise PaymentDeclined(
                str(err.get("decline_code") or code), message, err.get("charge_id")
            )
        if resp.status_code >= 500 or resp.status_code == 429:
            raise PaymentUnavailable(code if resp.status_code < 500 else "processor_unavailable", message)
        raise PaymentRejected(code, message, resp.status_code)

    def authorize(
        self,
        *,
        amount_cents: int,
        currency: str,
        card: dict[str, Any],
        idempotency_key: str,
        metadata: dict[str, Any],
    ) -> Charge:
        data = self._post(
            "/v1/charges",
            {"amount_cents": amount_cents, "currency": currency, "card": card,
             "capture": False, "metadata": metadata},
            idempotency_key,
        )
        return Charge.from_json(data)

    def capture(self, charge_id: str, *, idempotency_key: str) -> Charge:
        return Charge.from_json(self._post(f"/v1/charges/{charge_id}/capture", {}, idempotency_key))

    def cancel(self, charge_id: str, *, idempotency_key: str) -> Charge:
        return Charge.from_json(self._post(f"/v1/charges/{charge_id}/cancel", {}, idempotency_key))

    def refund(self, charge_id: str, *, amount_cents: int, reason: str, idempotency_key: str) -> RefundResult:
        data = self._post(
            f"/v1/charges/{charge_id}/refunds",
            {"amount_cents": amount_cents, "reason": reason},
            idempotency_key,
        )
        return RefundResult(
            id=str(data["id"]), charge_id=str(data["charge_id"]),
            amount_cents=int(data["amount_cents"]), status=str(data["status"]),
        )
