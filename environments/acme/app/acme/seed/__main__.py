"""CLI: migrate the database to head and load deterministic seed data."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from acme.common import migrate
from acme.common.db import make_engine
from acme.seed.generator import ADMIN_EMAIL, ADMIN_PASSWORD, SEED_PASSWORD, generate
from acme.seed.ledger import ledger_is_empty, load_ledger
from acme.seed.loader import AlreadySeeded, fingerprint, load


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m acme.seed", description=__doc__)
    parser.add_argument("--seed", type=int, required=True, help="RNG seed; same seed, same data")
    parser.add_argument(
        "--database-url", default=os.environ.get("ACME_DATABASE_URL", "sqlite:///./acme.db")
    )
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--products", type=int, default=500)
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--reviews", type=int, default=4000)
    parser.add_argument("--carts", type=int, default=300)
    parser.add_argument(
        "--payments-database-url",
        default=os.environ.get("ACME_PAYMENTS_DATABASE_URL"),
        help="also load historical charges into the payments simulator's ledger",
    )
    parser.add_argument("--reset", action="store_true", help="delete existing rows first")
    parser.add_argument("--no-migrate", action="store_true", help="assume schema is at head")
    parser.add_argument("--manifest", help="write counts, credentials and sample emails as JSON")
    parser.add_argument("--fingerprint", action="store_true", help="print a digest of all rows")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    if not args.no_migrate:
        migrate.upgrade(args.database_url)
    migrated = time.perf_counter()
    ledger_engine = (make_engine(args.payments_database_url, pool_size=1)
                     if args.payments_database_url else None)
    if ledger_engine is not None and not args.reset and not ledger_is_empty(ledger_engine):
        print("error: payments ledger already contains charges; pass --reset to replace them",
              file=sys.stderr)
        return 2
    data = generate(
        args.seed, users=args.users, products=args.products, orders=args.orders,
        reviews=args.reviews, carts=args.carts,
    )
    engine = make_engine(args.database_url, pool_size=1)
    try:
        counts = load(engine, data, replace=args.reset)
    except AlreadySeeded as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if ledger_engine is not None:
        counts["payment_charges"] = load_ledger(ledger_engine, data, replace=args.reset)
        ledger_engine.dispose()
    loaded = time.perf_counter()
    summary = {
        "seed": args.seed,
        "counts": counts,
        "migrate_seconds": round(migrated - started, 3),
        "load_seconds": round(loaded - migrated, 3),
    }
    if args.fingerprint:
        summary["fingerprint"] = fingerprint(engine)
    engine.dispose()
    if args.manifest:
        customers = [u for u in data.tables["users"] if not u["is_admin"]]
        manifest = {
            "seed": args.seed,
            "counts": counts,
            "admin": {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
            "customer_password": SEED_PASSWORD,
            "customer_emails": [u["email"] for u in customers],
            "product_ids": [p["id"] for p in data.tables["products"] if p["is_active"]],
        }
        with open(args.manifest, "w", encoding="utf-8") as fh:
            json.dump(manifest, fh, indent=1)
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
