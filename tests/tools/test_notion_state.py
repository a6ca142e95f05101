"""Seeded state is deterministic, mutations leave foundation events graders can read, and
fixtures (files or posted by a task) are validated with readable errors."""

from __future__ import annotations

import json

import httpx
import pytest
from notion_client import APIResponseError

from environments.tools.common import FixtureError, Store, parse_fixture_text
from environments.tools.notion.fixtures import apply_document
from environments.tools.notion.schema import SCHEMA
from tests.tools.conftest import REPO, db_dump, exports_of, launch, refused
from tests.tools.notion_support import ACME_NOTION, client, find_page, notion_service, title

COMPANY = REPO / "environments" / "acme" / "seed" / "company.yaml"


def test_same_fixtures_and_seed_give_identical_state(tmp_path):
    export_a, export_b, export_c = exports_of(
        [
            launch("notion", tmp_path / name, [ACME_NOTION], seed=seed)
            for name, seed in (("a", 3), ("b", 3), ("c", 4))
        ]
    )
    assert export_a == export_b
    assert db_dump(tmp_path / "a" / "notion.db") == db_dump(tmp_path / "b" / "notion.db")
    state_a, state_c = json.loads(export_a)["state"], json.loads(export_c)["state"]
    ids_a = {n["key"]: n["id"] for n in state_a["nodes"] if n["key"]}
    ids_c = {n["key"]: n["id"] for n in state_c["nodes"] if n["key"]}
    assert ids_a.keys() == ids_c.keys() and set(ids_a.values()).isdisjoint(ids_c.values())
    assert (
        len(ids_a) >= 30 and {"engineering", "incidents", "rfcs", "pm-2026-10-14"} <= ids_a.keys()
    )
    # The seed changes ids, never content or times.
    assert sorted((n["plain"], n["created_time"]) for n in state_a["nodes"]) == sorted(
        (n["plain"], n["created_time"]) for n in state_c["nodes"]
    )
    assert len(state_a["comments"]) == 6 and len(state_a["users"]) == 26


def events(service, after: int = 0) -> list[dict]:
    with service.admin() as admin:
        return admin.get("/_admin/events", params={"after_id": after}).json()["events"]


def test_every_mutation_writes_an_event(tmp_path):
    with notion_service(tmp_path / "state") as service:
        notion = client(service)
        me = notion.users.me()["id"]
        assert events(service) == []
        runbooks = find_page(notion, "Runbooks")
        notion.blocks.children.list(runbooks["id"])
        assert events(service) == []  # reads write nothing
        page = notion.pages.create(
            parent={"page_id": runbooks["id"]},
            properties={"title": [{"text": {"content": "Runbook: Disk almost full"}}]},
            children=[{"paragraph": {"rich_text": [{"text": {"content": "Check df -h."}}]}}],
        )
        notion.pages.update(page["id"], icon={"emoji": "💾"})
        added = notion.blocks.children.append(
            page["id"], children=[{"to_do": {"rich_text": [{"text": {"content": "clean /var"}}]}}]
        )["results"][0]
        notion.blocks.update(added["id"], to_do={"checked": True})
        notion.blocks.delete(added["id"])
        notion.comments.create(
            parent={"page_id": page["id"]}, rich_text=[{"text": {"content": "LGTM"}}]
        )
        incident = find_page(notion, "2026-09-22 ingress 502s")
        notion.pages.update(incident["id"], properties={"Status": {"status": {"name": "Resolved"}}})

        log = events(service)
        assert [e["kind"] for e in log] == [
            "page.created",
            "page.updated",
            "blocks.appended",
            "block.updated",
            "block.deleted",
            "comment.created",
            "page.updated",
        ]
        assert {e["actor"] for e in log} == {me}
        assert {e["payload"]["by"] for e in log} == {"bot:agent"}
        created, _, appended, updated, deleted, comment, status = (e["payload"] for e in log)
        assert created["title"] == "Runbook: Disk almost full" and created["text"] == "Check df -h."
        assert created["parent"] == {"type": "page_id", "page_id": runbooks["id"]}
        assert appended["page_id"] == page["id"] and appended["text"] == "clean /var"
        assert updated["block_id"] == added["id"] and updated["page_title"] == title(page)
        assert deleted["type"] == "to_do" and deleted["page_id"] == page["id"]
        assert comment["text"] == "LGTM" and comment["page_id"] == page["id"]
        assert status == {
            "by": "bot:agent",
            "page_id": incident["id"],
            "title": "2026-09-22 ingress 502s",
            "changed": {"Status": "Resolved"},
        }
        # A refused request leaves no event behind.
        with pytest.raises(APIResponseError):
            notion.pages.update(incident["id"], properties={"Status": {"status": {"name": "Nope"}}})
        assert len(events(service)) == len(log)


def test_fixtures_posted_by_a_task_apply_on_top(tmp_path):
    with notion_service(tmp_path / "state") as service:
        doc = {
            "pages": [
                {
                    "key": "task-notes",
                    "parent": "runbooks",
                    "title": "Runbook: Search rate limits",
                    "created": "2026-11-20T09:00:00Z",
                    "created_by": "jordan.reyes",
                    "body": "Limits live in **api**. Ask <@jordan.reyes>; see <page:api-versioning>.",
                }
            ],
        }
        with service.admin() as admin:
            response = admin.post("/_admin/fixtures", json=doc)
            assert response.status_code == 200, response.text
            assert response.json()["applied"] == {"pages": 1, "blocks": 1}
            again = admin.post("/_admin/fixtures", json=doc)
            assert again.status_code == 400 and "used twice" in again.json()["detail"]
        notion = client(service)
        page = find_page(notion, "Runbook: Search rate limits")
        assert page["created_time"] == "2026-11-20T09:00:00.000Z"
        paragraph = notion.blocks.children.list(page["id"])["results"][0]["paragraph"]
        kinds = [(r["type"], r["plain_text"]) for r in paragraph["rich_text"]]
        assert ("mention", "@Jordan Reyes") in kinds and (
            "mention",
            "API versioning policy",
        ) in kinds
        assert paragraph["rich_text"][1]["annotations"]["bold"] is True


def test_bad_fixtures_are_refused_with_a_reason(tmp_path):
    company = f"company: {COMPANY}\n"
    cases = {
        company
        + "pages:\n  - {key: a, title: A, created_by: nobody.here}\n": "unknown user 'nobody.here'",
        "pages:\n  - {key: a, title: A}\n": "pages need an author",
        "integrations:\n  - {key: bot, name: Bot, tokens: [xoxb-123]}\n": "must look like ntn_",
        company + "databases:\n  - {key: d, title: D, parent: engineering, "
        "properties: [{name: N, type: title}]}\n": "unknown page 'engineering'",
        company + "pages:\n  - key: p\n    title: P\n    databases:\n"
        "      - key: d\n        title: D\n        properties: [{name: N, type: title}, "
        "{name: S, type: select, options: [a]}]\n        rows: [{key: r, title: R, "
        "properties: {S: b}}]\n": "'b' is not an option of S",
        company + "pages:\n  - {key: p, title: P, body: missing.md}\n": "cannot read",
        company
        + "pages:\n  - {key: p, title: P, body: 'see <@no.one>'}\n": "unknown user 'no.one'",
        "pages: 7\n": "pages",
    }
    for i, (text, needle) in enumerate(cases.items()):
        store = Store(tmp_path / f"case-{i}.db", SCHEMA)
        try:
            with pytest.raises(FixtureError) as err, store.write() as db:
                apply_document(db, parse_fixture_text(text), seed=0, origin=tmp_path / "x.yaml")
            assert needle in str(err.value)
            with store.read() as db:  # nothing half-applied is kept
                assert db.execute("SELECT COUNT(*) FROM users").fetchone()[0] == 0
        finally:
            store.close()
    # As a process: exit status 2 and the reason, no traceback.
    path = tmp_path / "broken.yaml"
    path.write_text(next(iter(cases)))
    output = refused("notion", tmp_path / "process", [path])
    assert "cannot seed its state" in output and "unknown user 'nobody.here'" in output


def test_admin_api_needs_the_token(tmp_path):
    with notion_service(tmp_path / "state") as service:
        assert httpx.get(service.url + "/_admin/export").status_code == 401
        exported = json.loads(service.export())
        assert exported["tool"] == "notion" and set(exported["state"]) >= {"nodes", "users"}
