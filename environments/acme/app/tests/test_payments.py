"""The card processor simulator: lifecycle, declines, idempotency, faults, webhooks."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
from fastapi.testclient import TestClient

from acme.common.security import verify_signature
from acme.common.settings import Settings

CARD = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2031, "cvc": "123"}


def charge(client: TestClient, key: str | None = None, **overrides: Any) -> httpx.Response:
    body = {"amount_cents": 2500, "currency": "usd", "card": CARD, "capture": False, **overrides}
    headers = {"Idempotency-Key": key} if key else {}
    return client.post("/v1/charges", json=body, headers=headers)


def test_authorize_capture_refund_lifecycle(payments_client: TestClient) -> None:
    auth = charge(payments_client)
    assert auth.status_code == 201 and auth.json()["status"] == "authorized"
    cid = auth.json()["id"]
    captured = payments_client.post(f"/v1/charges/{cid}/capture", json={})
    assert captured.json()["status"] == "captured" and captured.json()["captured_cents"] == 2500
    assert payments_client.post(f"/v1/charges/{cid}/capture", json={}).status_code == 409
    refund = payments_client.post(f"/v1/charges/{cid}/refunds", json={"amount_cents": 1000})
    assert refund.status_code == 201 and refund.json()["amount_cents"] == 1000
    too_much = payments_client.post(f"/v1/charges/{cid}/refunds", json={"amount_cents": 2000})
    assert too_much.status_code == 400
    assert payments_client.get(f"/v1/charges/{cid}").json()["refunded_cents"] == 1000
    assert payments_client.get("/v1/charges/ch_missing").status_code == 404


def test_cancel_releases_authorization(payments_client: TestClient) -> None:
    cid = charge(payments_client).json()["id"]
    assert payments_client.post(f"/v1/charges/{cid}/cancel").json()["status"] == "canceled"
    assert payments_client.post(f"/v1/charges/{cid}/capture", json={}).status_code == 409


def test_test_cards_and_bad_numbers_decline_with_codes(payments_client: TestClient) -> None:
    cases = {"4000000000000002": "card_declined", "4000000000009995": "insufficient_funds",
             "4000000000000069": "expired_card", "4242424242424241": "invalid_number"}
    for number, code in cases.items():
        resp = charge(payments_client, card={**CARD, "number": number})
        assert resp.status_code == 402
        assert resp.json()["error"]["decline_code"] == code
    expired = charge(payments_client, card={**CARD, "exp_year": 2001})
    assert expired.json()["error"]["decline_code"] == "expired_card"


def test_idempotency_same_key_same_response(payments_client: TestClient) -> None:
    first = charge(payments_client, key="order-1")
    again = charge(payments_client, key="order-1")
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    reused = charge(payments_client, key="order-1", amount_cents=9999)
    assert reused.status_code == 409 and reused.json()["error"]["code"] == "idempotency_key_reuse"
    declined = charge(payments_client, key="order-2", card={**CARD, "number": "4000000000000002"})
    assert charge(payments_client, key="order-2", card={**CARD, "number": "4000000000000002"}).json() == \
        declined.json()
    assert len(payments_client.get("/v1/charges").json()["data"]) == 2


def test_injected_failures_are_seeded_and_not_stored(payments_client: TestClient) -> None:
    def run() -> list[int]:
        payments_client.post("/admin/faults", json={"failure_rate": 0.5, "seed": 123})
        return [charge(payments_client).status_code for _ in range(12)]

    first, second = run(), run()
    assert first == second  # same seed, same failure schedule
    assert set(first) == {201, 503}
    payments_client.post("/admin/faults", json={"failure_rate": 1.0})
    assert charge(payments_client, key="retry-me").status_code == 503
    payments_client.post("/admin/faults", json={"failure_rate": 0.0})
    assert charge(payments_client, key="retry-me").status_code == 201  # key was not burned


def test_decline_mode_and_latency(payments_client: TestClient) -> None:
    payments_client.post("/admin/faults", json={"failure_rate": 1.0, "failure_mode": "decline"})
    resp = charge(payments_client)
    assert resp.status_code == 402 and resp.json()["error"]["decline_code"] == "processing_error"
    state = payments_client.post("/admin/faults", json={"latency_ms": 30}).json()
    assert state["latency_ms"] == 30 and state["failure_rate"] == 0.0
    assert payments_client.get("/admin/faults").json() == state
    assert payments_client.post("/admin/faults", json={"failure_rate": 2}).status_code == 422


def test_webhooks_are_signed_and_delivered(settings: Settings) -> None:
    from acme.payments import create_app

    received: list[httpx.Request] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return httpx.Response(200 if len(received) > 1 else 500)  # first attempt fails

    app = create_app(settings.replace(api_url="http://shop.test"),
                     webhook_transport=httpx.MockTransport(handler))
    with TestClient(app) as client:
        app.state.dispatcher.base_delay = 0.01
        charge(client, capture=True)
        for _ in range(100):
            if len(received) >= 2:
                break
            asyncio.run(asyncio.sleep(0.02))
    assert len(received) == 2
    req = received[-1]
    assert str(req.url) == "http://shop.test/api/v1/payments/webhook"
    assert verify_signature("whsec_test", req.content, req.headers["x-acme-signature"])
    event = json.loads(req.content)
    assert event["type"] == "charge.captured" and event["data"]["charge"]["captured_cents"] == 2500


def test_client_rides_out_a_processor_restart() -> None:
    """A deploy restarts payments: calls made while its port is closed wait for it, not fail."""
    import socket
    import threading

    import uvicorn
    from fastapi import FastAPI

    from acme.api.services.payments_client import PaymentsClient

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    processor = FastAPI()

    @processor.post("/v1/charges")
    def authorize() -> dict[str, Any]:
        return {"id": "ch_1", "status": "authorized", "amount_cents": 2500}

    server = uvicorn.Server(uvicorn.Config(processor, port=port, log_level="warning"))
    # Nothing listens yet: the first attempt is refused; the server comes up during the backoff.
    starter = threading.Timer(0.2, server.run)
    starter.start()
    client = PaymentsClient(f"http://127.0.0.1:{port}", timeout=5)
    try:
        charge = client.authorize(
            amount_cents=2500, currency="usd", card=CARD, idempotency_key="k1", metadata={}
        )
        assert charge.id == "ch_1" and charge.status == "authorized"
    finally:
        client.close()
        server.should_exit = True
        starter.join(5)
