"""Hidden tests run inside the monorepo at the deployed commit (its own conftest fixtures):
saved items against the in-process API, web and worker, and the migration."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, inspect, select, update

from acme.common import migrate
from acme.common.db import Database
from acme.common.settings import Settings
from acme.models import Cart, EmailOutbox, utcnow
from acme.worker import create_app as create_worker
from tests.conftest import in_stock_product

SAVED = "/api/v1/saved-items"
OLD_HEAD = "0003_admin_refunds_events"
TEMPLATE = "saved_item_price_drop"
APP_ROOT = Path(migrate.__file__).resolve().parents[2]


def _register(api: TestClient, email: str) -> dict[str, str]:
    resp = api.post("/api/v1/users", json={"email": email, "name": "Sam Saver", "password": "s3cure-pass"})
    assert resp.status_code == 201, resp.text
    return {"Authorization": f"Bearer {resp.json()['token']}"}


def _save(api: TestClient, headers: dict[str, str], product_id: int, quantity: int = 1) -> dict[str, Any]:
    added = api.post("/api/v1/cart/items", json={"product_id": product_id, "quantity": quantity},
                     headers=headers)
    assert added.status_code == 201, added.text
    resp = api.post(SAVED, json={"product_id": product_id}, headers=headers)
    assert resp.status_code == 201, resp.text
    return dict(resp.json())


def _saved(api: TestClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    resp = api.get(SAVED, headers=headers)
    assert resp.status_code == 200, resp.text
    return list(resp.json()["items"])


def _cart(api: TestClient, headers: dict[str, str]) -> dict[int, int]:
    return {line["product_id"]: line["quantity"]
            for line in api.get("/api/v1/cart", headers=headers).json()["items"]}


def _runner(settings: Settings) -> Any:
    return create_worker(settings, start_runner=False).state.runner


def _emails(settings: Settings) -> list[tuple[str, str, str]]:
    with Database(settings.database_url).session(write=False) as s:
        rows = s.scalars(select(EmailOutbox).where(EmailOutbox.template == TEMPLATE).order_by(EmailOutbox.id))
        return [(e.to_address, e.subject, e.body) for e in rows]


def test_saved_items_outlive_cart_expiry(
    api: TestClient, customer: dict[str, Any], settings: Settings
) -> None:
    h, product = customer["headers"], in_stock_product(api)
    item = _save(api, h, product["id"], quantity=2)
    past = utcnow() - dt.timedelta(days=1)
    with Database(settings.database_url).session() as s:
        s.execute(update(Cart).where(Cart.expires_at.is_not(None)).values(expires_at=past))
    _runner(settings).drain()  # the periodic cleanup deletes expired carts
    assert [(i["id"], i["product_id"], i["quantity"]) for i in _saved(api, h)] == [
        (item["id"], product["id"], 2)
    ]
    moved = api.post(f"{SAVED}/{item['id']}/move-to-cart", headers=h)
    assert moved.status_code == 200, moved.text
    assert _cart(api, h) == {product["id"]: 2}


def test_price_drop_job_emails_once_per_lower_price(
    api: TestClient, customer: dict[str, Any], admin_headers: dict[str, str], settings: Settings
) -> None:
    product = in_stock_product(api)
    other, browser = _register(api, "other@example.com"), _register(api, "browser@example.com")
    _save(api, customer["headers"], product["id"])
    _save(api, other, product["id"])
    api.post("/api/v1/cart/items", json={"product_id": product["id"]}, headers=browser)
    runner = _runner(settings)
    runner.drain()
    path = f"/api/v1/admin/products/{product['id']}"
    price = product["price_cents"]

    assert api.patch(path, json={"name": product["name"] + " II"}, headers=admin_headers).status_code == 200
    assert api.patch(path, json={"price_cents": price + 500}, headers=admin_headers).status_code == 200
    runner.drain()
    assert _emails(settings) == [], "only a lower price is news"

    lower = price - 200
    assert api.patch(path, json={"price_cents": lower}, headers=admin_headers).status_code == 200
    runner.drain()
    sent = _emails(settings)
    assert sorted(to for to, _, _ in sent) == ["jane@example.com", "other@example.com"]
    assert all(f"${lower / 100:,.2f}" in subject + body for _, subject, body in sent)
    item = _saved(api, customer["headers"])[0]
    assert (item["price_dropped"], item["notified_price_cents"]) == (True, lower)

    api.patch(path, json={"price_cents": price}, headers=admin_headers)
    api.patch(path, json={"price_cents": lower}, headers=admin_headers)  # the same price again
    runner.drain()
    assert len(_emails(settings)) == 2, "a customer hears about a price once"
    api.patch(path, json={"price_cents": lower - 300}, headers=admin_headers)
    runner.drain()
    assert len(_emails(settings)) == 4, "a further drop is news again"


def test_move_back_checks_stock_and_keeps_the_item_saved(
    api: TestClient, customer: dict[str, Any], admin_headers: dict[str, str]
) -> None:
    h, product = customer["headers"], in_stock_product(api)
    item = _save(api, h, product["id"])
    path = f"/api/v1/admin/products/{product['id']}"
    assert api.patch(path, json={"stock": 0}, headers=admin_headers).status_code == 200
    resp = api.post(f"{SAVED}/{item['id']}/move-to-cart", headers=h)
    assert resp.status_code == 409, resp.text
    assert resp.json()["error"]["code"] == "insufficient_stock"
    assert [(i["id"], i["in_stock"]) for i in _saved(api, h)] == [(item["id"], False)]
    assert _cart(api, h) == {}
    assert api.patch(path, json={"stock": 5}, headers=admin_headers).status_code == 200
    assert api.post(f"{SAVED}/{item['id']}/move-to-cart", headers=h).status_code == 200
    assert _cart(api, h) == {product["id"]: 1} and _saved(api, h) == []


def test_migration_adds_saved_items_after_0003(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    migrate.upgrade(url, OLD_HEAD)
    engine = create_engine(url)
    assert "saved_items" not in inspect(engine).get_table_names()
    migrate.upgrade(url)
    assert "saved_items" in inspect(engine).get_table_names()
    head = migrate.head_revision()
    assert head != OLD_HEAD
    manifest = yaml.safe_load((APP_ROOT / "services.yaml").read_text())
    assert manifest["migrations"]["head"] == head
    from alembic import command

    command.downgrade(migrate.alembic_config(url), OLD_HEAD)
    engine.dispose()
    assert "saved_items" not in inspect(create_engine(url)).get_table_names()


@pytest.fixture
def web(settings: Settings, payments_client: TestClient) -> Iterator[TestClient]:
    from acme.api import create_app as create_api
    from acme.web import create_app

    api_app = create_api(settings, payments_http=payments_client)
    app = create_app(settings.replace(api_url="http://api.internal"),
                     api_transport=httpx.ASGITransport(app=api_app))
    with TestClient(app, follow_redirects=False) as client:
        yield client


def test_cart_page_lists_saved_items_even_when_the_cart_is_empty(web: TestClient) -> None:
    resp = web.post("/register", data={"name": "Sam", "email": "sam@example.com", "password": "hunter2-long"})
    assert resp.status_code in (302, 303)
    listing = web.get("/products?sort=featured").text
    for product_id in dict.fromkeys(int(i) for i in re.findall(r'href="/products/(\d+)"', listing)):
        added = web.post("/cart/add", data={"product_id": product_id, "quantity": 1})
        if added.headers["location"].split("?")[0].endswith("/cart"):
            break  # in stock: it is in the cart now
    saved = web.post("/cart/save", data={"product_id": product_id})
    assert saved.status_code in (302, 303) and saved.headers["location"].split("?")[0].endswith("/cart")
    page = web.get("/cart").text
    assert 'id="saved-for-later"' in page
    section = page[page.index('id="saved-for-later"'):]
    assert f'href="/products/{product_id}"' in section
    item_id = re.findall(r'action="/cart/saved/(\d+)/move"', section)
    assert item_id, "no Move to cart form"
    assert f'action="/cart/saved/{item_id[0]}/remove"' in section
