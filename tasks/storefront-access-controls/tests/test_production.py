"""Hidden tests against production (through the ingress), concurrent with live traffic and the
smoke journeys: so they never close the catalogue or search (both anonymous journeys), only
prices and reviews, and always reopen them."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

CONTROLS = ("catalog", "search", "reviews", "prices")
ADMIN_EMAIL = "admin@acme.test"
ADMIN_PASSWORD = "acme-admin-pw"
ACCESS = "/api/v1/admin/access-controls"

NewCustomer = Callable[..., dict[str, str]]


def _product(acme: httpx.Client, headers: dict[str, str]) -> dict[str, Any]:
    items = acme.get("/api/v1/products", params={"page_size": 24}, headers=headers).json()["items"]
    return min(items, key=lambda p: p["id"])


def _eventually(check: Callable[[], bool], timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.5)
    return check()


@pytest.fixture
def reopen(admin_client: httpx.Client) -> Iterator[None]:
    """Whatever a test closes, production is fully open again afterwards."""
    try:
        yield
    finally:
        admin_client.put(ACCESS, json=dict.fromkeys(CONTROLS, True))


def test_store_publishes_the_four_controls(acme: httpx.Client, admin_client: httpx.Client) -> None:
    info = acme.get("/api/v1/store")
    assert info.status_code == 200
    assert info.json().get("access") == dict.fromkeys(CONTROLS, True), info.json()
    assert "allow_anonymous_browsing" not in info.json()
    settings = admin_client.get("/api/v1/admin/settings")
    assert settings.status_code == 200 and "allow_anonymous_browsing" not in settings.json()
    controls = admin_client.get(ACCESS)
    assert controls.status_code == 200, controls.text
    assert controls.json()["controls"] == dict.fromkeys(CONTROLS, True)


def test_prices_are_for_signed_in_customers_only(
    acme: httpx.Client, admin_client: httpx.Client, reopen: None, new_customer: NewCustomer
) -> None:
    customer = new_customer()
    product = _product(acme, customer)
    shown = f"{product['price_cents'] / 100:,.2f}"
    closed = admin_client.put(ACCESS, json={"prices": False})
    assert closed.status_code == 200, closed.text
    path = f"/api/v1/products/{product['id']}"
    assert _eventually(lambda: acme.get(path).json().get("price_cents") is None), (
        "anonymous visitors still get the price"
    )
    listing = acme.get("/api/v1/products", params={"page_size": 24})
    assert listing.status_code == 200
    assert all(p.get("price_cents") is None for p in listing.json()["items"])
    assert acme.get(path, headers=customer).json()["price_cents"] == product["price_cents"]
    # Fresh clients: an anonymous visitor with no cookie at all, and the customer's web session.
    with httpx.Client(base_url=str(acme.base_url), trust_env=False, timeout=15.0) as anonymous:
        page = anonymous.get(f"/products/{product['id']}")
        assert page.status_code == 200 and shown not in page.text
    token = customer["Authorization"].split()[1]
    with httpx.Client(
        base_url=str(acme.base_url), trust_env=False, timeout=15.0, cookies={"acme_session": token}
    ) as signed_in:
        assert shown in signed_in.get(f"/products/{product['id']}").text


def test_reviews_are_for_signed_in_customers_only(
    acme: httpx.Client, admin_client: httpx.Client, reopen: None, new_customer: NewCustomer
) -> None:
    customer = new_customer()
    product = _product(acme, customer)
    reviews = f"/api/v1/products/{product['id']}/reviews"
    assert admin_client.put(ACCESS, json={"reviews": False}).status_code == 200
    assert _eventually(lambda: acme.get(reviews).status_code == 401), "reviews are still public"
    body = acme.get(reviews).json()
    assert body["error"]["code"] == "authentication_required"
    assert acme.get(reviews, headers=customer).status_code == 200
    assert acme.get(f"/api/v1/products/{product['id']}").status_code == 200
    page = acme.get(f"/products/{product['id']}")
    assert page.status_code == 200, "the anonymous product page must still render"


def test_every_change_is_recorded(admin_client: httpx.Client, reopen: None) -> None:
    assert admin_client.put(ACCESS, json={"reviews": False}).status_code == 200
    reopened = admin_client.put(ACCESS, json={"reviews": True})
    assert reopened.status_code == 200, reopened.text
    history = [c for c in reopened.json()["history"] if c["control"] == "reviews"][:2]
    assert [(c["anonymous"], c["changed_by"]) for c in history] == [
        (True, ADMIN_EMAIL),
        (False, ADMIN_EMAIL),
    ], reopened.json()["history"][:4]
    assert all(c.get("changed_at") for c in history)


def test_only_admins_change_access(
    acme: httpx.Client, admin_client: httpx.Client, new_customer: NewCustomer
) -> None:
    customer = new_customer()
    assert acme.put(ACCESS, json={"prices": False}).status_code == 401
    assert acme.put(ACCESS, json={"prices": False}, headers=customer).status_code == 403
    assert acme.get(ACCESS, headers=customer).status_code == 403
    assert admin_client.put(ACCESS, json={"everything": False}).status_code == 422
    assert admin_client.get(ACCESS).json()["controls"] == dict.fromkeys(CONTROLS, True)
