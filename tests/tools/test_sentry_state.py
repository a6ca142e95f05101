"""Determinism of seeded state, readable fixture errors, and admin fixtures on top."""

from __future__ import annotations

import json

from tests.tools.conftest import db_dump, exports_of, launch, refused, running
from tests.tools.sentry_support import ACME_SENTRY, ACME_STATUSPAGE, web


def test_same_fixtures_and_seed_give_identical_state(tmp_path):
    services = [
        launch(tool, tmp_path / f"{tool}-{name}", [fixtures], seed=seed)
        for tool, fixtures in (("sentry", ACME_SENTRY), ("statuspage", ACME_STATUSPAGE))
        for name, seed in (("a", 7), ("b", 7), ("c", 8))
    ]
    sentry_a, sentry_b, sentry_c, page_a, page_b, page_c = exports_of(services)
    assert _tables_that_differ(sentry_a, sentry_b) == [] and sentry_a == sentry_b
    assert _tables_that_differ(page_a, page_b) == [] and page_a == page_b
    assert db_dump(tmp_path / "sentry-a" / "sentry.db") == db_dump(
        tmp_path / "sentry-b" / "sentry.db"
    )
    # The seed changes derived ids (event ids, component and incident ids), not the history.
    events_a = json.loads(sentry_a)["state"]["error_events"]
    events_c = json.loads(sentry_c)["state"]["error_events"]
    assert {e["event_id"] for e in events_a}.isdisjoint(e["event_id"] for e in events_c)
    assert [e["timestamp"] for e in events_a] == [e["timestamp"] for e in events_c]
    components_a = {c["name"]: c["id"] for c in json.loads(page_a)["state"]["components"]}
    components_c = {c["name"]: c["id"] for c in json.loads(page_c)["state"]["components"]}
    assert components_a.keys() == components_c.keys()
    assert set(components_a.values()).isdisjoint(components_c.values())


def _tables_that_differ(a: bytes, b: bytes) -> list[str]:
    """Names of the exported tables whose rows differ: a short failure message, not two blobs."""
    state_a, state_b = json.loads(a)["state"], json.loads(b)["state"]
    return sorted(t for t in state_a.keys() | state_b.keys() if state_a.get(t) != state_b.get(t))


def test_bad_fixtures_stop_the_service_with_a_readable_reason(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "organization: {slug: acme, name: Acme}\n"
        "projects: [{id: 2, slug: acme-api, team: no-such-team}]\n"
    )
    output = refused("sentry", tmp_path / "state", [broken])
    assert "cannot seed its state" in output and "unknown team 'no-such-team'" in output


def test_admin_fixtures_add_issues_that_group_like_live_ones(tmp_path):
    doc = {
        "issues": [
            {
                "key": "task-bug",
                "project": "acme-worker",
                "first_seen": "2026-11-20T08:00:00Z",
                "last_seen": "2026-11-20T09:00:00Z",
                "times_seen": 40,
                "status": "unresolved",
                "assigned_to": "mei.lin",
                "event": {
                    "exception": {
                        "values": [
                            {
                                "type": "ZeroDivisionError",
                                "value": "division by zero",
                                "stacktrace": {
                                    "frames": [
                                        {
                                            "module": "acme.worker.handlers",
                                            "function": "revenue_share",
                                            "in_app": True,
                                        }
                                    ]
                                },
                            }
                        ]
                    },
                },
            }
        ]
    }
    with running("sentry", tmp_path / "s", [ACME_SENTRY]) as service, service.admin() as admin:
        applied = admin.post("/_admin/fixtures", json=doc)
        assert applied.status_code == 200 and applied.json()["applied"]["issues"] == 1
        again = admin.post("/_admin/fixtures", json=doc)  # idempotent for the same key
        assert again.status_code == 200
        clash = dict(doc["issues"][0], key="task-bug-copy")
        refused = admin.post("/_admin/fixtures", json={"issues": [clash]})
        assert (
            refused.status_code == 400
            and "groups into issue 'task-bug'" in refused.json()["detail"]
        )
        with web(service) as client:
            found = client.get(
                "/organizations/acme/issues/",
                params={"query": "revenue_share", "statsPeriod": "3650d"},
            ).json()
            assert [(i["count"], i["assignedTo"]["name"]) for i in found] == [("40", "Mei Lin")]
