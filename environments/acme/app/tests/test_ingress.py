"""Ingress: prefix routing, weighted choice, failover, admin API, metrics, streaming."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from acme.common.settings import Settings
from acme.ingress import create_app
from acme.ingress.upstreams import UpstreamConfigError, UpstreamTable, parse_config

UPSTREAMS = {
    "/api": [{"name": "api-1", "url": "http://api-1.test", "weight": 3},
             {"name": "api-canary", "url": "http://api-canary.test", "weight": 1}],
    "/": [{"name": "web-1", "url": "http://web-1.test"}],
}
TOKEN = "s3cret-token"


class ChunkStream(httpx.AsyncByteStream):
    """An unread async body, like a real network response (bytes content is pre-read)."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks

    async def __aiter__(self):  # type: ignore[no-untyped-def]
        for chunk in self.chunks:
            yield chunk


class FakeUpstreams:
    """An httpx transport standing in for the instances; records what it received."""

    def __init__(self, down: set[str] | None = None, slow: set[str] | None = None) -> None:
        self.down = down or set()
        self.slow = slow or set()
        self.seen: list[httpx.Request] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        if host in self.down:
            raise httpx.ConnectError("connection refused", request=request)
        if host in self.slow:
            raise httpx.ReadTimeout("too slow", request=request)
        self.seen.append(request)
        if request.url.path == "/big":
            chunks = [b"x" * 65536 for _ in range(16)]
            return httpx.Response(200, stream=ChunkStream(chunks), headers={"content-type": "text/plain"})
        headers = [("content-type", "application/json"), ("set-cookie", "a=1"), ("set-cookie", "b=2")]
        body = json.dumps({"host": host, "path": request.url.path, "query": request.url.query.decode(),
                           "method": request.method, "body": request.content.decode()})
        return httpx.Response(201 if request.method == "POST" else 200, headers=headers,
                              stream=ChunkStream([body.encode()]))


def make_client(upstreams: FakeUpstreams, **overrides: Any) -> TestClient:
    settings = Settings(ingress_upstreams=json.dumps(UPSTREAMS), ingress_admin_token=TOKEN,
                        ingress_seed=42, release="r1", **overrides)
    return TestClient(create_app(settings, transport=httpx.MockTransport(upstreams)))


def test_prefix_routing_preserves_path_query_and_body() -> None:
    fake = FakeUpstreams()
    with make_client(fake) as client:
        api = client.post("/api/v1/orders?x=1", json={"a": 1}, headers={"X-Request-ID": "rid-7"})
        assert api.status_code == 201
        data = api.json()
        assert data["host"].startswith("api-") and data["path"] == "/api/v1/orders"
        assert data["query"] == "x=1" and json.loads(data["body"]) == {"a": 1}
        assert api.headers["x-request-id"] == "rid-7"
        assert api.headers.get_list("set-cookie") == ["a=1", "b=2"]
        web = client.get("/products/12")
        assert web.json()["host"] == "web-1.test"
        assert client.get("/apiary").json()["host"] == "web-1.test"  # not under /api/
    forwarded = fake.seen[0]
    assert forwarded.headers["x-request-id"] == "rid-7"
    assert forwarded.headers["x-forwarded-for"] == "testclient"
    assert forwarded.headers["x-forwarded-host"] == "testserver"
    assert forwarded.headers["host"] == forwarded.url.host  # rewritten for the instance


def test_one_visitors_cookies_never_reach_another() -> None:
    """The proxy keeps no cookie jar: a session cookie set for one visitor must not be sent
    upstream on a later visitor's request (that would sign strangers in as them)."""
    fake = FakeUpstreams()
    with make_client(fake) as client:
        assert client.post("/login").headers.get_list("set-cookie") == ["a=1", "b=2"]
        client.cookies.clear()  # the next request is another visitor's: no cookies at all
        client.get("/products/12")
        client.get("/api/v1/products/12", headers={"cookie": "mine=3"})
    assert "cookie" not in fake.seen[1].headers
    assert fake.seen[2].headers["cookie"] == "mine=3"


def test_weighted_choice_is_seeded_and_proportional() -> None:
    def picks(seed: int) -> list[str]:
        table = UpstreamTable(parse_config(UPSTREAMS), seed=seed)
        route = table.match("/api/v1/x")
        assert route is not None and route.upstream == "api"
        return [inst.name for inst in (table.choose(route) for _ in range(2000)) if inst]

    first = picks(42)
    assert first == picks(42)  # same seed, same sequence
    assert first != picks(43)
    assert 0.70 < Counter(first)["api-1"] / 2000 < 0.80  # weights 3:1
    with make_client(FakeUpstreams()) as client:
        assert {client.get("/api/x").json()["host"] for _ in range(20)} == {"api-1.test", "api-canary.test"}


def test_failover_when_an_instance_refuses_connections() -> None:
    fake = FakeUpstreams(down={"api-1.test"})
    with make_client(fake) as client:
        hosts = {client.get("/api/x").json()["host"] for _ in range(20)}
        assert hosts == {"api-canary.test"}
        metrics = client.get("/metrics").text
    assert 'ingress_upstream_requests_total{instance="api-1",status="connect_error",upstream="api"}' in metrics
    assert 'ingress_upstream_requests_total{instance="api-canary",status="200",upstream="api"} 20.0' in metrics


def test_all_instances_down_is_502_json_and_timeouts_504() -> None:
    with make_client(FakeUpstreams(down={"api-1.test", "api-canary.test"})) as client:
        resp = client.get("/api/v1/products")
        assert resp.status_code == 502 and resp.json()["error"]["code"] == "bad_gateway"
    with make_client(FakeUpstreams(slow={"web-1.test"})) as client:
        resp = client.get("/")
        assert resp.status_code == 504 and resp.json()["error"]["code"] == "upstream_timeout"


def test_admin_api_requires_token_and_shifts_traffic() -> None:
    with make_client(FakeUpstreams()) as client:
        assert client.get("/_ingress/upstreams").status_code == 401
        assert client.get("/_ingress/upstreams", headers={"Authorization": "Bearer nope"}).status_code == 401
        auth = {"Authorization": f"Bearer {TOKEN}"}
        current = client.get("/_ingress/upstreams", headers=auth).json()
        assert current["routes"]["/api"]["upstream"] == "api"
        routes = current["routes"]
        routes["/api"]["instances"][0]["weight"] = 0  # drain api-1, all traffic to the canary
        updated = client.put("/_ingress/upstreams", json=routes, headers=auth)
        assert updated.status_code == 200 and updated.json()["version"] == current["version"] + 1
        assert {client.get("/api/x").json()["host"] for _ in range(10)} == {"api-canary.test"}
        bad = client.put("/_ingress/upstreams", json={"/api": []}, headers=auth)
        assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_upstreams"
        assert client.get("/_ingress/upstreams", headers={"X-Ingress-Token": TOKEN}).status_code == 200


def test_a_request_pinned_to_an_instance_needs_the_token_and_goes_there_only() -> None:
    fake = FakeUpstreams()
    pin = {"X-Ingress-Instance": "api-canary", "X-Ingress-Token": TOKEN}
    with make_client(fake) as client:
        hosts = {client.get("/api/x", headers=pin).json()["host"] for _ in range(20)}
        assert hosts == {"api-canary.test"}  # weight 1 of 4, yet every pinned request
        # A bearer token is the app's users' business: it does not pin.
        user = client.get("/api/x", headers={"X-Ingress-Instance": "api-canary",
                                             "Authorization": f"Bearer {TOKEN}"})
        assert user.status_code == 401 and user.json()["error"]["code"] == "unauthorized"
        wrong = client.get("/api/x", headers={**pin, "X-Ingress-Token": "nope"})
        assert wrong.status_code == 401
        unknown = client.get("/api/x", headers={**pin, "X-Ingress-Instance": "api-9"})
        assert unknown.status_code == 404 and "api-canary" in unknown.json()["error"]["message"]
    for forwarded in fake.seen:
        assert "x-ingress-token" not in forwarded.headers
        assert "x-ingress-instance" not in forwarded.headers
    with make_client(FakeUpstreams(down={"api-canary.test"})) as client:
        down = client.get("/api/x", headers=pin)  # no failover to api-1 for a pinned request
        assert down.status_code == 502 and "api-canary" in down.json()["error"]["message"]


def test_admin_disabled_without_token() -> None:
    settings = Settings(ingress_upstreams=json.dumps(UPSTREAMS))
    with TestClient(create_app(settings, transport=httpx.MockTransport(FakeUpstreams()))) as client:
        assert client.get("/_ingress/upstreams").status_code == 403


def test_streams_large_responses_and_labels_metrics_by_prefix() -> None:
    with make_client(FakeUpstreams()) as client:
        resp = client.get("/big")
        assert resp.status_code == 200 and len(resp.content) == 16 * 65536
        assert client.get("/healthz").json()["status"] == "ok"
        text = client.get("/metrics").text
    assert 'http_requests_total{method="GET",route="/*",service="ingress",status="200"} 1.0' in text
    assert 'route="/healthz"' in text
    assert "ingress_upstream_request_duration_seconds_bucket" in text


@pytest.mark.parametrize("config", [
    "not json", {}, {"api": ["http://x"]}, {"/api": ["ftp://x"]},
    {"/api": [{"url": "http://x", "weight": 0}]}, {"/api": [{"url": "http://x", "weight": -1}]},
    {"/api": [{"url": "http://x", "name": "a"}, {"url": "http://y", "name": "a"}]},
])
def test_invalid_configs_are_rejected(config: Any) -> None:
    with pytest.raises(UpstreamConfigError):
        parse_config(config)


def test_end_to_end_through_ingress_to_real_api(settings: Settings, payments_client: TestClient) -> None:
    from acme.api import create_app as create_api

    api_app = create_api(settings, payments_http=payments_client)
    config = {"/api": [{"name": "api-1", "url": "http://api.internal"}],
              "/": [{"name": "web-1", "url": "http://web.internal"}]}
    ingress = create_app(settings.replace(ingress_upstreams=json.dumps(config)),
                         transport=httpx.ASGITransport(app=api_app))
    with TestClient(ingress) as client:
        resp = client.get("/api/v1/products?page_size=3", headers={"X-Request-ID": "e2e-1"})
        assert resp.status_code == 200 and len(resp.json()["items"]) == 3
        assert resp.headers["x-request-id"] == "e2e-1"
        missing = client.get("/api/v1/products/999999")
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "product_not_found"
