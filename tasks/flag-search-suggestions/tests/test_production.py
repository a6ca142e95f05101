"""Hidden tests against production (through the ingress): search suggestions are on for staff
only (`search_suggestions` = "staff", as the ticket asks at the end), and the public search
contract is unchanged for customers and anonymous callers (the mobile app pins it)."""

from __future__ import annotations

import html
from typing import Any

import httpx

CONTRACT = {"items", "page", "page_size", "total", "query", "ranking"}
PRODUCT = {"id", "sku", "slug", "name", "description", "category", "price_cents", "currency",
           "stock", "in_stock", "is_active", "rating_avg", "rating_count"}


def _names(acme: httpx.Client) -> list[str]:
    names: list[str] = []
    for page in (1, 2, 3):
        items = acme.get("/api/v1/products", params={"page_size": 100, "page": page}).json()["items"]
        names += [p["name"] for p in items]
        if len(items) < 100:
            break
    return names


def _term(acme: httpx.Client) -> str:
    """The word most product names share: a query with plenty of matches."""
    counts: dict[str, int] = {}
    for name in _names(acme):
        for word in {w.lower() for w in name.split() if w.isalpha() and len(w) > 3}:
            counts[word] = counts.get(word, 0) + 1
    return max(sorted(counts), key=lambda w: counts[w])


def _search(client: httpx.Client, q: str) -> dict[str, Any]:
    resp = client.get("/api/v1/search", params={"q": q, "page_size": 5})
    assert resp.status_code == 200, resp.text
    return resp.json()


def _suggestions(body: dict[str, Any], q: str) -> list[str]:
    assert "suggestions" in body, f"no suggestions for staff: keys {sorted(body)}"
    got = body["suggestions"]
    assert isinstance(got, list) and 1 <= len(got) <= 5, got
    assert all(isinstance(s, str) for s in got), got
    assert len(set(got)) == len(got), f"duplicates: {got}"
    for s in got:
        assert all(w in s.lower() for w in q.lower().split()), f"{s!r} does not contain {q!r}"
    return got


def _token(client: httpx.Client) -> str:
    return client.headers["authorization"].split(" ", 1)[1]


def test_staff_get_suggestions(acme: httpx.Client, admin_client: httpx.Client) -> None:
    q = _term(acme)
    body = _search(admin_client, q)
    _suggestions(body, q)
    assert set(body) == CONTRACT | {"suggestions"}
    assert body["total"] >= len(body["suggestions"])


def test_suggestions_match_every_word(acme: httpx.Client, admin_client: httpx.Client) -> None:
    q = _term(acme)
    name = next(n for n in _names(acme)
                if q in n.lower() and len([w for w in n.split() if w.isalpha() and len(w) > 3]) >= 2)
    words = [w.lower() for w in name.split() if w.isalpha() and len(w) > 3][:2]
    query = " ".join(words)
    got = _suggestions(_search(admin_client, query), query)
    assert name in got or len(got) == 5, f"{name!r} matches {query!r} but is not in {got}"


def test_contract_unchanged_for_customers_and_anonymous(
    acme: httpx.Client, customer_client: httpx.Client
) -> None:
    q = _term(acme)
    for who, client in (("anonymous", acme), ("customer", customer_client)):
        body = _search(client, q)
        assert set(body) == CONTRACT, f"{who}: the payload changed: {sorted(body)}"
        assert body["items"], f"{who}: no results for {q!r}"
        for hit in body["items"]:
            assert set(hit) == {"product", "score"}, f"{who}: {sorted(hit)}"
            assert set(hit["product"]) == PRODUCT, f"{who}: {sorted(hit['product'])}"


def test_staff_search_page_shows_suggestions(
    acme: httpx.Client, admin_client: httpx.Client
) -> None:
    q = _term(acme)
    first = _suggestions(_search(admin_client, q), q)[0]
    resp = acme.get("/search", params={"q": q}, cookies={"acme_session": _token(admin_client)})
    assert resp.status_code == 200
    assert "Suggested searches" in resp.text, "the staff search page has no suggestions"
    assert first in html.unescape(resp.text), f"{first!r} is not on the page"


def test_customer_search_page_unchanged(acme: httpx.Client, customer_client: httpx.Client) -> None:
    q = _term(acme)
    resp = acme.get("/search", params={"q": q}, cookies={"acme_session": _token(customer_client)})
    assert resp.status_code == 200
    assert "Suggested searches" not in resp.text
    anonymous = acme.get("/search", params={"q": q})
    assert anonymous.status_code == 200 and "Suggested searches" not in anonymous.text
