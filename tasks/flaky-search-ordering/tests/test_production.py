"""Hidden tests against production (through the ingress): paging through search results shows
every hit once, in the documented order (score desc, then product id asc)."""

from __future__ import annotations

import httpx

QUERY = "range"  # "part of our range" is in most product descriptions: many tied scores


def _page(acme: httpx.Client, page: int, size: int) -> dict:
    resp = acme.get("/api/v1/search", params={"q": QUERY, "page": page, "page_size": size})
    assert resp.status_code == 200, resp.text
    return resp.json()


def _walk(acme: httpx.Client, size: int, limit: int) -> list[int]:
    ids: list[int] = []
    for page in range(1, limit // size + 1):
        ids += [h["product"]["id"] for h in _page(acme, page, size)["items"]]
    return ids


def _one_walk(acme: httpx.Client) -> str | None:
    """None when paging is consistent, else what went wrong."""
    top = _page(acme, 1, 100)
    assert top["total"] > 100, top["total"]
    reference = [h["product"]["id"] for h in top["items"]]
    for size in (10, 20):
        paged = _walk(acme, size, 100)
        if len(set(paged)) != len(paged):
            return f"page_size={size}: a product on two pages"
        if paged != reference:
            return f"page_size={size}: pages do not slice one stable order"
    return None


def test_production_pages_cover_every_hit_once(acme: httpx.Client) -> None:
    # Live traffic can re-index a product (a new review changes its boost) mid-walk, so one
    # clean walk out of three is enough; a non-deterministic order fails every walk.
    problems = []
    for _ in range(3):
        problem = _one_walk(acme)
        if problem is None:
            return
        problems.append(problem)
    raise AssertionError("; ".join(problems))


def test_production_ties_break_by_product_id(acme: httpx.Client) -> None:
    for page in (1, 2, 3):
        hits = _page(acme, page, 100)["items"]
        keys = [(-h["score"], h["product"]["id"]) for h in hits]
        assert keys == sorted(keys), f"page {page} is not ordered by (score desc, id asc)"
        ties = len(keys) - len({k[0] for k in keys})
        assert ties > 0 or page > 1  # the first page alone has plenty of tied scores
