"""Product reviews."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session as DbSession

from acme.models import Review, User, utcnow


class ReviewRepository:
    def __init__(self, db: DbSession) -> None:
        self.db = db

    def for_product(self, product_id: int, *, offset: int, limit: int) -> tuple[list[tuple[Review, str]], int]:
        total = self.db.scalar(
            select(func.count()).select_from(Review).where(Review.product_id == product_id)
        ) or 0
        rows = self.db.execute(
            select(Review, User.name)
            .join(User, User.id == Review.user_id)
            .where(Review.product_id == product_id)
            .order_by(Review.created_at.desc(), Review.id.desc())
            .offset(offset)
            .limit(limit)
        )
        return [(r, name) for r, name in rows], int(total)

    def exists(self, product_id: int, user_id: int) -> bool:
        return self.db.scalar(
            select(Review.id).where(Review.product_id == product_id, Review.user_id == user_id)
        ) is not None

    def add(self, product_id: int, user_id: int, rating: int, title: str, body: str) -> Review:
        review = Review(
            product_id=product_id, user_id=user_id, rating=rating, title=title, body=body,
            created_at=utcnow(),
        )
        self.db.add(review)
        self.db.flush()
        return review
