"""Order totals. One function so the cart preview and checkout can never disagree."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Totals:
    subtotal_cents: int
    shipping_cents: int
    tax_cents: int

    @property
    def total_cents(self) -> int:
        return self.subtotal_cents + self.shipping_cents + self.tax_cents


def compute_totals(subtotal_cents: int, store: dict[str, Any]) -> Totals:
    """Flat shipping below the free-shipping threshold; tax on goods, rounded half up."""
    if subtotal_cents <= 0:
        return Totals(0, 0, 0)
    threshold = int(store["free_shipping_threshold_cents"])
    shipping = 0 if subtotal_cents >= threshold else int(store["flat_shipping_cents"])
    tax = (subtotal_cents * int(store["tax_rate_bps"]) + 5000) // 10000
    return Totals(subtotal_cents, shipping, tax)
