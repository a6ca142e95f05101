"""Incoming webhooks, fed what Alertmanager's slack_configs sends (and by Alertmanager itself)."""

from __future__ import annotations

import subprocess
import time

import httpx
import pytest
from slack_sdk import WebClient

from environments.binaries import find_binary
from tests.tools.conftest import ALERTS_HOOK, BOT_TOKEN, DEPLOYS_HOOK, free_port

# The body Alertmanager 0.25 posts for one firing alert with its default Slack templates.
ALERTMANAGER_BODY = {
    "channel": "#alerts",
    "username": "Alertmanager",
    "icon_emoji": ":fire:",
    "attachments": [
        {
            "title": "[FIRING:1] HighErrorRate api (critical)",
            "title_link": "http://127.0.0.1:9093/#/alerts?receiver=slack",
            "pretext": "",
            "text": "*Alert:* api 5xx above 2%\n*Labels:* service=api severity=critical",
            "fallback": "[FIRING:1] HighErrorRate api (critical) | http://127.0.0.1:9093",
            "callback_id": "",
            "footer": "",
            "color": "danger",
            "mrkdwn_in": ["fallback", "pretext", "text"],
            "fields": [{"title": "severity", "value": "critical", "short": True}],
        }
    ],
}


@pytest.fixture(scope="module")
def bot(slack) -> WebClient:
    return WebClient(token=BOT_TOKEN, base_url=slack.api_url)


def channel_id(bot: WebClient, name: str) -> str:
    return next(c["id"] for c in bot.conversations_list()["channels"] if c["name"] == name)


def latest(bot: WebClient, name: str) -> dict:
    return bot.conversations_history(channel=channel_id(bot, name), limit=1)["messages"][0]


def test_alertmanager_payload_lands_in_alerts_as_a_bot_message(slack, bot):
    response = httpx.post(slack.url + ALERTS_HOOK, json=ALERTMANAGER_BODY)
    assert response.status_code == 200 and response.text == "ok"
    message = latest(bot, "alerts")
    assert message["subtype"] == "bot_message" and "user" not in message
    assert message["username"] == "Alertmanager" and message["icons"] == {"emoji": ":fire:"}
    attachment = message["attachments"][0]
    assert attachment["title"] == "[FIRING:1] HighErrorRate api (critical)"
    assert attachment["color"] == "danger" and attachment["fields"][0]["value"] == "critical"
    assert message["bot_profile"]["name"] == "Alertmanager"
    with slack.admin() as admin:
        events = admin.get("/_admin/events", params={"kind": "message"}).json()["events"]
    assert events[-1]["actor"] == "webhook:alertmanager"
    assert events[-1]["payload"]["attachment_titles"] == [attachment["title"]]


def test_plain_text_and_legacy_form_payloads(slack, bot):
    assert httpx.post(slack.url + DEPLOYS_HOOK, json={"text": "deploy of api started"}).text == "ok"
    assert latest(bot, "deploys")["text"] == "deploy of api started"
    form = {"payload": '{"text": "legacy form post"}'}
    assert httpx.post(slack.url + DEPLOYS_HOOK, data=form).text == "ok"
    message = latest(bot, "deploys")
    assert message["text"] == "legacy form post" and message["username"] == "deploybot"


def test_webhook_errors_are_text_like_slack(slack):
    bad = httpx.post(
        slack.url + "/services/T07ACME0001/B07ALERTS001/wrongsecret", json={"text": "x"}
    )
    assert (bad.status_code, bad.text) == (404, "no_service")
    broken = httpx.post(
        slack.url + ALERTS_HOOK, content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert (broken.status_code, broken.text) == (400, "invalid_payload")
    empty = httpx.post(slack.url + ALERTS_HOOK, json={"text": "  "})
    assert (empty.status_code, empty.text) == (400, "no_text")
    assert httpx.get(slack.url + ALERTS_HOOK).status_code == 405


@pytest.mark.skipif(find_binary("alertmanager") is None, reason="alertmanager is not installed")
def test_real_alertmanager_notifies_through_the_webhook(slack, bot, tmp_path):
    port = free_port()
    config = tmp_path / "alertmanager.yml"
    config.write_text(
        "route: {receiver: slack, group_wait: 0s, group_interval: 1s, repeat_interval: 1h}\n"
        "receivers:\n"
        "  - name: slack\n"
        "    slack_configs:\n"
        f"      - api_url: {slack.url}{ALERTS_HOOK}\n"
        "        channel: '#alerts'\n"
        "        send_resolved: true\n"
    )
    proc = subprocess.Popen(
        [
            find_binary("alertmanager"),
            f"--config.file={config}",
            f"--storage.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 15
        alert = [
            {
                "labels": {
                    "alertname": "ProdbenchWebhookTest",
                    "service": "api",
                    "severity": "critical",
                },
                "annotations": {"summary": "testing the Slack webhook"},
            }
        ]
        while True:
            try:
                r = httpx.post(f"http://127.0.0.1:{port}/api/v2/alerts", json=alert, timeout=2)
                if r.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "alertmanager did not start"
            time.sleep(0.1)
        while True:
            message = latest(bot, "alerts")
            titles = [a.get("title", "") for a in message.get("attachments", [])]
            if any("ProdbenchWebhookTest" in t for t in titles):
                break
            assert time.monotonic() < deadline, f"no notification; latest: {message}"
            time.sleep(0.2)
        assert (
            titles[0].startswith("[FIRING:1]") and "ProdbenchWebhookTest api critical" in titles[0]
        )
        assert message["subtype"] == "bot_message" and message["bot_id"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
