"""Product browsing and search, with a read-through cache for hot listing pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

from sqlalchemy.orm import Session as DbSession

from acme.api.repositories.products import ProductRepository
from acme.api.services.context import ApiContext
from acme.common.errors import ApiError, NotFound
from acme.common.textsearch import tokens
from acme.models import Product

CATALOG_NAMESPACE = "catalog"
T = TypeVar("T")


def product_json(p: Product) -> dict[str, Any]:
    return {
        "id": p.id,
        "sku": p.sku,
        "slug": p.slug,
        "name": p.name,
        "description": p.description,
        "category": {"id": p.category.id, "slug": p.category.slug, "name": p.category.name},
        "price_cents": p.price_cents,
        "currency": p.currency,
        "stock": p.stock,
        "in_stock": p.stock > 0,
        "is_active": p.is_active,
        "rating_avg": round(p.rating_avg, 2),
        "rating_count": p.rating_count,
    }


class CatalogService:
    def __init__(self, ctx: ApiContext, db: DbSession) -> None:
        self.ctx = ctx
        self.db = db
        self.products = ProductRepository(db)

    def _cached(self, key: str, build: Callable[[], T]) -> T:
        """Read-through cache keyed by the catalog generation (bumped on admin edits)."""
        if not self.ctx.flags.enabled("catalog_cache"):
            return build()
        full_key = f"{CATALOG_NAMESPACE}:{self.ctx.cache.generation(CATALOG_NAMESPACE)}:{key}"
        hit = self.ctx.cache.get_json(full_key)
        if hit is not None:
            return cast(T, hit)
        value = build()
        self.ctx.cache.set_json(full_key, value, self.ctx.settings.catalog_cache_ttl_seconds)
        return value

    def invalidate(self) -> None:
        self.ctx.cache.bump(CATALOG_NAMESPACE)

    def categories(self) -> list[dict[str, Any]]:
        return self._cached(
            "categories",
            lambda: [{"id": c.id, "slug": c.slug, "name": c.name} for c in self.products.categories()],
        )

    def list_products(
        self,
        *,
        category: str | None,
        min_price: int | None,
        max_price: int | None,
        in_stock: bool | None,
        sort: str,
        page: int,
        page_size: int,
    ) -> dict[str, Any]:
        if min_price is not None and max_price is not None and min_price > max_price:
            raise ApiError("min_price must not exceed max_price", code="invalid_price_range")
        key = f"products:{category}:{min_price}:{max_price}:{in_stock}:{sort}:{page}:{page_size}"

        def build() -> dict[str, Any]:
            category_id = None
            if category:
                cat = self.products.category_by_slug(category)
                if cat is None:
                    raise NotFound(f"unknown category {category!r}", code="category_not_found")
                category_id = cat.id
            rows, total = self.products.page(
                category_id=category_id, min_price=min_price, max_price=max_price,
                in_stock=in_stock, sort=sort, offset=(page - 1) * page_size, limit=page_size,
            )
            return {"items": [product_json(p) for p in rows], "page": page,
                    "page_size": page_size, "total": total}

        return self._cached(key, build)

    def get_product(self, product_id: int, *, include_inactive: bool = False) -> Product:
        product = self.products.get(product_id)
        if product is None or (not product.is_active and not include_inactive):
            raise NotFound(f"product {product_id} not found", code="product_not_found")
        return product

    def related(self, product_id: int, limit: int = 4) -> list[dict[str, Any]]:
        product = self.get_product(product_id)
        if not self.ctx.flags.enabled("recommendations"):
            return []
        return self._cached(
            f"related:{product_id}:{limit}",
            lambda: [product_json(p) for p in self.products.related(product, limit)],
        )

    def search(self, query: str, *, page: int, page_size: int, user_id: int | None) -> dict[str, Any]:
        """Substring match on every term, ranked per the ``search_ranking`` flag."""
        terms = tokens(query)[:8]
        if not terms:
            raise ApiError("query must contain at least one word", code="invalid_query")
        ranking = self.ctx.flags.string("search_ranking", user_id)
        candidates = self.products.search_candidates(terms)
        scored: list[tuple[float, Product]] = []
        for product, document, boost in candidates:
            name_tokens = set(tokens(product.name))
            words = document.split()
            score = 0.0
            for term in terms:
                if term in name_tokens:
                    score += 3.0
                elif term in words:
                    score += 2.0
                else:
                    score += 1.0  # substring only, e.g. a prefix while typing
            if ranking == "relevance":
                score += boost
            scored.append((round(score, 4), product))
        if ranking == "relevance":
            scored.sort(key=lambda sp: (-sp[0], sp[1].id))
        else:  # "legacy": catalogue order
            scored.sort(key=lambda sp: sp[1].id)
        start = (page - 1) * page_size
        window = scored[start : start + page_size]
        return {
            "items": [{"product": product_json(p), "score": s} for s, p in window],
            "page": page,
            "page_size": page_size,
            "total": len(scored),
            "query": query,
            "ranking": ranking,
        }
