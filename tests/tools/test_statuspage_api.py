"""The status page: the manage API as Statuspage clients call it (JSON and Rails-style forms),
an incident from investigating to resolved, components, and the public page reflecting it."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.tools.conftest import running
from tests.tools.sentry_support import ACME_STATUSPAGE, PAGE_ID, STATUSPAGE_KEY, SUPPORT_KEY

ISO_MS_Z = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    with running("statuspage", tmp_path_factory.mktemp("statuspage"), [ACME_STATUSPAGE]) as service:
        yield service


@pytest.fixture(scope="module")
def api(page):
    with httpx.Client(
        base_url=f"{page.url}/v1/pages/{PAGE_ID}",
        headers={"Authorization": f"OAuth {STATUSPAGE_KEY}"},
        timeout=10,
    ) as client:
        yield client


def components_by_name(api) -> dict[str, dict]:
    return {c["name"]: c for c in api.get("/components").json()}


def test_fixtures_match_the_company_history(page, api):
    components = api.get("/components").json()
    assert [c["name"] for c in components] == [
        "Storefront",
        "Checkout",
        "API",
        "Payments",
        "Search",
        "Email notifications",
    ]
    assert {c["status"] for c in components} == {"operational"}
    incidents = api.get("/incidents").json()
    assert [i["name"] for i in incidents] == [
        "Some payments are failing at checkout",
        "Errors loading pages and checking out",
        "Delayed order confirmation emails",
    ]
    ingress = incidents[1]
    assert ingress["status"] == "resolved" and ingress["impact"] == "major"
    assert ingress["created_at"] == "2026-09-22T09:44:00.000Z"
    assert ingress["resolved_at"] == "2026-09-22T10:08:00.000Z"
    assert [u["status"] for u in ingress["incident_updates"]] == [
        "resolved",
        "monitoring",
        "identified",
        "investigating",
    ]
    first = ingress["incident_updates"][-1]["affected_components"]
    assert {(a["name"], a["old_status"], a["new_status"]) for a in first} == {
        ("Storefront", "operational", "partial_outage"),
        ("Checkout", "operational", "partial_outage"),
    }
    assert ingress["shortlink"] == f"{page.url}/incidents/{ingress['id']}"
    assert api.get("/incidents/unresolved").json() == []
    pages = api.get(f"{page.url}/v1/pages").json()
    assert [(p["id"], p["subdomain"], p["url"]) for p in pages] == [
        (PAGE_ID, "acme", "https://status.acme.dev")
    ]
    assert api.get(f"{page.url}/v1/pages/{PAGE_ID}").json()["name"] == "Acme Outfitters"


def test_incident_lifecycle_moves_components_and_the_public_page(page, api):
    created = api.post(
        "/incidents",
        json={
            "incident": {
                "name": "Checkout errors for some customers",
                "status": "investigating",
                "body": "We are investigating failed checkouts.",
                "components": {components_by_name(api)["Checkout"]["id"]: "major_outage"},
                "component_ids": [components_by_name(api)["Payments"]["id"]],
            }
        },
    )
    assert created.status_code == 201, created.text
    incident = created.json()
    assert incident["status"] == "investigating" and incident["impact"] == "critical"
    assert {c["name"] for c in incident["components"]} == {"Checkout", "Payments"}
    assert components_by_name(api)["Checkout"]["status"] == "major_outage"

    summary = httpx.get(f"{page.url}/api/v2/summary.json").json()
    assert summary["status"] == {"indicator": "critical", "description": "Major Service Outage"}
    assert [i["id"] for i in summary["incidents"]] == [incident["id"]]
    assert {c["name"]: c["status"] for c in summary["components"]}["Checkout"] == "major_outage"
    assert summary["page"]["id"] == PAGE_ID and summary["scheduled_maintenances"] == []
    assert api.get("/incidents/unresolved").json()[0]["id"] == incident["id"]
    home = httpx.get(f"{page.url}/")
    assert home.status_code == 200 and "Checkout errors for some customers" in home.text
    assert 'data-status="major_outage"' in home.text

    steps = [
        (
            "identified",
            "A faulty payment provider config was identified.",
            {"Checkout": "degraded_performance"},
        ),
        ("monitoring", "A fix has been deployed; we are monitoring.", {"Checkout": "operational"}),
        ("resolved", "This incident has been resolved.", {}),
    ]
    for status, body, changes in steps:
        ids = components_by_name(api)
        response = api.patch(
            f"/incidents/{incident['id']}",
            json={
                "incident": {
                    "status": status,
                    "body": body,
                    "components": {ids[name]["id"]: s for name, s in changes.items()},
                }
            },
        )
        assert response.status_code == 200, response.text
    final = api.get(f"/incidents/{incident['id']}").json()
    assert final["status"] == "resolved" and final["impact"] == "critical"
    assert [u["status"] for u in final["incident_updates"]] == [
        "resolved",
        "monitoring",
        "identified",
        "investigating",
    ]
    assert final["monitoring_at"] is not None and final["resolved_at"] is not None
    assert re.match(ISO_MS_Z, final["resolved_at"])
    assert api.get("/incidents/unresolved").json() == []
    status = httpx.get(f"{page.url}/api/v2/status.json").json()
    assert status["status"] == {"indicator": "none", "description": "All Systems Operational"}
    public = httpx.get(f"{page.url}/api/v2/incidents.json").json()["incidents"][0]
    assert public["id"] == incident["id"] and public["status"] == "resolved"
    assert public["created_at"].endswith("+00:00")

    with page.admin() as admin:
        events = admin.get("/_admin/events").json()["events"]
    kinds = [(e["kind"], e["payload"].get("to")) for e in events if e["actor"] == "agent"]
    assert ("incident.created", None) in kinds and ("incident.updated", "resolved") in kinds
    assert ("component.status_changed", "major_outage") in kinds
    assert ("component.status_changed", "operational") in kinds


def test_rails_style_forms_and_component_updates(page):
    form = {
        "incident[name]": "Search is slow",
        "incident[status]": "identified",
        "incident[body]": "Search results take several seconds.",
        "incident[impact_override]": "minor",
    }
    with httpx.Client(base_url=f"{page.url}/v1/pages/{PAGE_ID}", timeout=10) as client:
        search = next(
            c
            for c in client.get("/components", params={"api_key": SUPPORT_KEY}).json()
            if c["name"] == "Search"
        )
        form[f"incident[components][{search['id']}]"] = "degraded_performance"
        created = client.post(
            "/incidents", data=form, headers={"Authorization": f"OAuth {SUPPORT_KEY}"}
        )
        assert created.status_code == 201, created.text
        assert created.json()["impact"] == "minor"
        assert created.json()["components"][0]["status"] == "degraded_performance"
        back = client.put(
            f"/components/{search['id']}",
            json={"component": {"status": "operational", "description": "Product search"}},
            headers={"Authorization": f"OAuth {SUPPORT_KEY}"},
        )
        assert back.status_code == 200 and back.json()["status"] == "operational"
        assert back.json()["description"] == "Product search"
    with page.admin() as admin:
        events = admin.get("/_admin/events", params={"kind": "component"}).json()["events"]
    assert events[-2]["actor"] == "chloe.dubois" and events[-2]["payload"]["to"] == "operational"


def test_errors_speak_statuspage(page, api):
    base = f"{page.url}/v1/pages/{PAGE_ID}"
    cases = [
        (httpx.get(f"{base}/incidents"), 401),
        (
            httpx.get(f"{base}/incidents", headers={"Authorization": "OAuth nope-nope-nope-nope"}),
            401,
        ),
        (
            httpx.get(f"{base}/incidents", headers={"Authorization": f"Bearer {STATUSPAGE_KEY}"}),
            401,
        ),
        (api.get(f"{page.url}/v1/pages/zzzzzzzzzzzz/incidents"), 404),
        (api.get("/incidents/doesnotexist"), 404),
        (api.post("/incidents", json={"name": "flat body"}), 400),
        (api.post("/incidents", json={"incident": {"status": "investigating"}}), 422),
        (api.post("/incidents", json={"incident": {"name": "x", "status": "on fire"}}), 422),
        (
            api.post(
                "/incidents",
                json={"incident": {"name": "x", "components": {"nope": "major_outage"}}},
            ),
            422,
        ),
        (api.patch("/components/nope", json={"component": {"status": "operational"}}), 404),
        (api.delete("/incidents"), 405),
        (api.post("/incidents", content=b"{broken"), 400),
    ]
    for response, status in cases:
        assert response.status_code == status, (status, response.text)
        assert set(response.json()) == {"error"} and response.json()["error"]
    assert api.get("/incidents").status_code == 200
