"""AsyncWebClient (aiohttp) sends GET + query strings, and POSTs with arguments in the query."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from tests.tools.conftest import BOT_TOKEN, MAYA_TOKEN


def run(coro):
    return asyncio.run(coro)


def test_async_client_round_trip(slack):
    async def scenario():
        client = AsyncWebClient(token=BOT_TOKEN, base_url=slack.api_url)
        me = await client.auth_test()
        assert me["user"] == "acme-agent"
        channel = (await client.conversations_create(name=f"a-{uuid.uuid4().hex[:8]}"))["channel"]
        first = await client.chat_postMessage(channel=channel["id"], text="async one")
        second = await client.chat_postMessage(
            channel=channel["id"], text="async two", thread_ts=first["ts"]
        )
        await client.reactions_add(channel=channel["id"], timestamp=first["ts"], name="tada")
        history = await client.conversations_history(channel=channel["id"])
        assert [m["text"] for m in history["messages"]] == ["async one"]
        head = history["messages"][0]
        assert head["reply_count"] == 1 and head["latest_reply"] == second["ts"]
        assert head["reactions"][0]["name"] == "tada"
        replies = await client.conversations_replies(channel=channel["id"], ts=first["ts"])
        assert [m["text"] for m in replies["messages"]] == ["async one", "async two"]
        names = []
        async for page in await client.conversations_list(limit=3):
            names += [c["name"] for c in page["channels"]]
        assert channel["name"] in names and len(names) == len(set(names))
        with pytest.raises(SlackApiError) as info:
            await client.reactions_add(channel=channel["id"], timestamp=first["ts"], name="tada")
        assert info.value.response["error"] == "already_reacted"
        with pytest.raises(SlackApiError) as info:
            await client.search_messages(query="deploy")
        assert info.value.response["error"] == "not_allowed_token_type"
        user = AsyncWebClient(token=MAYA_TOKEN, base_url=slack.api_url)
        found = await user.search_messages(query='"async one"', count=5)
        assert [m["ts"] for m in found["messages"]["matches"]] == [first["ts"]]
        return channel

    channel = run(scenario())
    assert channel["is_member"] is True
