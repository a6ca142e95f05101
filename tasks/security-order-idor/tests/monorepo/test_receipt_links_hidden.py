"""Hidden tests run inside the monorepo at the deployed commit (its own conftest fixtures):
receipts open for their owner, an admin, or through the confirmation email's signed link, and
for nobody else (SEC-14)."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from acme.common.db import Database
from acme.common.settings import Settings
from acme.models import EmailOutbox
from acme.worker import create_app as create_worker
from tests.conftest import GOOD_CARD, in_stock_product

CHECKOUT = {"shipping_name": "Jane Doe", "shipping_address": "1 Main St, Portland",
            "card": GOOD_CARD}
LINK = re.compile(r"(/api/v1/orders/(\d+)/receipt\?[^\s\"'<>]+)")


def _paid_order_with_email(api: TestClient, headers: dict[str, str],
                           settings: Settings) -> tuple[dict[str, Any], str]:
    product = in_stock_product(api)
    api.post("/api/v1/cart/items", json={"product_id": product["id"], "quantity": 1},
             headers=headers)
    resp = api.post("/api/v1/orders", json=CHECKOUT, headers=headers)
    assert resp.status_code == 201, resp.text
    order = resp.json()
    runner = create_worker(settings, start_runner=False).state.runner
    assert runner.drain() >= 2
    with Database(settings.database_url).session(write=False) as s:
        email = s.scalars(select(EmailOutbox).where(EmailOutbox.order_id == order["id"])).one()
    return order, email.body


def _other_customer(api: TestClient) -> dict[str, str]:
    resp = api.post("/api/v1/users", json={"email": "mallory@example.com", "name": "Mallory",
                                            "password": "s3cure-pass"})
    assert resp.status_code == 201, resp.text
    return {"Authorization": f"Bearer {resp.json()['token']}"}


def test_email_link_is_signed_and_opens_without_login(
    api: TestClient, customer: dict[str, Any], settings: Settings
) -> None:
    order, body = _paid_order_with_email(api, customer["headers"], settings)
    links = [m for m in LINK.finditer(body) if int(m.group(2)) == order["id"]]
    assert links, f"no signed receipt link for order {order['id']} in the email:\n{body}"
    link = links[0].group(1)
    resp = api.get(link)  # anonymous: the link is the credential
    assert resp.status_code == 200, resp.text
    assert f"Order #{order['id']}" in resp.text


def test_receipts_are_private_without_the_signed_link(
    api: TestClient, customer: dict[str, Any], settings: Settings, admin_headers: dict[str, str]
) -> None:
    order, body = _paid_order_with_email(api, customer["headers"], settings)
    path = f"/api/v1/orders/{order['id']}/receipt"
    assert api.get(path).status_code in (401, 404)
    assert api.get(path, headers={"Authorization": "Bearer not-a-session"}).status_code in (401, 404)
    assert api.get(path, headers=_other_customer(api)).status_code in (403, 404)
    assert api.get(path, headers=customer["headers"]).status_code == 200
    assert api.get(path, headers=admin_headers).status_code == 200
    # A forged or borrowed signature does not open it either.
    link = next(m.group(1) for m in LINK.finditer(body) if int(m.group(2)) == order["id"])
    query = link.split("?", 1)[1]
    forged = query[:-1] + ("0" if query[-1] != "0" else "1")
    assert api.get(f"{path}?{forged}").status_code in (401, 403, 404)
    other, _ = _paid_order_with_email(api, customer["headers"], settings)
    assert api.get(f"/api/v1/orders/{other['id']}/receipt?{query}").status_code in (401, 403, 404)
