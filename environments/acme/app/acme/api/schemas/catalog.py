"""Catalogue: categories, products, reviews, search results."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from acme.api.schemas.common import ApiModel

ProductSort = Literal["featured", "price_asc", "price_desc", "rating", "newest"]


class CategoryOut(ApiModel):
    id: int
    slug: str
    name: str


class ProductOut(ApiModel):
    id: int
    sku: str
    slug: str
    name: str
    description: str
    category: CategoryOut
    price_cents: int
    currency: str
    stock: int
    in_stock: bool
    is_active: bool
    rating_avg: float
    rating_count: int


class ReviewOut(ApiModel):
    id: int
    product_id: int
    user_id: int
    author: str
    rating: int
    title: str
    body: str
    created_at: dt.datetime


class ReviewIn(ApiModel):
    rating: int = Field(ge=1, le=5)
    title: str = Field(min_length=1, max_length=160)
    body: str = Field(default="", max_length=4000)


class SearchHit(ApiModel):
    product: ProductOut
    score: float


class SearchPage(ApiModel):
    items: list[SearchHit]
    page: int
    page_size: int
    total: int
    query: str
    ranking: str
