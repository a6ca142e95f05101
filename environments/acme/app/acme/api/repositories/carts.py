"""Carts and their line items."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select
from sqlalchemy.orm import Session as DbSession

from acme.models import Cart, CartItem, utcnow


class CartRepository:
    def __init__(self, db: DbSession) -> None:
        self.db = db

    def for_user(self, user_id: int) -> Cart | None:
        return self.db.scalar(select(Cart).where(Cart.user_id == user_id))

    def get_or_create(self, user_id: int, expires_at: dt.datetime | None) -> Cart:
        cart = self.for_user(user_id)
        if cart is None:
            now = utcnow()
            cart = Cart(user_id=user_id, created_at=now, updated_at=now, expires_at=expires_at)
            self.db.add(cart)
            self.db.flush()
        return cart

    def touch(self, cart: Cart, expires_at: dt.datetime | None) -> None:
        cart.updated_at = utcnow()
        cart.expires_at = expires_at

    def item(self, cart_id: int, product_id: int) -> CartItem | None:
        return self.db.get(CartItem, (cart_id, product_id))

    def set_quantity(self, cart: Cart, product_id: int, quantity: int) -> None:
        item = self.item(cart.id, product_id)
        if quantity <= 0:
            if item is not None:
                self.db.delete(item)
        elif item is None:
            self.db.add(CartItem(cart_id=cart.id, product_id=product_id, quantity=quantity,
                                 added_at=utcnow()))
        else:
            item.quantity = quantity
        self.db.flush()
        self.db.expire(cart, ["items"])

    def clear(self, cart: Cart) -> None:
        self.db.execute(delete(CartItem).where(CartItem.cart_id == cart.id))
        self.db.expire(cart, ["items"])
