"""Ingestion on the wire: envelopes with and without item lengths, every item type, body
encodings, the legacy store endpoint, and Relay's refusals for bad auth."""

from __future__ import annotations

import base64
import gzip
import json
import zlib

import brotli
import httpx
import pytest

from tests.tools.conftest import running
from tests.tools.sentry_support import ACME_SENTRY, KEYS, web

API_ID, API_KEY = KEYS["acme-api"]
AUTH = {"X-Sentry-Auth": f"Sentry sentry_key={API_KEY}, sentry_version=7, sentry_client=test/1.0"}


@pytest.fixture(scope="module")
def sentry(tmp_path_factory):
    with running("sentry", tmp_path_factory.mktemp("sentry-ingest"), [ACME_SENTRY]) as service:
        yield service


def event(message: str, **extra) -> dict:
    return {
        "message": message,
        "level": "warning",
        "release": "ing1",
        "platform": "python",
        **extra,
    }


def envelope(*items: tuple[dict, bytes], header: dict | None = None) -> bytes:
    lines = [json.dumps(header or {}).encode()]
    for item_header, payload in items:
        lines += [json.dumps(item_header).encode(), payload]
    return b"\n".join(lines) + b"\n"


def post(sentry, body: bytes, *, path: str = f"/api/{API_ID}/envelope/", headers=None, **kw):
    return httpx.post(
        f"{sentry.url}{path}", content=body, headers={**AUTH, **(headers or {})}, **kw
    )


def outcomes(sentry) -> dict[str, int]:
    state = json.loads(sentry.export())["state"]
    return {o["category"]: o["quantity"] for o in state["outcomes"] if o["project_id"] == API_ID}


def test_every_item_type_is_accepted_and_counted(sentry):
    attachment = b"line one\nline two\n\x00\xffbinary"
    body = envelope(
        (
            {"type": "event", "content_type": "application/json"},
            json.dumps(event("with items")).encode(),
        ),
        (
            {
                "type": "attachment",
                "length": len(attachment),
                "filename": "dump.bin",
                "content_type": "application/octet-stream",
            },
            attachment,
        ),
        ({"type": "session"}, json.dumps({"sid": "a" * 32, "status": "ok", "init": True}).encode()),
        (
            {"type": "sessions"},
            json.dumps({"aggregates": [{"started": "2026-11-20T10:00:00Z", "exited": 3}]}).encode(),
        ),
        (
            {"type": "client_report"},
            json.dumps(
                {
                    "timestamp": 1,
                    "discarded_events": [
                        {"reason": "queue_overflow", "category": "error", "quantity": 2}
                    ],
                }
            ).encode(),
        ),
        (
            {"type": "transaction"},
            json.dumps({"type": "transaction", "transaction": "/v1/cart", "spans": []}).encode(),
        ),
        (
            {"type": "check_in"},
            json.dumps(
                {"check_in_id": "b" * 32, "monitor_slug": "nightly", "status": "ok"}
            ).encode(),
        ),
        (
            {
                "type": "log",
                "item_count": 1,
                "content_type": "application/vnd.sentry.items.log+json",
            },
            json.dumps({"items": [{"body": "hello", "level": "info"}]}).encode(),
        ),
        ({"type": "profile"}, b"{}"),
        ({"type": "brand_new_item_type", "length": 3}, b"a\nb"),
        header={
            "event_id": "9" * 32,
            "sent_at": "2026-11-20T10:00:00Z",
            "dsn": f"http://{API_KEY}@host/2",
        },
    )
    response = post(sentry, body)
    assert response.status_code == 200, response.text
    assert response.json() == {"id": "9" * 32}
    counts = outcomes(sentry)
    for kind in (
        "event",
        "attachment",
        "session",
        "sessions",
        "client_report",
        "transaction",
        "check_in",
        "log",
        "profile",
        "brand_new_item_type",
    ):
        assert counts.get(kind) == 1, (kind, counts)

    with web(sentry) as client:
        attachments = client.get(f"/projects/acme/acme-api/events/{'9' * 32}/attachments/").json()
        assert [(a["name"], a["size"]) for a in attachments] == [("dump.bin", len(attachment))]
        raw = client.get(
            f"/projects/acme/acme-api/events/{'9' * 32}/attachments/{attachments[0]['id']}/",
            params={"download": "1"},
        )
        assert raw.content == attachment
        stored = client.get(f"/projects/acme/acme-api/events/{'9' * 32}/").json()
        assert stored["title"] == "with items" and stored["type"] == "default"
        # The same event id again is deduplicated, as Sentry does.
        assert post(sentry, body).status_code == 200
        issue = client.get(f"/organizations/acme/issues/{stored['groupID']}/").json()
        assert issue["count"] == "1"


def test_items_without_length_and_events_only_envelopes(sentry):
    body = b'{}\n{"type":"event"}\n' + json.dumps(event("no length here")).encode()
    response = post(sentry, body)
    assert response.status_code == 200 and len(response.json()["id"]) == 32
    sessions_only = envelope(({"type": "session"}, b'{"sid":"x","status":"exited"}'))
    assert post(sentry, sessions_only).json() == {}


@pytest.mark.parametrize("encoding", ["gzip", "br", "deflate", "identity"])
def test_body_encodings(sentry, encoding):
    body = envelope(({"type": "event"}, json.dumps(event(f"encoded {encoding}")).encode()))
    packed = {
        "gzip": gzip.compress,
        "br": brotli.compress,
        "deflate": zlib.compress,
        "identity": lambda b: b,
    }[encoding](body)
    response = post(sentry, packed, headers={"Content-Encoding": encoding})
    assert response.status_code == 200, response.text
    with web(sentry) as client:
        found = client.get(
            "/organizations/acme/issues/",
            params={"query": f'"encoded {encoding}"', "statsPeriod": "1h"},
        ).json()
        assert [i["title"] for i in found] == [f"encoded {encoding}"]


def test_legacy_store_endpoint_and_query_string_auth(sentry):
    payload = json.dumps(event("from the store endpoint")).encode()
    ok = httpx.post(f"{sentry.url}/api/{API_ID}/store/", content=payload, headers=AUTH)
    assert ok.status_code == 200 and len(ok.json()["id"]) == 32
    packed = base64.b64encode(zlib.compress(json.dumps(event("raven style")).encode()))
    raven = httpx.post(
        f"{sentry.url}/api/{API_ID}/store/?sentry_key={API_KEY}&sentry_version=7", content=packed
    )
    assert raven.status_code == 200, raven.text
    browser = httpx.post(
        f"{sentry.url}/api/{API_ID}/envelope/?sentry_key={API_KEY}&sentry_version=7",
        content=envelope(({"type": "event"}, json.dumps(event("browser sdk")).encode())),
    )
    assert browser.status_code == 200
    assert browser.headers["access-control-allow-origin"] == "*"
    preflight = httpx.options(f"{sentry.url}/api/{API_ID}/envelope/")
    assert preflight.status_code == 200


def test_bad_credentials_and_bodies_are_refused_like_relay(sentry):
    good = envelope(({"type": "event"}, json.dumps(event("refused?")).encode()))
    web_key = KEYS["acme-web"][1]
    cases = [
        (httpx.post(f"{sentry.url}/api/{API_ID}/envelope/", content=good), 401),
        (post(sentry, good, headers={"X-Sentry-Auth": "Sentry sentry_key=" + "f" * 32}), 403),
        (post(sentry, good, headers={"X-Sentry-Auth": f"Sentry sentry_key={web_key}"}), 403),
        (post(sentry, good, path="/api/99/envelope/"), 403),
        (post(sentry, good, path="/api/abc/envelope/"), 400),
        (post(sentry, b"not json\n"), 400),
        (post(sentry, b'{}\n{"type":"event","length":999}\n{}'), 400),
        (post(sentry, b'{}\n{"length":2}\n{}'), 400),
        (post(sentry, gzip.compress(good)[:-8], headers={"Content-Encoding": "gzip"}), 400),
        (post(sentry, good, headers={"Content-Encoding": "zstd"}), 415),
        (
            post(
                sentry,
                gzip.compress(b"{}" + b" " * 30_000_000),
                headers={"Content-Encoding": "gzip"},
            ),
            413,
        ),
        (httpx.post(f"{sentry.url}/api/{API_ID}/store/", content=b"[1,2]", headers=AUTH), 400),
    ]
    for response, status in cases:
        assert response.status_code == status, (status, response.text)
        assert isinstance(response.json()["detail"], str)
    assert "refused?" not in json.dumps(json.loads(sentry.export())["state"]["issues"])
