"""A card-processor simulator standing in for the third-party payment provider."""

from __future__ import annotations

from typing import Any

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    # Lazy so the seed loader can import the ledger models without pulling in FastAPI.
    if name == "create_app":
        from acme.payments.app import create_app

        return create_app
    raise AttributeError(name)
