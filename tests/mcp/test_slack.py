"""The Slack MCP server against the real Slack imitation seeded with Acme's fixtures.

Every tool with good arguments (effects read back through Slack's Web API as a person in the
workspace would see them), compact results, and bad arguments turned into one-line tool errors.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from mcp import Client
from slack_sdk import WebClient

from mcp_servers.slack import create_server
from tests.tools.conftest import ACME_SLACK, BOT_TOKEN, MAYA_TOKEN, running

pytestmark = pytest.mark.anyio

TOOLS = {
    "slack_list_channels",
    "slack_get_channel_history",
    "slack_get_thread_replies",
    "slack_post_message",
    "slack_reply_to_thread",
    "slack_add_reaction",
    "slack_get_users",
    "slack_get_user_profile",
    "slack_search_messages",
}


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture(scope="module")
def slack(tmp_path_factory):
    with running("slack", tmp_path_factory.mktemp("mcp-slack"), [ACME_SLACK]) as service:
        yield service


@pytest.fixture(scope="module")
def server(slack):
    return create_server(slack.url, BOT_TOKEN)


@pytest.fixture(scope="module")
def maya(slack) -> WebClient:
    """A person in the workspace, reading what the bot did through the Web API."""
    return WebClient(token=MAYA_TOKEN, base_url=slack.api_url)


async def call(server, tool: str, **args: Any) -> dict[str, Any]:
    async with Client(server) as client:
        result = await client.call_tool(tool, args)
    assert not result.is_error, result.content[0].text
    return json.loads(result.content[0].text)


async def error(server, tool: str, **args: Any) -> str:
    async with Client(server) as client:
        result = await client.call_tool(tool, args)
    assert result.is_error, result.content[0].text
    return result.content[0].text


def channel_id(client: WebClient, name: str) -> str:
    channels = client.conversations_list(limit=200, types="public_channel,private_channel")
    return next(c["id"] for c in channels["channels"] if c["name"] == name)


async def test_the_tools_are_the_reference_servers_with_bounded_parameters(server):
    async with Client(server) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    assert set(tools) == TOOLS
    for tool in tools.values():
        assert tool.description and len(tool.description) > 30, tool.name
    history = tools["slack_get_channel_history"].input_schema
    assert history["required"] == ["channel_id"]
    assert history["properties"]["limit"]["maximum"] == 200
    assert "#deploys" in history["properties"]["channel_id"]["description"]
    reaction = tools["slack_add_reaction"].input_schema
    assert set(reaction["required"]) == {"channel_id", "timestamp", "reaction"}


async def test_channels_are_listed_compactly_a_page_at_a_time(server):
    first = await call(server, "slack_list_channels", limit=3)
    assert len(first["channels"]) == 3 and first["next_cursor"]
    deploys = next(c for c in first["channels"] if c["name"] == "#deploys")
    assert set(deploys) <= {"id", "name", "topic", "members", "is_member", "private"}
    assert deploys["is_member"] is True and deploys["members"] > 5
    second = await call(server, "slack_list_channels", limit=3, cursor=first["next_cursor"])
    assert {c["id"] for c in first["channels"]}.isdisjoint(c["id"] for c in second["channels"])


async def test_history_by_name_is_compact_with_names_and_thread_counts(server, maya):
    by_name = await call(server, "slack_get_channel_history", channel_id="#deploys", limit=10)
    by_id = await call(
        server, "slack_get_channel_history", channel_id=channel_id(maya, "deploys"), limit=10
    )
    assert by_name == by_id and by_name["channel"] == "#deploys"
    messages = by_name["messages"]
    assert len(messages) == 10 and by_name["next_cursor"]
    assert [m["ts"] for m in messages] == sorted((m["ts"] for m in messages), reverse=True)
    for m in messages:
        assert (
            {"ts", "time", "user", "text"}
            <= set(m)
            <= {"ts", "time", "user", "text", "replies", "reactions", "thread_ts", "files"}
        )
        assert "<@U" not in m["text"]  # mentions read as names
    assert any(m["user"] == "deploybot" and m.get("replies") for m in messages)
    assert any(m["user"] == "Maya" for m in messages)  # display names, not user ids
    older = await call(
        server, "slack_get_channel_history", channel_id="deploys", cursor=by_name["next_cursor"]
    )
    assert older["messages"][0]["ts"] < messages[-1]["ts"]


async def test_a_thread_reads_parent_first_then_replies_in_order(server):
    history = await call(server, "slack_get_channel_history", channel_id="#deploys", limit=20)
    parent = next(m for m in history["messages"] if m.get("replies"))
    thread = await call(
        server, "slack_get_thread_replies", channel_id="#deploys", thread_ts=parent["ts"]
    )
    assert thread["messages"][0]["ts"] == parent["ts"]
    replies = thread["messages"][1:]
    assert len(replies) == parent["replies"]
    assert [r["ts"] for r in replies] == sorted(r["ts"] for r in replies)


async def test_posting_replying_and_reacting_are_seen_by_the_team(server, maya):
    posted = await call(
        server, "slack_post_message", channel_id="#eng", text="Looking at the p99 regression"
    )
    assert posted["ok"] and posted["channel"] == "#eng"
    eng = channel_id(maya, "eng")
    latest = maya.conversations_history(channel=eng, limit=1)["messages"][0]
    assert latest["ts"] == posted["ts"] and latest["text"] == "Looking at the p99 regression"
    assert maya.users_info(user=latest["user"])["user"]["name"] == "acme-agent"

    reply = await call(
        server,
        "slack_reply_to_thread",
        channel_id=eng,
        thread_ts=posted["ts"],
        text="Root cause: N+1 query in /orders",
    )
    replies = maya.conversations_replies(channel=eng, ts=posted["ts"])["messages"]
    assert [m["text"] for m in replies][1:] == ["Root cause: N+1 query in /orders"]
    assert replies[1]["ts"] == reply["ts"]

    reacted = await call(
        server, "slack_add_reaction", channel_id="#eng", timestamp=posted["ts"], reaction=":eyes:"
    )
    assert reacted["reaction"] == "eyes"
    reactions = maya.reactions_get(channel=eng, timestamp=posted["ts"])["message"]["reactions"]
    assert [(r["name"], r["count"]) for r in reactions] == [("eyes", 1)]
    read_back = await call(
        server, "slack_get_thread_replies", channel_id="#eng", thread_ts=posted["ts"]
    )
    assert read_back["messages"][0] == {
        "ts": posted["ts"],
        "time": read_back["messages"][0]["time"],
        "user": "Acme Agent",
        "text": "Looking at the p99 regression",
        "replies": 1,
        "reactions": {"eyes": 1},
    }


async def test_people_are_listed_and_profiles_found_by_id_or_handle(server):
    users = await call(server, "slack_get_users", limit=200)
    aisha = next(u for u in users["users"] if u["handle"] == "@aisha")
    assert aisha["name"] == "Aisha Bello" and aisha["id"].startswith("U")
    assert any(u.get("bot") for u in users["users"])
    by_handle = await call(server, "slack_get_user_profile", user_id="@aisha")
    by_id = await call(server, "slack_get_user_profile", user_id=aisha["id"])
    assert by_handle == by_id
    assert by_id["email"] == "aisha.bello@acme.dev" and by_id["title"]


async def test_search_needs_a_user_token_and_works_with_one(slack, server):
    message = await error(server, "slack_search_messages", query="canary")
    assert "needs a Slack user token" in message and "slack_get_channel_history" in message
    as_person = create_server(slack.url, MAYA_TOKEN)
    found = await call(as_person, "slack_search_messages", query="canary in:#deploys", count=3)
    assert found["total"] > 3 and found["pages"] > 1 and len(found["matches"]) == 3
    assert all(
        m["channel"] == "#deploys" and "canary" in m["text"].lower() for m in found["matches"]
    )
    page2 = await call(
        as_person, "slack_search_messages", query="canary in:#deploys", count=3, page=2
    )
    assert page2["page"] == 2 and page2["matches"] != found["matches"]


async def test_bad_arguments_are_tool_errors_that_say_what_to_do(server):
    assert "no channel named #nowhere" in await error(
        server, "slack_get_channel_history", channel_id="#nowhere"
    )
    assert "channel_not_found" in await error(
        server, "slack_post_message", channel_id="CNOSUCH0001", text="hi"
    )
    assert "thread_ts" in await error(
        server, "slack_get_thread_replies", channel_id="#eng", thread_ts="yesterday"
    )
    assert "thread_not_found" in await error(
        server, "slack_get_thread_replies", channel_id="#eng", thread_ts="1000000000.000001"
    )
    assert "text" in await error(server, "slack_post_message", channel_id="#eng", text="")
    assert "limit" in await error(server, "slack_list_channels", limit=5000)
    assert "no user with handle @nobody" in await error(
        server, "slack_get_user_profile", user_id="@nobody"
    )
    history = await call(server, "slack_get_channel_history", channel_id="#alerts", limit=1)
    ts = history["messages"][0]["ts"]
    assert "invalid_name" in await error(
        server, "slack_add_reaction", channel_id="#alerts", timestamp=ts, reaction="not-an-emoji!"
    )
    await call(server, "slack_add_reaction", channel_id="#alerts", timestamp=ts, reaction="eyes")
    assert "already added this reaction" in await error(
        server, "slack_add_reaction", channel_id="#alerts", timestamp=ts, reaction="eyes"
    )


async def test_an_unreachable_slack_is_a_tool_error(tmp_path):
    from tests.tools.conftest import free_port

    dead = create_server(f"http://127.0.0.1:{free_port()}", BOT_TOKEN)
    assert "Slack is unreachable" in await error(
        dead, "slack_post_message", channel_id="C0123456789", text="hi"
    )
