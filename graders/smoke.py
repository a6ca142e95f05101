"""Smoke journeys: the storefront's key paths, walked against production after the agent's work.

The same journeys for every task (the regression half of feature correctness): whatever the
task, a shopper must still be able to browse, search, open a product, log in, buy through
payments and see the order, and the JSON API must still answer its catalogue and search.

Each journey is a function `(client, world) -> None` that raises `JourneyFailed` saying which
step broke. Choices are fixed for a seed, never random: the product is the lowest-id active one
with stock to spare, the customer is the second seeded one (hidden tests' `customer_client` uses
the first; the traffic's users come from the last page of accounts), the search term is a word
of that product's name. Journeys only read, except checkout, which empties the smoke
customer's cart and buys one item, so live traffic cannot disturb them.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
from pydantic import BaseModel

ADMIN = ("admin@acme.test", "acme-admin-pw")
CUSTOMER_PASSWORD = "acme-customer-pw"
CARD = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}
ORDER_OK = ("paid", "confirmed", "processing", "shipped")
SPARE_STOCK = 20
TIMEOUT = 10.0
USER_AGENT = "prodbench-grader/smoke"


class JourneyFailed(Exception):
    """A step of a journey got something a working store would not answer."""


@dataclass(frozen=True)
class World:
    """The seeded choices the journeys make, read once from the store."""

    product: int
    product_name: str
    category: str
    term: str
    customers: tuple[str, ...]  # seeded customers' emails, by id; [0] is the tests', [1] smoke's

    @property
    def customer(self) -> str:
        return self.customers[1]


class JourneyResult(BaseModel):
    name: str
    ok: bool
    seconds: float
    error: str | None = None


Journey = Callable[[httpx.Client, World], None]


def expect(resp: httpx.Response, status: int | tuple[int, ...], what: str) -> httpx.Response:
    wanted = (status,) if isinstance(status, int) else status
    if resp.status_code not in wanted:
        body = resp.text[:200].replace("\n", " ")
        raise JourneyFailed(f"{what}: HTTP {resp.status_code}, expected {wanted[0]}: {body}")
    return resp


def expect_html(resp: httpx.Response, what: str) -> httpx.Response:
    expect(resp, 200, what)
    if "text/html" not in resp.headers.get("content-type", ""):
        raise JourneyFailed(f"{what}: not an HTML page")
    return resp


def api_login(client: httpx.Client, email: str, password: str) -> dict[str, str]:
    """Bearer headers for `email`, from `POST /api/v1/sessions` as every client logs in."""
    body = {"email": email, "password": password}
    resp = expect(client.post("/api/v1/sessions", json=body), 201, f"log in as {email}")
    return {"Authorization": f"Bearer {resp.json()['token']}"}


def seeded_customers(client: httpx.Client, count: int = 5) -> tuple[str, ...]:
    """The first seeded customers' emails (lowest ids), through the admin's user list."""
    auth = api_login(client, *ADMIN)
    resp = client.get("/api/v1/admin/users", params={"page_size": 20}, headers=auth)
    rows = sorted(expect(resp, 200, "list users").json()["items"], key=lambda u: u["id"])
    return tuple(u["email"] for u in rows if not u.get("is_admin"))[:count]


def read_world(client: httpx.Client) -> World:
    """The fixed choices: lowest-id product with spare stock, first category, seeded customers."""
    resp = client.get("/api/v1/products", params={"in_stock": "true", "page_size": 100})
    items = expect(resp, 200, "list products").json()["items"]
    spare = sorted((p for p in items if p["stock"] >= SPARE_STOCK), key=lambda p: p["id"])
    if not spare:
        raise JourneyFailed(f"no product on the first page has {SPARE_STOCK} in stock")
    product = spare[0]
    categories = expect(client.get("/api/v1/categories"), 200, "list categories").json()
    words = [w for w in product["name"].split() if w.isalpha() and len(w) > 3]
    customers = seeded_customers(client)
    if len(customers) < 2:
        raise JourneyFailed("fewer than two seeded customers")
    return World(
        product=product["id"],
        product_name=product["name"],
        category=min(c["slug"] for c in categories),
        term=(words or [product["name"].split()[0]])[-1].lower(),
        customers=customers,
    )


# ---- journeys -------------------------------------------------------------------------------


def home(client: httpx.Client, world: World) -> None:
    expect_html(client.get("/"), "GET /")


def listing(client: httpx.Client, world: World) -> None:
    expect_html(client.get("/products"), "GET /products")
    expect_html(client.get("/products", params={"category": world.category}), "GET /products?cat")


def search(client: httpx.Client, world: World) -> None:
    expect_html(client.get("/search", params={"q": world.term}), f"GET /search?q={world.term}")


def product_page(client: httpx.Client, world: World) -> None:
    expect_html(client.get(f"/products/{world.product}"), f"GET /products/{world.product}")


def api_catalog(client: httpx.Client, world: World) -> None:
    page = expect(client.get("/api/v1/products"), 200, "GET /api/v1/products").json()
    if not page["items"] or page["total"] < len(page["items"]):
        raise JourneyFailed(f"GET /api/v1/products: an empty or inconsistent page: {page}")
    one = client.get(f"/api/v1/products/{world.product}")
    if expect(one, 200, "GET /api/v1/products/[id]").json()["id"] != world.product:
        raise JourneyFailed(f"GET /api/v1/products/{world.product}: another product came back")
    expect(client.get("/api/v1/store"), 200, "GET /api/v1/store")


def api_search(client: httpx.Client, world: World) -> None:
    resp = client.get("/api/v1/search", params={"q": world.term})
    hits = expect(resp, 200, f"GET /api/v1/search?q={world.term}").json()["items"]
    if not hits:
        raise JourneyFailed(f"GET /api/v1/search?q={world.term}: no result for a catalogue word")


def web_login(client: httpx.Client, world: World) -> None:
    form = {"email": world.customer, "password": CUSTOMER_PASSWORD, "next": "/account"}
    resp = expect(client.post("/login", data=form), (302, 303), "POST /login")
    if "acme_session" not in resp.cookies:
        raise JourneyFailed("POST /login: no session cookie")
    expect_html(client.get("/account"), "GET /account")


def checkout(client: httpx.Client, world: World) -> None:
    """Empty the cart, add one item, pay with the test card, find the order in the history."""
    auth = api_login(client, world.customer, CUSTOMER_PASSWORD)
    expect(client.delete("/api/v1/cart", headers=auth), 200, "DELETE /api/v1/cart")
    item = {"product_id": world.product, "quantity": 1}
    expect(client.post("/api/v1/cart/items", json=item, headers=auth), 201, "add to cart")
    body = {"shipping_name": "Smoke Check", "shipping_address": "1 Grader Lane", "card": CARD}
    keyed = {**auth, "Idempotency-Key": f"smoke-{uuid.uuid4()}"}
    order = expect(client.post("/api/v1/orders", json=body, headers=keyed), 201, "checkout").json()
    if order.get("status") not in ORDER_OK:
        raise JourneyFailed(f"checkout: the order ended {order.get('status')!r}")
    history = client.get("/api/v1/orders", params={"page_size": 5}, headers=auth)
    ids = [o["id"] for o in expect(history, 200, "GET /api/v1/orders").json()["items"]]
    if order["id"] not in ids:
        raise JourneyFailed(f"order {order['id']} is not in the customer's latest orders {ids}")
    expect(client.get(f"/api/v1/orders/{order['id']}", headers=auth), 200, "GET the order")


JOURNEYS: dict[str, Journey] = {
    "home": home,
    "listing": listing,
    "search": search,
    "product_page": product_page,
    "api_catalog": api_catalog,
    "api_search": api_search,
    "login": web_login,
    "checkout": checkout,
}


def client_for(base_url: str, timeout: float = TIMEOUT) -> httpx.Client:
    return httpx.Client(
        base_url=base_url, timeout=timeout, headers={"User-Agent": USER_AGENT}, trust_env=False
    )


def run_journey(base_url: str, name: str, world: World) -> JourneyResult:
    """One journey on its own client (its own cookies), its failure caught and said."""
    started = time.monotonic()
    error = None
    try:
        with client_for(base_url) as client:
            JOURNEYS[name](client, world)
    except JourneyFailed as exc:
        error = str(exc)
    except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
        error = f"{type(exc).__name__}: {exc}"
    return JourneyResult(
        name=name, ok=error is None, seconds=round(time.monotonic() - started, 3), error=error
    )


def run_smoke(base_url: str, journeys: list[str] | None = None) -> list[JourneyResult]:
    """Every journey (or those named) against `base_url`, in parallel; one result each.

    When the store cannot even say what to walk (its catalogue or logins are broken), every
    journey fails with that reason.
    """
    names = list(JOURNEYS) if journeys is None else journeys
    try:
        with client_for(base_url) as client:
            world = read_world(client)
    except (JourneyFailed, httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
        reason = f"could not read the store's catalogue and customers: {exc}"
        return [JourneyResult(name=n, ok=False, seconds=0.0, error=reason) for n in names]
    with ThreadPoolExecutor(max_workers=len(names) or 1) as pool:
        return list(pool.map(lambda n: run_journey(base_url, n, world), names))
