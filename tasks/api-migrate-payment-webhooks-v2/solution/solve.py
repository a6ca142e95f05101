"""The oracle for api-migrate-payment-webhooks-v2: retire the v1 webhook receiver.

Read the ticket and the thread, point the processor's webhooks at the v2 receiver
(`/api/v1/payments/events`) and deploy payments, check in monitoring that nothing posts to the
v1 receiver any more, replace it with a 410 Gone that points at its successor, keep the tests
and README in step, deploy api, then close the ticket and tell #payments-team.
"""

LEGACY = "/api/v1/payments/webhook"

SENDER = "acme/payments/webhooks.py"
SENDER_OLD = 'WEBHOOK_PATH = "/api/v1/payments/webhook"\n'
SENDER_NEW = 'WEBHOOK_PATH = "/api/v1/payments/events"  # the shop\'s v2 receiver (webhooks v2)\n'
SENDER_TEST_OLD = 'assert str(req.url) == "http://shop.test/api/v1/payments/webhook"\n'
SENDER_TEST_NEW = 'assert str(req.url) == "http://shop.test/api/v1/payments/events"\n'
README_DIAGRAM_OLD = "api /api/v1/payments/webhook (HMAC signed)"
README_DIAGRAM_NEW = "api /api/v1/payments/events  (HMAC signed)"

ROUTES = "acme/api/routes/payments.py"
ROUTES_IMPORTS_OLD = '''import logging

from fastapi import APIRouter, Request, Response
'''
ROUTES_IMPORTS_NEW = '''from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
'''
ROUTES_ERR_OLD = "from acme.api.services.webhooks import WebhookService\n"
ROUTES_ERR_NEW = (
    "from acme.api.services.webhooks import WebhookService\nfrom acme.common.errors import error_response\n"
)
ROUTES_HEAD_OLD = '''log = logging.getLogger(__name__)
router = APIRouter(prefix="/payments", tags=["payments"])

# The processor's v2 webhooks post to `/payments/events`; `/payments/webhook` is the v1 receiver,
# deprecated (PAY: webhooks v2). Only our processor account calls it: 90 days per the API policy.
WEBHOOK_V1_SUNSET = "Wed, 18 Nov 2026 00:00:00 GMT"


async def _handle(request: Request, ctx: Ctx, db: Db) -> dict[str, Any]:
    body = await request.body()
    signature = request.headers.get(SIGNATURE_HEADER)
    return await run_in_threadpool(WebhookService(ctx, db).handle, body, signature)


@router.post("/events")
async def payment_events(request: Request, ctx: Ctx, db: Db) -> dict[str, Any]:
    """Processor events (webhooks v2): HMAC-signed, deduplicated by event id."""
    return await _handle(request, ctx, db)
'''
ROUTES_HEAD_NEW = '''router = APIRouter(prefix="/payments", tags=["payments"])


@router.post("/events")
async def payment_events(request: Request, ctx: Ctx, db: Db) -> dict[str, Any]:
    """Processor events (webhooks v2): HMAC-signed, deduplicated by event id."""
    body = await request.body()
    signature = request.headers.get(SIGNATURE_HEADER)
    return await run_in_threadpool(WebhookService(ctx, db).handle, body, signature)
'''
ROUTES_V1_OLD = '''@router.post("/webhook", deprecated=True)
async def payment_webhook(request: Request, response: Response, ctx: Ctx, db: Db) -> dict[str, Any]:
    """Deprecated v1 receiver: use `/payments/events` (Sunset 2026-11-18)."""
    log.warning("deprecated webhook endpoint called", extra={"path": request.url.path})
    response.headers["Deprecation"] = "true"
    response.headers["Sunset"] = WEBHOOK_V1_SUNSET
    response.headers["Link"] = '</api/v1/payments/events>; rel="successor-version"'
    return await _handle(request, ctx, db)
'''
ROUTES_V1_NEW = '''@router.post("/webhook", include_in_schema=False)
async def payment_webhook_removed() -> JSONResponse:
    """The v1 receiver, removed after its Sunset (2026-11-18): 410 Gone, pointing at v2."""
    return error_response(
        410,
        "endpoint_removed",
        "POST /payments/webhook was removed; the processor posts to /payments/events",
        headers={"Link": '</api/v1/payments/events>; rel="successor-version"'},
    )
'''
API_TESTS = "tests/test_api_orders.py"
HELPER_OLD = '''    return api.post("/api/v1/payments/webhook", content=body,'''
HELPER_NEW = '''    return api.post("/api/v1/payments/events", content=body,'''
V2_TEST_OLD = '''def test_v2_events_endpoint_reconciles_like_v1(api: TestClient) -> None:
    event = {"id": "evt_v2", "type": "charge.captured", "data": {"charge": {"id": "ch_v2"}}}
    body = json.dumps(event).encode()
    resp = api.post("/api/v1/payments/events", content=body,
                    headers={"X-Acme-Signature": sign_payload("whsec_test", body),
                             "Content-Type": "application/json"})
    assert resp.status_code == 200, resp.text
    assert "Deprecation" not in resp.headers
    legacy = _webhook(api, {**event, "id": "evt_v1"})
    assert legacy.status_code == 200 and legacy.headers["Deprecation"] == "true"
'''
V2_TEST_NEW = '''def test_v1_webhook_receiver_is_gone(api: TestClient) -> None:
    event = {"id": "evt_v1", "type": "charge.captured", "data": {"charge": {"id": "ch_v1"}}}
    body = json.dumps(event).encode()
    resp = api.post("/api/v1/payments/webhook", content=body,
                    headers={"X-Acme-Signature": sign_payload("whsec_test", body),
                             "Content-Type": "application/json"})
    assert resp.status_code == 410 and resp.json()["error"]["code"] == "endpoint_removed"
    assert "/api/v1/payments/events" in resp.headers["Link"]
'''
ROBUST_OLD = '''    ("POST", "/api/v1/payments/webhook", {"id": "evt"}),'''
ROBUST_NEW = '''    ("POST", "/api/v1/payments/events", {"id": "evt"}),'''
README_EP_OLD = (
    "`payments/events` (processor webhooks; `payments/webhook` is the deprecated v1 receiver,\n"
    "  Sunset 2026-11-18), `health`."
)
README_EP_NEW = (
    "`payments/events` (processor webhooks; the v1 receiver `payments/webhook` was removed\n"
    "  on 2026-11-19: 410 Gone), `health`."
)


def edit_payments(kit) -> None:
    kit.replace(SENDER, SENDER_OLD, SENDER_NEW)
    kit.replace("tests/test_payments.py", SENDER_TEST_OLD, SENDER_TEST_NEW)
    kit.replace("README.md", README_DIAGRAM_OLD, README_DIAGRAM_NEW)


def edit_api(kit) -> None:
    kit.replace(ROUTES, ROUTES_IMPORTS_OLD, ROUTES_IMPORTS_NEW)
    kit.replace(ROUTES, ROUTES_ERR_OLD, ROUTES_ERR_NEW)
    kit.replace(ROUTES, ROUTES_HEAD_OLD, ROUTES_HEAD_NEW)
    kit.replace(ROUTES, ROUTES_V1_OLD, ROUTES_V1_NEW)
    kit.replace(API_TESTS, HELPER_OLD, HELPER_NEW)
    kit.replace(API_TESTS, V2_TEST_OLD, V2_TEST_NEW)
    kit.replace("tests/test_api_robustness.py", ROBUST_OLD, ROBUST_NEW)
    kit.replace("README.md", README_EP_OLD, README_EP_NEW)


def solve(kit) -> None:
    ticket = kit.find_issue("Retire the v1 webhook receiver")
    kit.call("slack", "slack_get_channel_history", channel_id="payments-team")

    # 1. The sender moves first: the v1 receiver keeps answering until nothing posts to it.
    edit_payments(kit)
    kit.run("python", "-m", "pytest", "-q", "-x", "tests/test_payments.py")
    kit.commit(
        "Payments: deliver webhooks to the v2 receiver /payments/events\n\n"
        "The processor account was the last caller of the deprecated v1 receiver\n"
        "/payments/webhook. Same events, same signatures; pending deliveries and retries go\n"
        "to the new path once payments restarts."
    )
    kit.deploy(["payments"])
    kit.wait_until(lambda: _legacy_calls(kit) == 0, timeout=120, interval=5)

    # 2. Then the api: the v1 receiver answers 410 Gone with its successor.
    edit_api(kit)
    kit.run("python", "-m", "pytest", "-q", "-x", API_TESTS, "tests/test_api_robustness.py")
    kit.commit(
        "API: remove the v1 webhook receiver POST /payments/webhook (410 Gone)\n\n"
        "Past its Sunset (2026-11-18) and without callers since the processor delivers to\n"
        "/payments/events: it now answers 410 endpoint_removed with a Link to the successor."
    )
    kit.deploy(["api"])

    kit.close_issue(
        ticket,
        "Done. Payments delivers webhooks to /api/v1/payments/events (deployed first); "
        "monitoring showed no more posts to /api/v1/payments/webhook, which now answers 410 "
        "Gone (endpoint_removed, Link to /payments/events), deployed to api.",
    )
    kit.post_message(
        "payments-team",
        "The v1 webhook receiver POST /api/v1/payments/webhook is removed (410 Gone). "
        "Processor webhooks go to /api/v1/payments/events; payments was deployed first and no "
        "delivery hit the old path since.",
    )


def _legacy_calls(kit) -> float:
    query = f'sum(increase(http_requests_total{{service="api",route="{LEGACY}"}}[30s]))'
    series = kit.call("monitoring", "query", query=query)["series"]
    return sum(float(s["value"]) for s in series if s.get("value") is not None)
