"""The web API over Acme's fixtures: the shapes sentry-mcp validates, search, pagination,
updates, notes, tags, and Sentry's errors."""

from __future__ import annotations

import datetime as dt
import time

import httpx
import pytest

from tests.tools.conftest import running
from tests.tools.sentry_support import (
    ACME_SENTRY,
    AGENT_TOKEN,
    ISO_Z,
    MAYA_TOKEN,
    check_event,
    check_issue,
    is_url,
    link_cursors,
    web,
)

ALL = {"query": "", "statsPeriod": "3650d"}


@pytest.fixture(scope="module")
def sentry(tmp_path_factory):
    with running("sentry", tmp_path_factory.mktemp("sentry-api"), [ACME_SENTRY]) as service:
        yield service


@pytest.fixture(scope="module")
def client(sentry):
    with web(sentry) as c:
        yield c


def iso_seconds(value: str) -> float:
    return dt.datetime.fromisoformat(value).timestamp()


def titles(client, **params) -> list[str]:
    return [i["title"] for i in client.get("/organizations/acme/issues/", params=params).json()]


def test_auth_is_required_and_checked(sentry):
    with web(sentry, token="sntryu_" + "0" * 64) as bad:
        response = bad.get("/auth/")
    assert response.status_code == 401 and response.json() == {"detail": "Invalid token"}
    bare = httpx.get(f"{sentry.url}/api/0/organizations/")
    assert bare.status_code == 401
    assert bare.json() == {"detail": "Authentication credentials were not provided."}


def test_whoami_organizations_projects_teams_members(client, sentry):
    me = client.get("/auth/").json()
    assert me["email"] == "agent@acme.dev" and me["name"] == "Acme Agent"
    orgs = client.get("/organizations/").json()
    assert [o["slug"] for o in orgs] == ["acme"] and is_url(orgs[0]["links"]["organizationUrl"])
    projects = client.get("/organizations/acme/projects/").json()
    assert [p["slug"] for p in projects] == [
        "acme-api",
        "acme-ingress",
        "acme-payments",
        "acme-web",
        "acme-worker",
    ]
    assert {p["slug"]: p["team"]["slug"] for p in projects}["acme-payments"] == "payments"
    assert all(isinstance(p["id"], str) and p["platform"] == "python" for p in projects)
    teams = {t["slug"]: t for t in client.get("/organizations/acme/teams/").json()}
    assert {"platform", "storefront", "payments", "data"} <= set(teams)
    assert [p["slug"] for p in teams["storefront"]["projects"]] == ["acme-api", "acme-web"]
    members = client.get("/organizations/acme/members/").json()
    emails = {m["email"] for m in members}
    assert {"maya.chen@acme.dev", "agent@acme.dev"} <= emails and len(members) == 25
    keys = client.get("/projects/acme/acme-api/keys/").json()
    assert keys[0]["dsn"]["public"] == (
        f"http://294d8a50d4c5c8a353a8210b1ccc071f@127.0.0.1:{sentry.port}/2"
    )
    detail = client.get("/projects/acme/acme-web/").json()
    assert detail["slug"] == "acme-web" and detail["latestRelease"]["version"] == "4899baf"
    assert client.get("/organizations/acme/").json()["projects"][0]["slug"] == "acme-api"


def test_releases_match_the_deploy_history(client):
    releases = client.get("/organizations/acme/releases/", params={"per_page": 100}).json()
    versions = [r["version"] for r in releases]
    assert versions[0] == "1e5ec6b" and versions[-1] == "9ab576e"  # newest first
    payments = client.get("/organizations/acme/releases/2382476/").json()
    assert payments["lastCommit"]["author"]["email"] == "fatima.aziz@acme.dev"
    assert payments["lastDeploy"]["environment"] == "production"
    assert ISO_Z.match(payments["dateCreated"]) and payments["newGroups"] == 1
    scoped = client.get("/projects/acme/acme-ingress/releases/").json()
    assert {r["version"] for r in scoped} == {"7dcdd1d", "9736705", "6456e01", "c0670e6", "a5bcdc1"}


def test_issue_shapes_and_short_ids(client, sentry):
    issues = client.get("/organizations/acme/issues/", params=ALL).json()
    for issue in issues:
        check_issue(issue)
        assert issue["permalink"] == f"{sentry.url}/organizations/acme/issues/{issue['id']}/"
    pool = next(i for i in issues if "QueuePool" in i["title"])
    assert pool["title"].startswith("TimeoutError: QueuePool limit of size 4 overflow 0 reached")
    assert pool["culprit"] == "/v1/charges/{charge_id}/capture"
    assert pool["count"] == "1893" and pool["userCount"] == 1204
    assert pool["status"] == "resolved" and pool["statusDetails"]["inRelease"] == "9808db3"
    assert pool["statusDetails"]["actor"]["email"] == "grace.kim@acme.dev"
    short = pool["shortId"]
    for ref in (short, short.lower(), pool["id"]):
        detail = client.get(f"/organizations/acme/issues/{ref}/").json()
        assert detail["id"] == pool["id"] and detail["numComments"] == 2
    legacy = client.get(f"/issues/{pool['id']}/").json()
    assert legacy["firstRelease"]["version"] == "2382476"
    assert {t["key"] for t in legacy["tags"]} >= {"environment", "release", "level", "user"}
    lookup = client.get(f"/organizations/acme/shortids/{short}/").json()
    assert lookup["groupId"] == pool["id"] and lookup["projectSlug"] == "acme-payments"


def test_pagination_follows_link_headers_to_the_end(client):
    seen: list[str] = []
    params = {**ALL, "limit": 7}
    response = client.get("/organizations/acme/issues/", params=params)
    assert link_cursors(response)["previous"] == ("0:0:1", False)
    pages = 0
    while True:
        pages += 1
        seen += [i["id"] for i in response.json()]
        nxt, more = link_cursors(response)["next"]
        if not more:
            break
        response = client.get("/organizations/acme/issues/", params={**params, "cursor": nxt})
        assert link_cursors(response)["previous"][1] is True
    hits = int(response.headers["x-hits"])
    assert len(seen) == len(set(seen)) == hits and hits >= 39
    assert pages == -(-hits // 7)
    beyond = client.get("/organizations/acme/issues/", params={**params, "cursor": "0:700:0"})
    assert beyond.json() == [] and link_cursors(beyond)["next"][1] is False


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (
            {"query": "is:unresolved level:warning", "statsPeriod": "3650d"},
            {
                "oldest job in fulfilment is 412s old",
                "circuit breaker open for provider: 55% failures over 20 calls",
                "all upstreams for /api are draining; answering 503 with Retry-After",
            },
        ),
        (
            {"query": "release:6456e01", "statsPeriod": "3650d"},
            {
                "RemoteProtocolError: Server disconnected without sending a response.",
                "ReadTimeout: timed out",
            },
        ),
        (
            {"query": "is:unresolved assigned:emily.zhang@acme.dev", "statsPeriod": "3650d"},
            {
                "KeyError: 'tax_lines'",
            },
        ),
        (
            {"query": "assigned:#storefront", "statsPeriod": "3650d"},
            {
                "IntegrityError: (sqlite3.IntegrityError) UNIQUE constraint failed: cart_items.cart_id, cart_items.product_id",
            },
        ),
        (
            {"query": "tax_lines", "statsPeriod": "3650d"},
            {
                "KeyError: 'tax_lines'",
                "UndefinedError: 'dict object' has no attribute 'tax_lines'",
            },
        ),
        (
            {"query": "is:ignored service:worker", "statsPeriod": "3650d"},
            {
                "PermissionError: [Errno 13] Permission denied: '/var/lib/acme/tmp/export-2026-09-06.csv'",
            },
        ),
        (
            {"query": "!is:resolved error.type:KeyError", "statsPeriod": "3650d", "project": "4"},
            {
                "KeyError: 'receipts/ord_0048131.pdf'",
            },
        ),
        (
            {"query": "is:unresolved timesSeen:>100", "statsPeriod": "3650d"},
            {
                "KeyError: 'tax_lines'",
            },
        ),
    ],
)
def test_issue_search(client, params, expected):
    assert set(titles(client, **params)) == expected


def test_search_defaults_and_sorting(client, sentry):
    # No query means is:unresolved; no statsPeriod means the last 14 days.
    fresh = httpx.post(
        f"{sentry.url}/api/2/store/?sentry_key=294d8a50d4c5c8a353a8210b1ccc071f",
        json={"message": "seen just now", "level": "error"},
    )
    assert fresh.status_code == 200
    default = client.get("/organizations/acme/issues/").json()
    assert "seen just now" in [i["title"] for i in default]
    assert all(i["status"] == "unresolved" for i in default)
    cutoff = time.time() - 14 * 86400
    assert all(iso_seconds(i["lastSeen"]) >= cutoff for i in default)
    assert "RemoteProtocolError" not in str(default)  # 2026-09-22 is out of the window
    by_freq = client.get("/organizations/acme/issues/", params={**ALL, "sort": "freq"}).json()
    counts = [int(i["count"]) for i in by_freq]
    assert counts == sorted(counts, reverse=True) and counts[0] == 5120
    by_new = client.get("/organizations/acme/issues/", params={**ALL, "sort": "new"}).json()
    assert by_new[0]["firstSeen"] >= by_new[-1]["firstSeen"]
    mine = client.get(
        "/organizations/acme/issues/", params={"query": "assigned:me", "statsPeriod": "3650d"}
    )
    assert mine.json() == []
    projects = client.get("/projects/acme/acme-ingress/issues/").json()
    assert {i["project"]["slug"] for i in projects} == {"acme-ingress"}


def test_events_tags_and_activity(client):
    issue = titles_to_issue(client, "ReadTimeout: timed out", project="6")
    events = client.get(f"/organizations/acme/issues/{issue['id']}/events/").json()
    assert len(events) == 4 and all(ISO_Z.match(e["dateCreated"]) for e in events)
    assert [e["dateCreated"] for e in events] == sorted(
        (e["dateCreated"] for e in events), reverse=True
    )
    full = client.get(
        f"/organizations/acme/issues/{issue['id']}/events/", params={"full": "true"}
    ).json()
    for event in full:
        check_event(event)
    oldest = client.get(f"/organizations/acme/issues/{issue['id']}/events/oldest/").json()
    assert oldest["id"] == events[-1]["id"] and oldest["previousEventID"] is None
    one = client.get(f"/projects/acme/acme-ingress/events/{events[0]['id']}/").json()
    assert one["groupID"] == issue["id"] and one["nextEventID"] is None
    values = client.get(f"/organizations/acme/issues/{issue['id']}/tags/release/values/").json()
    assert [(v["value"], v["count"]) for v in values] == [("6456e01", 4)]
    tag = client.get(f"/organizations/acme/issues/{issue['id']}/tags/upstream/").json()
    assert tag["topValues"][0]["value"] == "api" and tag["totalValues"] == 4
    activity = client.get(f"/organizations/acme/issues/{issue['id']}/activities/").json()[
        "activity"
    ]
    assert [a["type"] for a in activity] == ["note", "set_resolved", "assigned", "first_seen"]
    assert activity[1]["user"]["email"] == "aisha.bello@acme.dev"


def titles_to_issue(client, title: str, project: str) -> dict:
    issues = client.get("/organizations/acme/issues/", params={**ALL, "project": project}).json()
    return next(i for i in issues if i["title"] == title)


def test_assign_ignore_bookmark_and_bulk(client, sentry):
    issue = titles_to_issue(client, "KeyError: 'receipts/ord_0048131.pdf'", project="4")
    url = f"/organizations/acme/issues/{issue['id']}/"
    assigned = client.put(url, json={"assignedTo": "user:5"}).json()
    assert assigned["assignedTo"]["type"] == "user" and assigned["assignedTo"]["id"] == "5"
    by_team = client.put(url, json={"assignedTo": "team:data"}).json()
    assert by_team["assignedTo"] == {
        "type": "team",
        "id": by_team["assignedTo"]["id"],
        "name": "data",
    }
    assert client.put(url, json={"assignedTo": "nobody@nowhere"}).status_code == 400
    ignored = client.put(url, json={"status": "ignored", "ignoreDuration": 30}).json()
    assert ignored["status"] == "ignored" and ignored["substatus"] == "archived_until_condition_met"
    assert ISO_Z.match(ignored["statusDetails"]["ignoreUntil"])
    bookmarked = client.put(url, json={"isBookmarked": True, "hasSeen": True}).json()
    assert bookmarked["isBookmarked"] and bookmarked["hasSeen"]
    with web(sentry, token=MAYA_TOKEN) as maya:
        assert maya.get(url).json()["isBookmarked"] is False  # bookmarks are per person
    marked = client.get(
        "/organizations/acme/issues/", params={"query": "bookmarks:me", "statsPeriod": "3650d"}
    )
    assert [i["id"] for i in marked.json()] == [issue["id"]]

    other = titles_to_issue(
        client, "JSONDecodeError: Expecting value: line 1 column 1 (char 0)", project="3"
    )
    bulk = client.put(
        "/organizations/acme/issues/",
        params={"id": [issue["id"], other["id"]]},
        json={"status": "resolvedInNextRelease"},
    )
    assert bulk.status_code == 200 and bulk.json()["status"] == "resolved"
    assert bulk.json()["statusDetails"]["inNextRelease"] is True
    for ref in (issue["id"], other["id"]):
        assert client.get(f"/issues/{ref}/").json()["status"] == "resolved"
    with sentry.admin() as admin:
        changes = admin.get("/_admin/events", params={"kind": "issue.assigned"}).json()["events"]
    assert changes[-1]["payload"]["to"] == "team:data" and changes[-1]["actor"] == "agent"


def test_notes_alias_duplicates_and_authorship(client, sentry):
    issue = titles_to_issue(client, "ValueError: page_size must be between 1 and 100", project="2")
    base = f"/organizations/acme/issues/{issue['id']}"
    first = client.post(f"{base}/comments/", json={"text": "Looking at it."})
    assert first.status_code == 201
    again = client.post(f"{base}/notes/", json={"text": "Looking at it."})
    assert again.status_code == 400 and again.json() == {
        "detail": "You have already posted that comment."
    }
    assert client.post(f"{base}/notes/", json={"text": "  "}).status_code == 400
    notes = client.get(f"{base}/notes/").json()
    assert [n["data"]["text"] for n in notes] == ["Looking at it."]
    note_id = notes[0]["id"]
    with web(sentry, token=MAYA_TOKEN) as maya:
        assert maya.put(f"{base}/notes/{note_id}/", json={"text": "hijack"}).status_code == 404
    edited = client.put(f"{base}/notes/{note_id}/", json={"text": "Fix in review."})
    assert edited.json()["data"]["text"] == "Fix in review."
    assert client.delete(f"{base}/notes/{note_id}/").status_code == 204
    assert client.get(f"{base}/").json()["numComments"] == 0


def test_errors_speak_sentry(client, sentry):
    cases = [
        (client.get("/organizations/other/issues/"), 404),
        (client.get("/organizations/acme/issues/999999/"), 404),
        (client.get("/organizations/acme/issues/NOPE-1/"), 404),
        (client.get("/organizations/acme/issues/", params={"cursor": "bogus"}), 400),
        (client.get("/organizations/acme/issues/", params={"query": "is:sleeping"}), 400),
        (client.get("/organizations/acme/issues/", params={"project": "77"}), 403),
        (client.get("/organizations/acme/issues/", params={"sort": "random"}), 400),
        (client.put("/organizations/acme/issues/1/", json={"status": "done"}), 400),
        (client.put("/organizations/acme/issues/1/", content=b"[1]"), 400),
        (client.delete("/organizations/acme/issues/1/"), 405),
        (client.get("/nothing/here/"), 404),
    ]
    for response, status in cases:
        assert response.status_code == status, response.text
        assert set(response.json()) == {"detail"} and response.json()["detail"], response.text
    assert AGENT_TOKEN not in client.get("/auth/").text


def test_discover_events_and_issue_enrichment_endpoints(client):
    pool = next(
        i
        for i in client.get("/organizations/acme/issues/", params=ALL).json()
        if "QueuePool" in i["title"]
    )
    rows = client.get(
        "/organizations/acme/events/",
        params={
            "dataset": "errors",
            "field": ["issue", "title", "count()", "last_seen()"],
            "query": "level:error",
            "statsPeriod": "3650d",
            "sort": "-count()",
            "per_page": 5,
        },
    ).json()
    assert set(rows["meta"]["fields"]) == {"issue", "title", "count()", "last_seen()"}
    assert rows["data"][0]["count()"] >= rows["data"][-1]["count()"]
    by_issue = client.get(
        "/organizations/acme/events/",
        params={
            "dataset": "errors",
            "field": ["id", "issue", "release", "timestamp"],
            "query": f"issue:{pool['shortId']}",
            "statsPeriod": "3650d",
        },
    ).json()["data"]
    assert len(by_issue) == 6 and {r["release"] for r in by_issue} == {"2382476"}
    per_project = client.get(
        "/organizations/acme/events/",
        params={
            "field": ["project", "count()"],
            "query": "project:acme-web",
            "statsPeriod": "3650d",
        },
    ).json()["data"]
    assert [r["project"] for r in per_project] == ["acme-web"] and per_project[0]["count()"] > 0
    spans = client.get("/organizations/acme/events/", params={"dataset": "spans", "field": "id"})
    assert spans.status_code == 200 and spans.json()["data"] == []
    event_id = by_issue[0]["id"]
    found = client.get(
        "/organizations/acme/issues/", params={"query": event_id, "statsPeriod": "3650d"}
    )
    assert [i["id"] for i in found.json()] == [pool["id"]]
    in_issue = client.get(
        f"/organizations/acme/issues/{pool['id']}/events/",
        params={"query": "environment:production"},
    ).json()
    assert len(in_issue) == 6
    assert client.get(f"/organizations/acme/issues/{pool['shortId']}/external-issues/").json() == []
    assert client.get(f"/organizations/acme/issues/{pool['shortId']}/autofix/").json() == {
        "autofix": None
    }
    assert client.get(f"/organizations/acme/issues/{pool['shortId']}/user-reports/").json() == []
