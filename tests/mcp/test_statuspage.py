"""The status page MCP server against the real Statuspage imitation seeded with Acme's
fixtures: components, an incident from investigating to resolved (components restored), what
customers see, effects read back through the manage API, the public page and the admin log,
and bad arguments turned into clear tool errors."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from mcp import Client

from mcp_servers.statuspage import create_server
from tests.tools.conftest import free_port, running
from tests.tools.sentry_support import ACME_STATUSPAGE, PAGE_ID, STATUSPAGE_KEY

pytestmark = pytest.mark.anyio

TOOLS = {
    "list_components",
    "update_component_status",
    "list_incidents",
    "get_incident",
    "create_incident",
    "update_incident",
    "get_public_status",
}
COMPONENTS = ["Storefront", "Checkout", "API", "Payments", "Search", "Email notifications"]


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    with running(
        "statuspage", tmp_path_factory.mktemp("mcp-statuspage"), [ACME_STATUSPAGE]
    ) as service:
        yield service


@pytest.fixture(scope="module")
def server(page):
    return create_server(page.url, STATUSPAGE_KEY)


@pytest.fixture(scope="module")
def rest(page):
    with httpx.Client(
        base_url=f"{page.url}/v1/pages/{PAGE_ID}",
        headers={"Authorization": f"OAuth {STATUSPAGE_KEY}"},
        timeout=10,
    ) as client:
        yield client


def statuses(rest) -> dict[str, str]:
    return {c["name"]: c["status"] for c in rest.get("/components").json()}


async def call(server, tool: str, **args: Any) -> dict[str, Any]:
    async with Client(server) as client:
        result = await client.call_tool(tool, args)
    assert not result.is_error, result.content[0].text
    return result.structured_content


async def fails(server, tool: str, **args: Any) -> str:
    async with Client(server) as client:
        result = await client.call_tool(tool, args)
    assert result.is_error, result.structured_content
    return result.content[0].text


async def test_tools_are_listed_with_their_schemas(server):
    async with Client(server) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    assert set(tools) == TOOLS
    create = tools["create_incident"].input_schema
    assert create["required"] == ["name", "body"]
    assert create["properties"]["status"]["enum"] == [
        "investigating",
        "identified",
        "monitoring",
        "resolved",
    ]
    changes = create["properties"]["components"]["anyOf"][0]
    assert changes["type"] == "object" and "major_outage" in changes["additionalProperties"]["enum"]
    update = tools["update_incident"].input_schema["properties"]
    assert update["restore_components"]["default"] is True
    assert tools["list_incidents"].input_schema["properties"]["which"]["enum"] == [
        "unresolved",
        "all",
    ]
    assert tools["get_public_status"].annotations.read_only_hint is True
    assert tools["update_incident"].annotations.read_only_hint is False
    assert all(t.description for t in tools.values())


async def test_components_and_incident_history(server, page):
    listed = await call(server, "list_components")
    assert listed["page"] == PAGE_ID
    assert [c["name"] for c in listed["components"]] == COMPONENTS
    assert {c["status"] for c in listed["components"]} == {"operational"}
    assert await call(server, "list_incidents") == {"incidents": [], "next_page": None}
    history = await call(server, "list_incidents", which="all")
    assert [i["name"] for i in history["incidents"]] == [
        "Some payments are failing at checkout",
        "Errors loading pages and checking out",
        "Delayed order confirmation emails",
    ]
    first_page = await call(server, "list_incidents", which="all", limit=2)
    assert first_page["next_page"] == 2 and len(first_page["incidents"]) == 2
    second = await call(server, "list_incidents", which="all", limit=2, page_number=2)
    assert [i["name"] for i in second["incidents"]] == ["Delayed order confirmation emails"]
    found = await call(server, "list_incidents", which="all", query="rolled back")
    assert [i["name"] for i in found["incidents"]] == ["Errors loading pages and checking out"]

    ingress = await call(server, "get_incident", incident_id=history["incidents"][1]["id"])
    assert ingress["status"] == "resolved" and ingress["impact"] == "major"
    assert ingress["created_at"] == "2026-09-22T09:44:00Z"
    assert ingress["resolved_at"] == "2026-09-22T10:08:00Z"
    assert [u["status"] for u in ingress["updates"]] == [
        "resolved",
        "monitoring",
        "identified",
        "investigating",
    ]
    assert ingress["updates"][-1]["components"] == {
        "Storefront": "operational -> partial_outage",
        "Checkout": "operational -> partial_outage",
    }
    assert ingress["postmortem"].startswith("A change to how our traffic routing layer")
    assert ingress["shortlink"] == f"{page.url}/incidents/{ingress['id']}"


async def test_incident_lifecycle_restores_components(server, rest, page):
    created = await call(
        server,
        "create_incident",
        name="Checkout errors for some customers",
        body="We are investigating failed checkouts.",
        components={"checkout": "major_outage", "Payments": "degraded_performance"},
    )
    incident_id = created["id"]
    assert created["status"] == "investigating" and created["impact"] == "critical"
    assert created["components"] == {"Checkout": "major_outage", "Payments": "degraded_performance"}
    assert statuses(rest)["Checkout"] == "major_outage"
    assert rest.get("/incidents/unresolved").json()[0]["id"] == incident_id

    public = await call(server, "get_public_status")
    assert public["indicator"] == "critical" and public["status"] == "Major Service Outage"
    assert public["components"]["Checkout"] == "major_outage"
    assert [i["id"] for i in public["incidents"]] == [incident_id]
    assert public["incidents"][0]["latest_update"]["body"] == (
        "We are investigating failed checkouts."
    )
    assert public["url"] == "https://status.acme.dev"

    identified = await call(
        server,
        "update_incident",
        incident_id=incident_id,
        status="identified",
        body="A faulty payment provider config was identified.",
        components={"Checkout": "partial_outage"},
    )
    assert identified["components"] == {
        "Checkout": "partial_outage",
        "Payments": "degraded_performance",
    }
    assert identified["updates"][0]["components"] == {"Checkout": "major_outage -> partial_outage"}
    note = await call(
        server, "update_incident", incident_id=incident_id, body="Still working on it."
    )
    assert note["status"] == "identified" and note["updates"][0]["body"] == "Still working on it."

    resolved = await call(
        server,
        "update_incident",
        incident_id=incident_id,
        status="resolved",
        body="This incident has been resolved.",
    )
    assert resolved["status"] == "resolved" and resolved["resolved_at"]
    assert resolved["updates"][0]["components"] == {
        "Checkout": "partial_outage -> operational",
        "Payments": "degraded_performance -> operational",
    }
    assert set(statuses(rest).values()) == {"operational"}
    final = rest.get(f"/incidents/{incident_id}").json()
    assert [u["status"] for u in final["incident_updates"]] == [
        "resolved",
        "identified",
        "identified",
        "investigating",
    ]
    assert rest.get("/incidents/unresolved").json() == []
    summary = rest.get(f"{page.url}/api/v2/summary.json").json()  # the public page
    assert summary["status"]["indicator"] == "none" and summary["incidents"] == []

    with page.admin() as admin:
        events = admin.get("/_admin/events").json()["events"]
    kinds = [(e["kind"], e["payload"].get("to")) for e in events if e["actor"] == "agent"]
    assert ("incident.created", None) in kinds and ("incident.updated", "resolved") in kinds
    assert ("component.status_changed", "major_outage") in kinds


async def test_resolving_keeps_components_when_told(server, rest):
    created = await call(
        server,
        "create_incident",
        name="Search is slow",
        body="Search results take several seconds.",
        status="identified",
        impact="minor",
        components={"Search": "degraded_performance", "API": "partial_outage"},
        deliver_notifications=False,
    )
    assert created["impact"] == "minor" and created["impact_override"] == "minor"
    explicit = await call(
        server,
        "update_incident",
        incident_id=created["id"],
        status="resolved",
        body="Resolved; search indexing continues in the background.",
        components={"Search": "degraded_performance"},
    )
    assert explicit["updates"][0]["components"] == {
        "Search": "degraded_performance",  # kept, as asked
        "API": "partial_outage -> operational",
    }
    assert statuses(rest)["Search"] == "degraded_performance"

    again = await call(
        server,
        "create_incident",
        name="Email delays",
        body="Order confirmations are late.",
        components={"Email notifications": "partial_outage"},
    )
    kept = await call(
        server,
        "update_incident",
        incident_id=again["id"],
        status="resolved",
        body="Resolved; the backlog drains over the next hour.",
        restore_components=False,
    )
    assert "components" not in kept["updates"][0]
    assert statuses(rest)["Email notifications"] == "partial_outage"

    for name in ("Search", "Email notifications"):
        back = await call(server, "update_component_status", component=name, status="operational")
        assert back["status"] == "operational" and back["previous_status"] != "operational"
    assert set(statuses(rest).values()) == {"operational"}
    by_id = await call(
        server,
        "update_component_status",
        component=rest.get("/components").json()[0]["id"],
        status="under_maintenance",
    )
    assert by_id["name"] == "Storefront" and statuses(rest)["Storefront"] == "under_maintenance"
    public = await call(server, "get_public_status")
    assert public["indicator"] == "maintenance"
    await call(server, "update_component_status", component="storefront", status="operational")


async def test_bad_arguments_become_clear_tool_errors(server):
    cases = [
        ("get_incident", {"incident_id": "doesnotexist"}, "Not found: incident doesnotexist"),
        ("get_incident", {"incident_id": "../x"}, "is not an incident id"),
        (
            "create_incident",
            {"name": "x", "body": "y", "components": {"Chekout": "major_outage"}},
            "Unknown component(s) 'Chekout'; the page's components are: Storefront, Checkout",
        ),
        ("create_incident", {"name": "x", "body": "y", "components": {"API": "down"}}, "major"),
        ("create_incident", {"name": "x", "body": "y", "status": "fixed"}, "investigating"),
        ("create_incident", {"name": "  ", "body": "y"}, "must not be blank"),
        ("create_incident", {"body": "y"}, "name"),
        ("update_incident", {"incident_id": "doesnotexist", "body": "x"}, "Not found"),
        ("update_incident", {"incident_id": "abc"}, "Nothing to update"),
        ("update_component_status", {"component": "Nope", "status": "operational"}, "Nope"),
        ("update_component_status", {"component": "API", "status": "broken"}, "operational"),
        ("list_incidents", {"which": "open"}, "unresolved"),
        ("list_incidents", {"limit": 0}, "limit"),
    ]
    for tool, args, message in cases:
        text = await fails(server, tool, **args)
        assert message in text, (tool, args, text)
        assert "Traceback" not in text


async def test_bad_key_unreachable_page_and_explicit_page_id(page):
    wrong = create_server(page.url, "nope-nope-nope-nope")
    assert "rejected the API key" in await fails(wrong, "list_components")
    gone = create_server(f"http://127.0.0.1:{free_port()}", STATUSPAGE_KEY)
    assert "Cannot reach Statuspage" in await fails(gone, "list_incidents")
    other = create_server(page.url, STATUSPAGE_KEY, page_id="zzzzzzzzzzzz")
    assert "Not found" in await fails(other, "list_components")
    pinned = create_server(page.url, STATUSPAGE_KEY, page_id=PAGE_ID)
    assert (await call(pinned, "list_components"))["page"] == PAGE_ID
