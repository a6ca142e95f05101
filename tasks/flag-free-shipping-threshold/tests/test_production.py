"""Hidden tests against production (through the ingress): the free-shipping experiment as
Growth configured it (`free_shipping_experiment`: 50% of customers by user id, set by the
setup) and as the ticket asks it to be started (`free_shipping_experiment_threshold_cents`
= 3500). Fresh customers only; the cohort is computed the way the flag provider does."""

from __future__ import annotations

import hashlib
import re
import uuid
from typing import Any

import httpx

EXPERIMENT = 3500
PERCENT = 50
CARD = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2031, "cvc": "123"}
CHECKOUT = {"shipping_name": "Grace Hopper", "shipping_address": "1 Main St, Portland, OR 97201",
            "card": CARD}


def _in_cohort(user_id: int) -> bool:
    digest = hashlib.sha256(f"free_shipping_experiment:{user_id}".encode()).hexdigest()
    return int(digest[:8], 16) % 100 < PERCENT


def _customer(acme: httpx.Client, cohort: bool) -> dict[str, Any]:
    """A fresh customer inside (or outside) the experiment's cohort."""
    for _ in range(60):
        email = f"grader-{uuid.uuid4().hex[:10]}@example.com"
        resp = acme.post("/api/v1/users", json={"email": email, "name": "Grace Hopper",
                                                "password": "s3cure-pass-123"})
        assert resp.status_code == 201, resp.text
        body = resp.json()
        if _in_cohort(body["user"]["id"]) == cohort:
            return {"headers": {"Authorization": f"Bearer {body['token']}"},
                    "token": body["token"], "id": body["user"]["id"]}
    raise AssertionError("no fresh customer landed in the wanted group")


def _store(acme: httpx.Client) -> dict[str, Any]:
    store = acme.get("/api/v1/store").json()
    assert store["free_shipping_threshold_cents"] > EXPERIMENT, store
    return store


def _line_between(acme: httpx.Client, low: int, high: int) -> tuple[int, int]:
    """(product id, quantity) of a line whose total is in [low, high), with stock to spare."""
    for page in range(1, 6):
        items = acme.get("/api/v1/products", params={"in_stock": "true", "page_size": 100,
                                                     "page": page}).json()["items"]
        for p in sorted(items, key=lambda p: -p["stock"]):
            for qty in range(1, 6):
                if low <= p["price_cents"] * qty < high and p["stock"] >= qty + 10:
                    return p["id"], qty
        if len(items) < 100:
            break
    raise AssertionError(f"no product line between {low} and {high} cents")


def _fill(acme: httpx.Client, user: dict[str, Any], low: int, high: int) -> dict[str, Any]:
    pid, qty = _line_between(acme, low, high)
    resp = acme.post("/api/v1/cart/items", json={"product_id": pid, "quantity": qty},
                     headers=user["headers"])
    assert resp.status_code == 201, resp.text
    return acme.get("/api/v1/cart", headers=user["headers"]).json()


def _checkout(acme: httpx.Client, user: dict[str, Any]) -> dict[str, Any]:
    for _ in range(3):  # the processor may blip: the cart stays until an order is paid
        resp = acme.post("/api/v1/orders", json=CHECKOUT, headers=user["headers"])
        if resp.status_code == 201:
            return resp.json()
        assert resp.status_code in (402, 503), resp.text
    raise AssertionError(f"checkout kept failing: {resp.text}")


def _nudge(page: str) -> int | None:
    match = re.search(r"Add \$([0-9,]+\.[0-9]{2}) more for free shipping", page)
    return round(float(match.group(1).replace(",", "")) * 100) if match else None


def _page(acme: httpx.Client, user: dict[str, Any], path: str) -> str:
    resp = acme.get(path, cookies={"acme_session": user["token"]})
    assert resp.status_code == 200, f"{path}: {resp.status_code}"
    return resp.text


def test_cohort_gets_free_shipping_at_the_experiment_threshold(acme: httpx.Client) -> None:
    store = _store(acme)
    user = _customer(acme, cohort=True)
    cart = _fill(acme, user, EXPERIMENT, store["free_shipping_threshold_cents"])
    assert cart.get("free_shipping_threshold_cents") == EXPERIMENT, cart
    assert cart["shipping_cents"] == 0, cart
    assert cart["total_cents"] == cart["subtotal_cents"] + cart["tax_cents"]


def test_checkout_charges_what_the_cart_showed(acme: httpx.Client) -> None:
    store = _store(acme)
    user = _customer(acme, cohort=True)
    cart = _fill(acme, user, EXPERIMENT, store["free_shipping_threshold_cents"])
    order = _checkout(acme, user)
    assert order["shipping_cents"] == 0, order
    assert order["total_cents"] == cart["total_cents"] == order["subtotal_cents"] + order["tax_cents"]


def test_control_group_keeps_the_store_policy(acme: httpx.Client) -> None:
    store = _store(acme)
    user = _customer(acme, cohort=False)
    cart = _fill(acme, user, EXPERIMENT, store["free_shipping_threshold_cents"])
    assert cart.get("free_shipping_threshold_cents") == store["free_shipping_threshold_cents"], cart
    assert cart["shipping_cents"] == store["flat_shipping_cents"], cart
    order = _checkout(acme, user)
    assert order["shipping_cents"] == store["flat_shipping_cents"]
    assert order["total_cents"] == cart["total_cents"]


def test_cart_page_nudges_toward_the_customers_threshold(acme: httpx.Client) -> None:
    store = _store(acme)
    for cohort, threshold in ((True, EXPERIMENT), (False, store["free_shipping_threshold_cents"])):
        user = _customer(acme, cohort=cohort)
        cart = _fill(acme, user, 1000, EXPERIMENT)
        want = threshold - cart["subtotal_cents"]
        got = _nudge(_page(acme, user, "/cart"))
        group = "cohort" if cohort else "control"
        assert got == want, f"{group} cart page: want 'Add ${want / 100:.2f} more…', got {got}"
        assert _nudge(_page(acme, user, "/checkout")) == want, f"{group} checkout page"


def test_checkout_page_shows_free_shipping_to_the_cohort(acme: httpx.Client) -> None:
    store = _store(acme)
    user = _customer(acme, cohort=True)
    cart = _fill(acme, user, EXPERIMENT, store["free_shipping_threshold_cents"])
    page = _page(acme, user, "/checkout")
    shipping = re.search(r"Shipping\s*</dt>\s*<dd[^>]*>\s*([^<]*)<", page)
    assert shipping and shipping.group(1).strip() == "Free", shipping and shipping.group(0)
    total = f"${cart['total_cents'] / 100:,.2f}"
    assert f"Place order · {total}" in page
    assert _nudge(page) is None
