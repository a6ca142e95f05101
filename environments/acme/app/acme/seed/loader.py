"""Bulk-load generated seed rows with Core inserts in a single transaction."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable

from sqlalchemy import Engine, func, insert, select, text

from acme.common.db import WRITE_OPTION
from acme.models import Base
from acme.seed.generator import SeedData

# Insert order respects foreign keys; deletion runs in reverse.
TABLE_ORDER = [
    "categories", "users", "products", "reviews", "search_documents", "orders", "order_items",
    "refunds", "carts", "cart_items", "app_settings",
]
# Tables that exist at run time but are never seeded; cleared on --reset.
RUNTIME_TABLES = ["email_outbox", "payment_events", "jobs", "sessions"]


class AlreadySeeded(RuntimeError):
    """The database already holds users; refuse to mix two seeds."""


def _delete_order() -> list[str]:
    return list(reversed(TABLE_ORDER)) + RUNTIME_TABLES


def reset(engine: Engine) -> None:
    """Delete every row from application tables (schema is left untouched)."""
    tables = Base.metadata.tables
    with engine.execution_options(**{WRITE_OPTION: True}).begin() as conn:
        for name in RUNTIME_TABLES + list(reversed(TABLE_ORDER)):
            conn.execute(tables[name].delete())


def load(engine: Engine, data: SeedData, *, replace: bool = False) -> dict[str, int]:
    """Insert all rows; with ``replace`` existing rows are deleted first in the same transaction."""
    tables = Base.metadata.tables
    with engine.execution_options(**{WRITE_OPTION: True}).begin() as conn:
        if replace:
            for name in RUNTIME_TABLES + list(reversed(TABLE_ORDER)):
                conn.execute(tables[name].delete())
        elif conn.scalar(select(func.count()).select_from(tables["users"])):
            raise AlreadySeeded("database already contains users; pass --reset to replace them")
        for name in TABLE_ORDER:
            rows = data.tables.get(name, [])
            if rows:
                conn.execute(insert(tables[name]), rows)
        if engine.dialect.name == "postgresql":
            # Explicit ids were inserted, so move each serial sequence past them.
            for name in TABLE_ORDER:
                table = tables[name]
                if "id" in table.c and table.c.id.primary_key:
                    conn.execute(text(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                        f"COALESCE((SELECT MAX(id) FROM {name}), 0) + 1, false)"
                    ))
    return data.counts()


def fingerprint(engine: Engine, tables: Iterable[str] = TABLE_ORDER) -> str:
    """SHA-256 over every seeded row in primary-key order; equal seeds give equal digests."""
    digest = hashlib.sha256()
    meta = Base.metadata.tables
    with engine.connect() as conn:
        for name in tables:
            table = meta[name]
            order = list(table.primary_key.columns)
            for row in conn.execute(select(table).order_by(*order)):
                digest.update(json.dumps([name, *row], default=str).encode())
    return digest.hexdigest()
