"""Worker: job handlers end to end (API enqueues, worker processes), housekeeping, HTTP surface."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from acme.common.db import Database
from acme.common.queue import enqueue
from acme.common.settings import Settings
from acme.models import Cart, EmailOutbox, Job, JobStatus, Session, utcnow
from acme.worker import create_app
from acme.worker.runner import WorkerRunner
from tests.conftest import GOOD_CARD, in_stock_product

CHECKOUT = {"shipping_name": "Jane Doe", "shipping_address": "1 Main St, Portland",
            "card": GOOD_CARD}


def runner_for(settings: Settings) -> tuple[Any, WorkerRunner]:
    app = create_app(settings, start_runner=False)
    return app, app.state.runner


def place_order(api: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    product = in_stock_product(api)
    api.post("/api/v1/cart/items", json={"product_id": product["id"], "quantity": 1}, headers=headers)
    resp = api.post("/api/v1/orders", json=CHECKOUT, headers=headers)
    assert resp.status_code == 201, resp.text
    return resp.json()


def test_paid_order_gets_confirmation_email_and_receipt(
    api: TestClient, customer: dict[str, Any], settings: Settings
) -> None:
    order = place_order(api, customer["headers"])
    pending = api.get(f"/api/v1/orders/{order['id']}/receipt", headers=customer["headers"])
    assert pending.status_code == 404 and pending.json()["error"]["code"] == "receipt_not_ready"

    _, runner = runner_for(settings)
    assert runner.drain() >= 2
    db = Database(settings.database_url)
    with db.session(write=False) as s:
        emails = list(s.scalars(select(EmailOutbox).where(EmailOutbox.order_id == order["id"])))
    assert [e.template for e in emails] == ["order_confirmation"]
    assert emails[0].to_address == "jane@example.com"
    assert f"order #{order['id']}" in emails[0].subject
    receipt = api.get(f"/api/v1/orders/{order['id']}/receipt", headers=customer["headers"])
    assert receipt.status_code == 200 and f"Order #{order['id']}" in receipt.text
    assert f"${order['total_cents'] / 100:,.2f}" in receipt.text

    # Running the same job again (e.g. after a crash) must not send a second email.
    with db.session() as s:
        enqueue(s, "order_confirmation", {"order_id": order["id"]}, queue="email")
    runner.drain()
    with db.session(write=False) as s:
        assert s.scalar(select(func.count()).select_from(EmailOutbox)
                        .where(EmailOutbox.order_id == order["id"])) == 1


def test_cleanup_removes_expired_sessions_and_carts(settings: Settings, api: TestClient,
                                                    customer: dict[str, Any]) -> None:
    product = in_stock_product(api)
    api.post("/api/v1/cart/items", json={"product_id": product["id"]}, headers=customer["headers"])
    db = Database(settings.database_url)
    past = utcnow() - dt.timedelta(days=1)
    with db.session() as s:
        s.execute(update(Session).values(expires_at=past))
        s.execute(update(Cart).where(Cart.expires_at.is_not(None)).values(expires_at=past))
        seeded_carts = s.scalar(select(func.count()).select_from(Cart).where(Cart.expires_at.is_(None)))
    _, runner = runner_for(settings)
    runner.drain()
    with db.session(write=False) as s:
        assert s.scalar(select(func.count()).select_from(Session)) == 0
        assert s.scalar(select(func.count()).select_from(Cart)) == seeded_carts
        done = s.scalar(select(func.count()).select_from(Job)
                        .where(Job.kind == "cleanup", Job.status == JobStatus.DONE))
    assert done == 1
    assert api.get("/api/v1/users/me", headers=customer["headers"]).status_code == 401


def test_reindex_after_product_rename_makes_it_searchable(
    api: TestClient, admin_headers: dict[str, str], settings: Settings
) -> None:
    product = in_stock_product(api)
    resp = api.patch(f"/api/v1/admin/products/{product['id']}", json={"name": "Zephyrine Teapot"},
                     headers=admin_headers)
    assert resp.status_code == 200
    assert api.get("/api/v1/search?q=zephyrine").json()["total"] == 0  # index not rebuilt yet
    _, runner = runner_for(settings)
    runner.drain()
    hits = api.get("/api/v1/search?q=zephyrine").json()["items"]
    assert [h["product"]["id"] for h in hits] == [product["id"]]


def test_bad_jobs_fail_without_blocking_the_queue(settings: Settings) -> None:
    db = Database(settings.database_url)
    with db.session() as s:
        enqueue(s, "no_such_kind", {})
        enqueue(s, "order_confirmation", {"order_id": 987654}, queue="email")
        enqueue(s, "order_receipt", {"order_id": 1}, queue="documents")
    app, runner = runner_for(settings)
    runner.drain()
    with db.session(write=False) as s:
        statuses = {j.kind: j.status for j in s.scalars(select(Job).where(Job.kind != "cleanup",
                                                                          Job.kind != "search_reindex"))}
    assert statuses == {"no_such_kind": JobStatus.FAILED, "order_confirmation": JobStatus.FAILED,
                        "order_receipt": JobStatus.DONE}
    assert app.state.ctx.objects.exists("receipts/1.txt")
    text = runner.metrics.registry.get_sample_value(
        "acme_jobs_processed_total", {"kind": "order_receipt", "outcome": "ok"})
    assert text == 1.0


def test_worker_http_health_and_queue_metrics(settings: Settings) -> None:
    db = Database(settings.database_url)
    with db.session() as s:
        enqueue(s, "order_receipt", {"order_id": 2}, queue="documents",
                run_at=utcnow() + dt.timedelta(hours=1))
    app = create_app(settings.replace(worker_poll_interval_seconds=0.05))
    with TestClient(app) as client:
        health = client.get("/healthz")
        assert health.status_code == 200 and health.json()["status"] == "ok"
        deadline = time.monotonic() + 5
        while app.state.runner.processed < 2 and time.monotonic() < deadline:  # periodic jobs
            time.sleep(0.05)
        metrics = client.get("/metrics").text
    assert 'acme_queue_depth{queue="documents"} 1.0' in metrics
    assert "acme_queue_lag_seconds 0.0" in metrics
    assert 'acme_jobs_processed_total{kind="cleanup",outcome="ok"} 1.0' in metrics
