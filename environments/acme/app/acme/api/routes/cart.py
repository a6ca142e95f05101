"""The signed-in user's cart."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from acme.api.deps import Ctx, CurrentUser, Db, ProductId
from acme.api.schemas.cart import CartItemIn, CartItemUpdate, CartOut
from acme.api.services.carts import CartService

router = APIRouter(prefix="/cart", tags=["cart"])


@router.get("", response_model=CartOut)
def view_cart(user: CurrentUser, ctx: Ctx, db: Db) -> dict[str, Any]:
    return CartService(ctx, db).view(user)


@router.post("/items", status_code=201, response_model=CartOut)
def add_item(body: CartItemIn, user: CurrentUser, ctx: Ctx, db: Db) -> dict[str, Any]:
    return CartService(ctx, db).add_item(user, body.product_id, body.quantity)


@router.put("/items/{product_id}", response_model=CartOut)
def set_item(product_id: ProductId, body: CartItemUpdate, user: CurrentUser, ctx: Ctx, db: Db) -> dict[str, Any]:
    return CartService(ctx, db).set_item(user, product_id, body.quantity)


@router.delete("/items/{product_id}", response_model=CartOut)
def remove_item(product_id: ProductId, user: CurrentUser, ctx: Ctx, db: Db) -> dict[str, Any]:
    return CartService(ctx, db).remove_item(user, product_id)


@router.delete("", response_model=CartOut)
def clear_cart(user: CurrentUser, ctx: Ctx, db: Db) -> dict[str, Any]:
    return CartService(ctx, db).clear(user)
