"""Hidden tests run inside the monorepo at the deployed commit (its own conftest fixtures): where
the processor delivers its webhooks, and what the retired v1 receiver answers."""

from __future__ import annotations

import asyncio
import json

import httpx
from fastapi.testclient import TestClient

from acme.common.security import sign_payload, verify_signature
from acme.common.settings import Settings

CARD = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2031, "cvc": "123"}


def test_processor_delivers_webhooks_to_the_v2_receiver(settings: Settings) -> None:
    from acme.payments import create_app

    received: list[httpx.Request] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return httpx.Response(200, json={"received": True})

    app = create_app(settings.replace(api_url="http://shop.test"),
                     webhook_transport=httpx.MockTransport(handler))
    with TestClient(app) as client:
        app.state.dispatcher.base_delay = 0.01
        resp = client.post("/v1/charges", json={"amount_cents": 1900, "currency": "usd",
                                                "card": CARD, "capture": True})
        assert resp.status_code == 201, resp.text
        for _ in range(150):
            if received:
                break
            asyncio.run(asyncio.sleep(0.02))
    assert received, "no webhook was delivered"
    req = received[0]
    assert str(req.url) == "http://shop.test/api/v1/payments/events", str(req.url)
    assert verify_signature("whsec_test", req.content, req.headers["x-acme-signature"])
    assert json.loads(req.content)["type"] == "charge.captured"


def test_v1_receiver_answers_410_with_its_successor(api: TestClient) -> None:
    event = {"id": "evt_hidden_v1", "type": "charge.captured", "data": {"charge": {"id": "ch_h"}}}
    body = json.dumps(event).encode()
    resp = api.post("/api/v1/payments/webhook", content=body,
                    headers={"X-Acme-Signature": sign_payload("whsec_test", body),
                             "Content-Type": "application/json"})
    assert resp.status_code == 410, resp.text
    assert resp.json()["error"]["code"] == "endpoint_removed"
    link = resp.headers.get("Link", "")
    assert "/api/v1/payments/events" in link and 'rel="successor-version"' in link, link


def test_v2_receiver_still_verifies_signatures(api: TestClient) -> None:
    event = {"id": "evt_hidden_v2", "type": "charge.captured", "data": {"charge": {"id": "ch_h2"}}}
    body = json.dumps(event).encode()
    bad = api.post("/api/v1/payments/events", content=body,
                   headers={"X-Acme-Signature": sign_payload("wrong", body),
                            "Content-Type": "application/json"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_signature"
    good = api.post("/api/v1/payments/events", content=body,
                    headers={"X-Acme-Signature": sign_payload("whsec_test", body),
                             "Content-Type": "application/json"})
    assert good.status_code == 200, good.text
