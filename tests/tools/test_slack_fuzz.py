"""Whatever a client sends, the service answers in Slack's shape and never with a 5xx."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from environments.tools.slack.methods import METHODS
from tests.tools.conftest import (
    ACME_SLACK,
    ALERTS_HOOK,
    BOT_TOKEN,
    MAYA_TOKEN,
    fuzz_budget,
    running,
)

EXAMPLES, FUZZ = fuzz_budget(500)

PARAMS = [
    "channel",
    "ts",
    "thread_ts",
    "text",
    "limit",
    "cursor",
    "oldest",
    "latest",
    "inclusive",
    "name",
    "timestamp",
    "user",
    "users",
    "email",
    "query",
    "count",
    "page",
    "sort",
    "sort_dir",
    "blocks",
    "attachments",
    "types",
    "is_private",
    "reply_broadcast",
    "topic",
    "message_ts",
    "exclude_archived",
    "include_num_members",
    "metadata",
    "token",
    "error",
    "username",
    "icon_emoji",
    "include_locale",
    "bot",
]
CONTENT_TYPES = [
    "application/json",
    "application/json; charset=utf-8",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=xyz",
    "multipart/form-data",
    "text/plain",
    "application/yaml",
    "",
]

leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
)
json_values = st.recursive(
    leaves,
    lambda kids: (
        st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=8), kids, max_size=4)
    ),
    max_leaves=10,
)


@pytest.fixture(scope="module")
def target(tmp_path_factory):
    with (
        running("slack", tmp_path_factory.mktemp("slack-fuzz"), [ACME_SLACK]) as service,
        httpx.Client(base_url=service.url, timeout=10) as client,
        service.admin() as admin,
    ):
        bot = {"Authorization": f"Bearer {BOT_TOKEN}"}
        channels = client.post("/api/conversations.list", headers=bot).json()["channels"]
        ids = [c["id"] for c in channels]
        stamps = [
            m["ts"]
            for m in client.post(
                "/api/conversations.history", headers=bot, data={"channel": ids[0]}
            ).json()["messages"][:5]
        ]
        yield service, client, ids + stamps, admin


def interesting(known: list[str]):
    return st.one_of(
        json_values,
        st.sampled_from(
            known
            + [
                "#general",
                "general",
                "C0",
                "1.2",
                "0",
                "-1",
                "1e400",
                "NaN",
                "true",
                "2",
                "999999999999999999999",
                "\x00",
                "\ud800",
                ":eyes:",
                "in:#eng from:@maya before:2026-10-01",
                "*",
                "%",
                "dGVhbTp6",
            ]
        ),
    )


def as_text(value) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value)


def check_slack_answer(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text[:500]
    body = response.json()
    assert isinstance(body, dict) and isinstance(body.get("ok"), bool), body
    if not body["ok"]:
        assert isinstance(body.get("error"), str) and body["error"]


@FUZZ
@given(data=st.data())
def test_every_method_survives_arbitrary_arguments(target, data):
    _, client, known, _ = target
    method = data.draw(st.sampled_from(sorted(METHODS) + ["no.such", "chat.postMessage/x", ""]))
    params = data.draw(
        st.dictionaries(
            st.sampled_from(PARAMS) | st.text(max_size=12), interesting(known), max_size=6
        )
    )
    token = data.draw(st.sampled_from([BOT_TOKEN, MAYA_TOKEN, "xoxb-wrong", "", None]))
    headers = {"Authorization": f"Bearer {token}".strip()} if token is not None else {}
    how = data.draw(st.sampled_from(["query", "form", "json", "raw"]))
    url = f"/api/{method}"
    # Lone surrogates go out as the (invalid UTF-8) bytes they would be, like a buggy client's.
    encoded = urlencode(
        {k: as_text(v) for k, v in params.items() if v is not None},
        encoding="utf-8",
        errors="surrogatepass",
    )
    if how == "query":
        response = client.get(f"{url}?{encoded}", headers=headers)
    elif how == "form":
        response = client.post(
            url,
            content=encoded.encode(),
            headers={**headers, "Content-Type": "application/x-www-form-urlencoded"},
        )
    elif how == "json":
        response = client.post(
            url,
            headers=headers,
            content=json.dumps(params, allow_nan=True).encode("utf-8", "surrogatepass"),
        )
    else:
        body = data.draw(
            st.binary(max_size=300)
            | st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass"))
        )
        ctype = data.draw(st.sampled_from(CONTENT_TYPES))
        response = client.post(url, headers={**headers, "Content-Type": ctype}, content=body)
    check_slack_answer(response)


@settings(FUZZ, max_examples=max(50, EXAMPLES // 3))
@given(
    body=st.one_of(json_values.map(lambda v: json.dumps(v).encode()), st.binary(max_size=200)),
    ctype=st.sampled_from(CONTENT_TYPES),
    path=st.sampled_from([ALERTS_HOOK, "/services/T1/B2/x", "/services/", ALERTS_HOOK + "/x"]),
)
def test_webhooks_survive_arbitrary_bodies(target, body, ctype, path):
    _, client, _, _ = target
    response = client.post(path, content=body, headers={"Content-Type": ctype})
    assert response.status_code in (200, 400, 404, 410, 413), response.text
    assert response.headers["content-type"].startswith("text/plain")


@settings(FUZZ, max_examples=max(50, EXAMPLES // 3))
@given(
    doc=st.dictionaries(
        st.sampled_from(
            [
                "team",
                "users",
                "bots",
                "tokens",
                "channels",
                "webhooks",
                "messages",
                "company",
                "other",
            ]
        ),
        json_values,
        max_size=3,
    )
)
def test_admin_fixtures_survive_arbitrary_documents(target, doc):
    admin = target[3]
    response = admin.post("/_admin/fixtures", content=json.dumps(doc).encode())
    assert response.status_code in (200, 400), response.text
    assert "error" in response.json() or response.json()["ok"] is True
