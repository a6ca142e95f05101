"""The API, migrations, seed and job queue against a real, throwaway PostgreSQL.

Skipped when PostgreSQL server binaries (initdb/pg_ctl) or psycopg are unavailable.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from acme.common import migrate
from acme.common.db import Database, make_engine
from acme.common.queue import JobQueue, enqueue
from acme.common.settings import Settings
from acme.seed.generator import ADMIN_EMAIL, ADMIN_PASSWORD, generate
from acme.seed.loader import load
from tests.conftest import GOOD_CARD, in_stock_product, login

pytest.importorskip("psycopg", reason="psycopg (v3) is not installed")


def _pg_bindir() -> str | None:
    initdb = shutil.which("initdb")
    if initdb:
        return os.path.dirname(initdb)
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    return os.path.dirname(candidates[0]) if candidates else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    bindir = _pg_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) not found")
    base = tmp_path_factory.mktemp("pg")
    data = base / "data"
    data.mkdir()
    prefix: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        if shutil.which("runuser") is None:
            pytest.skip("running as root without runuser; cannot start PostgreSQL")
        shutil.chown(base, "nobody")
        shutil.chown(data, "nobody")
        os.chmod(base, 0o755)
        for parent in Path(base).parents:
            if parent == Path("/"):
                break
            os.chmod(parent, os.stat(parent).st_mode | 0o011)  # let nobody traverse down
        prefix = ["runuser", "-u", "nobody", "--"]
    port = _free_port()
    run = lambda *args: subprocess.run([*prefix, *args], check=True, capture_output=True, timeout=60)  # noqa: E731
    run(f"{bindir}/initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
        "--no-sync")
    run(f"{bindir}/pg_ctl", "-D", str(data), "-w", "-l", str(base / "pg.log"), "-o",
        f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off", "start")
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*prefix, f"{bindir}/pg_ctl", "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True, timeout=60)


def test_api_end_to_end_on_postgres(postgres_url: str, tmp_path: Path) -> None:
    from acme.api import create_app as create_api
    from acme.payments import create_app as create_payments

    migrate.upgrade(postgres_url)
    engine = make_engine(postgres_url)
    assert engine.dialect.name == "postgresql"
    load(engine, generate(2, users=40, products=30, orders=100, reviews=30, carts=5))
    engine.dispose()

    settings = Settings(
        database_url=postgres_url, payments_database_url=f"sqlite:///{tmp_path / 'pay.db'}",
        object_store=f"file://{tmp_path / 'objects'}", api_url="", payments_url="http://payments.test",
        webhook_secret="whsec_test",
    )
    with TestClient(create_payments(settings), base_url="http://payments.test") as payments, \
            TestClient(create_api(settings, payments_http=payments)) as api:
        assert api.get("/healthz").json()["status"] == "ok"
        reg = api.post("/api/v1/users", json={"email": "pg@example.com", "name": "Pg",
                                              "password": "password-123"})
        assert reg.status_code == 201, reg.text
        assert reg.json()["user"]["id"] > 40  # sequences moved past seeded ids
        headers = {"Authorization": f"Bearer {reg.json()['token']}"}
        product = in_stock_product(api)
        api.post("/api/v1/cart/items", json={"product_id": product["id"], "quantity": 1}, headers=headers)
        order = api.post("/api/v1/orders", headers=headers, json={
            "shipping_name": "Pg", "shipping_address": "1 Elephant Way", "card": GOOD_CARD})
        assert order.status_code == 201, order.text
        assert order.json()["status"] == "paid"
        word = product["name"].split()[1]
        assert api.get(f"/api/v1/search?q={word}").json()["total"] >= 1
        admin = login(api, ADMIN_EMAIL, ADMIN_PASSWORD)
        refund = api.post(f"/api/v1/admin/orders/{order.json()['id']}/refunds", json={},
                          headers=admin)
        assert refund.status_code == 201, refund.text

    db = Database(postgres_url)
    queue = JobQueue(db)
    claimed = queue.claim("pg-worker", ["email", "documents"], limit=10)
    assert sorted(j.kind for j in claimed) == ["order_confirmation", "order_receipt", "refund_notification"]
    assert queue.claim("pg-worker-2", ["email", "documents"], limit=10) == []  # SKIP LOCKED/guard
    with db.session() as s:
        enqueue(s, "cleanup", {}, dedupe_key="cleanup:pg")
        assert enqueue(s, "cleanup", {}, dedupe_key="cleanup:pg") is None
    db.dispose()
