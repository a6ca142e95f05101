"""Shopping cart."""

from __future__ import annotations

from pydantic import Field

from acme.api.schemas.common import ApiModel


class CartItemIn(ApiModel):
    product_id: int = Field(ge=1, le=2_147_483_647)
    quantity: int = Field(default=1, ge=1, le=100)


class CartItemUpdate(ApiModel):
    quantity: int = Field(ge=0, le=100)


class CartLineOut(ApiModel):
    product_id: int
    name: str
    slug: str
    unit_price_cents: int
    quantity: int
    line_total_cents: int
    in_stock: bool


class CartOut(ApiModel):
    items: list[CartLineOut]
    item_count: int
    subtotal_cents: int
    shipping_cents: int
    tax_cents: int
    total_cents: int
    currency: str
