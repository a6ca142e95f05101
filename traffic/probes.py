"""Synthetic probes: the key flows checked every few seconds, as a canary would.

Each check is a short scripted sequence against the ingress with its own `requests` session;
its result and duration are exported as `probe_success{check}` and
`probe_duration_seconds{check}`. The checkout probe uses a customer no simulated user has.
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from collections.abc import Callable
from typing import IO

import requests

from traffic import metrics
from traffic.plan import CARD, CUSTOMER_PASSWORD, World

TIMEOUT = 10


class CheckFailed(Exception):
    pass


def _expect(resp: requests.Response, status: int, what: str) -> requests.Response:
    if resp.status_code != status:
        raise CheckFailed(f"{what}: HTTP {resp.status_code}, expected {status}")
    return resp


class Probes:
    def __init__(self, target: str, world: World, log: IO[str] = sys.stdout) -> None:
        self.target = target.rstrip("/")
        self.world = world
        self.log = log
        self.http = requests.Session()
        self.http.headers["User-Agent"] = "prodbench-probe"
        self.checks: dict[str, Callable[[], None]] = {
            "storefront_home": self.storefront_home,
            "product_page": self.product_page,
            "api_health": self.api_health,
            "checkout": self.checkout,
        }

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.http.get(self.target + path, timeout=TIMEOUT, **kwargs)

    def post(self, path: str, **kwargs) -> requests.Response:
        return self.http.post(self.target + path, timeout=TIMEOUT, **kwargs)

    def storefront_home(self) -> None:
        resp = _expect(self.get("/"), 200, "GET /")
        if "text/html" not in resp.headers.get("content-type", ""):
            raise CheckFailed("GET /: not HTML")

    def product_page(self) -> None:
        _expect(self.get(f"/products/{self.world.products[0]}"), 200, "GET /products/[id]")

    def api_health(self) -> None:
        body = _expect(self.get("/api/v1/store"), 200, "GET /api/v1/store").json()
        if not body.get("features", {}).get("checkout"):
            raise CheckFailed("the store reports checkout disabled")

    def checkout(self) -> None:
        session = _expect(
            self.post(
                "/api/v1/sessions",
                json={"email": self.world.probe_customer, "password": CUSTOMER_PASSWORD},
            ),
            201,
            "login",
        ).json()
        auth = {"Authorization": f"Bearer {session['token']}"}
        _expect(
            self.post(
                "/api/v1/cart/items",
                json={"product_id": self.world.products[0], "quantity": 1},
                headers=auth,
            ),
            201,
            "add to cart",
        )
        order = _expect(
            self.post(
                "/api/v1/orders",
                json={
                    "shipping_name": "Synthetic Probe",
                    "shipping_address": "1 Canary Wharf, London",
                    "card": CARD,
                },
                headers={**auth, "Idempotency-Key": f"probe-{uuid.uuid4()}"},
            ),
            201,
            "checkout",
        ).json()
        if order.get("status") not in ("paid", "confirmed", "processing", "shipped"):
            raise CheckFailed(f"checkout ended {order.get('status')!r}")

    def run_once(self) -> dict[str, bool]:
        results = {}
        for name, check in self.checks.items():
            started = time.monotonic()
            error = None
            try:
                check()
            except (CheckFailed, requests.RequestException, ValueError, KeyError) as exc:
                error = f"{type(exc).__name__}: {exc}"
            took = time.monotonic() - started
            metrics.PROBE_SUCCESS.labels(name).set(0 if error else 1)
            metrics.PROBE_DURATION.labels(name).set(took)
            metrics.PROBE_RUNS.labels(name, "fail" if error else "ok").inc()
            results[name] = error is None
            if error:
                record = {"event": "probe_failed", "check": name, "error": error}
                self.log.write(json.dumps(record) + "\n")
                self.log.flush()
        return results

    def run_forever(self, interval: float) -> None:
        while True:
            started = time.monotonic()
            self.run_once()
            time.sleep(max(0.0, interval - (time.monotonic() - started)))
