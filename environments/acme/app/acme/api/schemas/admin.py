"""Admin-only payloads."""

from __future__ import annotations

from pydantic import Field

from acme.api.schemas.common import ApiModel


class StoreSettings(ApiModel):
    store_name: str
    support_email: str
    currency: str
    free_shipping_threshold_cents: int
    flat_shipping_cents: int
    tax_rate_bps: int
    max_quantity_per_item: int
    maintenance_banner: str


class StoreSettingsUpdate(ApiModel):
    store_name: str | None = Field(default=None, min_length=1, max_length=120)
    support_email: str | None = Field(default=None, min_length=3, max_length=255)
    free_shipping_threshold_cents: int | None = Field(default=None, ge=0, le=10_000_000)
    flat_shipping_cents: int | None = Field(default=None, ge=0, le=100_000)
    tax_rate_bps: int | None = Field(default=None, ge=0, le=5000)
    max_quantity_per_item: int | None = Field(default=None, ge=1, le=100)
    maintenance_banner: str | None = Field(default=None, max_length=300)


class ProductUpdate(ApiModel):
    price_cents: int | None = Field(default=None, ge=1, le=10_000_000)
    stock: int | None = Field(default=None, ge=0, le=1_000_000)
    is_active: bool | None = None
    name: str | None = Field(default=None, min_length=1, max_length=160)
    description: str | None = Field(default=None, max_length=5000)


class AdminStats(ApiModel):
    users: int
    products: int
    orders_by_status: dict[str, int]
    revenue_cents_24h: int
    orders_24h: int
    queue_depth: dict[str, int]
    flags: dict[str, bool | str]
