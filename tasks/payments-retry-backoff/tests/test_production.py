"""Hidden tests against production (through the ingress) while the processor is still degraded
(the setup's 30% of 503s stays on): checkouts must get through, an outage must fail cleanly."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

NewCustomer = Callable[..., dict[str, str]]

CARD = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2031, "cvc": "123"}
CHECKOUT = {
    "shipping_name": "Grace Hopper",
    "shipping_address": "1 Main St, Portland, OR 97201",
    "card": CARD,
}


def _product(acme: httpx.Client) -> dict:
    items = acme.get("/api/v1/products", params={"page_size": 50}).json()["items"]
    return max(items, key=lambda p: p["stock"])


def _checkout(acme: httpx.Client, headers: dict[str, str], product_id: int) -> httpx.Response:
    added = acme.post(
        "/api/v1/cart/items", json={"product_id": product_id, "quantity": 1}, headers=headers
    )
    assert added.status_code == 201, added.text
    return acme.post("/api/v1/orders", json=CHECKOUT, headers=headers)


def test_checkouts_survive_processor_blips(acme: httpx.Client, new_customer: NewCustomer) -> None:
    headers, product = new_customer(), _product(acme)
    statuses = [_checkout(acme, headers, product["id"]).status_code for _ in range(20)]
    failed = [s for s in statuses if s != 201]
    # 30% of processor calls fail: one attempt loses ~half the checkouts, 2 attempts ~18%,
    # 4 attempts ~1.6% (P(more than 2 of 20) < 0.5%).
    assert len(failed) <= 2, f"{len(failed)} of 20 checkouts failed: {statuses}"


def test_full_outage_fails_fast_and_cleanly(
    acme: httpx.Client, ops: httpx.Client, new_customer: NewCustomer
) -> None:
    headers, product = new_customer(), _product(acme)
    # The processor goes fully down for a moment: the setup's blips give way to an outage,
    # then come back as they were.
    active = ops.get("/api/v1/faults", params={"status": "active"}).json()["faults"]
    blips = [f for f in active if f["spec"]["kind"] == "payments_errors"]
    for fault in blips:
        ops.delete(f"/api/v1/faults/{fault['id']}")
    outage = ops.post(
        "/api/v1/faults",
        json={"kind": "payments_errors", "rate": 1.0, "status": 503, "duration_s": 60},
    )
    assert outage.status_code == 201, outage.text
    try:
        time.sleep(0.5)
        started = time.monotonic()
        resp = _checkout(acme, headers, product["id"])
        elapsed = time.monotonic() - started
    finally:
        ops.delete(f"/api/v1/faults/{outage.json()['fault']['id']}")
        for fault in blips:
            ops.post("/api/v1/faults", json=fault["spec"])
    assert resp.status_code == 503, resp.text
    assert resp.json()["error"]["code"] == "payment_unavailable"
    assert elapsed < 6.0, f"checkout took {elapsed:.1f}s to give up"
    orders = acme.get("/api/v1/orders", headers=headers).json()["items"]
    assert orders and orders[0]["status"] == "payment_failed"
