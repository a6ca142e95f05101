"""State: deterministic seeding, restarts, fixtures posted by tasks, the export graders read."""

from __future__ import annotations

import json

import httpx

from tests.tools.conftest import db_dump, exports_of, launch, refused
from tests.tools.linear_support import ACME_LINEAR, AGENT_KEY, Linear, launch_linear


def test_same_fixtures_and_seed_give_identical_state(tmp_path):
    export_a, export_b, export_c = exports_of(
        [
            launch("linear", tmp_path / name, [ACME_LINEAR], seed=seed)
            for name, seed in (("a", 3), ("b", 3), ("c", 4))
        ]
    )
    assert export_a == export_b
    assert db_dump(tmp_path / "a" / "linear.db") == db_dump(tmp_path / "b" / "linear.db")

    state_a, state_c = json.loads(export_a)["state"], json.loads(export_c)["state"]
    issues_a = {i["identifier"]: i for i in state_a["issues"]}
    issues_c = {i["identifier"]: i for i in state_c["issues"]}
    assert len(issues_a) == 230 and issues_a.keys() == issues_c.keys()
    # Another seed, other ids; the same history.
    assert {i["id"] for i in issues_a.values()}.isdisjoint(i["id"] for i in issues_c.values())
    for key in ("ENG-1", "INFRA-97", "PAY-231", "DATA-70"):
        assert issues_a[key]["title"] == issues_c[key]["title"]
        assert issues_a[key]["created_at"] == issues_c[key]["created_at"]
    eng1 = issues_a["ENG-1"]
    assert eng1["created_at"] == "2025-03-04T15:00:00.000Z"
    assert eng1["completed_at"] == "2025-03-06T18:20:00.000Z"
    assert state_a["last_sync_id"] == 1_000_000


def test_restart_keeps_state_and_admin_fixtures_add_to_it(tmp_path):
    state_dir = tmp_path / "state"
    with launch_linear(state_dir) as service:
        # The agent's key is not an admin token.
        export = httpx.get(
            f"{service.url}/_admin/export", headers={"Authorization": f"Bearer {AGENT_KEY}"}
        )
        assert export.status_code == 403
        api = Linear(service)
        try:
            api.data(
                'mutation { commentCreate(input: {issueId: "ENG-1", body: "still here?"}) '
                "{ success } }"
            )
        finally:
            api.close()
        with service.admin() as admin:
            applied = admin.post(
                "/_admin/fixtures",
                content=(
                    "issues:\n"
                    "  ENG:\n"
                    "    - {number: 141, state: In Progress, assignee: bot:agent,\n"
                    "       comments: [{user: hannah.schmidt, body: 'all yours', at: 2026-11-20T10:00:00Z}]}\n"
                    "    - {title: Task fixture issue, state: Todo, priority: urgent,\n"
                    "       labels: [incident], created: 2026-11-20T11:00:00Z}\n"
                ),
                headers={"Content-Type": "application/yaml"},
            )
            assert applied.status_code == 200, applied.text
            assert applied.json()["applied"]["issues"] == 2
            refused = admin.post(
                "/_admin/fixtures", json={"issues": {"ENG": [{"number": 1, "state": "Nope"}]}}
            )
            assert refused.status_code == 400 and "Nope" in refused.json()["detail"]
    with launch_linear(state_dir, fixtures=[]) as again:
        api = Linear(again)
        try:
            data = api.data(
                """{ a: issue(id: "ENG-1") { comments { nodes { body } } }
                     b: issue(id: "ENG-141") { title state { name } assignee { app }
                                               comments { nodes { body user { name } } } }
                     c: issue(id: "ENG-150") { title state { name } priorityLabel
                                               labels { nodes { name } } } }"""
            )
        finally:
            api.close()
    assert data["a"]["comments"]["nodes"] == [{"body": "still here?"}]
    b = data["b"]
    assert b["title"] == "Remove the pdp_gallery_v2 flag and the old gallery"  # kept
    assert b["state"] == {"name": "In Progress"} and b["assignee"] == {"app": True}
    assert b["comments"]["nodes"] == [{"body": "all yours", "user": {"name": "Hannah Schmidt"}}]
    assert data["c"] == {
        "title": "Task fixture issue",
        "state": {"name": "Todo"},
        "priorityLabel": "Urgent",
        "labels": {"nodes": [{"name": "incident"}]},
    }


def test_bad_fixtures_stop_the_service_with_a_readable_reason(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "organization: {name: X, url_key: x}\n"
        "teams: [{key: ENG}]\n"
        "issues:\n  ENG:\n    - {title: t, created: 2026-01-01, assignee: nobody.here}\n"
    )
    output = refused("linear", tmp_path / "state", [broken])
    assert "cannot seed its state" in output and "unknown user 'nobody.here'" in output
