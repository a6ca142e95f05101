"""API: accounts, sessions, catalogue browsing, search and reviews."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from acme.common.settings import Settings
from tests.conftest import SEED_PASSWORD, in_stock_product, login, seeded_customer_email


def test_register_login_me_logout(api: TestClient) -> None:
    resp = api.post("/api/v1/users", json={"email": "New.User@Example.com", "name": " New User ",
                                           "password": "password-123"})
    assert resp.status_code == 201
    assert resp.json()["user"]["email"] == "new.user@example.com"
    assert resp.json()["user"]["name"] == "New User"

    headers = login(api, "new.user@example.com", "password-123")
    me = api.get("/api/v1/users/me", headers=headers)
    assert me.status_code == 200 and me.json()["is_admin"] is False

    assert api.delete("/api/v1/sessions/current", headers=headers).status_code == 204
    after = api.get("/api/v1/users/me", headers=headers)
    assert after.status_code == 401
    assert after.json()["error"]["code"] == "invalid_token"


def test_duplicate_registration_conflicts(api: TestClient, customer: dict[str, Any]) -> None:
    resp = api.post("/api/v1/users", json={"email": "jane@example.com", "name": "J",
                                           "password": "another-pass"})
    assert resp.status_code == 409
    assert resp.json()["error"]["code"] == "email_taken"


def test_bad_credentials_are_401_without_revealing_which(shared_api: TestClient) -> None:
    wrong_pw = shared_api.post("/api/v1/sessions", json={"email": "admin@acme.test", "password": "nope"})
    no_user = shared_api.post("/api/v1/sessions", json={"email": "ghost@acme.test", "password": "nope"})
    assert wrong_pw.status_code == no_user.status_code == 401
    assert wrong_pw.json() == no_user.json()


def test_seeded_customer_can_log_in(api: TestClient, admin_headers: dict[str, str]) -> None:
    email = seeded_customer_email(api, admin_headers)
    headers = login(api, email, SEED_PASSWORD)
    assert api.get("/api/v1/users/me", headers=headers).json()["email"] == email


def test_password_change_requires_current_password(api: TestClient, customer: dict[str, Any]) -> None:
    h = customer["headers"]
    bad = api.patch("/api/v1/users/me", json={"password": "brand-new-pass"}, headers=h)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_current_password"
    ok = api.patch("/api/v1/users/me", json={"password": "brand-new-pass",
                                              "current_password": "s3cure-pass"}, headers=h)
    assert ok.status_code == 200
    login(api, "jane@example.com", "brand-new-pass")


def test_product_listing_filters_sorts_and_paginates(shared_api: TestClient) -> None:
    cats = shared_api.get("/api/v1/categories").json()
    assert len(cats) == 12
    page1 = shared_api.get("/api/v1/products?page_size=5&sort=price_asc").json()
    assert len(page1["items"]) == 5 and page1["total"] > 5
    prices = [p["price_cents"] for p in page1["items"]]
    assert prices == sorted(prices)
    page2 = shared_api.get("/api/v1/products?page_size=5&page=2&sort=price_asc").json()
    assert {p["id"] for p in page1["items"]}.isdisjoint({p["id"] for p in page2["items"]})

    slug = next(c["slug"] for c in cats
                if shared_api.get(f"/api/v1/products?category={c['slug']}").json()["total"] > 0)
    in_cat = shared_api.get(f"/api/v1/products?category={slug}&page_size=100").json()
    assert all(p["category"]["slug"] == slug for p in in_cat["items"])

    ranged = shared_api.get("/api/v1/products?min_price=2000&max_price=5000&page_size=100").json()
    assert all(2000 <= p["price_cents"] <= 5000 for p in ranged["items"])
    assert all(p["is_active"] for p in ranged["items"])


def test_listing_errors_are_4xx(shared_api: TestClient) -> None:
    assert shared_api.get("/api/v1/products?category=nope").status_code == 404
    assert shared_api.get("/api/v1/products?sort=random").status_code == 422
    assert shared_api.get("/api/v1/products?page=0").status_code == 422
    bad_range = shared_api.get("/api/v1/products?min_price=500&max_price=100")
    assert bad_range.status_code == 400
    assert bad_range.json()["error"]["code"] == "invalid_price_range"


def test_product_detail_and_related(shared_api: TestClient) -> None:
    product = in_stock_product(shared_api)
    detail = shared_api.get(f"/api/v1/products/{product['id']}").json()
    assert detail["sku"] == product["sku"]
    related = shared_api.get(f"/api/v1/products/{product['id']}/related").json()
    assert all(r["category"]["id"] == detail["category"]["id"] and r["id"] != detail["id"] for r in related)


def test_search_finds_products_by_name_words(shared_api: TestClient) -> None:
    product = in_stock_product(shared_api)
    word = product["name"].split()[-1].lower()
    result = shared_api.get(f"/api/v1/search?q={word}").json()
    assert result["total"] >= 1
    assert all(word in h["product"]["name"].lower() or word in h["product"]["description"].lower()
               or word in h["product"]["category"]["name"].lower() for h in result["items"])
    scores = [h["score"] for h in result["items"]]
    assert scores == sorted(scores, reverse=True)
    assert shared_api.get("/api/v1/search?q=zzzxqqq").json()["total"] == 0
    assert shared_api.get("/api/v1/search?q=%20%20").json()["error"]["code"] == "invalid_query"


def test_search_ranking_flag_switches_order(api: TestClient, settings: Settings) -> None:
    word = api.get("/api/v1/products?page_size=1").json()["items"][0]["category"]["name"].split()[0]
    relevance = api.get(f"/api/v1/search?q={word}&page_size=100").json()
    assert relevance["ranking"] == "relevance"
    Path(settings.flags_file or "").write_text(json.dumps({"search_ranking": "legacy"}))
    legacy = api.get(f"/api/v1/search?q={word}&page_size=100").json()
    assert legacy["ranking"] == "legacy"
    ids = [h["product"]["id"] for h in legacy["items"]]
    assert ids == sorted(ids)


def test_reviews_create_updates_rating_and_enqueues_reindex(api: TestClient, customer: dict[str, Any]) -> None:
    product = in_stock_product(api)
    before = api.get(f"/api/v1/products/{product['id']}").json()
    resp = api.post(f"/api/v1/products/{product['id']}/reviews",
                    json={"rating": 1, "title": "Meh", "body": "Not for me"}, headers=customer["headers"])
    assert resp.status_code == 201 and resp.json()["author"] == "Jane Doe"
    after = api.get(f"/api/v1/products/{product['id']}").json()
    assert after["rating_count"] == before["rating_count"] + 1
    reviews = api.get(f"/api/v1/products/{product['id']}/reviews").json()
    assert reviews["items"][0]["title"] == "Meh"
    dup = api.post(f"/api/v1/products/{product['id']}/reviews",
                   json={"rating": 5, "title": "Again"}, headers=customer["headers"])
    assert dup.status_code == 409
    assert api.post(f"/api/v1/products/{product['id']}/reviews",
                    json={"rating": 9, "title": "x"}, headers=customer["headers"]).status_code == 422


def test_reviews_flag_disables_posting(api: TestClient, customer: dict[str, Any], settings: Settings) -> None:
    Path(settings.flags_file or "").write_text(json.dumps({"reviews_enabled": False}))
    product = in_stock_product(api)
    resp = api.post(f"/api/v1/products/{product['id']}/reviews",
                    json={"rating": 4, "title": "Nice"}, headers=customer["headers"])
    assert resp.status_code == 403 and resp.json()["error"]["code"] == "feature_disabled"
