"""Hidden tests against production (through the ingress): every product page renders and the
recommendations endpoint answers, for a wide sample of products."""

from __future__ import annotations

import httpx


def _product_ids(acme: httpx.Client, pages: int = 3) -> list[int]:
    ids: list[int] = []
    for page in range(1, pages + 1):
        resp = acme.get("/api/v1/products", params={"page": page, "page_size": 50,
                                                    "sort": "featured"})
        assert resp.status_code == 200, resp.text
        ids += [p["id"] for p in resp.json()["items"]]
    return ids


def test_production_related_never_errors(acme: httpx.Client) -> None:
    failures = {}
    for pid in _product_ids(acme):
        resp = acme.get(f"/api/v1/products/{pid}/related")
        if resp.status_code != 200:
            failures[pid] = resp.status_code
        else:
            assert all(p["is_active"] and p["id"] != pid for p in resp.json())
    assert not failures, f"/related failed for {len(failures)} products: {failures}"


def test_production_product_pages_render(acme: httpx.Client) -> None:
    failures = {}
    for pid in _product_ids(acme):
        resp = acme.get(f"/products/{pid}")
        if resp.status_code != 200 or "Reviews (" not in resp.text:
            failures[pid] = resp.status_code
    assert not failures, f"{len(failures)} product pages failed: {failures}"
