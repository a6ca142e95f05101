"""Shared fixtures: a migrated+seeded SQLite template copied per test, and in-process apps."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from acme.common import migrate
from acme.common.db import make_engine
from acme.common.settings import Settings
from acme.seed.generator import ADMIN_EMAIL, ADMIN_PASSWORD, SEED_PASSWORD, generate
from acme.seed.loader import load

FAST_HASH_COST = 10  # scrypt N=2**10: tests log in a lot; production uses 2**14
SMALL = {"users": 60, "products": 40, "orders": 200, "reviews": 80, "carts": 10}
GOOD_CARD = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2031, "cvc": "123"}


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrate once via Alembic and load a small seed; tests get byte copies of this file."""
    path = tmp_path_factory.mktemp("template") / "acme.db"
    url = f"sqlite:///{path}"
    migrate.upgrade(url)
    engine = make_engine(url)
    load(engine, generate(1, **SMALL, password_cost=FAST_HASH_COST))
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


def make_settings(tmp_path: Path, seeded_template: Path) -> Settings:
    db_path = tmp_path / "acme.db"
    shutil.copyfile(seeded_template, db_path)
    return Settings(
        database_url=f"sqlite:///{db_path}",
        payments_database_url=f"sqlite:///{tmp_path / 'payments.db'}",
        object_store=f"file://{tmp_path / 'objects'}",
        cache_url="memory://",
        api_url="",
        payments_url="http://payments.test",
        webhook_secret="whsec_test",
        flags_file=str(tmp_path / "flags.json"),
        service_instance="api-test",
        release="test-sha",
        password_hash_cost=FAST_HASH_COST,
    )


@pytest.fixture
def settings(tmp_path: Path, seeded_template: Path) -> Settings:
    """Per-test settings over a private copy of the seeded database."""
    return make_settings(tmp_path, seeded_template)


@pytest.fixture
def payments_client(settings: Settings) -> Iterator[TestClient]:
    from acme.payments import create_app as create_payments

    with TestClient(create_payments(settings), base_url="http://payments.test") as client:
        yield client


@pytest.fixture
def api(settings: Settings, payments_client: TestClient) -> Iterator[TestClient]:
    from acme.api import create_app as create_api

    app = create_api(settings, payments_http=payments_client)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture(scope="module")
def shared_api(tmp_path_factory: pytest.TempPathFactory, seeded_template: Path) -> Iterator[TestClient]:
    """One API per module for read-only tests (building an app costs ~0.1 s)."""
    from acme.api import create_app as create_api
    from acme.payments import create_app as create_payments

    settings = make_settings(tmp_path_factory.mktemp("shared"), seeded_template)
    with TestClient(create_payments(settings), base_url="http://payments.test") as payments, \
            TestClient(create_api(settings, payments_http=payments), raise_server_exceptions=False) as client:
        yield client


def login(client: TestClient, email: str, password: str) -> dict[str, str]:
    resp = client.post("/api/v1/sessions", json={"email": email, "password": password})
    assert resp.status_code == 201, resp.text
    return {"Authorization": f"Bearer {resp.json()['token']}"}


@pytest.fixture
def admin_headers(api: TestClient) -> dict[str, str]:
    return login(api, ADMIN_EMAIL, ADMIN_PASSWORD)


@pytest.fixture
def customer(api: TestClient) -> dict[str, Any]:
    """A freshly registered customer (empty cart, no orders)."""
    resp = api.post("/api/v1/users", json={"email": "jane@example.com", "name": "Jane Doe",
                                            "password": "s3cure-pass"})
    assert resp.status_code == 201, resp.text
    body = resp.json()
    return {"headers": {"Authorization": f"Bearer {body['token']}"}, "user": body["user"]}


def seeded_customer_email(client: TestClient, admin_headers: dict[str, str]) -> str:
    users = client.get("/api/v1/admin/users?page_size=5", headers=admin_headers).json()["items"]
    return next(u["email"] for u in users if not u["is_admin"])


def in_stock_product(client: TestClient, min_stock: int = 5) -> dict[str, Any]:
    items = client.get("/api/v1/products?in_stock=true&page_size=100").json()["items"]
    return next(p for p in items if p["stock"] >= min_stock)


__all__ = ["GOOD_CARD", "SEED_PASSWORD", "in_stock_product", "login", "seeded_customer_email"]
