"""What the simulated users will do, decided before they do it: the seeded part of traffic.

Every random choice a user makes (which journey, which category, query and product, how many,
how long it thinks) is drawn here from that user's own `random.Random(f"{seed}:{index}")`, and
all of an iteration's draws are made up front, whatever the journey and whatever the responses
turn out to be. So a user's sequence of plans depends only on the seed, its index and the
run's seeded catalogue, never on timing or failures. No locust import: nothing here needs gevent.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

import requests

# Journey -> weight: how often a user picks it on each iteration.
JOURNEY_WEIGHTS: dict[str, int] = {"shopper": 5, "reader": 3, "account": 2, "admin": 1}
SEARCH_TERMS = (
    "jacket",
    "headphones",
    "running",
    "coffee",
    "lamp",
    "backpack",
    "desk",
    "bottle",
    "wireless",
    "cotton",
    "kettle",
    "yoga",
)
ADMIN = ("admin@acme.test", "acme-admin-pw")
CUSTOMER_PASSWORD = "acme-customer-pw"
CARD = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}
THINK_STEPS = 6  # think times drawn per iteration, whether the journey uses them all or not


@dataclass(frozen=True)
class World:
    """The seeded run as the traffic sees it, read once at start."""

    products: tuple[int, ...]  # in-stock product ids, ascending
    categories: tuple[str, ...]  # category slugs, ascending
    customers: tuple[str, ...]  # the simulated users' logins (emails)
    probe_customer: str  # the synthetic checks' own customer, never a simulated user's


@dataclass(frozen=True)
class Plan:
    index: int
    iteration: int
    journey: str
    category: str
    query: str
    product: int
    quantity: int
    page: int
    think: tuple[float, ...]  # pauses between a journey's steps, seconds
    pause: float  # pause after the journey, seconds

    def log_fields(self) -> dict[str, object]:
        return {
            "user": self.index,
            "iteration": self.iteration,
            "journey": self.journey,
            "product": self.product,
            "query": self.query,
            "category": self.category,
        }


def user_rng(seed: int, index: int) -> random.Random:
    return random.Random(f"{seed}:{index}")


def customer_for(world: World, seed: int, index: int) -> str:
    """Distinct customers for distinct users (up to the pool's size), offset by the seed."""
    offset = random.Random(f"{seed}:customers").randrange(len(world.customers))
    return world.customers[(offset + index) % len(world.customers)]


def plan_iteration(
    rng: random.Random, world: World, index: int, iteration: int, think_scale: float = 1.0
) -> Plan:
    names = list(JOURNEY_WEIGHTS)
    journey = rng.choices(names, weights=[JOURNEY_WEIGHTS[n] for n in names])[0]
    category = rng.choice(world.categories)
    query = rng.choice(SEARCH_TERMS)
    product = world.products[rng.randrange(len(world.products))]
    quantity = rng.randint(1, 3)
    page = rng.randint(1, 3)
    think = tuple(round(rng.uniform(0.1, 0.6) * think_scale, 3) for _ in range(THINK_STEPS))
    pause = round(rng.uniform(0.5, 2.0) * think_scale, 3)
    return Plan(index, iteration, journey, category, query, product, quantity, page, think, pause)


class WorldUnavailable(RuntimeError):
    pass


def load_world(target: str, timeout: float = 60.0, pool: int = 50) -> World:
    """Read the catalogue and customers through the ingress, retrying until `timeout`.

    The customers come from the last page of the admin's user list (the newest seeded
    accounts), away from the first ones that people and tests reach for.
    """
    deadline = time.monotonic() + timeout
    last_error = "no attempt"
    while True:
        try:
            return _read_world(target.rstrip("/"), pool)
        except (requests.RequestException, KeyError, ValueError, IndexError) as exc:
            last_error = f"{type(exc).__name__}: {exc}"
        if time.monotonic() > deadline:
            raise WorldUnavailable(f"could not read the catalogue at {target}: {last_error}")
        time.sleep(0.5)


def _read_world(target: str, pool: int) -> World:
    with requests.Session() as http:
        http.headers["User-Agent"] = "prodbench-traffic/setup"
        resp = http.post(
            f"{target}/api/v1/sessions",
            json={"email": ADMIN[0], "password": ADMIN[1]},
            timeout=10,
        )
        resp.raise_for_status()
        auth = {"Authorization": f"Bearer {resp.json()['token']}"}
        first = http.get(
            f"{target}/api/v1/admin/users", params={"page_size": 1}, headers=auth, timeout=10
        )
        first.raise_for_status()
        total = first.json()["total"]
        size = 100
        last_page = max(1, -(-total // size))
        users = http.get(
            f"{target}/api/v1/admin/users",
            params={"page_size": size, "page": last_page},
            headers=auth,
            timeout=10,
        )
        users.raise_for_status()
        rows = sorted(users.json()["items"], key=lambda u: u["id"])
        emails = [u["email"] for u in rows if not u.get("is_admin")]
        if len(emails) < 2:
            raise ValueError(f"only {len(emails)} customers on the last page of users")
        emails = emails[-(pool + 1) :]
        products = http.get(
            f"{target}/api/v1/products",
            params={"in_stock": "true", "sort": "price_asc", "page_size": 100},
            timeout=10,
        )
        products.raise_for_status()
        ids = sorted(p["id"] for p in products.json()["items"] if p.get("in_stock"))
        if not ids:
            raise ValueError("no product in stock")
        categories = http.get(f"{target}/api/v1/categories", timeout=10)
        categories.raise_for_status()
        slugs = sorted(c["slug"] for c in categories.json())
        return World(
            products=tuple(ids),
            categories=tuple(slugs),
            customers=tuple(emails[1:]),
            probe_customer=emails[0],
        )
