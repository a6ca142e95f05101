"""Checkout and the customer's order history."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Response

from acme.api.deps import Ctx, CurrentUser, Db, OrderId, Paging
from acme.api.schemas.common import Page
from acme.api.schemas.orders import CheckoutIn, OrderOut, OrderSummaryOut
from acme.api.services.orders import CheckoutService, order_json

router = APIRouter(prefix="/orders", tags=["orders"])


@router.post("", status_code=201, response_model=OrderOut)
def checkout(
    body: CheckoutIn,
    response: Response,
    user: CurrentUser,
    ctx: Ctx,
    db: Db,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> dict[str, Any]:
    """Create an order from the cart and charge the card. Replays return 200."""
    order, created = CheckoutService(ctx, db).checkout(user, body, idempotency_key)
    if not created:
        response.status_code = 200
    return order_json(order)


@router.get("", response_model=Page[OrderSummaryOut])
def list_orders(user: CurrentUser, ctx: Ctx, db: Db, paging: Paging) -> dict[str, Any]:
    return CheckoutService(ctx, db).list_for_user(user, page=paging.page, page_size=paging.page_size)


@router.get("/{order_id}", response_model=OrderOut)
def get_order(order_id: OrderId, user: CurrentUser, ctx: Ctx, db: Db) -> dict[str, Any]:
    return order_json(CheckoutService(ctx, db).get_for_user(user, order_id))


@router.get("/{order_id}/receipt")
def get_receipt(order_id: OrderId, user: CurrentUser, ctx: Ctx, db: Db) -> Response:
    body = CheckoutService(ctx, db).receipt(user, order_id)
    return Response(body, media_type="text/plain; charset=utf-8")
