"""Public store information (name, shipping policy, banner) for storefront chrome."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from acme.api.deps import Ctx, Db
from acme.api.repositories.settings import SettingsRepository

router = APIRouter(prefix="/store", tags=["store"])
PUBLIC_KEYS = ("store_name", "support_email", "currency", "free_shipping_threshold_cents",
               "flat_shipping_cents", "maintenance_banner")


@router.get("")
def store_info(ctx: Ctx, db: Db) -> dict[str, Any]:
    values = SettingsRepository(db).all()
    info = {k: values[k] for k in PUBLIC_KEYS}
    # The flag lets on-call post a banner without touching the database.
    flag_banner = ctx.flags.string("maintenance_banner")
    if flag_banner:
        info["maintenance_banner"] = flag_banner
    info["features"] = {
        "reviews": ctx.flags.enabled("reviews_enabled"),
        "checkout": ctx.flags.enabled("checkout_enabled"),
        "recommendations": ctx.flags.enabled("recommendations"),
    }
    return info
