"""Seeded locust user journeys against Acme's ingress.

One `HttpUser` class, `AcmeVisitor`, whose every iteration is one journey picked by weight from
the user's own seeded generator (see `plan.py`): a shopper browses the storefront, searches,
opens a product, adds it to the cart, checks out through payments with the test card and
looks at its order history; a reader browses and reads reviews; an account holder logs in
and looks at its profile; an admin lists orders. Picking the journey per iteration (rather
than weighting one user class per journey) keeps every journey in the mix at the few users a
2-core machine can spare. Importing this module imports locust, which monkey-patches the
process for gevent: only the traffic process imports it.
"""

from __future__ import annotations

import itertools
import json
import sys
import time
import uuid
from collections.abc import Callable
from typing import IO, Any, ClassVar

import gevent
from locust import HttpUser, task

from traffic import metrics
from traffic.plan import (
    ADMIN,
    CARD,
    CUSTOMER_PASSWORD,
    Plan,
    World,
    customer_for,
    plan_iteration,
    user_rng,
)

ORDER_OK = ("paid", "confirmed", "processing", "shipped")


class JourneyFailed(Exception):
    """A step got an unexpected response: the journey stops, the user carries on."""


class AcmeVisitor(HttpUser):
    """A visitor of the store; configure the class with `configure()` before spawning."""

    world: ClassVar[World | None] = None
    seed: ClassVar[int] = 0
    think_scale: ClassVar[float] = 1.0
    journey_log: ClassVar[IO[str]] = sys.stdout
    _indexes: ClassVar[itertools.count] = itertools.count()

    @classmethod
    def configure(
        cls, world: World, seed: int, think_scale: float = 1.0, journey_log: IO[str] = sys.stdout
    ) -> None:
        cls.world, cls.seed, cls.think_scale, cls.journey_log = (
            world,
            seed,
            think_scale,
            journey_log,
        )
        cls._indexes = itertools.count()

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        # Users are constructed one after another in spawn order, so indexes are reproducible.
        self.index = next(self._indexes)
        self.rng = user_rng(self.seed, self.index)
        self.customer = customer_for(self.world, self.seed, self.index)
        self.iteration = 0
        self.token: str | None = None
        self.admin_token: str | None = None
        self._pause = 0.0
        self.client.headers["User-Agent"] = f"prodbench-traffic/{self.index}"

    def wait_time(self) -> float:
        return self._pause

    def on_start(self) -> None:
        metrics.USERS.inc()

    def on_stop(self) -> None:
        metrics.USERS.dec()

    @task
    def journey(self) -> None:
        plan = plan_iteration(self.rng, self.world, self.index, self.iteration, self.think_scale)
        self.iteration += 1
        self._pause = plan.pause
        metrics.JOURNEYS.labels(plan.journey).inc()
        started = time.monotonic()
        error = None
        try:
            JOURNEYS[plan.journey](self, plan)
        except JourneyFailed as exc:
            error = str(exc)
            metrics.JOURNEY_FAILURES.labels(plan.journey).inc()
        record = {"event": "journey", "seed": self.seed, **plan.log_fields(), "ok": error is None}
        record["ms"] = round((time.monotonic() - started) * 1000)
        if error:
            record["error"] = error
        self.journey_log.write(json.dumps(record) + "\n")
        self.journey_log.flush()

    # ---- steps ----------------------------------------------------------------------------

    def call(
        self,
        method: str,
        path: str,
        *,
        name: str,
        expect: tuple[int, ...] = (200,),
        token: str | None = None,
        **kwargs: Any,
    ):
        headers = dict(kwargs.pop("headers", {}))
        if token:
            headers["Authorization"] = f"Bearer {token}"
        with self.client.request(
            method, path, name=name, headers=headers, catch_response=True, timeout=15, **kwargs
        ) as resp:
            ok = resp.status_code in expect
            if ok:
                resp.success()
            else:
                resp.failure(f"{method} {name}: HTTP {resp.status_code}, expected {expect}")
        if not ok:
            if resp.status_code == 401:
                self.token = self.admin_token = None  # log in again next time
            raise JourneyFailed(f"{method} {name}: HTTP {resp.status_code}")
        return resp

    def think(self, plan: Plan, step: int) -> None:
        gevent.sleep(plan.think[step % len(plan.think)])

    def login(self, email: str, password: str) -> str:
        resp = self.call(
            "POST",
            "/api/v1/sessions",
            name="/api/v1/sessions",
            expect=(201,),
            json={"email": email, "password": password},
        )
        return resp.json()["token"]

    def customer_token(self) -> str:
        if self.token is None:
            self.token = self.login(self.customer, CUSTOMER_PASSWORD)
        return self.token


def shopper(user: AcmeVisitor, plan: Plan) -> None:
    user.call("GET", "/", name="/")
    user.think(plan, 0)
    user.call("GET", f"/products?category={plan.category}&page=1", name="/products?category")
    user.think(plan, 1)
    user.call("GET", f"/search?q={plan.query}", name="/search")
    user.think(plan, 2)
    user.call("GET", f"/products/{plan.product}", name="/products/[id]")
    user.think(plan, 3)
    token = user.customer_token()
    user.call(
        "POST",
        "/api/v1/cart/items",
        name="/api/v1/cart/items",
        expect=(201,),
        token=token,
        json={"product_id": plan.product, "quantity": plan.quantity},
    )
    user.think(plan, 4)
    try:
        resp = user.call(
            "POST",
            "/api/v1/orders",
            name="/api/v1/orders",
            expect=(201,),
            token=token,
            headers={"Idempotency-Key": f"traffic-{uuid.uuid4()}"},
            json={
                "shipping_name": f"Traffic Shopper {user.index}",
                "shipping_address": f"{plan.page} Load Street, Testville",
                "card": CARD,
            },
        )
    except JourneyFailed:
        metrics.CHECKOUTS.labels("failed").inc()
        raise
    status = resp.json().get("status")
    if status not in ORDER_OK:
        metrics.CHECKOUTS.labels("failed").inc()
        raise JourneyFailed(f"checkout ended {status!r}")
    metrics.CHECKOUTS.labels("ok").inc()
    user.think(plan, 5)
    user.call("GET", "/api/v1/orders?page_size=5", name="/api/v1/orders", token=token)


def reader(user: AcmeVisitor, plan: Plan) -> None:
    user.call("GET", "/", name="/")
    user.think(plan, 0)
    user.call(
        "GET", f"/products?category={plan.category}&page={plan.page}", name="/products?category"
    )
    user.think(plan, 1)
    user.call("GET", f"/products/{plan.product}", name="/products/[id]")
    user.think(plan, 2)
    user.call(
        "GET",
        f"/api/v1/products/{plan.product}/reviews?page={plan.page}&page_size=10",
        name="/api/v1/products/[id]/reviews",
    )


def account(user: AcmeVisitor, plan: Plan) -> None:
    user.token = user.login(user.customer, CUSTOMER_PASSWORD)
    user.think(plan, 0)
    user.call("GET", "/api/v1/users/me", name="/api/v1/users/me", token=user.token)
    user.think(plan, 1)
    user.call("GET", "/api/v1/orders?page_size=5", name="/api/v1/orders", token=user.token)
    user.think(plan, 2)
    user.call("GET", "/api/v1/cart", name="/api/v1/cart", token=user.token)


def admin(user: AcmeVisitor, plan: Plan) -> None:
    if user.admin_token is None:
        user.admin_token = user.login(*ADMIN)
    user.call(
        "GET",
        f"/api/v1/admin/orders?page={plan.page}&page_size=20",
        name="/api/v1/admin/orders",
        token=user.admin_token,
    )
    user.think(plan, 0)
    user.call("GET", "/api/v1/admin/stats", name="/api/v1/admin/stats", token=user.admin_token)


JOURNEYS: dict[str, Callable[[AcmeVisitor, Plan], None]] = {
    "shopper": shopper,
    "reader": reader,
    "account": account,
    "admin": admin,
}
