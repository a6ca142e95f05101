"""Catalogue queries: listing, filtering, search candidates, rating aggregates."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, Select, and_, func, select, update
from sqlalchemy.orm import Session as DbSession

from acme.models import Category, Product, Review, SearchDocument, utcnow

SORTS = {
    "featured": (Product.rating_count.desc(), Product.id),
    "price_asc": (Product.price_cents.asc(), Product.id),
    "price_desc": (Product.price_cents.desc(), Product.id),
    "rating": (Product.rating_avg.desc(), Product.rating_count.desc(), Product.id),
    "newest": (Product.created_at.desc(), Product.id.desc()),
}


class ProductRepository:
    def __init__(self, db: DbSession) -> None:
        self.db = db

    def categories(self) -> list[Category]:
        return list(self.db.scalars(select(Category).order_by(Category.name)))

    def category_by_slug(self, slug: str) -> Category | None:
        return self.db.scalar(select(Category).where(Category.slug == slug))

    def get(self, product_id: int) -> Product | None:
        return self.db.get(Product, product_id)

    def get_many(self, ids: Sequence[int]) -> dict[int, Product]:
        if not ids:
            return {}
        return {p.id: p for p in self.db.scalars(select(Product).where(Product.id.in_(ids)))}

    def _filtered(
        self,
        *,
        category_id: int | None,
        min_price: int | None,
        max_price: int | None,
        in_stock: bool | None,
        include_inactive: bool,
    ) -> Select[Product]:
        stmt = select(Product)
        conds: list[ColumnElement[bool]] = []
        if not include_inactive:
            conds.append(Product.is_active.is_(True))
        if category_id is not None:
            conds.append(Product.category_id == category_id)
        if min_price is not None:
            conds.append(Product.price_cents >= min_price)
        if max_price is not None:
            conds.append(Product.price_cents <= max_price)
        if in_stock:
            conds.append(Product.stock > 0)
        return stmt.where(and_(*conds)) if conds else stmt

    def page(
        self,
        *,
        category_id: int | None = None,
        min_price: int | None = None,
        max_price: int | None = None,
        in_stock: bool | None = None,
        sort: str = "featured",
        offset: int = 0,
        limit: int = 24,
        include_inactive: bool = False,
    ) -> tuple[list[Product], int]:
        stmt = self._filtered(
            category_id=category_id, min_price=min_price, max_price=max_price,
            in_stock=in_stock, include_inactive=include_inactive,
        )
        total = self.db.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        rows = self.db.scalars(stmt.order_by(*SORTS[sort]).offset(offset).limit(limit))
        return list(rows), int(total)

    def related(self, product: Product, limit: int) -> list[Product]:
        stmt = (
            select(Product)
            .where(
                Product.category_id == product.category_id,
                Product.id != product.id,
                Product.is_active.is_(True),
            )
            .order_by(Product.rating_avg.desc(), Product.rating_count.desc(), Product.id)
            .limit(limit)
        )
        return list(self.db.scalars(stmt))

    def search_candidates(self, terms: Sequence[str], limit: int = 1000) -> list[tuple[Product, str, float]]:
        """Active products whose indexed document contains every term (substring match)."""
        stmt = select(Product, SearchDocument.document, SearchDocument.boost).join(
            SearchDocument, SearchDocument.product_id == Product.id
        ).where(Product.is_active.is_(True))
        for term in terms:
            stmt = stmt.where(SearchDocument.document.like(f"%{term}%"))
        return [(p, doc, boost) for p, doc, boost in self.db.execute(stmt.limit(limit))]

    def reserve_stock(self, product_id: int, quantity: int) -> bool:
        """Atomically decrement stock if enough is left; False means another buyer got there first."""
        result = self.db.execute(
            update(Product)
            .where(Product.id == product_id, Product.stock >= quantity, Product.is_active.is_(True))
            .values(stock=Product.stock - quantity)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    def release_stock(self, product_id: int, quantity: int) -> None:
        self.db.execute(
            update(Product)
            .where(Product.id == product_id)
            .values(stock=Product.stock + quantity)
            .execution_options(synchronize_session=False)
        )

    def refresh_rating(self, product_id: int) -> None:
        avg, count = self.db.execute(
            select(func.avg(Review.rating), func.count(Review.id)).where(Review.product_id == product_id)
        ).one()
        self.db.execute(
            update(Product)
            .where(Product.id == product_id)
            .values(rating_avg=round(float(avg or 0.0), 2), rating_count=int(count), updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )

    def count(self) -> int:
        return int(self.db.scalar(select(func.count()).select_from(Product)) or 0)
