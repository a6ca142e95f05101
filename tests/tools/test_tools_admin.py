"""The admin API every tool serves (here through Slack): auth, export, events, fixtures."""

from __future__ import annotations

import datetime as dt
import json
import time

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from tests.tools.conftest import ACME_SLACK, BOT_TOKEN, MAYA_TOKEN, running

WAR_ROOM = """
channels:
  - name: war-room
    topic: "INC: checkout latency"
    members: [maya.chen, aisha.bello]
messages:
  war-room:
    - at: 2026-11-20T09:00:00Z
      user: maya.chen
      text: "war room for <@aisha.bello>, see <#incidents>"
      reactions: {eyes: [aisha.bello]}
"""


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    with running("slack", tmp_path_factory.mktemp("slack-admin"), [ACME_SLACK]) as service:
        yield service


def test_health_needs_no_auth(fresh):
    assert httpx.get(fresh.url + "/healthz").json() == {"status": "ok", "tool": "slack"}


@pytest.mark.parametrize("path", ["/_admin/export", "/_admin/events"])
def test_admin_refuses_without_or_with_wrong_credentials(fresh, path):
    anonymous = httpx.get(fresh.url + path)
    assert anonymous.status_code == 401
    assert anonymous.json()["error"] == "not_authenticated"
    assert anonymous.headers["www-authenticate"] == "Bearer"
    wrong = httpx.get(fresh.url + path, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 403 and wrong.json()["error"] == "forbidden"
    # An API token is not an admin token.
    api = httpx.get(fresh.url + path, headers={"Authorization": f"Bearer {BOT_TOKEN}"})
    assert api.status_code == 403
    posted = httpx.post(fresh.url + "/_admin/fixtures", content=WAR_ROOM)
    assert posted.status_code == 401


def test_export_is_the_whole_state(fresh):
    state = json.loads(fresh.export())
    assert state["tool"] == "slack" and state["seed"] == 0
    tables = state["state"]
    assert {c["name"] for c in tables["channels"]} >= {"eng", "incidents", "payments-team"}
    assert len(tables["users"]) == 26
    assert len(tables["messages"]) >= 250
    assert {w["key"] for w in tables["webhooks"]} == {"alertmanager", "deployer"}
    attached = [m for m in tables["messages"] if m["extra"] and "attachments" in m["extra"]]
    assert attached and isinstance(attached[0]["extra"]["attachments"], list)


def test_events_record_every_mutation_since_a_time(fresh):
    bot = WebClient(token=BOT_TOKEN, base_url=fresh.api_url)
    t0 = time.time()
    eng = next(c["id"] for c in bot.conversations_list()["channels"] if c["name"] == "eng")
    ts = bot.chat_postMessage(channel=eng, text="status: investigating")["ts"]
    bot.reactions_add(channel=eng, timestamp=ts, name="eyes")
    bot.chat_update(channel=eng, ts=ts, text="status: mitigated")
    with fresh.admin() as admin:
        events = admin.get("/_admin/events", params={"since": t0}).json()["events"]
        assert [e["kind"] for e in events] == [
            "message.posted",
            "reaction.added",
            "message.updated",
        ]
        me = bot.auth_test()["user_id"]
        assert all(e["actor"] == me and e["time"] >= t0 for e in events)
        assert events[0]["object_id"] == f"{eng}/{ts}"
        assert events[0]["payload"]["channel_name"] == "eng"
        assert events[2]["payload"]["text"] == "status: mitigated"
        assert events[2]["payload"]["previous_text"] == "status: investigating"
        later = admin.get("/_admin/events", params={"after_id": events[1]["id"]}).json()
        assert [e["kind"] for e in later["events"]] == ["message.updated"]
        assert (
            admin.get("/_admin/events", params={"since": time.time() + 60}).json()["events"] == []
        )
        assert admin.get("/_admin/events", params={"since": "yesterday"}).status_code == 400
    # Failed calls change nothing and record nothing.
    with pytest.raises(SlackApiError):
        bot.reactions_add(channel=eng, timestamp=ts, name="eyes")
    with fresh.admin() as admin:
        assert len(admin.get("/_admin/events", params={"since": t0}).json()["events"]) == 3


def test_fixtures_posted_by_a_task_apply_on_top(fresh):
    with fresh.admin() as admin:
        response = admin.post(
            "/_admin/fixtures", content=WAR_ROOM, headers={"Content-Type": "application/yaml"}
        )
        assert response.status_code == 200, response.text
        assert response.json()["applied"] == {"channels": 1, "messages": 1, "reactions": 1}
        kinds = [e["kind"] for e in admin.get("/_admin/events").json()["events"]]
        assert kinds[-1] == "fixtures.applied"
    maya = WebClient(token=MAYA_TOKEN, base_url=fresh.api_url)
    bot = WebClient(token=BOT_TOKEN, base_url=fresh.api_url)
    room = next(c for c in maya.conversations_list()["channels"] if c["name"] == "war-room")
    assert room["topic"]["value"] == "INC: checkout latency" and room["num_members"] == 2
    message = maya.conversations_history(channel=room["id"])["messages"][0]
    assert message["text"].startswith("war room for <@U") and "|incidents>" in message["text"]
    at = dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC).timestamp()
    assert message["ts"].startswith(f"{int(at)}.")
    with pytest.raises(SlackApiError) as info:
        bot.conversations_history(channel=room["id"])
    assert info.value.response["error"] == "not_in_channel"


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ("channels: [{name: x, members: [no.body]}]", "unknown user 'no.body'"),
        ("messages: {nowhere: [{user: maya.chen, text: hi, at: 2026-01-01}]}", "unknown channel"),
        ("channels: [{name: 'Bad Name'}]", "channels.0.name"),
        ("tokens: [{token: xoxb-1234567890-abc, user: maya.chen}]", "xoxb- tokens belong to bots"),
        ("{unclosed", "not valid YAML"),
        ("- just\n- a list", "mapping"),
        ("bogus_section: 1", "bogus_section"),
    ],
)
def test_bad_fixtures_are_refused_with_a_reason_and_change_nothing(fresh, body, needle):
    before = fresh.export()
    with fresh.admin() as admin:
        response = admin.post("/_admin/fixtures", content=body)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_fixtures"
    assert needle in response.json()["detail"]
    assert fresh.export() == before


def test_restart_keeps_state_and_never_reseeds(tmp_path):
    state_dir = tmp_path / "state"
    with running("slack", state_dir, [ACME_SLACK]) as first:
        bot = WebClient(token=BOT_TOKEN, base_url=first.api_url)
        random = next(
            c["id"] for c in bot.conversations_list()["channels"] if c["name"] == "random"
        )
        ts = bot.chat_postMessage(channel=random, text="survives restarts")["ts"]
        count = len(json.loads(first.export())["state"]["messages"])
    with running("slack", state_dir, [ACME_SLACK], admin_token=None) as second:
        bot = WebClient(token=BOT_TOKEN, base_url=second.api_url)
        assert bot.conversations_history(channel=random, limit=1)["messages"][0]["ts"] == ts
        # Without PRODBENCH_ADMIN_TOKEN the admin API is closed, whatever the caller sends.
        refused = httpx.get(
            second.url + "/_admin/export", headers={"Authorization": "Bearer anything"}
        )
        assert refused.status_code == 403 and refused.json()["error"] == "admin_disabled"
    # A restart with another seed keeps the stored one, so ids derived later stay consistent.
    with running("slack", state_dir, [ACME_SLACK], seed=5) as third:
        exported = json.loads(third.export())
        assert len(exported["state"]["messages"]) == count and exported["seed"] == 0
