"""Whatever an SDK or API client sends, Sentry answers in its own shape and never with a 5xx;
and whatever was ingested, every event still renders in the web format sentry-mcp accepts."""

from __future__ import annotations

import gzip
import json
import string

import brotli
import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.tools.conftest import fuzz_budget, running
from tests.tools.sentry_support import (
    ACME_SENTRY,
    AGENT_TOKEN,
    KEYS,
    check_event,
    check_issue,
    web,
)

# A small default: nested event payloads make each example costly.
EXAMPLES, FUZZ = fuzz_budget(150)
API_ID, API_KEY = KEYS["acme-api"]

leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(
        ["", "\x00", "\ud800", "2026-11-20T10:00:00Z", "error", "in_app", "{{ default }}"]
    ),
)
json_values = st.recursive(
    leaves,
    lambda kids: (
        st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=8), kids, max_size=4)
    ),
    max_leaves=12,
)
frames = st.lists(
    st.fixed_dictionaries(
        {},
        optional={
            "filename": json_values,
            "function": json_values,
            "module": json_values,
            "lineno": json_values,
            "in_app": json_values,
            "context_line": json_values,
            "pre_context": json_values,
            "vars": json_values,
        },
    ),
    max_size=4,
)
exceptions = st.fixed_dictionaries(
    {},
    optional={
        "type": json_values,
        "value": json_values,
        "module": json_values,
        "mechanism": json_values | st.fixed_dictionaries({"handled": json_values}),
        "stacktrace": json_values | st.fixed_dictionaries({"frames": frames}),
    },
)
events = st.fixed_dictionaries(
    {},
    optional={
        "event_id": json_values,
        "timestamp": json_values,
        "level": json_values,
        "message": json_values,
        "logentry": json_values
        | st.fixed_dictionaries({"message": json_values, "params": json_values}),
        "exception": json_values
        | st.fixed_dictionaries({"values": st.lists(exceptions, max_size=3)}),
        "tags": json_values,
        "user": json_values,
        "request": json_values
        | st.fixed_dictionaries({"url": json_values, "headers": json_values}),
        "breadcrumbs": json_values,
        "contexts": json_values,
        "fingerprint": json_values,
        "release": json_values,
        "environment": json_values,
        "transaction": json_values,
        "culprit": json_values,
        "extra": json_values,
        "sdk": json_values,
    },
)
ITEM_TYPES = [
    "event",
    "attachment",
    "session",
    "sessions",
    "client_report",
    "transaction",
    "check_in",
    "log",
    "span",
    "feedback",
    "x",
]


@pytest.fixture(scope="module")
def target(tmp_path_factory):
    with (
        running("sentry", tmp_path_factory.mktemp("sentry-fuzz"), [ACME_SENTRY]) as service,
        httpx.Client(base_url=service.url, timeout=10) as client,
    ):
        yield service, client


def check_ingest_answer(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text[:500]
    body = response.json()
    assert isinstance(body, dict)
    if response.status_code >= 400:
        assert isinstance(body["detail"], str) and body["detail"]
    else:
        assert set(body) <= {"id"}


@FUZZ
@given(
    payloads=st.lists(st.tuples(st.sampled_from(ITEM_TYPES), events | json_values), max_size=4),
    header=json_values,
    declare_length=st.lists(
        st.sampled_from([None, "right", -1, 10**9, "x"]), min_size=4, max_size=4
    ),
    encoding=st.sampled_from(["", "gzip", "br"]),
)
def test_envelopes_survive_arbitrary_items(target, payloads, header, declare_length, encoding):
    _, client = target
    lines = [json.dumps(header, allow_nan=True).encode("utf-8", "surrogatepass")]
    for (kind, payload), length in zip(payloads, declare_length, strict=False):
        data = json.dumps(payload, allow_nan=True).encode("utf-8", "surrogatepass")
        item: dict = {"type": kind}
        if length == "right":
            item["length"] = len(data)
        elif length is not None:
            item["length"] = length
        lines += [json.dumps(item).encode(), data]
    body = b"\n".join(lines)
    if encoding == "gzip":
        body = gzip.compress(body)
    elif encoding == "br":
        body = brotli.compress(body)
    response = client.post(
        f"/api/{API_ID}/envelope/",
        content=body,
        headers={"X-Sentry-Auth": f"Sentry sentry_key={API_KEY}", "Content-Encoding": encoding},
    )
    check_ingest_answer(response)


@FUZZ
@given(event=events)
def test_store_endpoint_survives_arbitrary_events(target, event):
    _, client = target
    response = client.post(
        f"/api/{API_ID}/store/?sentry_key={API_KEY}",
        content=json.dumps(event, allow_nan=True).encode("utf-8", "surrogatepass"),
    )
    check_ingest_answer(response)
    assert response.status_code == 200  # any JSON object is an event


@settings(FUZZ, max_examples=max(50, EXAMPLES // 3))
@given(
    body=st.binary(max_size=300),
    encoding=st.sampled_from(["", "gzip", "br", "deflate", "gzip, br", "bogus"]),
    path=st.sampled_from([f"/api/{API_ID}/envelope/", f"/api/{API_ID}/store/", "/api/x/envelope/"]),
    auth=st.sampled_from(
        [f"Sentry sentry_key={API_KEY}", "Sentry", "", "Bearer x", "Sentry sentry_key=="]
    ),
)
def test_ingestion_survives_arbitrary_bytes(target, body, encoding, path, auth):
    _, client = target
    response = client.post(
        path, content=body, headers={"X-Sentry-Auth": auth, "Content-Encoding": encoding}
    )
    check_ingest_answer(response)


ENDPOINTS = [
    ("GET", "/api/0/"),
    ("GET", "/api/0/auth/"),
    ("GET", "/api/0/organizations/"),
    ("GET", "/api/0/organizations/{org}/"),
    ("GET", "/api/0/organizations/{org}/projects/"),
    ("GET", "/api/0/organizations/{org}/teams/"),
    ("GET", "/api/0/organizations/{org}/members/"),
    ("GET", "/api/0/organizations/{org}/environments/"),
    ("GET", "/api/0/organizations/{org}/tags/"),
    ("GET", "/api/0/organizations/{org}/releases/"),
    ("POST", "/api/0/organizations/{org}/releases/"),
    ("GET", "/api/0/organizations/{org}/releases/{version}/"),
    ("GET", "/api/0/organizations/{org}/releases/{version}/deploys/"),
    ("POST", "/api/0/organizations/{org}/releases/{version}/deploys/"),
    ("GET", "/api/0/organizations/{org}/issues/"),
    ("PUT", "/api/0/organizations/{org}/issues/"),
    ("GET", "/api/0/organizations/{org}/issues/{issue}/"),
    ("PUT", "/api/0/organizations/{org}/issues/{issue}/"),
    ("GET", "/api/0/organizations/{org}/issues/{issue}/events/"),
    ("GET", "/api/0/organizations/{org}/issues/{issue}/events/{event}/"),
    ("GET", "/api/0/organizations/{org}/issues/{issue}/notes/"),
    ("POST", "/api/0/organizations/{org}/issues/{issue}/notes/"),
    ("PUT", "/api/0/organizations/{org}/issues/{issue}/notes/{note}/"),
    ("DELETE", "/api/0/organizations/{org}/issues/{issue}/comments/{note}/"),
    ("GET", "/api/0/organizations/{org}/issues/{issue}/activities/"),
    ("GET", "/api/0/organizations/{org}/issues/{issue}/tags/"),
    ("GET", "/api/0/organizations/{org}/issues/{issue}/tags/{key}/"),
    ("GET", "/api/0/organizations/{org}/issues/{issue}/tags/{key}/values/"),
    ("GET", "/api/0/organizations/{org}/shortids/{issue}/"),
    ("GET", "/api/0/organizations/{org}/eventids/{event}/"),
    ("GET", "/api/0/organizations/{org}/events/"),
    ("GET", "/api/0/organizations/{org}/issues/{issue}/external-issues/"),
    ("GET", "/api/0/organizations/{org}/issues/{issue}/autofix/"),
    ("GET", "/api/0/projects/{org}/{project}/stacktrace-link/"),
    ("GET", "/api/0/issues/{issue}/"),
    ("PUT", "/api/0/issues/{issue}/"),
    ("GET", "/api/0/teams/{org}/{key}/"),
    ("GET", "/api/0/projects/"),
    ("GET", "/api/0/projects/{org}/{project}/"),
    ("GET", "/api/0/projects/{org}/{project}/keys/"),
    ("GET", "/api/0/projects/{org}/{project}/teams/"),
    ("GET", "/api/0/projects/{org}/{project}/issues/"),
    ("PUT", "/api/0/projects/{org}/{project}/issues/"),
    ("GET", "/api/0/projects/{org}/{project}/events/"),
    ("GET", "/api/0/projects/{org}/{project}/events/{event}/"),
    ("GET", "/api/0/projects/{org}/{project}/events/{event}/attachments/"),
    ("GET", "/api/0/projects/{org}/{project}/events/{event}/attachments/{note}/"),
    ("GET", "/api/0/projects/{org}/{project}/releases/"),
]
QUERY_KEYS = [
    "query",
    "statsPeriod",
    "start",
    "end",
    "limit",
    "per_page",
    "cursor",
    "sort",
    "project",
    "environment",
    "full",
    "groupStatsPeriod",
    "collapse",
    "shortIdLookup",
    "id",
    "download",
    "detailed",
]
SEARCHES = [
    "is:unresolved",
    "is:resolved level:error",
    "assigned:me",
    "assigned:[me, none]",
    "!is:ignored",
    'release:"6456e01"',
    "age:-24h",
    "lastSeen:>2026-10-01",
    "timesSeen:>=3",
    "has:upstream",
    "upstream:web*",
    "bookmarks:me",
    "release:latest",
    "is:",
    ":",
    '"',
    "!",
    "firstSeen:+2w",
    "assigned:#nope",
    "project:acme-api issue:ACME-API-1",
    "tags[x]:y",
]
BODY_KEYS = [
    "status",
    "statusDetails",
    "assignedTo",
    "hasSeen",
    "isBookmarked",
    "substatus",
    "ignoreDuration",
    "ignoreCount",
    "priority",
    "text",
    "version",
    "projects",
    "environment",
    "dateFinished",
    "ref",
    "inRelease",
    "isSubscribed",
]


def path_values(known: dict[str, list[str]]):
    junk = st.sampled_from(
        ["0", "-1", "99999999999999999999", "%00", "x" * 300, "ACME-", "ÄÖ", "latest"]
    )
    return {
        name: st.sampled_from(values) | junk | st.text(string.ascii_letters + "-_:.", max_size=12)
        for name, values in known.items()
    }


@pytest.fixture(scope="module")
def known(target):
    service, _ = target
    with web(service) as client:
        issues = client.get(
            "/organizations/acme/issues/", params={"query": "", "statsPeriod": "3650d", "limit": 10}
        ).json()
        issue_refs = [i["id"] for i in issues] + [i["shortId"] for i in issues]
        event = client.get(f"/organizations/acme/issues/{issues[0]['id']}/events/").json()[0]["id"]
    return {
        "org": ["acme", "1"],
        "issue": issue_refs,
        "event": [event, "latest", "oldest", "recommended"],
        "project": ["acme-api", "2", "acme-payments"],
        "version": ["6456e01", "2382476"],
        "key": ["release", "environment", "level", "platform"],
        "note": ["1", "2"],
    }


@FUZZ
@given(data=st.data())
def test_every_web_endpoint_survives_arbitrary_requests(target, known, data):
    _, client = target
    method, template = data.draw(st.sampled_from(ENDPOINTS))
    values = {name: data.draw(strategy) for name, strategy in path_values(known).items()}
    path = template.format(**values)
    params = data.draw(
        st.dictionaries(
            st.sampled_from(QUERY_KEYS),
            st.sampled_from(SEARCHES) | st.text(max_size=15) | st.integers(-5, 10**6).map(str),
            max_size=4,
        )
    )
    body = data.draw(
        st.none()
        | st.dictionaries(
            st.sampled_from(BODY_KEYS),
            json_values
            | st.sampled_from(
                [
                    "resolved",
                    "ignored",
                    "unresolved",
                    "resolvedInNextRelease",
                    "me",
                    "team:data",
                    "user:5",
                    "#payments",
                    "high",
                ]
            ),
            max_size=4,
        )
        | json_values
    )
    token = data.draw(st.sampled_from([AGENT_TOKEN, AGENT_TOKEN, "", "sntryu_bad"]))
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    content = (
        None if body is None else json.dumps(body, allow_nan=True).encode("utf-8", "surrogatepass")
    )
    try:
        response = client.request(method, path, params=params, content=content, headers=headers)
    except httpx.InvalidURL:
        return
    assert response.status_code < 500, (method, path, params, body, response.text[:500])
    if response.status_code in (200, 201, 204, 208, 307):
        return
    assert set(response.json()) == {"detail"}, response.text[:300]
    assert isinstance(response.json()["detail"], str)


@FUZZ
@given(query=st.text(alphabet='is:[]!"-+><=,. #*abelmnrtuvwxyz0123456789²', max_size=40))
def test_issue_search_survives_arbitrary_queries(target, query):
    _, client = target
    response = client.get(
        "/api/0/organizations/acme/issues/",
        params={"query": query, "statsPeriod": "90d"},
        headers={"Authorization": f"Bearer {AGENT_TOKEN}"},
    )
    assert response.status_code in (200, 400), (query, response.text[:300])
    if response.status_code == 400:
        assert response.json()["detail"].startswith("Error parsing search query")


def test_everything_ingested_still_renders_for_sentry_mcp(target):
    """Runs after the fuzzers: every issue and every stored event passes the zod checks."""
    service, _ = target
    with web(service) as client:
        cursor = "0:0:0"
        count = 0
        while True:
            response = client.get(
                "/organizations/acme/issues/",
                params={"query": "", "statsPeriod": "3650d", "cursor": cursor, "limit": 100},
            )
            assert response.status_code == 200
            for issue in response.json():
                check_issue(issue)
                count += 1
                events = client.get(f"/issues/{issue['id']}/events/", params={"full": "1"})
                assert events.status_code == 200, events.text[:300]
                for event in events.json():
                    check_event(event)
            if 'results="true"; cursor="' not in response.headers["link"].split(", <")[1]:
                break
            cursor = response.headers["link"].split('cursor="')[-1].rstrip('"')
        assert count >= 39
