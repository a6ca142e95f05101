"""Hidden tests run inside the monorepo at the deployed commit (its own conftest fixtures):
the four storefront access controls against the in-process API and web, and the migration
that carries the old global switch over."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from acme.common import migrate
from acme.common.db import make_engine
from acme.common.settings import Settings
from acme.seed.generator import ADMIN_EMAIL, ADMIN_PASSWORD, generate
from acme.seed.loader import load
from tests.conftest import FAST_HASH_COST, login

SURFACES = {
    "catalog": ("/api/v1/categories", "/api/v1/products", "/api/v1/products/{pid}",
                "/api/v1/products/{pid}/related"),
    "search": ("/api/v1/search?q={word}",),
    "reviews": ("/api/v1/products/{pid}/reviews",),
}
SETUP_HEAD = "0003_admin_refunds_events"  # the schema the global switch lived in


def _put(api: TestClient, headers: dict[str, str], **controls: bool) -> httpx.Response:
    resp = api.put("/api/v1/admin/access-controls", json=controls, headers=headers)
    assert resp.status_code == 200, resp.text
    return resp


def _probe(api: TestClient) -> dict[str, str]:
    product = api.get("/api/v1/products", headers=_admin(api)).json()["items"][0]
    word = next(w for w in product["name"].split() if w.isalpha() and len(w) > 3).lower()
    return {"pid": str(product["id"]), "word": word}


def _admin(api: TestClient) -> dict[str, str]:
    return login(api, ADMIN_EMAIL, ADMIN_PASSWORD)


def _paths(control: str, probe: dict[str, str]) -> list[str]:
    return [p.format(**probe) for p in SURFACES[control]]


@pytest.mark.parametrize("control", sorted(SURFACES))
def test_each_control_gates_only_its_own_surface(
    api: TestClient, admin_headers: dict[str, str], customer: dict[str, Any], control: str
) -> None:
    probe = _probe(api)
    _put(api, admin_headers, **{control: False})
    for name in SURFACES:
        for path in _paths(name, probe):
            anonymous = api.get(path)
            if name == control:
                assert anonymous.status_code == 401, (path, anonymous.status_code)
                assert anonymous.json()["error"]["code"] == "authentication_required"
            else:
                assert anonymous.status_code == 200, (path, anonymous.status_code)
            assert api.get(path, headers=customer["headers"]).status_code == 200, path
    assert api.get("/api/v1/store").status_code == 200  # the storefront chrome stays public


def test_hidden_prices_never_leak_through_the_cache(
    api: TestClient, admin_headers: dict[str, str], customer: dict[str, Any]
) -> None:
    probe, h = _probe(api), customer["headers"]
    listing = "/api/v1/products?sort=featured&page_size=12"
    assert all(p["price_cents"] > 0 for p in api.get(listing, headers=h).json()["items"])  # warm
    _put(api, admin_headers, prices=False)
    anon = api.get(listing)
    assert anon.status_code == 200 and anon.json()["items"]
    assert all(p.get("price_cents") is None for p in anon.json()["items"])
    assert api.get(f"/api/v1/products/{probe['pid']}").json().get("price_cents") is None
    hits = api.get(f"/api/v1/search?q={probe['word']}").json()["items"]
    assert hits and all(hit["product"].get("price_cents") is None for hit in hits)
    assert all(p["price_cents"] > 0 for p in api.get(listing, headers=h).json()["items"])
    _put(api, admin_headers, prices=True)
    assert all(p["price_cents"] > 0 for p in api.get(listing).json()["items"])


def test_migration_keeps_a_closed_store_closed(tmp_path: Path, payments_client: TestClient) -> None:
    """A store that had turned anonymous browsing off is still closed after the upgrade."""
    url = f"sqlite:///{tmp_path / 'legacy.db'}"
    migrate.upgrade(url, SETUP_HEAD)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO app_settings (key, value, updated_at) VALUES "
                          "('allow_anonymous_browsing', :v, '2026-11-10 09:00:00')"),
                     {"v": json.dumps(False)})
    engine.dispose()
    migrate.upgrade(url)
    seeded = make_engine(url)
    load(seeded, generate(3, users=10, products=12, orders=5, reviews=10, carts=1,
                          password_cost=FAST_HASH_COST))
    seeded.dispose()
    from acme.api import create_app as create_api

    settings = Settings(
        database_url=url,
        payments_database_url=f"sqlite:///{tmp_path / 'legacy-payments.db'}",
        object_store=f"file://{tmp_path / 'objects'}",
        cache_url="memory://",
        api_url="",
        payments_url="http://payments.test",
        webhook_secret="whsec_test",
        flags_file=str(tmp_path / "flags.json"),
        password_hash_cost=FAST_HASH_COST,
    )
    with TestClient(create_api(settings, payments_http=payments_client),
                    raise_server_exceptions=False) as api:
        admin = _admin(api)
        controls = api.get("/api/v1/admin/access-controls", headers=admin)
        assert controls.status_code == 200, controls.text
        assert controls.json()["controls"] == {"catalog": False, "search": False,
                                               "reviews": False, "prices": False}
        assert "allow_anonymous_browsing" not in api.get("/api/v1/admin/settings",
                                                         headers=admin).json()
        assert api.get("/api/v1/products").status_code == 401
        assert api.get("/api/v1/search?q=the").status_code == 401
        assert api.get("/api/v1/store").json()["access"]["catalog"] is False


@pytest.fixture
def web(settings: Settings, payments_client: TestClient) -> Iterator[tuple[TestClient, TestClient]]:
    from acme.api import create_app as create_api
    from acme.web import create_app as create_web

    api_app = create_api(settings, payments_http=payments_client)
    app = create_web(settings.replace(api_url="http://api.internal"),
                     api_transport=httpx.ASGITransport(app=api_app))
    with TestClient(api_app, raise_server_exceptions=False) as api, TestClient(app) as client:
        yield client, api


def _nav(html: str) -> str:
    match = re.search(r"<header.*?</header>", html, re.S)
    assert match, "the page has no site header"
    return match.group(0)


def test_web_navigation_follows_the_controls(web: tuple[TestClient, TestClient]) -> None:
    client, api = web
    _put(api, _admin(api), search=False, reviews=False, prices=False)
    probe = _probe(api)
    home = client.get("/")
    assert home.status_code == 200
    nav = _nav(home.text)
    assert 'action="/search"' not in nav and 'href="/products"' in nav
    page = client.get(f"/products/{probe['pid']}", follow_redirects=False)
    assert page.status_code == 200, "anonymous product pages still render with reviews closed"
    price = api.get(f"/api/v1/products/{probe['pid']}", headers=_admin(api)).json()["price_cents"]
    assert f"{price / 100:,.2f}" not in page.text
    client.post("/login", data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "next": "/"})
    signed_in = client.get(f"/products/{probe['pid']}")
    assert 'action="/search"' in _nav(signed_in.text) and f"{price / 100:,.2f}" in signed_in.text


def test_web_hides_the_shop_when_the_catalog_is_closed(web: tuple[TestClient, TestClient]) -> None:
    client, api = web
    _put(api, _admin(api), catalog=False)
    page = client.get("/login")
    assert page.status_code == 200
    assert 'href="/products"' not in _nav(page.text)
    assert client.get("/products", follow_redirects=False).status_code in (302, 303)


def test_admin_dashboard_sets_the_controls(web: tuple[TestClient, TestClient]) -> None:
    client, api = web
    client.post("/login", data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "next": "/admin"})
    dash = client.get("/admin")
    assert dash.status_code == 200 and 'action="/admin/access-controls"' in dash.text
    form = {"catalog": ["off", "on"], "search": ["off", "on"], "reviews": ["off", "on"],
            "prices": "off"}
    saved = client.post("/admin/access-controls", data=form)
    assert saved.status_code == 200
    controls = api.get("/api/v1/admin/access-controls", headers=_admin(api)).json()["controls"]
    assert controls == {"catalog": True, "search": True, "reviews": True, "prices": False}
