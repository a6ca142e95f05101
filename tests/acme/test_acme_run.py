"""Acme running as prodbench runs it: `up` of the whole stack, real processes, real HTTP.

One run is shared by the module (starting it costs seconds); each test reads from it or adds
its own orders, never depends on another test's writes.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from environments.acme.environment import ACME
from environments.runs import RunHandle
from environments.runtime.procs import run_processes
from prodbench.session import prepare_run, start_run, stop_run

ADMIN = {"email": "admin@acme.test", "password": "acme-admin-pw"}
CUSTOMER_PASSWORD = "acme-customer-pw"
CARD = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}
APP_SERVICES = ("payments", "api", "worker", "web", "ingress")


@pytest.fixture(scope="module")
def acme_run(tmp_path_factory):
    runs_dir = tmp_path_factory.mktemp("acme-runs")
    paths = prepare_run(ACME, runs_dir, seed=1, run_id="acme-e2e")
    result = start_run(paths)
    handle = RunHandle(paths)
    try:
        assert result.status == "healthy", result.error
        yield result.env, handle
    finally:
        stop_run(handle)
        assert run_processes(handle.run_id) == []


@pytest.fixture
def shop(acme_run):
    env, _ = acme_run
    with httpx.Client(base_url=env.services["ingress"].url, timeout=30) as client:
        yield client


def login(client: httpx.Client, email: str, password: str) -> dict:
    resp = client.post("/api/v1/sessions", json={"email": email, "password": password})
    assert resp.status_code == 201, resp.text
    return {"Authorization": f"Bearer {resp.json()['token']}"}


def a_customer(client: httpx.Client, index: int) -> dict:
    admin = login(client, **ADMIN)
    users = client.get("/api/v1/admin/users", headers=admin, params={"page_size": 50}).json()
    rows = users["items"] if isinstance(users, dict) else users
    customers = [u for u in rows if not u.get("is_admin")]
    return login(client, customers[index]["email"], CUSTOMER_PASSWORD)


def test_the_seeded_storefront_is_served_at_the_ingress(shop):
    products = shop.get("/api/v1/products", params={"page_size": 5}).json()["items"]
    assert len(products) == 5
    home = shop.get("/")
    assert home.status_code == 200 and "text/html" in home.headers["content-type"]
    catalog = shop.get("/products")
    assert catalog.status_code == 200
    assert any(p["name"] in catalog.text for p in products)
    product = shop.get(f"/products/{products[0]['id']}")
    assert product.status_code == 200 and products[0]["name"] in product.text


def test_a_checkout_flows_through_ingress_api_payments_and_worker(acme_run, shop):
    env, handle = acme_run
    auth = a_customer(shop, 0)
    product = shop.get("/api/v1/products", params={"page_size": 1}).json()["items"][0]
    added = shop.post(
        "/api/v1/cart/items", json={"product_id": product["id"], "quantity": 2}, headers=auth
    )
    assert added.status_code == 201, added.text
    order = shop.post(
        "/api/v1/orders",
        headers=auth,
        json={
            "shipping_name": "Ada Lovelace",
            "shipping_address": "12 Analytical Row, London",
            "card": CARD,
        },
    )
    assert order.status_code == 201, order.text
    order = order.json()
    assert order["status"] in ("paid", "confirmed", "processing"), order
    # payments really authorised and captured it: its own ledger knows the charge
    with httpx.Client(base_url=env.services["payments"].url, timeout=10) as payments:
        metrics = payments.get("/metrics").text
    assert re.search(r"payments_\w+_total\{[^}]*\} [1-9]", metrics), "payments saw no charge"
    # the worker picked up the confirmation job and wrote the receipt to the object store
    deadline = time.monotonic() + 20
    while True:
        receipt = shop.get(f"/api/v1/orders/{order['id']}/receipt", headers=auth)
        if receipt.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert receipt.status_code == 200, receipt.text
    assert str(order["id"]) in receipt.text
    objects = list((handle.paths.state / "objects").rglob("*"))
    assert any(str(order["id"]) in p.name for p in objects if p.is_file()), objects


def test_every_service_exports_its_metrics(acme_run, shop):
    env, _ = acme_run
    shop.get("/api/v1/products")
    for name in APP_SERVICES:
        text = httpx.get(env.services[name].url + "/metrics", timeout=10).text
        assert "http_requests_total" in text, name
        assert "http_request_duration_seconds_bucket" in text, name
    api = httpx.get(env.services["api"].url + "/metrics").text
    for metric in ("acme_orders_total", "acme_payment_failures_total", "acme_cache_requests_total"):
        assert metric in api, metric
    worker = httpx.get(env.services["worker"].url + "/metrics").text
    assert "acme_queue_depth" in worker and "acme_queue_lag_seconds" in worker
    ingress = httpx.get(env.services["ingress"].url + "/metrics").text
    assert "ingress_upstream_requests_total{" in ingress


def test_prometheus_scrapes_every_app_service(acme_run):
    env, _ = acme_run
    prom = env.services["prometheus"].url
    deadline = time.monotonic() + 20
    while True:
        targets = httpx.get(prom + "/api/v1/targets").json()["data"]["activeTargets"]
        health = {t["labels"]["job"]: t["health"] for t in targets}
        if all(health.get(s) == "up" for s in APP_SERVICES) or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    assert {s: health.get(s) for s in APP_SERVICES} == {s: "up" for s in APP_SERVICES}


def test_prometheus_has_loaded_the_alert_rules(acme_run):
    import yaml

    from environments.acme.ops.rules import render_rules

    env, handle = acme_run
    expected = {g["name"] for g in yaml.safe_load(render_rules())["groups"]}
    assert (handle.paths.prometheus / "rules" / "acme.yml").read_text() == render_rules()
    prom = env.services["prometheus"].url
    deadline = time.monotonic() + 20
    while True:
        groups = httpx.get(prom + "/api/v1/rules", timeout=10).json()["data"]["groups"]
        rules = [r for g in groups for r in g["rules"]]
        evaluated = rules and all(r.get("lastEvaluation", "").startswith("2") for r in rules)
        if ({g["name"] for g in groups} == expected and evaluated) or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    assert {g["name"] for g in groups} == expected
    assert [(r["name"], r.get("lastError")) for r in rules if r["health"] != "ok"] == []


def test_an_alert_reaches_slack_alerts_through_alertmanager(acme_run):
    from slack_sdk import WebClient

    from tests.tools.conftest import BOT_TOKEN

    env, _ = acme_run
    alert = [
        {
            "labels": {
                "alertname": "PaymentFailuresHigh",
                "service": "payments",
                "severity": "page",
            },
            "annotations": {"summary": "payment failure ratio above 5% for 1m"},
        }
    ]
    am = env.services["alertmanager"].url
    assert httpx.post(am + "/api/v2/alerts", json=alert, timeout=10).status_code == 200
    slack = WebClient(
        token=BOT_TOKEN, base_url=f"http://127.0.0.1:{env.services['tools'].ports['slack']}/api/"
    )
    channel = next(
        c["id"] for c in slack.conversations_list(limit=200)["channels"] if c["name"] == "alerts"
    )
    deadline = time.monotonic() + 20
    while True:
        texts = [
            json.dumps(m) for m in slack.conversations_history(channel=channel, limit=5)["messages"]
        ]
        if any("PaymentFailuresHigh" in t for t in texts) or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    assert any("PaymentFailuresHigh" in t and "FIRING" in t for t in texts), texts


def test_bad_input_gets_a_4xx_json_error_never_a_500(shop):
    cases = [
        ("POST", "/api/v1/sessions", {"json": {"email": "nobody@acme.test", "password": "x"}}),
        ("POST", "/api/v1/orders", {"json": {"shipping_name": ""}}),
        ("GET", "/api/v1/products/999999999", {}),
        ("GET", "/api/v1/products", {"params": {"page_size": "lots"}}),
        (
            "POST",
            "/api/v1/cart/items",
            {"content": b"{not json", "headers": {"Content-Type": "application/json"}},
        ),
        ("GET", "/api/v1/users/me", {"headers": {"Authorization": "Bearer forged"}}),
    ]
    for method, path, kwargs in cases:
        resp = shop.request(method, path, **kwargs)
        assert 400 <= resp.status_code < 500, (method, path, resp.status_code, resp.text)
        body = resp.json()
        assert body["error"]["message"], (path, body)


def test_the_workspace_is_the_deployed_history(acme_run):
    _, handle = acme_run
    ws = handle.paths.workspace
    log = subprocess.run(
        ["git", "-C", str(ws), "log", "--format=%H %an"], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert len(log) >= 30
    head = log[0].split()[0]
    release = handle.paths.releases / head
    assert json.loads((release / ".release.json").read_text()) == {"sha": head}
    assert (release / "acme" / "api" / "app.py").read_bytes() == (
        ws / "acme" / "api" / "app.py"
    ).read_bytes()
    env = json.loads(handle.paths.env_json.read_text())
    assert env["stack"] == "acme" and env["seed"] == 1


# ---- Sentry: an unhandled error in a route reaches the run's Sentry as a real envelope -------

SENTRY_TOKEN = "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"


def _process_env(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().split("=", 1) for item in raw if b"=" in item)


def test_an_unhandled_error_in_a_route_reaches_the_runs_sentry(tmp_path, acme_run):
    env, handle = acme_run
    api_pid = handle.supervisor().services["api"].pid
    dsn = _process_env(api_pid)["SENTRY_DSN"]  # what the running api really reports to
    sentry_port = env.services["tools"].ports["sentry"]
    assert dsn.endswith(f"@127.0.0.1:{sentry_port}/2")
    release = next(p for p in handle.paths.releases.iterdir() if p.is_dir())
    # The same api code with that DSN, on a database nobody migrated: every query fails, as
    # after a forgotten migration.
    proc_env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(release),
        "ACME_DATABASE_URL": f"sqlite:///{tmp_path}/empty.db",
        "ACME_RELEASE": "abc1234",
        "SENTRY_DSN": dsn,
        "ACME_FLAGS_FILE": str(tmp_path / "flags.json"),
    }
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "acme.api", "--host", "127.0.0.1", "--port", str(port)],
        env=proc_env,
        cwd=release,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_listening(url)  # its /healthz rightly reports the unmigrated database
        resp = httpx.get(url + "/api/v1/products", timeout=10)
        assert resp.status_code == 500
        assert "Traceback" not in resp.text and resp.json()["error"]["message"]
        sentry = httpx.Client(
            base_url=f"http://127.0.0.1:{sentry_port}/api/0",
            headers={"Authorization": f"Bearer {SENTRY_TOKEN}"},
            timeout=10,
        )
        deadline = time.monotonic() + 20
        while True:
            issues = sentry.get(
                "/organizations/acme/issues/",
                params={"query": "is:unresolved release:abc1234", "project": "2"},
            ).json()
            if issues or time.monotonic() > deadline:
                break
            time.sleep(0.2)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert len(issues) == 1, issues
    issue = issues[0]
    assert "OperationalError" in issue["title"] and issue["project"]["slug"] == "acme-api"
    event = sentry.get(f"/organizations/acme/issues/{issue['id']}/events/latest/").json()
    tags = {t["key"]: t["value"] for t in event["tags"]}
    assert tags["release"] == "abc1234" and tags["environment"] == "production"
    exc = next(e for e in event["entries"] if e["type"] == "exception")["data"]["values"][-1]
    assert "no such table" in exc["value"]
    assert any(f["inApp"] for f in exc["stacktrace"]["frames"])


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_listening(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url + "/healthz", timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError(f"{url} never answered")


def test_the_app_suite_passes_on_its_own(tmp_path):
    """The monorepo's own tests, run the way its engineers run them."""
    app = Path(__file__).resolve().parents[2] / "environments" / "acme" / "app"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-x", "-rs", "-p", "no:cacheprovider"],
        cwd=app,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert re.search(r"\d+ passed", proc.stdout)
    if os.environ.get("CI"):  # CI installs PostgreSQL and Redis: their tests must run, not skip
        skipped = proc.stdout.split("short test summary info")[-1]
        for name in ("test_postgres", "test_cache_backends", "test_objectstore_backends"):
            assert name not in skipped, proc.stdout
