"""Cart operations; prices are always read live from the catalogue."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session as DbSession

from acme.api.repositories.carts import CartRepository
from acme.api.repositories.products import ProductRepository
from acme.api.repositories.settings import SettingsRepository
from acme.api.services.context import ApiContext
from acme.api.services.pricing import compute_totals
from acme.common.errors import ApiError, NotFound
from acme.models import Cart, User, utcnow


class CartService:
    def __init__(self, ctx: ApiContext, db: DbSession) -> None:
        self.ctx = ctx
        self.db = db
        self.carts = CartRepository(db)
        self.products = ProductRepository(db)
        self.store = SettingsRepository(db)

    def _expiry(self) -> dt.datetime:
        return utcnow() + dt.timedelta(seconds=self.ctx.settings.cart_ttl_seconds)

    def view(self, user: User) -> dict[str, Any]:
        cart = self.carts.for_user(user.id)
        return self.render(cart)

    def render(self, cart: Cart | None) -> dict[str, Any]:
        store = self.store.all()
        lines: list[dict[str, Any]] = []
        subtotal = 0
        if cart is not None:
            products = self.products.get_many([i.product_id for i in cart.items])
            for item in cart.items:
                p = products.get(item.product_id)
                if p is None or not p.is_active:
                    continue  # delisted products silently drop out of the cart view
                line_total = p.price_cents * item.quantity
                subtotal += line_total
                lines.append({
                    "product_id": p.id, "name": p.name, "slug": p.slug,
                    "unit_price_cents": p.price_cents, "quantity": item.quantity,
                    "line_total_cents": line_total, "in_stock": p.stock >= item.quantity,
                })
        totals = compute_totals(subtotal, store)
        return {
            "items": lines,
            "item_count": sum(line["quantity"] for line in lines),
            "subtotal_cents": totals.subtotal_cents,
            "shipping_cents": totals.shipping_cents,
            "tax_cents": totals.tax_cents,
            "total_cents": totals.total_cents,
            "currency": store["currency"],
        }

    def _check_quantity(self, product_id: int, quantity: int) -> None:
        product = self.products.get(product_id)
        if product is None or not product.is_active:
            raise NotFound(f"product {product_id} not found", code="product_not_found")
        limit = int(self.store.all()["max_quantity_per_item"])
        if quantity > limit:
            raise ApiError(f"at most {limit} of one item per order", code="quantity_limit")
        if quantity > product.stock:
            raise ApiError(
                f"only {product.stock} left in stock", code="insufficient_stock", status_code=409,
                details={"available": product.stock},
            )

    def add_item(self, user: User, product_id: int, quantity: int) -> dict[str, Any]:
        cart = self.carts.get_or_create(user.id, self._expiry())
        existing = self.carts.item(cart.id, product_id)
        new_quantity = quantity + (existing.quantity if existing else 0)
        self._check_quantity(product_id, new_quantity)
        self.carts.set_quantity(cart, product_id, new_quantity)
        self.carts.touch(cart, self._expiry())
        view = self.render(cart)  # read before commit: no second transaction afterwards
        self.db.commit()
        return view

    def set_item(self, user: User, product_id: int, quantity: int) -> dict[str, Any]:
        cart = self.carts.for_user(user.id)
        if cart is None or self.carts.item(cart.id, product_id) is None:
            raise NotFound(f"product {product_id} is not in the cart", code="cart_item_not_found")
        if quantity > 0:
            self._check_quantity(product_id, quantity)
        self.carts.set_quantity(cart, product_id, quantity)
        self.carts.touch(cart, self._expiry())
        view = self.render(cart)
        self.db.commit()
        return view

    def remove_item(self, user: User, product_id: int) -> dict[str, Any]:
        return self.set_item(user, product_id, 0)

    def clear(self, user: User) -> dict[str, Any]:
        cart = self.carts.for_user(user.id)
        if cart is not None:
            self.carts.clear(cart)
        view = self.render(cart)
        self.db.commit()
        return view
