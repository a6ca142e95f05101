"""The Linear MCP server against the real Linear imitation seeded with Acme's fixtures.

Every tool with good arguments (effects read back through Linear's GraphQL API, as another
integration would see them), human names resolved to ids, compact results, and bad arguments
turned into one-line tool errors that say what to do.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from mcp import Client

from mcp_servers.linear import create_server
from tests.tools.conftest import free_port
from tests.tools.linear_support import AGENT_KEY, Linear, launch_linear

pytestmark = pytest.mark.anyio

TOOLS = {
    "list_issues",
    "get_issue",
    "create_issue",
    "update_issue",
    "list_comments",
    "create_comment",
    "list_issue_statuses",
    "list_issue_labels",
    "create_issue_label",
    "list_projects",
    "get_project",
    "list_teams",
    "get_team",
    "list_users",
    "get_user",
    "list_cycles",
}
READ_ONLY = {name for name in TOOLS if name.startswith(("list_", "get_"))}


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture(scope="module")
def linear(tmp_path_factory):
    with launch_linear(tmp_path_factory.mktemp("mcp-linear")) as service:
        yield service


@pytest.fixture(scope="module")
def server(linear):
    return create_server(linear.url, AGENT_KEY)


@pytest.fixture(scope="module")
def api(linear):
    """Linear's GraphQL API as the agent's own key sees it, to read effects back."""
    client = Linear(linear)
    yield client
    client.close()


async def call(server, tool: str, **args: Any) -> dict[str, Any]:
    async with Client(server) as client:
        result = await client.call_tool(tool, args)
    assert not result.is_error, result.content[0].text
    data = json.loads(result.content[0].text)
    assert data == result.structured_content
    return data


async def error(server, tool: str, **args: Any) -> str:
    async with Client(server) as client:
        result = await client.call_tool(tool, args)
    assert result.is_error, result.content[0].text
    text = result.content[0].text
    assert "Traceback" not in text and text != f"Error executing tool {tool}", text
    return text


def issue_state(api: Linear, key: str) -> dict[str, Any]:
    return api.data(
        """query($id: String!) { issue(id: $id) { id identifier title description priority
             state { name } assignee { email isMe } labels { nodes { name } }
             project { name } parent { identifier } dueDate
             comments { nodes { id body parent { id } user { isMe } } } } }""",
        {"id": key},
    )["issue"]


async def test_the_tools_are_linears_own_with_bounded_parameters(server):
    async with Client(server) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    assert set(tools) == TOOLS
    for tool in tools.values():
        assert tool.description and len(tool.description) > 40, tool.name
        assert tool.annotations.read_only_hint is (tool.name in READ_ONLY), tool.name
        for name, prop in tool.input_schema["properties"].items():
            assert prop.get("description"), (tool.name, name)
    listing = tools["list_issues"].input_schema
    assert {
        "query",
        "team",
        "assignee",
        "state",
        "label",
        "project",
        "priority",
        "limit",
        "cursor",
        "orderBy",
    } <= set(listing["properties"])
    assert listing["properties"]["limit"]["maximum"] == 250
    assert listing["properties"]["limit"]["minimum"] == 1
    assert tools["get_issue"].input_schema["required"] == ["id"]
    assert set(tools["create_issue"].input_schema["required"]) == {"title", "team"}
    assert tools["update_issue"].input_schema["required"] == ["id"]
    assert set(tools["create_comment"].input_schema["required"]) == {"issueId", "body"}
    assert tools["list_issue_statuses"].input_schema["required"] == ["team"]
    assert tools["list_cycles"].input_schema["properties"]["type"]["enum"] == [
        "current",
        "previous",
        "next",
        "all",
    ]


async def test_list_issues_filters_by_names_like_the_api_does(server, api):
    found = await call(server, "list_issues", team="eng", state="In Progress", limit=250)
    expected = api.data(
        """{ issues(first: 250, filter: { team: { key: { eq: "ENG" } },
             state: { name: { eq: "In Progress" } } }) { nodes { identifier } } }"""
    )["issues"]["nodes"]
    assert {i["identifier"] for i in found["issues"]} == {n["identifier"] for n in expected}
    assert expected and found["next_cursor"] is None
    row = found["issues"][0]
    assert row["state"] == "In Progress" and row["identifier"].startswith("ENG-")
    assert set(row) <= {
        "identifier",
        "title",
        "state",
        "priority",
        "assignee",
        "labels",
        "project",
        "dueDate",
        "updatedAt",
    }

    by_type = await call(server, "list_issues", team="PAY", state="started", limit=250)
    assert by_type["issues"] and {i["state"] for i in by_type["issues"]} <= {
        "In Progress",
        "In Review",
    }

    incidents = await call(server, "list_issues", label="Incident", priority="urgent")
    assert incidents["issues"]
    for issue in incidents["issues"]:
        assert "incident" in issue["labels"] and issue["priority"] == "Urgent"

    checkout = await call(server, "list_issues", project="Checkout v2", assignee="emily.zhang")
    assert checkout["issues"]
    assert all(
        i["project"] == "Checkout v2" and i["assignee"] == "Emily Zhang" for i in checkout["issues"]
    )

    searched = await call(server, "list_issues", query="checkout timeout", team="PAY")
    assert "PAY-215" in [i["identifier"] for i in searched["issues"]]

    current = await call(server, "list_issues", team="ENG", cycle="current", limit=250)
    in_cycle = api.data(
        """{ issues(first: 250, filter: { team: { key: { eq: "ENG" } },
             cycle: { isActive: { eq: true } } }) { nodes { identifier } } }"""
    )["issues"]["nodes"]
    assert {i["identifier"] for i in current["issues"]} == {n["identifier"] for n in in_cycle}


async def test_list_issues_pages_with_a_cursor(server):
    first = await call(server, "list_issues", team="ENG", limit=3, orderBy="createdAt")
    assert len(first["issues"]) == 3 and first["next_cursor"]
    second = await call(
        server, "list_issues", team="ENG", limit=3, orderBy="createdAt", cursor=first["next_cursor"]
    )
    assert len(second["issues"]) == 3
    assert not {i["identifier"] for i in first["issues"]} & {
        i["identifier"] for i in second["issues"]
    }


async def test_get_issue_by_identifier_or_url_with_its_comments(server, api):
    commented = api.data(
        """{ issues(first: 5, filter: { title: { eq: "Password reset by email" } }) {
             nodes { identifier url } } }"""
    )["issues"]["nodes"][0]
    for ref in (commented["identifier"].lower(), commented["url"]):
        issue = await call(server, "get_issue", id=ref)
        assert issue["identifier"] == commented["identifier"]
        assert issue["state"] == "Canceled" and issue["team"] == "ENG"
        assert issue["url"] == commented["url"]
        assert [c["author"] for c in issue["comments"]] == ["Sofía Márquez"]
        assert issue["comments"][0]["body"].startswith("Dropping this for now")


async def test_create_then_update_an_issue_by_names(server, api):
    created = await call(
        server,
        "create_issue",
        title="MCP: checkout returns 500 on empty cart",
        team="Engineering",
        description="Steps:\n1. empty cart\n2. POST /v1/checkout",
        assignee="me",
        state="todo",
        priority="high",
        labels=["bug", "API", "flaky-test"],
        project="Checkout v2",
        dueDate="2026-12-01",
    )
    key = created["identifier"]
    assert key.startswith("ENG-") and f"/issue/{key}/" in created["url"]
    assert "description" not in created  # the caller just wrote it
    stored = issue_state(api, key)
    assert stored["title"] == "MCP: checkout returns 500 on empty cart"
    assert stored["description"].startswith("Steps:")
    assert stored["state"]["name"] == "Todo" and stored["priority"] == 2
    assert stored["assignee"]["isMe"] and stored["dueDate"] == "2026-12-01"
    assert {lb["name"] for lb in stored["labels"]["nodes"]} == {"bug", "api", "flaky-test"}
    assert stored["project"]["name"] == "Checkout v2"

    mine = await call(server, "list_issues", assignee="me")
    assert key in [i["identifier"] for i in mine["issues"]]

    child = await call(
        server, "create_issue", title="MCP: add a regression test", team="ENG", parentId=key
    )
    assert issue_state(api, child["identifier"])["parent"]["identifier"] == key
    assert (await call(server, "list_issues", parentId=key))["issues"][0]["identifier"] == (
        child["identifier"]
    )

    updated = await call(
        server,
        "update_issue",
        id=key,
        state="In Progress",
        assignee="Maya Chen",
        priority=1,
        addLabels=["incident"],
        removeLabels=["api"],
        title="MCP: checkout 500s on an empty cart",
    )
    assert updated["state"] == "In Progress" and updated["assignee"] == "Maya Chen"
    assert updated["children"] == [f"{child['identifier']} [Backlog] MCP: add a regression test"]
    stored = issue_state(api, key)
    assert stored["state"]["name"] == "In Progress" and stored["priority"] == 1
    assert stored["assignee"]["email"] == "maya.chen@acme.dev"
    assert {lb["name"] for lb in stored["labels"]["nodes"]} == {"bug", "flaky-test", "incident"}
    assert stored["title"] == "MCP: checkout 500s on an empty cart"

    await call(
        server,
        "update_issue",
        id=key,
        labels=["security"],
        assignee="none",
        project="none",
        state="Done",
        description="Fixed.",
    )
    stored = issue_state(api, key)
    assert [lb["name"] for lb in stored["labels"]["nodes"]] == ["security"]
    assert stored["assignee"] is None and stored["project"] is None
    assert stored["state"]["name"] == "Done" and stored["description"] == "Fixed."


async def test_comments_and_replies(server, api):
    first = await call(
        server, "create_comment", issueId="PAY-215", body="Rolled out the retry fix to **canary**."
    )
    assert first["issue"] == "PAY-215" and first["author"] == "Acme Agent" and first["url"]
    reply = await call(
        server, "create_comment", issueId="pay-215", body="Promoted.", parentId=first["id"]
    )
    assert reply["parentId"] == first["id"]
    stored = {c["id"]: c for c in issue_state(api, "PAY-215")["comments"]["nodes"]}
    assert stored[first["id"]]["body"] == "Rolled out the retry fix to **canary**."
    assert stored[first["id"]]["user"]["isMe"]
    assert stored[reply["id"]]["parent"]["id"] == first["id"]

    listed = await call(server, "list_comments", issueId="PAY-215")
    ids = [c["id"] for c in listed["comments"]]
    assert ids.index(first["id"]) < ids.index(reply["id"])  # oldest first
    assert listed["next_cursor"] is None
    page = await call(server, "list_comments", issueId="PAY-215", limit=1)
    assert len(page["comments"]) == 1 and page["next_cursor"]


async def test_statuses_and_labels(server, api):
    statuses = await call(server, "list_issue_statuses", team="ENG")
    names = [s["name"] for s in statuses["statuses"]]
    assert names[:2] == ["Triage", "Backlog"] and "In Progress" in names
    expected = api.data('{ team(id: "ENG") { states { nodes { name } } } }')["team"]["states"]
    assert set(names) == {s["name"] for s in expected["nodes"]}

    eng = {lb["name"]: lb for lb in (await call(server, "list_issue_labels", team="ENG"))["labels"]}
    assert eng["flaky-test"]["team"] == "ENG" and eng["bug"]["team"] == "workspace"

    made = await call(
        server,
        "create_issue_label",
        name="mcp-pay-only",
        team="PAY",
        color="#112233",
        description="Only Payments uses it",
    )
    assert made["team"] == "PAY" and made["color"] == "#112233"
    stored = api.data(
        '{ issueLabels(filter: { name: { eq: "mcp-pay-only" } }) { nodes { id team { key } } } }'
    )["issueLabels"]["nodes"]
    assert stored == [{"id": made["id"], "team": {"key": "PAY"}}]
    eng_again = await call(server, "list_issue_labels", team="ENG", name="mcp-")
    assert eng_again["labels"] == []
    pay = await call(server, "list_issue_labels", team="PAY", name="mcp-")
    assert [lb["name"] for lb in pay["labels"]] == ["mcp-pay-only"]

    created = await call(
        server, "create_issue", title="MCP: labelled", team="PAY", labels=["mcp-pay-only"]
    )
    assert created["labels"] == ["mcp-pay-only"]
    assert "already exists" in await error(server, "create_issue_label", name="BUG")


async def test_projects_teams_users_and_cycles(server, api):
    started = await call(server, "list_projects", state="started")
    assert started["projects"] and {p["state"] for p in started["projects"]} == {"started"}
    payments = await call(server, "list_projects", team="PAY")
    assert {p["name"] for p in payments["projects"]} >= {"Payments reliability", "Checkout v2"}
    assert "Search v2" not in {p["name"] for p in payments["projects"]}

    project = await call(server, "get_project", query="checkout v2")
    assert project["name"] == "Checkout v2" and project["lead"] == "Jordan Reyes"
    assert set(project["teams"]) == {"ENG", "PAY"} and project["content"]
    assert project["openIssues"]
    assert all(i["state"] not in ("Done", "Canceled") for i in project["openIssues"])
    by_url = await call(server, "get_project", query=project["url"])
    assert by_url["id"] == project["id"]

    teams = await call(server, "list_teams")
    assert {t["key"] for t in teams["teams"]} == {"ENG", "INFRA", "PAY", "DATA"}
    team = await call(server, "get_team", query="Platform")
    assert team["key"] == "INFRA" and "In Progress (started)" in team["states"]
    assert any(m.startswith("Maya Chen") for m in team["members"])

    users = await call(server, "list_users", query="chen")
    assert [u["email"] for u in users["users"]] == ["maya.chen@acme.dev"]
    members = await call(server, "list_users", team="DATA")
    assert "agent@acme.dev" in {u["email"] for u in members["users"]}
    me = await call(server, "get_user", query="me")
    assert me["name"] == "Acme Agent" and me["isMe"] and "ENG" in me["teams"]
    maya = await call(server, "get_user", query="maya.chen")
    assert maya["email"] == "maya.chen@acme.dev" and maya["name"] == "Maya Chen"

    cycles = await call(server, "list_cycles", team="ENG")
    assert [c["number"] for c in cycles["cycles"]] == list(range(38, 46))
    current = await call(server, "list_cycles", team="ENG", type="current")
    active = api.data(
        '{ cycles(filter: { team: { key: { eq: "ENG" } }, isActive: { eq: true } }) '
        "{ nodes { number } } }"
    )["cycles"]["nodes"]
    assert [c["number"] for c in current["cycles"]] == [int(active[0]["number"])]
    assert current["cycles"][0]["is"] == "current"


async def test_bad_arguments_are_one_line_errors_saying_what_to_do(server):
    assert "ENG-999999 not found" in await error(server, "get_issue", id="ENG-999999")
    assert "not an issue identifier" in await error(server, "get_issue", id="checkout bug")
    message = await error(server, "update_issue", id="ENG-1", state="Shipped")
    assert "Unknown state 'Shipped' for team ENG" in message and "In Progress" in message
    message = await error(server, "create_issue", title="x", team="NOPE")
    assert "Unknown team 'NOPE'" in message and "ENG (Engineering)" in message
    assert "No user matches" in await error(
        server, "create_issue", title="x", team="ENG", assignee="nobody@example.com"
    )
    assert "Unknown label 'wontfix'" in await error(
        server, "create_issue", title="x", team="ENG", labels=["wontfix"]
    )
    assert "Unknown priority" in await error(server, "list_issues", priority="asap")
    assert "out of range" in await error(server, "list_issues", priority=9)
    assert "Unknown state 'Nope'" in await error(server, "list_issues", state="Nope")
    assert "needs a team" in await error(server, "list_issues", cycle="current")
    assert "No project matches" in await error(server, "list_issues", project="Moonshot")
    assert "Nothing to update" in await error(server, "update_issue", id="ENG-1")
    assert "limit" in await error(server, "list_issues", limit=0)
    assert "Issue PAY-99999 not found" in await error(
        server, "create_comment", issueId="PAY-99999", body="hi"
    )


async def test_api_failures_become_tool_errors(linear):
    wrong_key = create_server(linear.url, "lin_api_NotAKey0000000000000000000000000000000")
    assert "Linear rejected the API key" in await error(wrong_key, "list_teams")
    nowhere = create_server(f"http://127.0.0.1:{free_port()}", AGENT_KEY)
    assert "Cannot reach Linear" in await error(nowhere, "get_issue", id="ENG-1")
