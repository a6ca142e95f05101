"""Hidden tests run inside the monorepo at the deployed commit (its own conftest fixtures): the
storefront's product page against an in-process API, every API call it makes recorded."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from acme.common.settings import Settings
from tests.conftest import in_stock_product

CARDS = re.compile(r'href="/products/(\d+)"')


class Recorder(httpx.AsyncBaseTransport):
    """The web tier's transport to the API: records every path, can fail chosen ones."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.paths: list[str] = []
        self.failing: tuple[str, ...] = ()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.paths.append(path)
        if any(marker in path for marker in self.failing):
            return httpx.Response(500, json={"error": {"code": "internal_error", "message": "boom"}})
        return await self.inner.handle_async_request(request)


@pytest.fixture
def storefront(settings: Settings, api: TestClient) -> Iterator[tuple[TestClient, Recorder]]:
    from acme.web import create_app as create_web

    recorder = Recorder(httpx.ASGITransport(app=api.app))
    app = create_web(settings.replace(api_url="http://api.internal"), api_transport=recorder)
    with TestClient(app) as client:
        yield client, recorder


def _product_with_recommendations(api: TestClient) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    items = api.get("/api/v1/products?in_stock=true&page_size=50").json()["items"]
    for product in items:
        recs = api.get("/api/v1/recommendations", params={"product_id": product["id"], "limit": 12})
        assert recs.status_code == 200, recs.text
        if recs.json()["items"]:
            return product, recs.json()["items"]
    raise AssertionError("no seeded product has recommendations")


def test_product_page_shows_v2_recommendations_with_reasons(
    api: TestClient, storefront: tuple[TestClient, Recorder]
) -> None:
    web, recorder = storefront
    product, recs = _product_with_recommendations(api)
    page = web.get(f"/products/{product['id']}")
    assert page.status_code == 200, page.text[:500]
    shown = [int(i) for i in CARDS.findall(page.text)]
    v2 = {item["product"]["id"]: item["reason"] for item in recs}
    assert shown, "the product page shows no recommendations"
    assert set(shown) <= set(v2), f"cards {shown} are not recommendations v2 {sorted(v2)}"
    for pid in set(shown):
        assert v2[pid] in page.text, f"the reason {v2[pid]!r} for product {pid} is not shown"
    assert "/api/v1/recommendations" in recorder.paths
    assert not [p for p in recorder.paths if p.endswith("/related")], recorder.paths


def test_product_page_survives_a_recommendations_outage(
    api: TestClient, storefront: tuple[TestClient, Recorder]
) -> None:
    web, recorder = storefront
    product = in_stock_product(api)
    recorder.failing = ("/recommendations", "/related")
    page = web.get(f"/products/{product['id']}")
    assert page.status_code == 200, page.text[:500]
    assert product["name"] in page.text and "Reviews (" in page.text
    assert "You might also like" not in page.text


def test_legacy_related_route_answers_410_with_its_successor(api: TestClient) -> None:
    product = in_stock_product(api)
    resp = api.get(f"/api/v1/products/{product['id']}/related")
    assert resp.status_code == 410, resp.text
    assert resp.json()["error"]["code"] == "endpoint_removed"
    link = resp.headers.get("Link", "")
    assert f"/api/v1/recommendations?product_id={product['id']}" in link, link
    assert 'rel="successor-version"' in link, link


def test_flag_off_hides_the_section(
    api: TestClient, storefront: tuple[TestClient, Recorder], settings: Settings
) -> None:
    web, _ = storefront
    Path(settings.flags_file or "").write_text(json.dumps({"recommendations": False}))
    product = in_stock_product(api)
    page = web.get(f"/products/{product['id']}")
    assert page.status_code == 200
    assert "You might also like" not in page.text
