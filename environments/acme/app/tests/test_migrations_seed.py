"""Migrations match the models; seed data is deterministic and fast to load."""

from __future__ import annotations

import time
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, select

from acme.common import migrate
from acme.common.db import make_engine
from acme.models import Base, Order, OrderItem, Product, User
from acme.seed.__main__ import main as seed_main
from acme.seed.generator import BASE_DATE, generate
from acme.seed.loader import fingerprint, load


def test_migrations_produce_exactly_the_model_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
                                Base.metadata)
    assert diff == []
    assert migrate.current_revision(engine) == migrate.head_revision()


def test_downgrade_to_base_and_back(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    migrate.upgrade(url)
    from alembic import command

    command.downgrade(migrate.alembic_config(url), "base")
    engine = make_engine(url)
    assert migrate.current_revision(engine) is None
    migrate.upgrade(url)
    assert migrate.current_revision(engine) == migrate.head_revision()


def test_generation_is_deterministic_and_seed_sensitive() -> None:
    a = generate(42, users=100, products=50, orders=300, reviews=100, carts=10)
    b = generate(42, users=100, products=50, orders=300, reviews=100, carts=10)
    c = generate(43, users=100, products=50, orders=300, reviews=100, carts=10)
    assert a.tables == b.tables
    assert a.tables["orders"] != c.tables["orders"]


def test_seed_rows_are_internally_consistent() -> None:
    data = generate(5, users=200, products=60, orders=500, reviews=150, carts=20)
    items_by_order: dict[int, int] = {}
    for item in data.tables["order_items"]:
        items_by_order[item["order_id"]] = (
            items_by_order.get(item["order_id"], 0) + item["quantity"] * item["unit_price_cents"]
        )
    for order in data.tables["orders"]:
        assert order["subtotal_cents"] == items_by_order[order["id"]]
        assert order["total_cents"] == order["subtotal_cents"] + order["shipping_cents"] + order["tax_cents"]
        assert order["created_at"] < BASE_DATE
    emails = [u["email"] for u in data.tables["users"]]
    assert len(emails) == len(set(emails))
    assert sum(1 for u in data.tables["users"] if u["is_admin"]) == 1
    pairs = [(r["product_id"], r["user_id"]) for r in data.tables["reviews"]]
    assert len(pairs) == len(set(pairs))


def test_full_size_seed_loads_quickly(tmp_path: Path) -> None:
    data = generate(11)
    url = f"sqlite:///{tmp_path / 'full.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    started = time.perf_counter()
    load(engine, data)
    elapsed = time.perf_counter() - started
    # Budget is 2 s on an idle machine (~1 s measured); the guard is looser so a busy CI
    # box does not flake, while a regression to row-by-row inserts (~10x) still fails.
    assert elapsed < 5.0, f"seed load took {elapsed:.2f}s"
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(User)) == 2000
        assert conn.scalar(select(func.count()).select_from(Product)) == 500
        assert conn.scalar(select(func.count()).select_from(Order)) == 10_000
        assert conn.scalar(select(func.count()).select_from(OrderItem)) > 10_000
    engine.dispose()


def test_loaded_rows_fingerprint_is_reproducible(tmp_path: Path) -> None:
    digests = []
    for name in ("a", "b"):
        url = f"sqlite:///{tmp_path / name}.db"
        migrate.upgrade(url)
        engine = make_engine(url)
        load(engine, generate(9, users=150, products=40, orders=400, reviews=100, carts=10))
        digests.append(fingerprint(engine))
        engine.dispose()
    assert digests[0] == digests[1]


def test_seed_cli_refuses_to_double_load(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    ledger = f"sqlite:///{tmp_path / 'ledger.db'}"
    args = ["--seed", "3", "--database-url", url, "--users", "20", "--products", "10",
            "--orders", "30", "--reviews", "10", "--carts", "2"]
    assert seed_main(args) == 0
    assert seed_main(args) == 2
    assert "already contains users" in capsys.readouterr().err
    assert seed_main([*args, "--reset", "--payments-database-url", ledger]) == 0
    assert seed_main([*args, "--payments-database-url", ledger]) == 2
    assert "ledger already contains charges" in capsys.readouterr().err
    assert seed_main([*args, "--reset", "--payments-database-url", ledger]) == 0
    engine = make_engine(ledger)
    with engine.connect() as conn:
        charged = conn.exec_driver_sql("SELECT COUNT(*) FROM charges").scalar()
    engine.dispose()
    assert 25 <= charged <= 30  # every order except payment failures has a processor charge
