"""Hidden tests run inside the monorepo at the deployed commit (its own conftest fixtures):
the checkout's retry policy against an in-process payments simulator with injected faults."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from acme.common.settings import Settings
from tests.conftest import GOOD_CARD, in_stock_product

CHECKOUT = {
    "shipping_name": "Jane Doe",
    "shipping_address": "1 Main St, Portland, OR 97201",
    "card": GOOD_CARD,
}
DECLINED = {**CHECKOUT, "card": {**GOOD_CARD, "number": "4000000000000002"}}


def _fill_cart(api: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    product = in_stock_product(api)
    resp = api.post("/api/v1/cart/items", json={"product_id": product["id"], "quantity": 1},
                    headers=headers)
    assert resp.status_code in (200, 201), resp.text
    return product


def _injected(payments: TestClient, mode: str) -> float:
    for line in payments.get("/metrics").text.splitlines():
        if line.startswith(f'payments_injected_faults_total{{mode="{mode}"}}'):
            return float(line.split()[-1])
    return 0.0


def _faults(payments: TestClient, **config: Any) -> None:
    assert payments.post("/admin/faults", json=config).status_code == 200


def test_transient_failures_get_four_attempts_with_backoff(
    api: TestClient, customer: dict[str, Any], payments_client: TestClient
) -> None:
    h = customer["headers"]
    product = _fill_cart(api, h)
    _faults(payments_client, failure_rate=1.0, failure_mode="error")
    started = time.monotonic()
    resp = api.post("/api/v1/orders", json=CHECKOUT, headers=h)
    elapsed = time.monotonic() - started
    assert resp.status_code == 503 and resp.json()["error"]["code"] == "payment_unavailable"
    assert _injected(payments_client, "error") == 4  # four attempts at authorize, then give up
    assert 0.1 <= elapsed <= 6.0, f"backoff took {elapsed:.2f}s (want some, and bounded)"
    stock = api.get(f"/api/v1/products/{product['id']}").json()["stock"]
    assert stock == product["stock"]  # released after the failure


def test_flag_off_means_one_attempt(
    api: TestClient, customer: dict[str, Any], payments_client: TestClient, settings: Settings
) -> None:
    Path(settings.flags_file or "").write_text(json.dumps({"payments_retry": False}))
    _fill_cart(api, customer["headers"])
    _faults(payments_client, failure_rate=1.0, failure_mode="error")
    resp = api.post("/api/v1/orders", json=CHECKOUT, headers=customer["headers"])
    assert resp.status_code == 503
    assert _injected(payments_client, "error") == 1


def test_declines_are_never_retried(
    api: TestClient, customer: dict[str, Any], payments_client: TestClient
) -> None:
    _fill_cart(api, customer["headers"])
    _faults(payments_client, failure_rate=1.0, failure_mode="decline")
    resp = api.post("/api/v1/orders", json=CHECKOUT, headers=customer["headers"])
    assert resp.status_code == 402, resp.text
    assert _injected(payments_client, "decline") == 1


def test_retries_reuse_the_idempotency_key(
    api: TestClient, customer: dict[str, Any], payments_client: TestClient
) -> None:
    """Half the processor calls fail (seeded): every paid order has exactly one charge."""
    _faults(payments_client, failure_rate=0.5, failure_mode="error", seed=7)
    paid = []
    for _ in range(6):
        _fill_cart(api, customer["headers"])
        resp = api.post("/api/v1/orders", json=CHECKOUT, headers=customer["headers"])
        if resp.status_code == 201:
            paid.append(resp.json()["id"])
    assert len(paid) >= 4, f"only {len(paid)} of 6 checkouts paid with retries"
    _faults(payments_client, failure_rate=0.0)
    charges = payments_client.get("/v1/charges", params={"limit": 100}).json()
    charges = charges.get("data", charges) if isinstance(charges, dict) else charges
    per_order: dict[int, int] = {}
    for charge in charges:
        order_id = (charge.get("metadata") or {}).get("order_id")
        if order_id is not None:
            per_order[int(order_id)] = per_order.get(int(order_id), 0) + 1
    for order_id in paid:
        assert per_order.get(order_id) == 1, f"order {order_id}: {per_order.get(order_id)} charges"
