"""Hidden tests against production (through the ingress) under live traffic: the storefront's
product page runs on recommendations v2, nothing calls the legacy route any more, and the
legacy route is gone. The Prometheus checks come first: the last test calls the legacy route
itself."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import httpx

LEGACY = "/api/v1/products/{product_id}/related"
SUCCESSOR = "/api/v1/recommendations"
CARDS = re.compile(r'href="/products/(\d+)"')
WINDOW = "45s"

Prom = Callable[[str], list[dict[str, Any]]]


def _total(prometheus: Prom, query: str) -> float:
    return sum(float(row["value"][1]) for row in prometheus(query))


def _api_calls(prometheus: Prom, route: str) -> float:
    return _total(
        prometheus, f'sum(increase(http_requests_total{{service="api",route="{route}"}}[{WINDOW}]))'
    )


def _recommended(acme: httpx.Client) -> tuple[int, dict[int, str]]:
    items = acme.get("/api/v1/products", params={"in_stock": "true", "page_size": 50}).json()["items"]
    for product in items:
        resp = acme.get(SUCCESSOR, params={"product_id": product["id"], "limit": 12})
        assert resp.status_code == 200, resp.text
        recs = resp.json()["items"]
        if recs:
            return product["id"], {r["product"]["id"]: r["reason"] for r in recs}
    raise AssertionError("no product in the first page has recommendations")


def test_no_caller_reaches_the_legacy_route(prometheus: Prom) -> None:
    # Live traffic opens product pages every few seconds (and the synthetic probe every 5 s):
    # they must reach the api through the successor, never the legacy route.
    deadline = time.monotonic() + 30
    while True:
        legacy = _api_calls(prometheus, LEGACY)
        successor = _api_calls(prometheus, SUCCESSOR)
        if legacy == 0 and successor > 0 or time.monotonic() > deadline:
            break
        time.sleep(3)
    assert legacy == 0, f"{legacy:.0f} requests reached {LEGACY} in the last {WINDOW}"
    assert successor > 0, f"no request reached {SUCCESSOR} in the last {WINDOW}: who calls it?"


def test_product_pages_kept_serving(prometheus: Prom) -> None:
    # A blip while the last deploy swapped instances may still be in the window: give it time.
    deadline = time.monotonic() + 45
    while True:
        served = _total(
            prometheus,
            'sum(increase(http_requests_total{service="web",route="/products/{product_id}",'
            f'status="200"}}[{WINDOW}]))',
        )
        failed = _total(
            prometheus,
            'sum(increase(http_requests_total{service="web",route="/products/{product_id}",'
            f'status!="200"}}[{WINDOW}]))',
        )
        if served > 0 and failed < 1 or time.monotonic() > deadline:
            break
        time.sleep(3)
    assert served > 0, "no product page was served to traffic"
    assert failed < 1, f"{failed:.0f} product pages failed in the last {WINDOW}"


def test_storefront_product_page_shows_v2_recommendations(acme: httpx.Client) -> None:
    product_id, v2 = _recommended(acme)
    page = acme.get(f"/products/{product_id}")
    assert page.status_code == 200, page.text[:500]
    shown = {int(i) for i in CARDS.findall(page.text)}
    assert shown, "the product page shows no recommendations"
    assert shown <= set(v2), f"cards {sorted(shown)} are not recommendations v2 {sorted(v2)}"
    for pid in shown:
        assert v2[pid] in page.text, f"the reason {v2[pid]!r} for product {pid} is not shown"


def test_legacy_route_answers_410_gone(acme: httpx.Client) -> None:
    product_id, _ = _recommended(acme)
    resp = acme.get(f"/api/v1/products/{product_id}/related")
    assert resp.status_code == 410, resp.text
    assert resp.json()["error"]["code"] == "endpoint_removed"
    link = resp.headers.get("link", "")
    assert f"{SUCCESSOR}?product_id={product_id}" in link, link
