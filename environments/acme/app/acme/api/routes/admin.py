"""Back-office endpoints; every route requires an admin session."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from acme.api.deps import AdminUser, Ctx, Db, OrderId, Paging, ProductId
from acme.api.schemas.admin import AdminStats, ProductUpdate, StoreSettings, StoreSettingsUpdate
from acme.api.schemas.catalog import ProductOut
from acme.api.schemas.common import Page
from acme.api.schemas.orders import OrderOut, OrderSummaryOut, RefundIn, RefundOut
from acme.api.services.admin import AdminService
from acme.api.services.catalog import product_json
from acme.api.services.orders import order_json

router = APIRouter(prefix="/admin", tags=["admin"])


@router.get("/settings", response_model=StoreSettings)
def get_settings(admin: AdminUser, ctx: Ctx, db: Db) -> dict[str, Any]:
    return AdminService(ctx, db).settings()


@router.put("/settings", response_model=StoreSettings)
def update_settings(body: StoreSettingsUpdate, admin: AdminUser, ctx: Ctx, db: Db) -> dict[str, Any]:
    return AdminService(ctx, db).update_settings(admin, body)


@router.get("/orders", response_model=Page[OrderSummaryOut])
def list_orders(
    admin: AdminUser,
    ctx: Ctx,
    db: Db,
    paging: Paging,
    status: Annotated[str | None, Query(max_length=24)] = None,
) -> dict[str, Any]:
    return AdminService(ctx, db).list_orders(status=status, page=paging.page, page_size=paging.page_size)


@router.get("/orders/{order_id}", response_model=OrderOut)
def get_order(order_id: OrderId, admin: AdminUser, ctx: Ctx, db: Db) -> dict[str, Any]:
    return order_json(AdminService(ctx, db).get_order(order_id))


@router.post("/orders/{order_id}/ship", response_model=OrderOut)
def ship_order(order_id: OrderId, admin: AdminUser, ctx: Ctx, db: Db) -> dict[str, Any]:
    return order_json(AdminService(ctx, db).ship(order_id))


@router.get("/orders/{order_id}/refunds", response_model=list[RefundOut])
def list_refunds(order_id: OrderId, admin: AdminUser, ctx: Ctx, db: Db) -> list[dict[str, Any]]:
    return AdminService(ctx, db).order_refunds(order_id)


@router.post("/orders/{order_id}/refunds", status_code=201, response_model=RefundOut)
def refund_order(order_id: OrderId, body: RefundIn, admin: AdminUser, ctx: Ctx, db: Db) -> dict[str, Any]:
    return AdminService(ctx, db).refund(admin, order_id, body.amount_cents, body.reason)


@router.patch("/products/{product_id}", response_model=ProductOut)
def update_product(product_id: ProductId, body: ProductUpdate, admin: AdminUser, ctx: Ctx, db: Db) -> dict[str, Any]:
    return product_json(AdminService(ctx, db).update_product(product_id, body))


@router.get("/users")
def list_users(
    admin: AdminUser,
    ctx: Ctx,
    db: Db,
    paging: Paging,
    q: Annotated[str | None, Query(max_length=100)] = None,
) -> dict[str, Any]:
    return AdminService(ctx, db).list_users(query=q, page=paging.page, page_size=paging.page_size)


@router.get("/stats", response_model=AdminStats)
def stats(admin: AdminUser, ctx: Ctx, db: Db) -> dict[str, Any]:
    return AdminService(ctx, db).stats()
