"""API: cart, checkout against the in-process payments simulator, refunds, webhooks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from acme.common.db import Database
from acme.common.security import sign_payload
from acme.common.settings import Settings
from acme.models import Job, PaymentEvent
from tests.conftest import GOOD_CARD, in_stock_product

CHECKOUT = {"shipping_name": "Jane Doe", "shipping_address": "1 Main St, Portland, OR 97201",
            "card": GOOD_CARD}


def fill_cart(api: TestClient, headers: dict[str, str], quantity: int = 2) -> dict[str, Any]:
    product = in_stock_product(api, min_stock=quantity + 1)
    resp = api.post("/api/v1/cart/items", json={"product_id": product["id"], "quantity": quantity},
                    headers=headers)
    assert resp.status_code == 201, resp.text
    return product


def test_cart_lifecycle_and_totals(api: TestClient, customer: dict[str, Any]) -> None:
    h = customer["headers"]
    assert api.get("/api/v1/cart", headers=h).json()["items"] == []
    product = fill_cart(api, h, quantity=1)
    api.post("/api/v1/cart/items", json={"product_id": product["id"], "quantity": 1}, headers=h)
    cart = api.get("/api/v1/cart", headers=h).json()
    assert cart["items"][0]["quantity"] == 2  # adding again accumulates
    assert cart["subtotal_cents"] == 2 * product["price_cents"]
    expected_tax = (cart["subtotal_cents"] * 825 + 5000) // 10000
    assert cart["tax_cents"] == expected_tax
    assert cart["shipping_cents"] == (0 if cart["subtotal_cents"] >= 5000 else 599)
    assert cart["total_cents"] == cart["subtotal_cents"] + cart["shipping_cents"] + cart["tax_cents"]

    updated = api.put(f"/api/v1/cart/items/{product['id']}", json={"quantity": 1}, headers=h).json()
    assert updated["item_count"] == 1
    emptied = api.delete(f"/api/v1/cart/items/{product['id']}", headers=h).json()
    assert emptied["items"] == [] and emptied["total_cents"] == 0


def test_cart_rejects_bad_items(api: TestClient, customer: dict[str, Any]) -> None:
    h = customer["headers"]
    assert api.post("/api/v1/cart/items", json={"product_id": 999999}, headers=h).status_code == 404
    over = api.post("/api/v1/cart/items", json={"product_id": in_stock_product(api)["id"], "quantity": 11},
                    headers=h)
    assert over.status_code == 400 and over.json()["error"]["code"] == "quantity_limit"
    assert api.put("/api/v1/cart/items/12345", json={"quantity": 1}, headers=h).status_code == 404
    assert api.get("/api/v1/cart").status_code == 401


def test_checkout_success_charges_card_and_enqueues_jobs(
    api: TestClient, customer: dict[str, Any], settings: Settings, payments_client: TestClient
) -> None:
    h = customer["headers"]
    product = fill_cart(api, h)
    resp = api.post("/api/v1/orders", json=CHECKOUT, headers=h)
    assert resp.status_code == 201, resp.text
    order = resp.json()
    assert order["status"] == "paid"
    assert order["items"][0]["quantity"] == 2
    assert api.get("/api/v1/cart", headers=h).json()["items"] == []
    after = api.get(f"/api/v1/products/{product['id']}").json()
    assert after["stock"] == product["stock"] - 2

    charges = payments_client.get("/v1/charges").json()["data"]
    assert charges[0]["status"] == "captured"
    assert charges[0]["captured_cents"] == order["total_cents"]
    assert charges[0]["metadata"]["order_id"] == order["id"]

    db = Database(settings.database_url)
    with db.session(write=False) as s:
        kinds = sorted(j.kind for j in s.scalars(select(Job)))
    assert kinds == ["order_confirmation", "order_receipt"]

    history = api.get("/api/v1/orders", headers=h).json()
    assert [o["id"] for o in history["items"]] == [order["id"]]
    metrics = api.get("/metrics").text
    assert 'acme_orders_total{status="paid"} 1.0' in metrics


def test_checkout_idempotency_key_replays_same_order(
    api: TestClient, customer: dict[str, Any], payments_client: TestClient
) -> None:
    h = {**customer["headers"], "Idempotency-Key": "checkout-abc-1"}
    fill_cart(api, customer["headers"])
    first = api.post("/api/v1/orders", json=CHECKOUT, headers=h)
    second = api.post("/api/v1/orders", json=CHECKOUT, headers=h)
    assert first.status_code == 201 and second.status_code == 200
    assert first.json()["id"] == second.json()["id"]
    assert len(payments_client.get("/v1/charges").json()["data"]) == 1
    bad = api.post("/api/v1/orders", json=CHECKOUT, headers={**h, "Idempotency-Key": "bad key!"})
    assert bad.status_code == 400


def test_declined_card_fails_order_and_restores_stock(api: TestClient, customer: dict[str, Any]) -> None:
    h = customer["headers"]
    product = fill_cart(api, h)
    body = {**CHECKOUT, "card": {**GOOD_CARD, "number": "4000000000009995"}}
    resp = api.post("/api/v1/orders", json=body, headers=h)
    assert resp.status_code == 402
    err = resp.json()["error"]
    assert err["code"] == "payment_declined" and err["details"]["reason"] == "insufficient_funds"
    order = api.get(f"/api/v1/orders/{err['details']['order_id']}", headers=h).json()
    assert order["status"] == "payment_failed" and order["failure_reason"] == "insufficient_funds"
    assert api.get(f"/api/v1/products/{product['id']}").json()["stock"] == product["stock"]
    assert len(api.get("/api/v1/cart", headers=h).json()["items"]) == 1  # cart kept for retry
    assert 'acme_payment_failures_total{reason="insufficient_funds"} 1.0' in api.get("/metrics").text


def _injected(payments_client: TestClient) -> float:
    for line in payments_client.get("/metrics").text.splitlines():
        if line.startswith('payments_injected_faults_total{mode="error"}'):
            return float(line.split()[-1])
    return 0.0


def test_processor_outage_is_503_and_retry_flag_controls_attempts(
    api: TestClient, customer: dict[str, Any], payments_client: TestClient, settings: Settings
) -> None:
    h = customer["headers"]
    product = fill_cart(api, h)
    payments_client.post("/admin/faults", json={"failure_rate": 1.0, "failure_mode": "error"})
    down = api.post("/api/v1/orders", json=CHECKOUT, headers=h)
    assert down.status_code == 503 and down.json()["error"]["code"] == "payment_unavailable"
    assert _injected(payments_client) == 2  # payments_retry defaults on: one retry
    assert api.get(f"/api/v1/products/{product['id']}").json()["stock"] == product["stock"]

    Path(settings.flags_file or "").write_text(json.dumps({"payments_retry": False}))
    assert api.post("/api/v1/orders", json=CHECKOUT, headers=h).status_code == 503
    assert _injected(payments_client) == 3

    payments_client.post("/admin/faults", json={"failure_rate": 0.0})
    assert api.post("/api/v1/orders", json=CHECKOUT, headers=h).status_code == 201
    assert 'acme_payment_failures_total{reason="processor_unavailable"} 2.0' in api.get("/metrics").text


def test_checkout_disabled_by_flag_and_empty_cart(api: TestClient, customer: dict[str, Any],
                                                   settings: Settings) -> None:
    h = customer["headers"]
    empty = api.post("/api/v1/orders", json=CHECKOUT, headers=h)
    assert empty.status_code == 400 and empty.json()["error"]["code"] == "cart_empty"
    Path(settings.flags_file or "").write_text(json.dumps({"checkout_enabled": False}))
    fill_cart(api, h)
    off = api.post("/api/v1/orders", json=CHECKOUT, headers=h)
    assert off.status_code == 503 and off.json()["error"]["code"] == "checkout_disabled"


def test_orders_are_private(api: TestClient, customer: dict[str, Any], admin_headers: dict[str, str]) -> None:
    someone_elses = api.get("/api/v1/admin/orders?page_size=1", headers=admin_headers).json()["items"][0]
    resp = api.get(f"/api/v1/orders/{someone_elses['id']}", headers=customer["headers"])
    assert resp.status_code == 404


def test_admin_refund_partial_then_full(api: TestClient, customer: dict[str, Any],
                                        admin_headers: dict[str, str], payments_client: TestClient) -> None:
    fill_cart(api, customer["headers"])
    order = api.post("/api/v1/orders", json=CHECKOUT, headers=customer["headers"]).json()
    part = api.post(f"/api/v1/admin/orders/{order['id']}/refunds", json={"amount_cents": 100,
                    "reason": "scratched"}, headers=admin_headers)
    assert part.status_code == 201, part.text
    assert api.get(f"/api/v1/admin/orders/{order['id']}", headers=admin_headers).json()["status"] == \
        "partially_refunded"
    too_much = api.post(f"/api/v1/admin/orders/{order['id']}/refunds",
                        json={"amount_cents": order["total_cents"]}, headers=admin_headers)
    assert too_much.status_code == 400
    rest = api.post(f"/api/v1/admin/orders/{order['id']}/refunds", json={}, headers=admin_headers)
    assert rest.status_code == 201 and rest.json()["amount_cents"] == order["total_cents"] - 100
    final = api.get(f"/api/v1/admin/orders/{order['id']}", headers=admin_headers).json()
    assert final["status"] == "refunded" and final["refunded_cents"] == order["total_cents"]
    charge = payments_client.get("/v1/charges").json()["data"][0]
    assert charge["refunded_cents"] == order["total_cents"]
    again = api.post(f"/api/v1/admin/orders/{order['id']}/refunds", json={}, headers=admin_headers)
    assert again.status_code == 409


def test_admin_endpoints_require_admin(api: TestClient, customer: dict[str, Any],
                                       admin_headers: dict[str, str]) -> None:
    assert api.get("/api/v1/admin/settings").status_code == 401
    forbidden = api.get("/api/v1/admin/settings", headers=customer["headers"])
    assert forbidden.status_code == 403 and forbidden.json()["error"]["code"] == "admin_required"
    changed = api.put("/api/v1/admin/settings", json={"free_shipping_threshold_cents": 0},
                      headers=admin_headers)
    assert changed.status_code == 200 and changed.json()["free_shipping_threshold_cents"] == 0
    fill_cart(api, customer["headers"], quantity=1)
    assert api.get("/api/v1/cart", headers=customer["headers"]).json()["shipping_cents"] == 0
    assert api.put("/api/v1/admin/settings", json={"tax_rate_bps": -1},
                   headers=admin_headers).status_code == 422
    stats = api.get("/api/v1/admin/stats", headers=admin_headers).json()
    assert stats["users"] >= 60 and sum(stats["orders_by_status"].values()) >= 200


def test_admin_product_update_invalidates_catalog_cache(api: TestClient, admin_headers: dict[str, str]) -> None:
    product = in_stock_product(api)
    listing = "/api/v1/products?page_size=100&sort=price_asc"
    assert any(p["id"] == product["id"] for p in api.get(listing).json()["items"])
    resp = api.patch(f"/api/v1/admin/products/{product['id']}", json={"is_active": False},
                     headers=admin_headers)
    assert resp.status_code == 200 and resp.json()["is_active"] is False
    assert not any(p["id"] == product["id"] for p in api.get(listing).json()["items"])
    assert api.get(f"/api/v1/products/{product['id']}").status_code == 404


def _webhook(api: TestClient, event: dict[str, Any], secret: str = "whsec_test") -> Any:
    body = json.dumps(event).encode()
    return api.post("/api/v1/payments/webhook", content=body,
                    headers={"X-Acme-Signature": sign_payload(secret, body),
                             "Content-Type": "application/json"})


def test_webhook_signature_and_dedupe(api: TestClient, settings: Settings) -> None:
    event = {"id": "evt_1", "type": "charge.captured", "data": {"charge": {"id": "ch_x"}}}
    assert _webhook(api, event, secret="wrong").status_code == 400
    first = _webhook(api, event)
    assert first.status_code == 200 and first.json() == {"received": True, "duplicate": False}
    assert _webhook(api, event).json()["duplicate"] is True
    with Database(settings.database_url).session(write=False) as s:
        assert s.scalar(select(PaymentEvent.type).where(PaymentEvent.event_id == "evt_1")) == \
            "charge.captured"


def test_refund_webhook_updates_order(api: TestClient, customer: dict[str, Any],
                                      admin_headers: dict[str, str]) -> None:
    fill_cart(api, customer["headers"])
    order = api.post("/api/v1/orders", json=CHECKOUT, headers=customer["headers"]).json()
    before = api.get(f"/api/v1/admin/orders/{order['id']}", headers=admin_headers).json()
    assert before["status"] == "paid"
    event = {"id": "evt_refund", "type": "charge.refunded", "data": {"charge": {
        "id": "unknown", "metadata": {"order_id": order["id"]}, "refunded_cents": 50}}}
    assert _webhook(api, event).status_code == 200
    after = api.get(f"/api/v1/orders/{order['id']}", headers=customer["headers"]).json()
    assert after["refunded_cents"] == 50 and after["status"] == "partially_refunded"
    # An older (smaller) refund total arriving late must not roll the order back.
    stale = {**event, "id": "evt_refund_stale"}
    stale["data"] = {"charge": {**event["data"]["charge"], "refunded_cents": 10}}
    assert _webhook(api, stale).status_code == 200
    assert api.get(f"/api/v1/orders/{order['id']}", headers=customer["headers"]).json()["refunded_cents"] == 50
