"""Catalogue browsing, search and product reviews."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from acme.api.deps import MAX_ID, Ctx, CurrentUser, Db, OptionalUser, Paging, ProductId
from acme.api.schemas.catalog import CategoryOut, ProductOut, ProductSort, ReviewIn, ReviewOut, SearchPage
from acme.api.schemas.common import Page
from acme.api.services.catalog import CatalogService, product_json
from acme.api.services.reviews import ReviewService

router = APIRouter(tags=["catalog"])


@router.get("/categories", response_model=list[CategoryOut])
def categories(ctx: Ctx, db: Db) -> list[dict[str, Any]]:
    return CatalogService(ctx, db).categories()


@router.get("/products", response_model=Page[ProductOut])
def list_products(
    ctx: Ctx,
    db: Db,
    paging: Paging,
    category: Annotated[str | None, Query(max_length=64)] = None,
    min_price: Annotated[int | None, Query(ge=0, le=MAX_ID)] = None,
    max_price: Annotated[int | None, Query(ge=0, le=MAX_ID)] = None,
    in_stock: bool | None = None,
    sort: ProductSort = "featured",
) -> dict[str, Any]:
    return CatalogService(ctx, db).list_products(
        category=category, min_price=min_price, max_price=max_price, in_stock=in_stock,
        sort=sort, page=paging.page, page_size=paging.page_size,
    )


@router.get("/products/{product_id}", response_model=ProductOut)
def get_product(product_id: ProductId, ctx: Ctx, db: Db) -> dict[str, Any]:
    return product_json(CatalogService(ctx, db).get_product(product_id))


@router.get("/products/{product_id}/related", response_model=list[ProductOut])
def related_products(
    product_id: ProductId, ctx: Ctx, db: Db, limit: Annotated[int, Query(ge=1, le=12)] = 4
) -> list[dict[str, Any]]:
    return CatalogService(ctx, db).related(product_id, limit)


@router.get("/search", response_model=SearchPage)
def search(
    ctx: Ctx,
    db: Db,
    paging: Paging,
    user: OptionalUser,
    q: Annotated[str, Query(min_length=1, max_length=200)],
) -> dict[str, Any]:
    return CatalogService(ctx, db).search(
        q, page=paging.page, page_size=paging.page_size, user_id=user.id if user else None
    )


@router.get("/products/{product_id}/reviews", response_model=Page[ReviewOut])
def list_reviews(product_id: ProductId, ctx: Ctx, db: Db, paging: Paging) -> dict[str, Any]:
    return ReviewService(ctx, db).page(product_id, page=paging.page, page_size=paging.page_size)


@router.post("/products/{product_id}/reviews", status_code=201, response_model=ReviewOut)
def create_review(product_id: ProductId, body: ReviewIn, user: CurrentUser, ctx: Ctx, db: Db) -> dict[str, Any]:
    return ReviewService(ctx, db).create(user, product_id, body)
