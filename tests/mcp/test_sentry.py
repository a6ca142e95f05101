"""The Sentry MCP server against the real Sentry imitation seeded with Acme's fixtures: every
tool with good arguments (effects read back through the web API and the admin log), an event
sent by the real sentry-sdk, and bad arguments turned into clear tool errors."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client

from mcp_servers.sentry import create_server
from tests.tools.conftest import free_port, running
from tests.tools.sentry_support import ACME_SENTRY, AGENT_TOKEN, sdk_capture, web

pytestmark = pytest.mark.anyio
ALL = "3650d"  # the fixtures' history, whatever today's date

TOOLS = {
    "whoami",
    "find_organizations",
    "find_projects",
    "find_teams",
    "find_releases",
    "search_issues",
    "get_issue_details",
    "update_issue",
    "add_issue_note",
    "get_issue_activity",
    "search_issue_events",
    "get_event_stacktrace",
}


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture(scope="module")
def sentry(tmp_path_factory):
    with running("sentry", tmp_path_factory.mktemp("mcp-sentry"), [ACME_SENTRY]) as service:
        yield service


@pytest.fixture(scope="module")
def server(sentry):
    return create_server(sentry.url, AGENT_TOKEN)


@pytest.fixture(scope="module")
def rest(sentry):
    with web(sentry) as client:
        yield client


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


async def issue_titled(server, title: str, **filters: Any) -> dict[str, Any]:
    """The first issue whose title starts with ``title``."""
    found = await call(server, "search_issues", query="", period=ALL, limit=100, **filters)
    return next(i for i in found["issues"] if i["title"].startswith(title))


async def test_tools_are_listed_with_their_schemas(server):
    async with Client(server) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    assert set(tools) == TOOLS
    search = tools["search_issues"].input_schema["properties"]
    assert {"organizationSlug", "query", "sort", "projectSlugOrId", "limit", "cursor"} <= set(
        search
    )
    assert search["limit"]["maximum"] == 100 and search["query"]["default"] == "is:unresolved"
    assert set(search["sort"]["enum"]) == {"date", "freq", "new", "user", "recommended"}
    status = tools["update_issue"].input_schema["properties"]["status"]["anyOf"][0]
    assert status["enum"] == ["resolved", "resolvedInNextRelease", "unresolved", "ignored"]
    assert tools["add_issue_note"].input_schema["required"] == ["text"]
    assert tools["get_issue_details"].annotations.read_only_hint is True
    assert tools["update_issue"].annotations.read_only_hint is False
    assert all(t.description and t.output_schema["type"] == "object" for t in tools.values())


async def test_whoami_organizations_projects_teams_releases(server):
    assert await call(server, "whoami") == {
        "id": "25",
        "name": "Acme Agent",
        "email": "agent@acme.dev",
    }
    orgs = (await call(server, "find_organizations"))["organizations"]
    assert [o["slug"] for o in orgs] == ["acme"]
    projects = (await call(server, "find_projects", organizationSlug="acme"))["projects"]
    assert {p["slug"]: p["team"] for p in projects}["acme-payments"] == "payments"
    assert len(projects) == 5 and all(set(p) >= {"id", "slug", "platform"} for p in projects)
    teams = (await call(server, "find_teams", query="store"))["teams"]
    assert [(t["slug"], t["projects"]) for t in teams] == [("storefront", ["acme-api", "acme-web"])]
    first = await call(server, "find_releases", projectSlug="acme-ingress", limit=2)
    assert [r["version"] for r in first["releases"]] == ["a5bcdc1", "c0670e6"]
    rest_page = await call(
        server, "find_releases", projectSlug="acme-ingress", limit=10, cursor=first["nextCursor"]
    )
    assert [r["version"] for r in rest_page["releases"]] == ["6456e01", "9736705", "7dcdd1d"]
    assert rest_page["nextCursor"] is None
    payments = (await call(server, "find_releases", query="2382476"))["releases"][0]
    assert payments["lastCommit"].endswith("(Fatima Aziz)")
    assert payments["lastDeploy"].startswith("production at 2026-10-13")


async def test_search_issues_filters_sorts_and_pages(server, rest):
    warnings = await call(server, "search_issues", query="is:unresolved level:warning", period=ALL)
    assert {i["title"] for i in warnings["issues"]} == {
        "oldest job in fulfilment is 412s old",
        "circuit breaker open for provider: 55% failures over 20 calls",
        "all upstreams for /api are draining; answering 503 with Retry-After",
    }
    release = await call(server, "search_issues", query="release:6456e01", period=ALL)
    assert {i["title"] for i in release["issues"]} == {
        "RemoteProtocolError: Server disconnected without sending a response.",
        "ReadTimeout: timed out",
    }
    by_slug = await call(
        server, "search_issues", query="", projectSlugOrId="acme-worker", period=ALL, limit=100
    )
    by_id = await call(
        server, "search_issues", query="", projectSlugOrId="4", period=ALL, limit=100
    )
    assert by_slug == by_id and {i["project"] for i in by_slug["issues"]} == {"acme-worker"}
    top = await call(server, "search_issues", query="", sort="freq", period=ALL, limit=3)
    counts = [i["count"] for i in top["issues"]]
    assert counts == sorted(counts, reverse=True) and counts[0] == 5120
    keys = set(top["issues"][0])
    assert {"shortId", "title", "culprit", "status", "count", "userCount", "lastSeen"} <= keys
    assert "stats" not in keys and "metadata" not in keys  # compact, not the raw API

    seen: list[str] = []
    cursor = None
    while True:
        page = await call(server, "search_issues", query="", period=ALL, limit=9, cursor=cursor)
        seen += [i["shortId"] for i in page["issues"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == page["total"]
    everything = rest.get("/organizations/acme/issues/", params={"query": "", "statsPeriod": ALL})
    assert set(seen) == {i["shortId"] for i in everything.json()}


async def test_issue_details_by_short_id_url_and_event(server, sentry):
    pool = await issue_titled(server, "TimeoutError: QueuePool limit of size 4 overflow 0")
    details = await call(server, "get_issue_details", issueId=pool["shortId"].lower())
    assert details["shortId"] == pool["shortId"] and details["count"] == 1893
    assert details["status"] == "resolved" and details["userCount"] == 1204
    assert details["statusDetails"] == {"inRelease": "9808db3", "by": "Grace Kim"}
    assert details["culprit"] == "/v1/charges/{charge_id}/capture"
    assert details["numComments"] == 2 and details["firstRelease"] == "2382476"
    assert details["tags"]["release"] == {"2382476": 6}
    latest = details["latestEvent"]
    assert latest["release"] == "2382476" and latest["environment"] == "production"
    assert latest["exceptions"][0]["type"] == "TimeoutError"
    assert latest["exceptions"][0]["inAppFrames"], latest

    url = f"{sentry.url}/organizations/acme/issues/{pool['id']}/"
    assert (await call(server, "get_issue_details", issueUrl=url))["shortId"] == pool["shortId"]
    events = await call(server, "search_issue_events", issueId=pool["shortId"], limit=100)
    oldest = events["events"][-1]["id"]
    by_event = await call(server, "get_issue_details", eventId=oldest)
    assert by_event["shortId"] == pool["shortId"] and by_event["event"]["id"] == oldest

    tax = await issue_titled(server, "KeyError: 'tax_lines'")
    details = await call(server, "get_issue_details", organizationSlug="acme", issueId=tax["id"])
    assert details["assignedTo"] == "Emily Zhang <emily.zhang@acme.dev>"
    frames = details["latestEvent"]["exceptions"][0]["inAppFrames"]
    assert frames[0] == (
        'acme/api/services/pricing.py:27 in compute_totals: rates = store["tax_lines"]'
    )
    assert details["latestEvent"]["request"] == "GET http://127.0.0.1:8001/v1/cart"


async def test_update_issue_notes_and_activity(server, rest, sentry):
    issue = await issue_titled(
        server, "ValueError: page_size must be between 1 and 100", projectSlugOrId="acme-api"
    )
    ref = issue["shortId"]
    assigned = await call(server, "update_issue", issueId=ref, assignedTo="team:storefront")
    assert assigned["assignedTo"] == "team:storefront"
    assert rest.get(f"/organizations/acme/issues/{ref}/").json()["assignedTo"]["name"] == (
        "storefront"
    )
    mine = await call(server, "update_issue", issueId=ref, assignedTo="me", status="resolved")
    assert mine["assignedTo"] == "Acme Agent <agent@acme.dev>" and mine["status"] == "resolved"
    assert rest.get(f"/organizations/acme/issues/{ref}/").json()["status"] == "resolved"

    nxt = await call(server, "update_issue", issueId=ref, status="resolvedInNextRelease")
    assert nxt["statusDetails"]["inNextRelease"] is True
    ignored = await call(
        server, "update_issue", issueId=ref, status="ignored", ignoreDurationMinutes=60
    )
    assert ignored["status"] == "ignored" and "ignoreUntil" in ignored["statusDetails"]
    back = await call(server, "update_issue", issueId=ref, status="unresolved", assignedTo="none")
    assert back["status"] == "unresolved" and "assignedTo" not in back
    assert rest.get(f"/organizations/acme/issues/{ref}/").json()["assignedTo"] is None

    note = await call(
        server, "add_issue_note", issueId=ref, text="Validation error from a crawler; no fix."
    )
    assert note["by"] == "Acme Agent" and note["noteId"]
    notes = rest.get(f"/organizations/acme/issues/{ref}/notes/").json()
    assert [n["data"]["text"] for n in notes] == ["Validation error from a crawler; no fix."]

    feed = (await call(server, "get_issue_activity", issueId=ref))["activity"]
    assert [a["type"] for a in feed[:8]] == [
        "note",
        "unassigned",
        "set_unresolved",
        "set_ignored",
        "set_resolved_in_release",
        "assigned",  # to me, in the same call as the resolution
        "set_resolved",
        "assigned",
    ]
    assert feed[5]["assignee"] == "agent@acme.dev"
    assert feed[0]["text"] == "Validation error from a crawler; no fix." and feed[-1]["type"] == (
        "first_seen"
    )
    quiet = await call(server, "get_issue_activity", issueId=ref, includeComments=False, limit=2)
    assert [a["type"] for a in quiet["activity"]] == ["unassigned", "set_unresolved"]

    with sentry.admin() as admin:
        log = admin.get("/_admin/events").json()["events"]
    kinds = [(e["kind"], e["payload"].get("to")) for e in log if e["actor"] == "agent"]
    assert ("issue.status_changed", "resolved") in kinds
    assert ("issue.assigned", "team:storefront") in kinds
    assert ("issue.note_added", None) in kinds


async def test_events_and_stacktraces(server):
    timeouts = await issue_titled(server, "ReadTimeout: timed out", projectSlugOrId="acme-ingress")
    ref = timeouts["shortId"]
    events = await call(server, "search_issue_events", issueId=ref, limit=3)
    assert len(events["events"]) == 3 and events["nextCursor"]
    more = await call(server, "search_issue_events", issueId=ref, cursor=events["nextCursor"])
    assert len(more["events"]) == 1 and more["nextCursor"] is None
    times = [e["dateCreated"] for e in events["events"] + more["events"]]
    assert times == sorted(times, reverse=True)
    assert {e["release"] for e in events["events"]} == {"6456e01"}
    oldest_first = await call(server, "search_issue_events", issueId=ref, sort="timestamp")
    assert [e["dateCreated"] for e in oldest_first["events"]] == sorted(times)
    filtered = await call(server, "search_issue_events", issueId=ref, query="release:nope")
    assert filtered["events"] == []

    trace = await call(server, "get_event_stacktrace", issueId=ref, eventId="oldest")
    assert trace["eventId"] == oldest_first["events"][0]["id"]
    assert trace["exceptions"][0]["type"] == "ReadTimeout"
    frames = trace["exceptions"][0]["frames"]
    assert frames and all({"file", "function", "inApp"} <= set(f) for f in frames)
    in_app = await call(server, "get_event_stacktrace", issueId=ref, inAppOnly=True)
    assert all(f["inApp"] for f in in_app["exceptions"][0]["frames"])

    activity = (await call(server, "get_issue_activity", issueId=ref))["activity"]
    assert [a["type"] for a in activity] == ["note", "set_resolved", "assigned", "first_seen"]
    assert activity[1]["by"] == "Aisha Bello"


async def test_an_event_from_the_real_sdk_is_found_and_explained(server, sentry):
    event_id = sdk_capture(
        sentry,
        function="reserve_inventory",
        message="sku ACME-991 has negative stock",
        release="mcp-test-1",
        project="acme-worker",
    )
    found = await call(
        server, "search_issues", query="is:unresolved release:mcp-test-1", period="24h"
    )
    assert [i["title"] for i in found["issues"]] == ["ValueError: sku ACME-991 has negative stock"]
    issue = found["issues"][0]
    assert issue["project"] == "acme-worker" and issue["count"] == 1
    details = await call(server, "get_issue_details", issueId=issue["shortId"])
    assert details["latestEvent"]["id"] == event_id
    exception = details["latestEvent"]["exceptions"][0]
    assert exception["type"] == "ValueError" and exception["handled"] is True
    assert exception["inAppFrames"][0].startswith("checkout_job.py:")
    assert "in reserve_inventory: raise ValueError(" in exception["inAppFrames"][0]
    trace = await call(server, "get_event_stacktrace", issueId=issue["shortId"], eventId=event_id)
    top = trace["exceptions"][0]["frames"][0]
    assert top["function"] == "reserve_inventory" and top["inApp"] is True
    assert any(line.startswith(">") and "raise ValueError" in line for line in top["context"])


async def test_bad_arguments_become_clear_tool_errors(server):
    cases = [
        ("get_issue_details", {"issueId": "NOPE-1"}, "Not found: issue NOPE-1"),
        ("get_issue_details", {}, "Give issueId"),
        ("get_issue_details", {"issueUrl": "not a url"}, "is not a URL"),
        ("get_issue_details", {"issueUrl": "http://x/organizations/acme/"}, "does not name"),
        ("get_issue_details", {"eventId": "xyz"}, "is not an event id"),
        ("get_issue_details", {"issueId": "a/../b"}, "is not an issue id"),
        ("update_issue", {"issueId": "ACME-API-1", "status": "done"}, "resolvedInNextRelease"),
        ("update_issue", {"issueId": "ACME-API-1"}, "Nothing to change"),
        ("update_issue", {"issueId": "ACME-API-1", "assignedTo": "ghost@x"}, "no member or team"),
        (
            "update_issue",
            {"issueId": "ACME-API-1", "status": "resolved", "ignoreDurationMinutes": 5},
            "only applies with status='ignored'",
        ),
        ("search_issues", {"projectSlugOrId": "nope"}, "Unknown project 'nope'"),
        ("search_issues", {"query": "is:sleeping"}, 'Invalid value for "is" search'),
        ("search_issues", {"period": "forever"}, "period"),
        ("search_issues", {"limit": 1000}, "limit"),
        ("search_issues", {"cursor": "bogus"}, "Invalid cursor"),
        ("find_projects", {"organizationSlug": "other"}, "Not found"),
        ("find_projects", {"organizationSlug": "a b"}, "is not a slug"),
        ("add_issue_note", {"issueId": "ACME-API-1", "text": "   "}, "text is empty"),
        ("get_event_stacktrace", {"issueId": "ACME-API-1", "eventId": "zzz"}, "is not 'latest'"),
        ("get_event_stacktrace", {"issueId": "ACME-API-1", "eventId": "0" * 32}, "Event not found"),
    ]
    for tool, args, message in cases:
        text = await fails(server, tool, **args)
        assert message in text, (tool, args, text)
        assert "Traceback" not in text


async def test_bad_token_and_unreachable_sentry(sentry):
    wrong = create_server(sentry.url, "sntryu_" + "0" * 64)
    assert "rejected the token" in await fails(wrong, "whoami")
    gone = create_server(f"http://127.0.0.1:{free_port()}", AGENT_TOKEN)
    assert "Cannot reach Sentry" in await fails(gone, "search_issues", organizationSlug="acme")
