"""The real sentry-sdk against the local Sentry: ingestion (gzip and brotli), grouping, the
issue seen through the web API, and the resolve → note → regression cycle."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.tools.conftest import running
from tests.tools.sentry_support import (
    ACME_SENTRY,
    KEYS,
    check_event,
    check_issue,
    sdk_capture,
    web,
)


@pytest.fixture(scope="module")
def sentry(tmp_path_factory):
    with running("sentry", tmp_path_factory.mktemp("sentry-sdk"), [ACME_SENTRY]) as service:
        yield service


def find_issue(client, query: str) -> dict:
    issues = client.get("/organizations/acme/issues/", params={"query": query}).json()
    assert len(issues) == 1, issues
    return issues[0]


@pytest.mark.parametrize("compression", ["gzip", "br"])
def test_sdk_exception_becomes_an_issue(sentry, compression):
    release = f"sdk{compression}1"
    event_id = sdk_capture(
        sentry,
        function=f"apply_coupon_{compression}",
        message=f"coupon code is malformed ({compression})",
        release=release,
        compression=compression,
    )
    with web(sentry) as client:
        issue = find_issue(client, f"release:{release}")
        check_issue(issue)
        assert issue["title"] == f"ValueError: coupon code is malformed ({compression})"
        assert issue["culprit"] == f"__main__ in apply_coupon_{compression}"
        assert issue["project"]["slug"] == "acme-api"
        assert issue["count"] == "1" and issue["status"] == "unresolved"
        assert issue["shortId"].startswith("ACME-API-")

        by_short = client.get(f"/organizations/acme/issues/{issue['shortId'].lower()}/")
        assert by_short.status_code == 200 and by_short.json()["id"] == issue["id"]
        assert by_short.json()["firstRelease"]["version"] == release

        events = client.get(f"/organizations/acme/issues/{issue['shortId']}/events/").json()
        assert [e["eventID"] for e in events] == [event_id]
        latest = client.get(f"/organizations/acme/issues/{issue['id']}/events/latest/").json()
        check_event(latest)
        assert latest["id"] == event_id
        tags = {t["key"]: t["value"] for t in latest["tags"]}
        assert tags["release"] == release and tags["environment"] == "production"
        assert tags["handled"] == "yes" and tags["level"] == "error"
        frames = latest["entries"][0]["data"]["values"][0]["stacktrace"]["frames"]
        assert frames[-1]["function"] == f"apply_coupon_{compression}" and frames[-1]["inApp"]
        assert any("raise ValueError" in line for _, line in frames[-1]["context"])

        release_json = client.get(f"/organizations/acme/releases/{release}/").json()
        assert release_json["newGroups"] == 1 and release_json["projects"][0]["slug"] == "acme-api"


def test_same_error_twice_groups_into_one_issue(sentry):
    for n in range(2):
        sdk_capture(sentry, function="reserve_stock", message=f"sku {n} gone", release="grp1")
    with web(sentry) as client:
        issue = find_issue(client, "release:grp1")
        assert issue["count"] == "2"
        assert issue["title"] == "ValueError: sku 1 gone"  # the newest event names the issue
        assert len(client.get(f"/issues/{issue['id']}/events/").json()) == 2


def test_resolve_with_note_then_new_event_regresses(sentry):
    sdk_capture(sentry, function="ship_order", message="carrier refused", release="reg1")
    with web(sentry) as client, sentry.admin() as admin:
        issue = find_issue(client, "release:reg1")
        note = client.post(
            f"/organizations/acme/issues/{issue['shortId']}/notes/",
            json={"text": "Carrier API key rotated; fixed."},
        )
        assert note.status_code == 201 and note.json()["type"] == "note"
        assert note.json()["user"]["email"] == "agent@acme.dev"
        resolved = client.put(
            f"/organizations/acme/issues/{issue['id']}/", json={"status": "resolved"}
        )
        assert resolved.status_code == 200
        check_issue(resolved.json())
        assert resolved.json()["status"] == "resolved" and resolved.json()["numComments"] == 1
        assert find_issue(client, "is:resolved release:reg1")["id"] == issue["id"]

        events = admin.get("/_admin/events", params={"kind": "issue"}).json()["events"]
        kinds = {(e["kind"], e["actor"]) for e in events if e["object_id"] == issue["id"]}
        assert ("issue.note_added", "agent") in kinds and ("issue.status_changed", "agent") in kinds
        status_event = next(e for e in events if e["kind"] == "issue.status_changed")
        assert status_event["payload"]["to"] == "resolved"
        assert status_event["payload"]["short_id"] == issue["shortId"]

        sdk_capture(sentry, function="ship_order", message="carrier refused again", release="reg2")
        after = client.get(f"/organizations/acme/issues/{issue['id']}/").json()
        assert after["status"] == "unresolved" and after["substatus"] == "regressed"
        assert after["count"] == "2"
        activity = client.get(f"/organizations/acme/issues/{issue['id']}/activities/").json()
        types = [a["type"] for a in activity["activity"]]
        assert types[:3] == ["set_regression", "set_resolved", "note"]
        assert types[-1] == "first_seen"
        assert activity["activity"][0]["data"] == {"version": "reg2"}
        regressed = admin.get("/_admin/events", params={"kind": "issue.regressed"}).json()
        assert [e["object_id"] for e in regressed["events"]] == [issue["id"]]


def test_live_event_matching_a_fixture_issue_regresses_it(sentry):
    """The payments pool exhaustion from the fixtures comes back with a new release."""
    envelope = [
        {"event_id": "0" * 31 + "1"},
        {"type": "event"},
        {
            "release": "2a0b1c9",
            "environment": "production",
            "level": "error",
            "exception": {
                "values": [
                    {
                        "type": "TimeoutError",
                        "module": "sqlalchemy.exc",
                        "value": "QueuePool limit of size 4 overflow 0 reached",
                        "stacktrace": {
                            "frames": [
                                {
                                    "module": "acme.payments.app",
                                    "function": "capture_charge",
                                    "in_app": True,
                                },
                                {
                                    "module": "acme.payments.processor",
                                    "function": "capture",
                                    "in_app": True,
                                },
                                {
                                    "module": "sqlalchemy.pool.impl",
                                    "function": "_do_get",
                                    "in_app": False,
                                },
                            ]
                        },
                    }
                ]
            },
        },
    ]
    body = "\n".join(json.dumps(part) for part in envelope).encode()
    response = httpx.post(
        f"{sentry.url}/api/5/envelope/",
        content=body,
        headers={
            "X-Sentry-Auth": f"Sentry sentry_key={KEYS['acme-payments'][1]}, sentry_version=7"
        },
    )
    assert response.status_code == 200 and response.json() == {"id": "0" * 31 + "1"}
    with web(sentry) as client:
        issue = find_issue(client, "error.type:TimeoutError project:acme-payments")
        assert issue["status"] == "unresolved" and issue["substatus"] == "regressed"
        assert issue["count"] == "1894"
        assert issue["assignedTo"]["name"] == "Nikolai Petrov"
