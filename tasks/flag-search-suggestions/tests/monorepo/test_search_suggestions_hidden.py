"""Hidden tests run inside the monorepo at the deployed commit (its own conftest fixtures):
search suggestions behind the `search_suggestions` flag, against the in-process apps."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from acme.common.settings import Settings
from acme.seed.generator import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.conftest import login

CONTRACT = {"items", "page", "page_size", "total", "query", "ranking"}


def _mode(settings: Settings, value: str) -> None:
    Path(settings.flags_file or "").write_text(json.dumps({"search_suggestions": value}))


def _term(api: TestClient) -> str:
    """A word that several product names share (the most common one)."""
    counts: dict[str, int] = {}
    for page in (1, 2):
        for p in api.get(f"/api/v1/products?page_size=100&page={page}").json()["items"]:
            for word in {w.lower() for w in p["name"].split() if w.isalpha() and len(w) > 3}:
                counts[word] = counts.get(word, 0) + 1
    return max(sorted(counts), key=lambda w: counts[w])


def _search(api: TestClient, q: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    resp = api.get("/api/v1/search", params={"q": q, "page_size": 5}, headers=headers or {})
    assert resp.status_code == 200, resp.text
    return resp.json()


def _check_suggestions(body: dict[str, Any], q: str) -> list[str]:
    assert "suggestions" in body, f"no suggestions in {sorted(body)}"
    got = body["suggestions"]
    assert isinstance(got, list) and 1 <= len(got) <= 5, got
    assert all(isinstance(s, str) for s in got)
    assert len(set(got)) == len(got), f"duplicates: {got}"
    for s in got:
        assert all(t in s.lower() for t in q.lower().split()), f"{s!r} does not contain {q!r}"
    return got


def test_all_mode_gives_everyone_suggestions(
    api: TestClient, customer: dict[str, Any], settings: Settings
) -> None:
    _mode(settings, "all")
    q = _term(api)
    _check_suggestions(_search(api, q), q)
    _check_suggestions(_search(api, q, customer["headers"]), q)
    body = _search(api, q, login(api, ADMIN_EMAIL, ADMIN_PASSWORD))
    _check_suggestions(body, q)
    assert set(body) == CONTRACT | {"suggestions"}


def test_staff_mode_is_for_admins_only(
    api: TestClient, customer: dict[str, Any], settings: Settings
) -> None:
    _mode(settings, "staff")
    q = _term(api)
    _check_suggestions(_search(api, q, login(api, ADMIN_EMAIL, ADMIN_PASSWORD)), q)
    for body in (_search(api, q), _search(api, q, customer["headers"])):
        assert set(body) == CONTRACT, f"the payload changed for non-staff: {sorted(body)}"


def test_off_keeps_the_contract_for_everyone(
    api: TestClient, customer: dict[str, Any], settings: Settings
) -> None:
    _mode(settings, "off")
    q = _term(api)
    for headers in (None, customer["headers"], login(api, ADMIN_EMAIL, ADMIN_PASSWORD)):
        assert set(_search(api, q, headers)) == CONTRACT


def test_suggestions_skip_delisted_products(api: TestClient, settings: Settings) -> None:
    _mode(settings, "all")
    admin = login(api, ADMIN_EMAIL, ADMIN_PASSWORD)
    q = _term(api)
    first = _check_suggestions(_search(api, q, admin), q)[0]
    hits = api.get("/api/v1/search", params={"q": first, "page_size": 100}).json()["items"]
    for hit in hits:
        if hit["product"]["name"] == first:
            resp = api.patch(f"/api/v1/admin/products/{hit['product']['id']}",
                             json={"is_active": False}, headers=admin)
            assert resp.status_code == 200, resp.text
    assert first not in _search(api, q, admin).get("suggestions", [])


@pytest.fixture
def shop(settings: Settings, payments_client: TestClient) -> Iterator[tuple[TestClient, TestClient]]:
    from acme.api import create_app as create_api
    from acme.web import create_app

    api_app = create_api(settings, payments_http=payments_client)
    app = create_app(settings.replace(api_url="http://api.internal"),
                     api_transport=httpx.ASGITransport(app=api_app))
    with TestClient(app) as web, TestClient(api_app) as api:
        yield web, api


def test_search_page_shows_suggestions_to_staff_only(
    shop: tuple[TestClient, TestClient], settings: Settings
) -> None:
    web, api = shop
    _mode(settings, "staff")
    q = _term(api)
    anonymous = web.get("/search", params={"q": q})
    assert anonymous.status_code == 200
    assert "Suggested searches" not in anonymous.text
    ok = web.post("/login", data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "next": "/"})
    assert ok.status_code in (200, 303)
    page = web.get("/search", params={"q": q})
    assert page.status_code == 200
    assert "Suggested searches" in page.text
    first = _search(api, q, login(api, ADMIN_EMAIL, ADMIN_PASSWORD))["suggestions"][0]
    assert first.replace("&", "&amp;").replace("'", "&#39;").replace('"', "&#34;") in page.text
