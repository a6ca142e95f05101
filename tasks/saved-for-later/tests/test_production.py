"""Hidden tests against production, through the ingress, concurrent with live traffic and the
smoke journeys. Every test registers its own customers (their carts and saved lists are the
test's alone) and uses its own products, picked from the newest in-stock ones so the smoke
journeys' product (the lowest id) is never touched; the one test that lowers a price puts it
back."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from environments.ops.deployer.build import migration_heads
from graders.devops import database_revisions
from graders.runview import RunView

Query = Callable[..., list[tuple[Any, ...]]]

SAVED = "/api/v1/saved-items"
CARD = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2031, "cvc": "123"}
OLD_HEAD = "0003_admin_refunds_events"
CART_KEYS = {"items", "item_count", "subtotal_cents", "shipping_cents", "tax_cents", "total_cents",
             "currency"}
LINE_KEYS = {"product_id", "name", "slug", "unit_price_cents", "quantity", "line_total_cents",
             "in_stock"}
ITEM_KEYS = {"id", "product_id", "name", "quantity", "unit_price_cents", "saved_price_cents",
             "price_dropped", "notified_price_cents", "in_stock", "saved_at"}


# ---- helpers ---------------------------------------------------------------------------------


class Customer:
    def __init__(self, acme: httpx.Client) -> None:
        self.email = f"saver-{uuid.uuid4().hex[:10]}@example.com"
        resp = acme.post("/api/v1/users", json={"email": self.email, "name": "Sam Saver",
                                                "password": "s3cure-pass-123"})
        assert resp.status_code == 201, resp.text
        self.token = resp.json()["token"]
        self.headers = {"Authorization": f"Bearer {self.token}"}
        self.acme = acme

    def get(self, path: str) -> httpx.Response:
        return self.acme.get(path, headers=self.headers)

    def post(self, path: str, **kw: Any) -> httpx.Response:
        return self.acme.post(path, headers={**self.headers, **kw.pop("headers", {})}, **kw)

    def delete(self, path: str) -> httpx.Response:
        return self.acme.delete(path, headers=self.headers)

    def add(self, product_id: int, quantity: int = 1) -> dict[str, Any]:
        resp = self.post("/api/v1/cart/items", json={"product_id": product_id, "quantity": quantity})
        assert resp.status_code == 201, resp.text
        return resp.json()

    def cart(self) -> dict[int, int]:
        resp = self.get("/api/v1/cart")
        assert resp.status_code == 200, resp.text
        return {line["product_id"]: line["quantity"] for line in resp.json()["items"]}

    def saved(self) -> list[dict[str, Any]]:
        resp = self.get(SAVED)
        assert resp.status_code == 200, resp.text
        return list(resp.json()["items"])

    def save(self, product_id: int) -> dict[str, Any]:
        resp = self.post(SAVED, json={"product_id": product_id})
        assert resp.status_code == 201, resp.text
        return dict(resp.json())

    def web(self) -> httpx.Client:
        return httpx.Client(base_url=str(self.acme.base_url), cookies={"acme_session": self.token},
                            timeout=15.0, trust_env=False, follow_redirects=False)


@pytest.fixture(scope="module")
def products(acme_url: str) -> list[dict[str, Any]]:
    """Newest in-stock products with stock to spare, by id; each test takes its own slice."""
    with httpx.Client(base_url=acme_url, timeout=15.0, trust_env=False) as client:
        resp = client.get("/api/v1/products", params={"in_stock": "true", "sort": "newest",
                                                      "page_size": 48})
        assert resp.status_code == 200, resp.text
    items = sorted((p for p in resp.json()["items"] if p["stock"] >= 30), key=lambda p: p["id"])
    assert len(items) >= 12, "not enough products in stock to test with"
    return items[-12:]


def _eventually(check: Callable[[], Any], timeout: float = 90.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.5)


class Page(HTMLParser):
    """The forms of a page and the text inside the element with id="saved-for-later"."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[dict[str, Any]] = []
        self.saved_found = False
        self._saved_text: list[str] = []
        self._saved_tag: str | None = None
        self._level = 0
        self._form: dict[str, Any] | None = None
        self.feed(html)
        self.close()

    @property
    def saved_text(self) -> str:
        return " ".join(" ".join(self._saved_text).split())

    def saved_forms(self) -> list[dict[str, Any]]:
        return [f for f in self.forms if f["saved"]]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if self._level:
            if tag == self._saved_tag:
                self._level += 1
        elif a.get("id") == "saved-for-later":
            self.saved_found, self._saved_tag, self._level = True, tag, 1
        if tag == "form":
            self._form = {"action": a.get("action", ""), "method": a.get("method", "get").lower(),
                          "fields": {}, "saved": bool(self._level)}
            self.forms.append(self._form)
        elif tag in ("input", "button", "select") and self._form is not None and a.get("name"):
            self._form["fields"][a["name"]] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        if self._level and tag == self._saved_tag:
            self._level -= 1

    def handle_data(self, data: str) -> None:
        if self._level:
            self._saved_text.append(data)


def _cart_page(web: httpx.Client) -> Page:
    resp = web.get("/cart")
    assert resp.status_code == 200, f"/cart answered {resp.status_code}: {resp.text[:300]}"
    return Page(resp.text)


def _posted_back_to_cart(resp: httpx.Response, what: str) -> None:
    assert resp.status_code in (302, 303), f"{what}: {resp.status_code} {resp.text[:300]}"
    assert resp.headers["location"].split("?")[0].endswith("/cart"), resp.headers["location"]


# ---- the schema --------------------------------------------------------------------------------


def test_saved_items_table_is_live_at_head(
    run_view: RunView, workspace: Path, app_db: Query
) -> None:
    heads = migration_heads(workspace / "migrations" / "versions")
    assert heads and OLD_HEAD not in heads, f"no new migration after {OLD_HEAD}: heads {heads}"
    url = run_view.deployer_config().database_url
    assert database_revisions(url) == heads, "production is not at head"
    manifest = yaml.safe_load((workspace / "services.yaml").read_text())
    assert {manifest["migrations"]["head"]} == heads, "services.yaml's migration head is stale"
    if url.startswith("sqlite"):
        columns = {row[1] for row in app_db("PRAGMA table_info(saved_items)")}
    else:
        columns = {row[0] for row in app_db(
            "SELECT column_name FROM information_schema.columns WHERE table_name = :t",
            t="saved_items")}
    assert columns >= {"user_id", "product_id", "quantity", "saved_price_cents",
                       "notified_price_cents"}, f"saved_items columns: {sorted(columns)}"


# ---- the API -----------------------------------------------------------------------------------


def test_save_list_move_back_and_delete(acme: httpx.Client, products: list[dict[str, Any]]) -> None:
    shopper, product = Customer(acme), products[0]
    pid = product["id"]
    line = next(line for line in shopper.add(pid, 2)["items"] if line["product_id"] == pid)
    assert acme.get(SAVED).status_code == 401

    item = shopper.save(pid)
    assert ITEM_KEYS <= item.keys(), f"missing fields: {sorted(ITEM_KEYS - item.keys())}"
    assert (item["product_id"], item["quantity"]) == (pid, 2)
    assert item["saved_price_cents"] == item["unit_price_cents"] == line["unit_price_cents"]
    assert item["price_dropped"] is False and item["notified_price_cents"] is None
    assert pid not in shopper.cart(), "the line must leave the cart"
    assert [(i["id"], i["product_id"], i["quantity"]) for i in shopper.saved()] == [(item["id"], pid, 2)]

    moved = shopper.post(f"{SAVED}/{item['id']}/move-to-cart")
    assert moved.status_code == 200, moved.text
    assert {line["product_id"]: line["quantity"] for line in moved.json()["items"]} == {pid: 2}
    assert shopper.saved() == [] and shopper.cart() == {pid: 2}

    again = shopper.save(pid)
    removed = shopper.delete(f"{SAVED}/{again['id']}")
    assert removed.status_code in (200, 204), removed.text
    assert shopper.saved() == [] and shopper.cart() == {}
    assert shopper.delete(f"{SAVED}/{again['id']}").status_code == 404
    missing = shopper.post(SAVED, json={"product_id": pid})
    assert missing.status_code == 404, f"saving a product not in the cart: {missing.status_code}"


def test_customers_only_see_and_change_their_own_saved_items(
    acme: httpx.Client, products: list[dict[str, Any]]
) -> None:
    alice, bob = Customer(acme), Customer(acme)
    pid = products[1]["id"]
    alice.add(pid)
    item = alice.save(pid)
    assert all(i["id"] != item["id"] for i in bob.saved()), "Bob sees Alice's saved item"
    for resp in (bob.post(f"{SAVED}/{item['id']}/move-to-cart"), bob.delete(f"{SAVED}/{item['id']}")):
        assert resp.status_code in (403, 404), f"{resp.request.method} {resp.request.url.path}: {resp.status_code}"
    assert pid not in bob.cart(), "Bob moved Alice's item into his cart"
    with bob.web() as web:
        web.post(f"/cart/saved/{item['id']}/remove")
        web.post(f"/cart/saved/{item['id']}/move")
    assert pid not in bob.cart()
    assert [i["id"] for i in alice.saved()] == [item["id"]], "Alice's item must be untouched"
    assert acme.delete(f"{SAVED}/{item['id']}").status_code == 401


def test_checkout_buys_only_the_cart_and_keeps_saved_items(
    acme: httpx.Client, products: list[dict[str, Any]]
) -> None:
    shopper = Customer(acme)
    buy, keep = products[2]["id"], products[3]["id"]
    shopper.add(buy)
    shopper.add(keep, 2)
    item = shopper.save(keep)
    order = shopper.post("/api/v1/orders", json={"shipping_name": "Sam Saver",
                                                 "shipping_address": "1 Main St, Portland",
                                                 "card": CARD},
                         headers={"Idempotency-Key": uuid.uuid4().hex})
    assert order.status_code == 201, order.text
    assert order.json()["status"] == "paid"
    assert [(i["product_id"], i["quantity"]) for i in order.json()["items"]] == [(buy, 1)]
    assert shopper.cart() == {}
    assert [(i["id"], i["quantity"]) for i in shopper.saved()] == [(item["id"], 2)]


def test_cart_api_is_backward_compatible(acme: httpx.Client, products: list[dict[str, Any]]) -> None:
    shopper, pid = Customer(acme), products[4]["id"]
    added = shopper.add(pid)
    assert CART_KEYS <= added.keys() and LINE_KEYS <= added["items"][0].keys()
    updated = shopper.acme.put(f"/api/v1/cart/items/{pid}", json={"quantity": 2}, headers=shopper.headers)
    assert updated.status_code == 200 and updated.json()["item_count"] == 2
    view = shopper.get("/api/v1/cart")
    assert view.status_code == 200 and CART_KEYS <= view.json().keys()
    removed = shopper.acme.delete(f"/api/v1/cart/items/{pid}", headers=shopper.headers)
    assert removed.status_code == 200 and removed.json()["items"] == []
    shopper.add(pid)
    cleared = shopper.delete("/api/v1/cart")
    assert cleared.status_code == 200 and cleared.json()["items"] == []


# ---- the worker --------------------------------------------------------------------------------


def test_price_drop_emails_the_customers_who_saved_the_product(
    acme: httpx.Client, admin_client: httpx.Client, app_db: Query,
    products: list[dict[str, Any]],
) -> None:
    saver, browser = Customer(acme), Customer(acme)
    product = products[5]
    pid = product["id"]
    price = next(line for line in saver.add(pid)["items"] if line["product_id"] == pid)["unit_price_cents"]
    saver.save(pid)
    browser.add(pid)  # in the cart, not saved: no email
    lower = price - max(100, price // 10)
    path = f"/api/v1/admin/products/{pid}"
    try:
        resp = admin_client.patch(path, json={"price_cents": lower})
        assert resp.status_code == 200, resp.text

        def notified() -> bool:
            items = saver.saved()
            return bool(items) and items[0].get("notified_price_cents") == lower

        assert _eventually(notified), f"the saved item was not marked notified: {saver.saved()}"
        assert saver.saved()[0]["price_dropped"] is True
        rows = app_db("SELECT to_address, subject, body FROM email_outbox WHERE template = :t "
                      "AND to_address IN (:a, :b)", t="saved_item_price_drop", a=saver.email,
                      b=browser.email)
        assert [r[0] for r in rows] == [saver.email], f"price-drop emails: {[r[0] for r in rows]}"
        text = f"{rows[0][1]}\n{rows[0][2]}"
        assert product["name"] in text and f"${lower / 100:,.2f}" in text, text
    finally:
        admin_client.patch(path, json={"price_cents": price})


# ---- the storefront ----------------------------------------------------------------------------


def test_cart_page_shows_saved_for_later_and_its_actions_work(
    acme: httpx.Client, products: list[dict[str, Any]]
) -> None:
    shopper, product = Customer(acme), products[6]
    pid = product["id"]
    shopper.add(pid)
    with shopper.web() as web:
        page = _cart_page(web)
        assert any(f["action"] == "/cart/save" and f["method"] == "post"
                   and f["fields"].get("product_id") == str(pid) for f in page.forms), \
            "no Save for later form for the cart line"
        _posted_back_to_cart(web.post("/cart/save", data={"product_id": pid}), "save for later")
        assert pid not in shopper.cart()
        [item] = shopper.saved()

        page = _cart_page(web)
        assert page.saved_found, 'the cart page has no element with id="saved-for-later"'
        assert product["name"] in page.saved_text, page.saved_text[:300]
        actions = {f["action"] for f in page.saved_forms() if f["method"] == "post"}
        move, remove = f"/cart/saved/{item['id']}/move", f"/cart/saved/{item['id']}/remove"
        assert {move, remove} <= actions, f"saved-for-later forms: {sorted(actions)}"

        _posted_back_to_cart(web.post(move), "move to cart")
        assert shopper.cart() == {pid: 1} and shopper.saved() == []
        page = _cart_page(web)
        assert product["name"] not in page.saved_text

        again = shopper.save(pid)
        page = _cart_page(web)
        assert f"/cart/saved/{again['id']}/remove" in {f["action"] for f in page.saved_forms()}
        _posted_back_to_cart(web.post(f"/cart/saved/{again['id']}/remove"), "remove")
        assert shopper.saved() == [] and shopper.cart() == {}
