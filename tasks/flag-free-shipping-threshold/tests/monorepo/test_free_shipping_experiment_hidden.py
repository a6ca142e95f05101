"""Hidden tests run inside the monorepo at the deployed commit (its own conftest fixtures):
the free-shipping experiment's flags against the in-process api and web apps."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from acme.common.settings import Settings
from tests.conftest import GOOD_CARD

EXPERIMENT = 3500
CHECKOUT = {"shipping_name": "Jane Doe", "shipping_address": "1 Main St, Portland, OR 97201",
            "card": GOOD_CARD}


def _flags(settings: Settings, **flags: Any) -> None:
    Path(settings.flags_file or "").write_text(json.dumps(flags))


def _register(api: TestClient, n: int) -> dict[str, Any]:
    resp = api.post("/api/v1/users", json={"email": f"fs-{n}@example.com", "name": "Jane Doe",
                                            "password": "s3cure-pass"})
    assert resp.status_code == 201, resp.text
    body = resp.json()
    return {"headers": {"Authorization": f"Bearer {body['token']}"}, "id": body["user"]["id"]}


def _in_cohort(user_id: int, percent: int) -> bool:
    digest = hashlib.sha256(f"free_shipping_experiment:{user_id}".encode()).hexdigest()
    return int(digest[:8], 16) % 100 < percent


def _between(api: TestClient, low: int, high: int) -> tuple[int, int]:
    """(product id, quantity) whose line total is in [low, high)."""
    items = api.get("/api/v1/products?in_stock=true&page_size=100").json()["items"]
    for p in sorted(items, key=lambda p: p["price_cents"]):
        for qty in range(1, 11):
            if low <= p["price_cents"] * qty < high and p["stock"] >= qty + 2:
                return p["id"], qty
    raise AssertionError(f"no product line between {low} and {high} cents")


def _fill(api: TestClient, headers: dict[str, str], low: int = EXPERIMENT,
          high: int = 5000) -> dict[str, Any]:
    pid, qty = _between(api, low, high)
    resp = api.post("/api/v1/cart/items", json={"product_id": pid, "quantity": qty},
                    headers=headers)
    assert resp.status_code == 201, resp.text
    return resp.json()


def test_cohort_gets_the_experiment_threshold_in_cart_and_order(
    api: TestClient, customer: dict[str, Any], settings: Settings
) -> None:
    _flags(settings, free_shipping_experiment=True,
           free_shipping_experiment_threshold_cents=EXPERIMENT)
    cart = _fill(api, customer["headers"])
    assert cart["free_shipping_threshold_cents"] == EXPERIMENT
    assert cart["shipping_cents"] == 0, cart
    assert cart["total_cents"] == cart["subtotal_cents"] + cart["tax_cents"]
    order = api.post("/api/v1/orders", json=CHECKOUT, headers=customer["headers"])
    assert order.status_code == 201, order.text
    assert order.json()["shipping_cents"] == 0
    assert order.json()["total_cents"] == cart["total_cents"]


def test_no_threshold_means_no_experiment(
    api: TestClient, customer: dict[str, Any], settings: Settings
) -> None:
    # In the cohort, but the experiment's threshold is not set: the store's policy holds.
    _flags(settings, free_shipping_experiment=True)
    cart = _fill(api, customer["headers"])
    assert cart["free_shipping_threshold_cents"] == 5000
    assert cart["shipping_cents"] == 599
    order = api.post("/api/v1/orders", json=CHECKOUT, headers=customer["headers"])
    assert order.status_code == 201, order.text
    assert order.json()["shipping_cents"] == 599


def test_cohort_is_a_stable_slice_by_user_id(api: TestClient, settings: Settings) -> None:
    _flags(settings, free_shipping_experiment={"value": False, "rollout_percent": 50},
           free_shipping_experiment_threshold_cents=EXPERIMENT)
    seen = {True: 0, False: 0}
    for n in range(40):
        user = _register(api, n)
        inside = _in_cohort(user["id"], 50)
        if seen[inside] >= 2:
            continue
        seen[inside] += 1
        cart = _fill(api, user["headers"])
        want = EXPERIMENT if inside else 5000
        assert cart["free_shipping_threshold_cents"] == want, (user["id"], inside, cart)
        assert cart["shipping_cents"] == (0 if inside else 599), (user["id"], inside, cart)
        again = api.get("/api/v1/cart", headers=user["headers"]).json()
        assert again["shipping_cents"] == cart["shipping_cents"]
        if min(seen.values()) >= 2:
            break
    assert min(seen.values()) >= 2, seen


@pytest.fixture
def shop(settings: Settings, payments_client: TestClient) -> Iterator[tuple[TestClient, TestClient]]:
    """The storefront over an in-process api, and a client on that same api."""
    from acme.api import create_app as create_api
    from acme.web import create_app

    api_app = create_api(settings, payments_http=payments_client)
    app = create_app(settings.replace(api_url="http://api.internal"),
                     api_transport=httpx.ASGITransport(app=api_app))
    with TestClient(app) as web, TestClient(api_app) as api:
        yield web, api


def _nudge(page: str) -> int | None:
    match = re.search(r"Add \$([0-9,]+\.[0-9]{2}) more for free shipping", page)
    return round(float(match.group(1).replace(",", "")) * 100) if match else None


def _shop_as(web: TestClient, email: str) -> dict[str, str]:
    resp = web.post("/register", data={"name": "Sam Shopper", "email": email,
                                       "password": "hunter2-long"})
    assert resp.status_code in (200, 303), resp.text
    return {"Authorization": f"Bearer {web.cookies['acme_session']}"}


def test_cart_and_checkout_pages_nudge_toward_the_customers_threshold(
    shop: tuple[TestClient, TestClient], settings: Settings
) -> None:
    web, api = shop
    _flags(settings, free_shipping_experiment={"value": False, "rollout_percent": 50},
           free_shipping_experiment_threshold_cents=EXPERIMENT)
    checked = set()
    for n in range(40):
        headers = _shop_as(web, f"sam-{n}@example.com")
        uid = api.get("/api/v1/users/me", headers=headers).json()["id"]
        inside = _in_cohort(uid, 50)
        if inside in checked:
            web.post("/logout")
            continue
        pid, qty = _between(api, 1000, 3000)
        added = web.post("/cart/add", data={"product_id": pid, "quantity": qty})
        assert added.status_code in (200, 303)
        subtotal = api.get("/api/v1/cart", headers=headers).json()["subtotal_cents"]
        want = (EXPERIMENT if inside else 5000) - subtotal
        cart_page = web.get("/cart")
        assert cart_page.status_code == 200
        assert _nudge(cart_page.text) == want, (
            f"cart page of a {'cohort' if inside else 'control'} customer: want 'Add "
            f"${want / 100:.2f} more for free shipping'"
        )
        checkout_page = web.get("/checkout")
        assert checkout_page.status_code == 200
        assert _nudge(checkout_page.text) == want
        checked.add(inside)
        web.post("/logout")
        if len(checked) == 2:
            break
    assert checked == {True, False}
