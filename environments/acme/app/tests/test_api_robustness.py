"""Bad input never yields a 500; errors share one JSON envelope; observability is wired."""

from __future__ import annotations

import json
import logging

import pytest
from fastapi.testclient import TestClient

from acme.common.logging import JsonFormatter, request_id_var

BAD_REQUESTS = [
    ("GET", "/api/v1/products/0", None),
    ("GET", "/api/v1/products/-1", None),
    ("GET", "/api/v1/products/99999999999999999999", None),
    ("GET", "/api/v1/products?page_size=1000", None),
    ("GET", "/api/v1/products?min_price=abc", None),
    ("GET", "/api/v1/search", None),
    ("GET", "/api/v1/search?q=" + "x" * 500, None),
    ("GET", "/api/v1/orders/1", None),
    ("POST", "/api/v1/sessions", {"email": "a"}),
    ("POST", "/api/v1/sessions", ["not", "an", "object"]),
    ("POST", "/api/v1/users", {"email": "not-an-email", "name": "x", "password": "longenough"}),
    ("POST", "/api/v1/users", {"email": "a@b.co", "name": "   ", "password": "longenough"}),
    ("POST", "/api/v1/users", {"email": "a@b.co", "name": "x", "password": "short"}),
    ("POST", "/api/v1/cart/items", {"product_id": "abc"}),
    ("POST", "/api/v1/orders", {}),
    ("POST", "/api/v1/payments/webhook", {"id": "evt"}),
    ("DELETE", "/api/v1/sessions/current", None),
    ("PUT", "/api/v1/products", None),
    ("GET", "/api/v1/admin/orders?status=bogus", None),
    ("GET", "/does/not/exist", None),
]


@pytest.mark.parametrize(("method", "path", "body"), BAD_REQUESTS)
def test_bad_requests_get_4xx_json_errors(shared_api: TestClient, method: str, path: str, body: object) -> None:
    resp = shared_api.request(method, path, json=body)
    assert 400 <= resp.status_code < 500, (resp.status_code, resp.text)
    err = resp.json()["error"]
    assert isinstance(err["code"], str) and isinstance(err["message"], str)
    assert "Traceback" not in resp.text


def test_bad_input_with_auth_is_still_4xx(api: TestClient, admin_headers: dict[str, str]) -> None:
    for method, path, body in [
        ("GET", "/api/v1/admin/orders?status=bogus", None),
        ("POST", "/api/v1/admin/orders/999999/refunds", {}),
        ("POST", "/api/v1/admin/orders/1/refunds", {"amount_cents": -5}),
        ("PATCH", "/api/v1/admin/products/1", {}),
        ("PATCH", "/api/v1/admin/products/1", {"price_cents": 0}),
        ("PUT", "/api/v1/admin/settings", {"unknown": 1}),
        ("POST", "/api/v1/orders", {"shipping_name": "x", "shipping_address": "12345",
                                    "card": {"number": "abcd", "exp_month": 1, "exp_year": 2030, "cvc": "1"}}),
    ]:
        resp = api.request(method, path, json=body, headers=admin_headers)
        assert 400 <= resp.status_code < 500, (path, resp.status_code, resp.text)
        assert "error" in resp.json()


def test_invalid_json_body_is_400(shared_api: TestClient) -> None:
    resp = shared_api.post("/api/v1/sessions", content=b"{oops", headers={"Content-Type": "application/json"})
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "invalid_json"


def test_request_id_is_echoed_or_minted(shared_api: TestClient) -> None:
    given = shared_api.get("/api/v1/categories", headers={"X-Request-ID": "req-123"})
    assert given.headers["x-request-id"] == "req-123"
    minted = shared_api.get("/api/v1/categories")
    assert len(minted.headers["x-request-id"]) == 32
    unsafe = shared_api.get("/api/v1/categories", headers={"X-Request-ID": "bad id\twith spaces"})
    assert unsafe.headers["x-request-id"] != "bad id\twith spaces"


def test_metrics_use_route_templates_and_per_app_registry(api: TestClient) -> None:
    api.get("/api/v1/products/1")
    api.get("/api/v1/products/2")
    api.get("/api/v1/nowhere")
    text = api.get("/metrics").text
    assert 'route="/api/v1/products/{product_id}",service="api",status="200"} 2.0' in text
    assert 'route="/api/v1/products/1"' not in text
    assert 'route="<unmatched>"' in text
    assert "http_request_duration_seconds_bucket" in text
    assert 'acme_build_info{release="test-sha",service="api"} 1.0' in text


def test_healthz(shared_api: TestClient) -> None:
    body = shared_api.get("/healthz").json()
    assert body["status"] == "ok" and body["checks"] == {"database": "ok", "schema": "ok"}
    assert body["schema_revision"] == "0003_admin_refunds_events"
    assert body["instance"] == "api-test" and body["release"] == "test-sha"


def test_healthz_fails_on_unmigrated_database(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from acme.api import create_app
    from acme.common.settings import Settings

    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'empty.db'}",
                              object_store=f"file://{tmp_path / 'o'}"))
    with TestClient(app) as client:
        resp = client.get("/healthz")
    assert resp.status_code == 503 and resp.json()["status"] == "error"


def test_json_log_lines_carry_request_id() -> None:
    formatter = JsonFormatter("api", "api-1")
    token = request_id_var.set("rid-9")
    try:
        record = logging.LogRecord("acme", logging.INFO, __file__, 1, "hello %s", ("world",), None)
        record.order_id = 42
        line = json.loads(formatter.format(record))
    finally:
        request_id_var.reset(token)
    assert line["msg"] == "hello world" and line["request_id"] == "rid-9"
    assert line["service"] == "api" and line["instance"] == "api-1" and line["level"] == "info"
    assert line["order_id"] == 42 and line["ts"].endswith("+00:00")
