"""Product reviews; each new review refreshes the product's rating and search boost."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as DbSession

from acme.api.repositories.products import ProductRepository
from acme.api.repositories.reviews import ReviewRepository
from acme.api.schemas.catalog import ReviewIn
from acme.api.services.catalog import CatalogService
from acme.api.services.context import ApiContext
from acme.common.errors import Conflict, Forbidden, NotFound
from acme.common.queue import enqueue
from acme.models import Review, User


def review_json(review: Review, author: str) -> dict[str, Any]:
    return {
        "id": review.id, "product_id": review.product_id, "user_id": review.user_id,
        "author": author, "rating": review.rating, "title": review.title, "body": review.body,
        "created_at": review.created_at,
    }


class ReviewService:
    def __init__(self, ctx: ApiContext, db: DbSession) -> None:
        self.ctx = ctx
        self.db = db
        self.reviews = ReviewRepository(db)
        self.products = ProductRepository(db)

    def _product(self, product_id: int) -> None:
        product = self.products.get(product_id)
        if product is None or not product.is_active:
            raise NotFound(f"product {product_id} not found", code="product_not_found")

    def page(self, product_id: int, *, page: int, page_size: int) -> dict[str, Any]:
        self._product(product_id)
        rows, total = self.reviews.for_product(product_id, offset=(page - 1) * page_size, limit=page_size)
        return {"items": [review_json(r, a) for r, a in rows], "page": page,
                "page_size": page_size, "total": total}

    def create(self, user: User, product_id: int, data: ReviewIn) -> dict[str, Any]:
        if not self.ctx.flags.enabled("reviews_enabled", user.id):
            raise Forbidden("reviews are currently disabled", code="feature_disabled")
        self._product(product_id)
        if self.reviews.exists(product_id, user.id):
            raise Conflict("you have already reviewed this product", code="already_reviewed")
        try:
            review = self.reviews.add(product_id, user.id, data.rating, data.title.strip(), data.body.strip())
        except IntegrityError:
            self.db.rollback()
            raise Conflict("you have already reviewed this product", code="already_reviewed") from None
        self.products.refresh_rating(product_id)
        enqueue(self.db, "search_reindex", {"product_ids": [product_id]}, queue="search",
                dedupe_key=f"reindex:product:{product_id}", requeue_finished=True)
        self.db.commit()
        CatalogService(self.ctx, self.db).invalidate()
        return review_json(review, user.name)
