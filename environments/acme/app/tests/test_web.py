"""Web storefront rendered against the real API (in-process via ASGI transport)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from acme.common.settings import Settings
from acme.seed.generator import ADMIN_EMAIL, ADMIN_PASSWORD
from acme.web import create_app

CARD = {"card_number": "4242 4242 4242 4242", "exp_month": "12", "exp_year": "2031", "cvc": "123"}


@pytest.fixture
def web(settings: Settings, payments_client: TestClient) -> Iterator[TestClient]:
    from acme.api import create_app as create_api

    api_app = create_api(settings, payments_http=payments_client)
    app = create_app(settings.replace(api_url="http://api.internal"),
                     api_transport=httpx.ASGITransport(app=api_app))
    with TestClient(app) as client:
        yield client


def register(web: TestClient, email: str = "shopper@example.com") -> None:
    resp = web.post("/register", data={"name": "Sam Shopper", "email": email, "password": "hunter2-long"})
    assert resp.status_code == 200 and "Welcome to Acme!" in resp.text


def first_product_id(web: TestClient) -> int:
    page = web.get("/products?sort=featured").text
    return int(re.findall(r'href="/products/(\d+)"', page)[0])


def test_home_catalog_and_product_pages_render(web: TestClient) -> None:
    home = web.get("/")
    assert home.status_code == 200 and "Customer favourites" in home.text
    assert "Acme Outfitters" in home.text and "text/html" in home.headers["content-type"]
    catalog = web.get("/products?category=kitchen&sort=price_asc")
    assert catalog.status_code == 200 and "Kitchen &amp; Dining" in catalog.text
    pid = first_product_id(web)
    product = web.get(f"/products/{pid}")
    assert product.status_code == 200 and "Reviews (" in product.text
    assert web.get("/static/style.css").status_code == 200


def test_missing_pages_render_html_404(web: TestClient) -> None:
    missing_product = web.get("/products/999999")
    assert missing_product.status_code == 404 and "Not found" in missing_product.text
    assert web.get("/no/such/page").status_code == 404
    assert web.get("/products/not-a-number").status_code == 400


def test_login_failure_and_success(web: TestClient) -> None:
    bad = web.post("/login", data={"email": ADMIN_EMAIL, "password": "wrong", "next": "/admin"})
    assert bad.status_code == 401 and "invalid email or password" in bad.text
    ok = web.post("/login", data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD,
                                  "next": "https://evil.example/"})
    assert ok.status_code == 200 and ok.url.path == "/account"  # open redirect refused
    assert "Welcome back, Store Admin!" in ok.text
    assert "acme_session" in web.cookies


def test_cart_requires_login(web: TestClient) -> None:
    resp = web.get("/cart", follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"].startswith("/login?next=")


def test_full_purchase_flow(web: TestClient) -> None:
    register(web)
    pid = first_product_id(web)
    added = web.post("/cart/add", data={"product_id": pid, "quantity": 2})
    assert added.url.path == "/cart" and "Added to your cart." in added.text
    checkout = web.get("/checkout")
    key = re.search(r'name="idempotency_key" value="([0-9a-f]+)"', checkout.text)
    assert key is not None
    placed = web.post("/checkout", data={"idempotency_key": key.group(1), "shipping_name": "Sam Shopper",
                                         "shipping_address": "1 Elm St, Madison, WI", **CARD})
    assert placed.status_code == 200 and "Your order has been placed." in placed.text
    assert re.match(r"/account/orders/\d+", placed.url.path)
    assert "paid" in placed.text
    account = web.get("/account")
    assert placed.url.path.rsplit("/", 1)[1] in account.text
    assert "Your cart is empty" in web.get("/cart").text


def test_declined_card_shows_error_and_keeps_cart(web: TestClient) -> None:
    register(web, "declined@example.com")
    web.post("/cart/add", data={"product_id": first_product_id(web), "quantity": 1})
    resp = web.post("/checkout", data={"idempotency_key": "k-declined", "shipping_name": "Sam",
                                       "shipping_address": "1 Elm St, Madison", **CARD,
                                       "card_number": "4000000000000002"})
    assert resp.status_code == 402 and "Your card was declined." in resp.text
    assert "Proceed to checkout" in web.get("/cart").text


def test_admin_dashboard_and_settings(web: TestClient) -> None:
    register(web, "not-admin@example.com")
    denied = web.get("/admin")
    assert denied.url.path == "/" and "staff only" in denied.text
    web.post("/logout")
    web.post("/login", data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "next": "/admin"})
    dash = web.get("/admin")
    assert dash.status_code == 200 and "Store settings" in dash.text and "customers" in dash.text
    saved = web.post("/admin/settings", data={"maintenance_banner": "Sale ends Sunday!",
                                              "tax_rate_bps": "900"})
    assert "Settings saved." in saved.text
    invalid = web.post("/admin/settings", data={"tax_rate_bps": "99999"})
    assert "Settings not saved" in invalid.text
    order_link = re.search(r'href="/admin/orders/(\d+)"', dash.text)
    assert order_link is not None
    assert web.get(f"/admin/orders/{order_link.group(1)}").status_code == 200


def test_search_page(web: TestClient) -> None:
    resp = web.get("/search?q=lamp")
    assert resp.status_code == 200 and "Search results" in resp.text
    assert "result" in web.get("/search?q=zzzqqq").text


def test_api_outage_renders_503(settings: Settings) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    app = create_app(settings, api_transport=httpx.MockTransport(refuse))
    with TestClient(app) as client:
        resp = client.get("/")
        assert resp.status_code == 503 and "trouble reaching" in resp.text
        assert client.get("/healthz").json()["status"] == "ok"
        assert 'route="/",service="web",status="503"' in client.get("/metrics").text
