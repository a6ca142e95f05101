"""Hidden tests against production (through the ingress): a cart whose tax is exactly half a
cent rounds up, in the cart preview and in the order."""

from __future__ import annotations

from collections.abc import Callable

import httpx

NewCustomer = Callable[..., dict[str, str]]

CARD = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2031, "cvc": "123"}
CHECKOUT = {
    "shipping_name": "Grace Hopper",
    "shipping_address": "1 Main St, Portland, OR 97201",
    "card": CARD,
}


def _half_up(subtotal: int, bps: int) -> int:
    return (subtotal * bps + 5000) // 10000


def _half_cent_pair(acme: httpx.Client, bps: int) -> tuple[dict, dict]:
    """Two in-stock products whose prices add up to a subtotal with exactly half a cent of tax
    that round-half-to-even would round down (what finance saw)."""
    products = [
        p
        for p in acme.get("/api/v1/products", params={"in_stock": "true", "page_size": 100}).json()[
            "items"
        ]
        if p["stock"] >= 5
    ]
    for i, a in enumerate(products):
        for b in products[i + 1 :]:
            s = a["price_cents"] + b["price_cents"]
            if (s * bps) % 10000 == 5000 and (s * bps // 10000) % 2 == 0:
                return a, b
    raise AssertionError(f"no pair of products gives a half-cent tax at {bps} bps")


def _cart_with(acme: httpx.Client, headers: dict[str, str], products: tuple[dict, ...]) -> dict:
    for product in products:
        resp = acme.post(
            "/api/v1/cart/items", json={"product_id": product["id"], "quantity": 1}, headers=headers
        )
        assert resp.status_code == 201, resp.text
    return acme.get("/api/v1/cart", headers=headers).json()


def test_production_half_cent_tax_rounds_up(acme: httpx.Client, new_customer: NewCustomer) -> None:
    bps = int(acme.get("/api/v1/store").json().get("tax_rate_bps", 825))
    pair = _half_cent_pair(acme, bps)
    headers = new_customer()
    cart = _cart_with(acme, headers, pair)
    subtotal = pair[0]["price_cents"] + pair[1]["price_cents"]
    assert cart["subtotal_cents"] == subtotal, cart
    assert cart["tax_cents"] == _half_up(subtotal, bps), f"cart: {cart}"
    order = acme.post("/api/v1/orders", json=CHECKOUT, headers=headers)
    assert order.status_code == 201, order.text
    body = order.json()
    assert body["tax_cents"] == _half_up(subtotal, bps), f"order: {body}"
    assert (
        body["total_cents"] == body["subtotal_cents"] + body["shipping_cents"] + body["tax_cents"]
    )


def test_production_totals_add_up(acme: httpx.Client, new_customer: NewCustomer) -> None:
    headers = new_customer()
    products = acme.get("/api/v1/products", params={"in_stock": "true", "page_size": 10}).json()
    cart = _cart_with(acme, headers, (max(products["items"], key=lambda p: p["stock"]),))
    assert (
        cart["total_cents"] == cart["subtotal_cents"] + cart["shipping_cents"] + cart["tax_cents"]
    )
