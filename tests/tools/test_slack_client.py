"""The Slack service driven by the official slack_sdk WebClient, exactly as agents use it."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from tests.tools.conftest import AISHA_TOKEN, BOT_TOKEN, MAYA_TOKEN

pytestmark = pytest.mark.filterwarnings("ignore:The top-level `text` argument:UserWarning")

TS = re.compile(r"^\d{10}\.\d{6}$")
ACME_CHANNELS = {
    "eng",
    "deploys",
    "alerts",
    "incidents",
    "oncall",
    "random",
    "general",
    "support",
    "payments-team",
}


@pytest.fixture(scope="module")
def bot(slack) -> WebClient:
    return WebClient(token=BOT_TOKEN, base_url=slack.api_url, timeout=10)


@pytest.fixture(scope="module")
def maya(slack) -> WebClient:
    return WebClient(token=MAYA_TOKEN, base_url=slack.api_url, timeout=10)


@pytest.fixture(scope="module")
def channels(bot) -> dict[str, str]:
    return {c["name"]: c["id"] for c in bot.conversations_list(limit=1000)["channels"]}


@pytest.fixture
def fresh_channel(bot) -> str:
    """A new public channel the bot created (so it is a member), unique per test."""
    name = f"t-{uuid.uuid4().hex[:10]}"
    return bot.conversations_create(name=name)["channel"]["id"]


def pages_of(response) -> list[dict]:
    """Every page the SDK iterator fetches (it reuses one response object, so copy each)."""
    return [dict(page.data) for page in response]


def error_of(call, *args, **kwargs) -> str:
    with pytest.raises(SlackApiError) as info:
        call(*args, **kwargs)
    assert info.value.response.status_code == 200
    assert info.value.response["ok"] is False
    return info.value.response["error"]


# -- identity and directory -------------------------------------------------------------------


def test_auth_test_identifies_the_bot_and_the_workspace(bot, maya):
    me = bot.auth_test()
    assert me["user"] == "acme-agent"
    assert me["team_id"] == "T07ACME0001" and me["team"] == "Acme Commerce Inc."
    assert me["bot_id"].startswith("B") and me["user_id"].startswith("U")
    assert me["url"] == "https://acme-commerce.slack.com/"
    person = maya.auth_test()
    assert person["user"] == "maya" and "bot_id" not in person


def test_channels_of_acme_with_topics_and_members(bot, channels):
    assert ACME_CHANNELS <= set(channels)
    info = bot.conversations_info(channel=channels["deploys"], include_num_members=True)["channel"]
    assert info["name"] == "deploys" and info["is_member"] is True
    assert "Freeze: Nov 25" in info["topic"]["value"]
    assert info["num_members"] > 10
    general = bot.conversations_info(channel=channels["general"])["channel"]
    assert general["is_general"] is True


def test_conversation_list_pages_through_the_sdk_iterator(bot):
    pages = pages_of(bot.conversations_list(limit=2))
    names = [c["name"] for page in pages for c in page["channels"]]
    assert len(pages) >= 5  # 9+ channels, 2 per page
    assert len(names) == len(set(names)) and ACME_CHANNELS <= set(names)
    assert all(page["response_metadata"]["next_cursor"] for page in pages[:-1])
    assert pages[-1]["response_metadata"]["next_cursor"] == ""


def test_members_of_general_are_everyone(bot, channels):
    members = [
        m
        for page in bot.conversations_members(channel=channels["general"], limit=7)
        for m in page["members"]
    ]
    assert len(members) == len(set(members)) == 26  # 24 employees + agent + deploybot


def test_users_list_info_and_lookup(bot):
    users = [u for page in bot.users_list(limit=5) for u in page["members"]]
    by_name = {u["name"]: u for u in users}
    assert len(users) == 26 and {"acme-agent", "deploybot", "maya", "tomasz"} <= set(by_name)
    maya = bot.users_info(user=by_name["maya"]["id"])["user"]
    assert maya["real_name"] == "Maya Chen"
    assert maya["tz"] == "America/Los_Angeles" and isinstance(maya["tz_offset"], int)
    assert maya["profile"]["email"] == "maya.chen@acme.dev" and maya["is_bot"] is False
    assert by_name["acme-agent"]["is_bot"] is True
    found = bot.users_lookupByEmail(email="Maya.Chen@acme.dev")["user"]
    assert found["id"] == maya["id"]
    assert error_of(bot.users_lookupByEmail, email="nobody@acme.dev") == "users_not_found"
    assert error_of(bot.users_info, user="UNOBODY") == "user_not_found"


# -- messages ---------------------------------------------------------------------------------


def test_post_then_history_is_newest_first_with_string_ts(bot, fresh_channel):
    sent = [bot.chat_postMessage(channel=fresh_channel, text=f"message {i}") for i in range(3)]
    stamps = [r["ts"] for r in sent]
    assert all(TS.match(ts) for ts in stamps) and stamps == sorted(stamps)
    assert sent[0]["channel"] == fresh_channel
    assert sent[0]["message"]["text"] == "message 0" and sent[0]["message"]["bot_id"]
    history = bot.conversations_history(channel=fresh_channel)
    assert [m["text"] for m in history["messages"]] == ["message 2", "message 1", "message 0"]
    assert [m["ts"] for m in history["messages"]] == stamps[::-1]
    assert history["has_more"] is False
    assert history["response_metadata"]["next_cursor"] == ""


def test_post_by_channel_name_but_history_wants_an_id(bot, channels):
    posted = bot.chat_postMessage(channel="#random", text="hello by name")
    assert posted["channel"] == channels["random"]
    assert error_of(bot.conversations_history, channel="#random") == "channel_not_found"


def test_history_pagination_with_the_sdk_iterator_and_bounds(bot, fresh_channel):
    stamps = [bot.chat_postMessage(channel=fresh_channel, text=f"m{i}")["ts"] for i in range(7)]
    pages = pages_of(bot.conversations_history(channel=fresh_channel, limit=3))
    assert [len(p["messages"]) for p in pages] == [3, 3, 1]
    assert [p["has_more"] for p in pages] == [True, True, False]
    texts = [m["text"] for p in pages for m in p["messages"]]
    assert texts == [f"m{i}" for i in range(6, -1, -1)]
    window = bot.conversations_history(channel=fresh_channel, oldest=stamps[1], latest=stamps[4])
    assert [m["ts"] for m in window["messages"]] == [stamps[3], stamps[2]]
    inclusive = bot.conversations_history(
        channel=fresh_channel, oldest=stamps[1], latest=stamps[4], inclusive=True
    )
    assert [m["ts"] for m in inclusive["messages"]] == stamps[4:0:-1]


def test_threads_replies_and_broadcasts(bot, maya, fresh_channel):
    parent = bot.chat_postMessage(channel=fresh_channel, text="parent")["ts"]
    r1 = bot.chat_postMessage(channel=fresh_channel, text="reply 1", thread_ts=parent)
    assert r1["message"]["thread_ts"] == parent
    bot.conversations_invite(channel=fresh_channel, users=maya.auth_test()["user_id"])
    r2 = maya.chat_postMessage(channel=fresh_channel, text="reply 2", thread_ts=parent)
    # Replying to a reply lands in the same thread.
    r3 = bot.chat_postMessage(
        channel=fresh_channel, text="reply 3", thread_ts=r1["ts"], reply_broadcast=True
    )
    assert r3["message"]["thread_ts"] == parent
    assert r3["message"]["subtype"] == "thread_broadcast"

    history = bot.conversations_history(channel=fresh_channel)["messages"]
    assert [m["text"] for m in history] == ["reply 3", "parent"]  # replies only when broadcast
    head = history[1]
    assert head["thread_ts"] == parent and head["reply_count"] == 3
    assert head["latest_reply"] == r3["ts"]
    assert head["reply_users"] == [r1["message"]["user"], r2["message"]["user"]]
    assert head["reply_users_count"] == 2

    replies = bot.conversations_replies(channel=fresh_channel, ts=parent)["messages"]
    assert [m["text"] for m in replies] == ["parent", "reply 1", "reply 2", "reply 3"]
    assert all(m["thread_ts"] == parent for m in replies)
    assert replies[1]["parent_user_id"] == head["user"]
    paged = pages_of(bot.conversations_replies(channel=fresh_channel, ts=parent, limit=2))
    assert [m["text"] for p in paged for m in p["messages"]] == [m["text"] for m in replies]
    assert (
        error_of(bot.conversations_replies, channel=fresh_channel, ts="1000000000.000001")
        == "thread_not_found"
    )
    assert (
        error_of(
            bot.chat_postMessage, channel=fresh_channel, text="x", thread_ts="1000000000.000001"
        )
        == "thread_not_found"
    )


def test_seeded_threads_are_there(bot, channels):
    incidents = [
        m
        for p in bot.conversations_history(channel=channels["incidents"], limit=50)
        for m in p["messages"]
    ]
    checkout = next(m for m in incidents if "checkout failing" in m["text"])
    assert checkout["reply_count"] >= 10
    assert {r["name"] for r in checkout["reactions"]} >= {"eyes"}
    thread = bot.conversations_replies(channel=channels["incidents"], ts=checkout["ts"])
    assert any("2.13.2" in m["text"] for m in thread["messages"])
    process = next(m for m in incidents if "How we run incidents" in m["text"])
    assert process["pinned_to"] == [channels["incidents"]]


def test_update_and_delete(bot, channels, fresh_channel):
    ts = bot.chat_postMessage(channel=fresh_channel, text="draft")["ts"]
    updated = bot.chat_update(channel=fresh_channel, ts=ts, text="final")
    assert updated["text"] == "final" and updated["ts"] == ts
    latest = bot.conversations_history(channel=fresh_channel, limit=1)["messages"][0]
    assert latest["text"] == "final" and latest["edited"]["user"] == updated["message"]["user"]

    theirs = bot.conversations_history(channel=channels["eng"], limit=200)["messages"]
    human = next(m for m in theirs if "user" in m and "bot_id" not in m)
    assert (
        error_of(bot.chat_update, channel=channels["eng"], ts=human["ts"], text="x")
        == "cant_update_message"
    )
    assert (
        error_of(bot.chat_delete, channel=channels["eng"], ts=human["ts"]) == "cant_delete_message"
    )

    assert bot.chat_delete(channel=fresh_channel, ts=ts)["ts"] == ts
    assert bot.conversations_history(channel=fresh_channel)["messages"] == []
    assert error_of(bot.chat_delete, channel=fresh_channel, ts=ts) == "message_not_found"
    assert error_of(bot.chat_update, channel=fresh_channel, ts=ts, text="y") == "message_not_found"

    parent = bot.chat_postMessage(channel=fresh_channel, text="has a thread")["ts"]
    bot.chat_postMessage(channel=fresh_channel, text="kept", thread_ts=parent)
    bot.chat_delete(channel=fresh_channel, ts=parent)
    thread = bot.conversations_replies(channel=fresh_channel, ts=parent)["messages"]
    assert thread[0]["subtype"] == "tombstone" and thread[1]["text"] == "kept"


def test_reactions_add_get_remove(bot, fresh_channel):
    ts = bot.chat_postMessage(channel=fresh_channel, text="react to me")["ts"]
    bot.reactions_add(channel=fresh_channel, timestamp=ts, name="eyes")
    bot.reactions_add(channel=fresh_channel, timestamp=ts, name=":white_check_mark:")
    got = bot.reactions_get(channel=fresh_channel, timestamp=ts)["message"]
    me = bot.auth_test()["user_id"]
    assert got["reactions"] == [
        {"name": "eyes", "users": [me], "count": 1},
        {"name": "white_check_mark", "users": [me], "count": 1},
    ]
    assert (
        error_of(bot.reactions_add, channel=fresh_channel, timestamp=ts, name="eyes")
        == "already_reacted"
    )
    bot.reactions_remove(channel=fresh_channel, timestamp=ts, name="eyes")
    got = bot.reactions_get(channel=fresh_channel, timestamp=ts)["message"]
    assert [r["name"] for r in got["reactions"]] == ["white_check_mark"]
    assert (
        error_of(bot.reactions_remove, channel=fresh_channel, timestamp=ts, name="eyes")
        == "no_reaction"
    )
    assert (
        error_of(bot.reactions_add, channel=fresh_channel, timestamp=ts, name="no spaces!")
        == "invalid_name"
    )
    assert (
        error_of(bot.reactions_add, channel=fresh_channel, timestamp="1.2", name="eyes")
        == "message_not_found"
    )


def test_pins_and_permalinks(bot, fresh_channel):
    ts = bot.chat_postMessage(channel=fresh_channel, text="pin me")["ts"]
    bot.pins_add(channel=fresh_channel, timestamp=ts)
    assert error_of(bot.pins_add, channel=fresh_channel, timestamp=ts) == "already_pinned"
    items = bot.pins_list(channel=fresh_channel)["items"]
    assert [i["message"]["ts"] for i in items] == [ts]
    assert bot.conversations_history(channel=fresh_channel)["pin_count"] == 1
    link = bot.chat_getPermalink(channel=fresh_channel, message_ts=ts)["permalink"]
    assert (
        link == f"https://acme-commerce.slack.com/archives/{fresh_channel}/p{ts.replace('.', '')}"
    )


def test_create_join_and_membership_rules(bot, maya, slack):
    name = f"t-{uuid.uuid4().hex[:8]}"
    created = maya.conversations_create(name=name)["channel"]
    assert created["name"] == name and created["is_member"] is True
    assert error_of(bot.conversations_create, name=name) == "name_taken"
    assert error_of(bot.conversations_create, name="Bad Name!") == "invalid_name_specials"
    # The bot is not in maya's channel yet: it cannot read or post there.
    assert error_of(bot.conversations_history, channel=created["id"]) == "not_in_channel"
    assert error_of(bot.chat_postMessage, channel=created["id"], text="hi") == "not_in_channel"
    joined = bot.conversations_join(channel=created["id"])
    assert joined["channel"]["is_member"] is True and "warning" not in joined
    assert bot.conversations_join(channel=created["id"])["warning"] == "already_in_channel"
    bot.chat_postMessage(channel=created["id"], text="now I can")
    # Private channels are invisible to non-members.
    secret = maya.conversations_create(name=f"p-{uuid.uuid4().hex[:8]}", is_private=True)
    secret_id = secret["channel"]["id"]
    assert error_of(bot.conversations_info, channel=secret_id) == "channel_not_found"
    listed = {
        c["id"]
        for p in bot.conversations_list(types="public_channel,private_channel")
        for c in p["channels"]
    }
    assert secret_id not in listed and created["id"] in listed


def test_topics(bot, fresh_channel):
    bot.conversations_setTopic(channel=fresh_channel, topic="Incident: checkout 502s")
    topic = bot.conversations_info(channel=fresh_channel)["channel"]["topic"]
    assert topic["value"] == "Incident: checkout 502s" and topic["creator"]


# -- search -----------------------------------------------------------------------------------


def test_search_needs_a_user_token(bot):
    assert error_of(bot.search_messages, query="pool size") == "not_allowed_token_type"


def test_search_messages_with_modifiers_and_pages(slack, channels):
    aisha = WebClient(token=AISHA_TOKEN, base_url=slack.api_url)
    result = aisha.search_messages(query="pool size", count=3)
    messages = result["messages"]
    assert result["query"] == "pool size"
    assert messages["total"] >= 3 and len(messages["matches"]) == 3
    assert messages["paging"] == {
        "count": 3,
        "total": messages["total"],
        "page": 1,
        "pages": -(-messages["total"] // 3),
    }
    assert all(
        "pool" in m["text"].lower() and "size" in m["text"].lower() for m in messages["matches"]
    )
    first = messages["matches"][0]
    assert first["channel"]["name"] and first["permalink"].startswith("https://acme-commerce")
    page2 = aisha.search_messages(query="pool size", count=3, page=2)["messages"]
    assert {m["ts"] for m in page2["matches"]}.isdisjoint({m["ts"] for m in messages["matches"]})
    assert page2["pagination"]["first"] == 4

    scoped = aisha.search_messages(query="rollback in:#incidents", sort="timestamp")["messages"]
    assert scoped["total"] >= 1
    assert {m["channel"]["id"] for m in scoped["matches"]} == {channels["incidents"]}
    stamps = [m["ts"] for m in scoped["matches"]]
    assert stamps == sorted(stamps, reverse=True)

    kenji = aisha.users_lookupByEmail(email="kenji.watanabe@acme.dev")["user"]["id"]
    by_kenji = aisha.search_messages(query="from:@kenji rollback")["messages"]["matches"]
    assert by_kenji and {m["user"] for m in by_kenji} == {kenji}
    october = aisha.search_messages(query="checkout during:2026-10", count=100)["messages"]
    assert october["total"] >= 3
    start, end = (dt.datetime(2026, m, 1, tzinfo=dt.UTC).timestamp() for m in (10, 11))
    assert all(start <= float(m["ts"]) < end for m in october["matches"])
    assert aisha.search_messages(query="zebra-unicorn-nowhere")["messages"]["total"] == 0


# -- errors -----------------------------------------------------------------------------------


def test_auth_errors(slack):
    assert (
        error_of(WebClient(token="xoxb-not-a-real-token", base_url=slack.api_url).auth_test)
        == "invalid_auth"
    )
    assert error_of(WebClient(base_url=slack.api_url).auth_test) == "not_authed"


def test_logical_errors_are_200_with_the_slack_code(bot, channels):
    assert error_of(bot.conversations_history, channel="C0000000000") == "channel_not_found"
    assert error_of(bot.chat_postMessage, channel=channels["random"], text="") == "no_text"
    assert (
        error_of(bot.chat_postMessage, channel=channels["random"], text="x" * 40_001)
        == "msg_too_long"
    )
    assert error_of(bot.api_call, "no.suchMethod") == "unknown_method"
    assert error_of(bot.conversations_list, cursor="bm9wZQ==") == "invalid_cursor"
    assert (
        error_of(bot.conversations_history, channel=channels["random"], latest="soon")
        == "invalid_ts_latest"
    )
    with pytest.raises(SlackApiError) as info:
        bot.conversations_history(channel=channels["random"], limit="many")
    assert info.value.response["error"] == "invalid_arguments"
    assert "limit" in info.value.response["response_metadata"]["messages"][0]


def test_blocks_and_attachments_round_trip(bot, fresh_channel):
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*deploy* done"}}]
    attachments = [{"color": "good", "title": "api", "text": "live"}]
    ts = bot.chat_postMessage(
        channel=fresh_channel, text="fallback", blocks=blocks, attachments=attachments
    )["ts"]
    message = bot.conversations_history(channel=fresh_channel)["messages"][0]
    assert message["ts"] == ts and message["blocks"] == blocks
    assert message["attachments"] == [{**attachments[0], "id": 1}]
    assert (
        error_of(bot.chat_postMessage, channel=fresh_channel, blocks="not json") == "invalid_blocks"
    )


def test_every_page_of_a_busy_channel_is_served(bot, channels):
    pages = pages_of(bot.conversations_history(channel=channels["deploys"], limit=10))
    stamps = [m["ts"] for p in pages for m in p["messages"]]
    assert len(stamps) == len(set(stamps)) > 30
    assert stamps == sorted(stamps, reverse=True)
