"""Orders, checkout and refunds."""

from __future__ import annotations

import datetime as dt

from pydantic import Field, field_validator

from acme.api.schemas.common import ApiModel


class CardIn(ApiModel):
    number: str = Field(min_length=12, max_length=23)
    exp_month: int = Field(ge=1, le=12)
    exp_year: int = Field(ge=2000, le=2100)
    cvc: str = Field(min_length=3, max_length=4, pattern=r"^[0-9]+$")

    @field_validator("number")
    @classmethod
    def _digits(cls, v: str) -> str:
        digits = v.replace(" ", "").replace("-", "")
        if not digits.isdigit():
            raise ValueError("card number must contain only digits")
        return digits


class CheckoutIn(ApiModel):
    shipping_name: str = Field(min_length=1, max_length=120)
    shipping_address: str = Field(min_length=5, max_length=400)
    card: CardIn


class OrderItemOut(ApiModel):
    product_id: int
    product_name: str
    quantity: int
    unit_price_cents: int
    line_total_cents: int


class OrderOut(ApiModel):
    id: int
    user_id: int
    status: str
    subtotal_cents: int
    shipping_cents: int
    tax_cents: int
    total_cents: int
    refunded_cents: int
    currency: str
    failure_reason: str | None
    shipping_name: str
    shipping_address: str
    items: list[OrderItemOut]
    created_at: dt.datetime
    updated_at: dt.datetime


class OrderSummaryOut(ApiModel):
    id: int
    user_id: int
    status: str
    total_cents: int
    refunded_cents: int
    currency: str
    item_count: int
    created_at: dt.datetime


class RefundIn(ApiModel):
    amount_cents: int | None = Field(default=None, ge=1, le=2_147_483_647)
    reason: str = Field(default="", max_length=200)


class RefundOut(ApiModel):
    id: int
    order_id: int
    amount_cents: int
    reason: str
    status: str
    processor_refund_id: str | None
    created_at: dt.datetime
