"""Mutations change what later queries see and leave events graders can read."""

from __future__ import annotations

import pytest

from tests.tools.linear_support import EMILY_TOKEN, Linear, service_fixture

linear = service_fixture("linear-mutations")

CREATE = """mutation ($input: IssueCreateInput!) {
  issueCreate(input: $input) {
    success lastSyncId
    issue { id identifier number title description priority priorityLabel estimate dueDate
            state { name type } assignee { email } creator { email app } labels { nodes { name } }
            project { name } cycle { number } parent { identifier } startedAt completedAt url }
  }
}"""
UPDATE = """mutation ($id: String!, $input: IssueUpdateInput!) {
  issueUpdate(id: $id, input: $input) {
    success lastSyncId
    issue { identifier title state { name type } assignee { email } startedAt completedAt
            canceledAt labels { nodes { name } } team { key } previousIdentifiers cycle { number }
            updatedAt }
  }
}"""


@pytest.fixture(scope="module")
def api(linear):
    client = Linear(linear)
    yield client
    client.close()


@pytest.fixture(scope="module")
def ids(api):
    return api.ids()


def events(service, after_id: int = 0) -> list[dict]:
    with service.admin() as admin:
        response = admin.get("/_admin/events", params={"after_id": after_id})
    response.raise_for_status()
    return response.json()["events"]


def last_event_id(service) -> int:
    found = events(service)
    return found[-1]["id"] if found else 0


def test_issue_create_then_move_through_the_workflow(linear, api, ids):
    mark = last_event_id(linear)
    created = api.data(
        CREATE,
        {
            "input": {
                "teamId": ids["team"]["ENG"],
                "title": "  Per-token limits: return Retry-After on 429  ",
                "description": "Follow-up of ENG-147.\n\n- header on every 429",
                "priority": 2,
                "estimate": 2,
                "dueDate": "2026-11-24",
                "assigneeId": ids["user"]["jordan.reyes"],
                "labelIds": [ids["label"][(None, "api")], ids["label"][("ENG", "flaky-test")]],
                "projectId": ids["project"]["Search v2"],
                "cycleId": ids["cycle"][("ENG", 44)],
                "parentId": "ENG-147",
            }
        },
    )["issueCreate"]
    assert created["success"] is True and created["lastSyncId"] > 1_000_000
    issue = created["issue"]
    assert issue["identifier"] == "ENG-150" and issue["number"] == 150
    assert issue["title"] == "Per-token limits: return Retry-After on 429"
    assert issue["state"] == {"name": "Backlog", "type": "backlog"}  # the team's default
    assert (issue["priority"], issue["priorityLabel"], issue["estimate"]) == (2, "High", 2)
    assert issue["dueDate"] == "2026-11-24"
    assert issue["assignee"] == {"email": "jordan.reyes@acme.dev"}
    assert issue["creator"] == {"email": "agent@acme.dev", "app": True}
    assert {n["name"] for n in issue["labels"]["nodes"]} == {"api", "flaky-test"}
    assert issue["project"] == {"name": "Search v2"} and issue["cycle"] == {"number": 44}
    assert issue["parent"] == {"identifier": "ENG-147"}
    assert issue["startedAt"] is None and issue["completedAt"] is None
    assert issue["url"] == (
        "https://linear.app/acme/issue/ENG-150/per-token-limits-return-retry-after-on-429"
    )

    moved = api.data(
        UPDATE,
        {"id": "ENG-150", "input": {"stateId": ids["state"][("ENG", "In Progress")]}},
    )["issueUpdate"]
    assert moved["lastSyncId"] > created["lastSyncId"]
    assert moved["issue"]["state"] == {"name": "In Progress", "type": "started"}
    assert moved["issue"]["startedAt"] is not None and moved["issue"]["completedAt"] is None

    done = api.data(
        UPDATE, {"id": issue["id"], "input": {"stateId": ids["state"][("ENG", "Done")]}}
    )["issueUpdate"]["issue"]
    assert done["state"]["type"] == "completed" and done["completedAt"] is not None
    assert done["startedAt"] == moved["issue"]["startedAt"]

    # Later queries see it: by filter, in the parent's children, in search.
    found = api.data(
        """{ issues(filter: {team: {key: {eq: "ENG"}}, state: {type: {eq: "completed"}}},
                   first: 1) { nodes { identifier } }
             issue(id: "ENG-147") { children { nodes { identifier } } }
             searchIssues(term: "Retry-After on 429") { nodes { identifier } } }"""
    )
    assert found["issues"]["nodes"] == [{"identifier": "ENG-150"}]
    assert found["issue"]["children"]["nodes"] == [{"identifier": "ENG-150"}]
    assert found["searchIssues"]["nodes"][0] == {"identifier": "ENG-150"}

    kinds = [(e["kind"], e["object_id"], e["actor"]) for e in events(linear, mark)]
    assert kinds == [
        ("issue.created", "ENG-150", "bot:agent"),
        ("issue.updated", "ENG-150", "bot:agent"),
        ("issue.updated", "ENG-150", "bot:agent"),
    ]
    moved_event = events(linear, mark)[1]["payload"]
    assert moved_event["changes"]["state"] == {
        "from": "Backlog",
        "to": "In Progress",
        "from_type": "backlog",
        "to_type": "started",
    }
    assert moved_event["identifier"] == "ENG-150" and moved_event["state"] == "In Progress"


def test_update_assignee_labels_and_unassign(linear, api, ids):
    mark = last_event_id(linear)
    security = ids["label"][(None, "security")]
    bug = ids["label"][(None, "bug")]
    first = api.data(
        UPDATE,
        {
            "id": "eng-145",
            "input": {"assigneeId": ids["user"]["hannah.schmidt"], "addedLabelIds": [security]},
        },
    )["issueUpdate"]["issue"]
    assert first["assignee"] == {"email": "hannah.schmidt@acme.dev"}
    assert {n["name"] for n in first["labels"]["nodes"]} == {"web", "improvement", "security"}
    second = api.data(
        UPDATE,
        {"id": "ENG-145", "input": {"assigneeId": None, "removedLabelIds": [security, bug]}},
    )["issueUpdate"]["issue"]
    assert second["assignee"] is None
    assert {n["name"] for n in second["labels"]["nodes"]} == {"web", "improvement"}
    replaced = api.data(UPDATE, {"id": "ENG-145", "input": {"labelIds": [bug]}})["issueUpdate"][
        "issue"
    ]
    assert [n["name"] for n in replaced["labels"]["nodes"]] == ["bug"]
    changes = [e["payload"]["changes"] for e in events(linear, mark)]
    assert changes[0]["assignee"] == {"from": None, "to": "hannah.schmidt"}
    assert changes[0]["labels"] == {
        "from": ["improvement", "web"],
        "to": ["improvement", "security", "web"],
    }
    assert changes[1]["assignee"] == {"from": "hannah.schmidt", "to": None}
    assert changes[2]["labels"]["to"] == ["bug"]


def test_comment_create_and_reply(linear, api):
    mark = last_event_id(linear)
    made = api.data(
        """mutation ($input: CommentCreateInput!) {
             commentCreate(input: $input) {
               success lastSyncId comment { id body user { email } issue { identifier } url }
             }
           }""",
        {
            "input": {
                "issueId": "INFRA-97",
                "body": "Taking this: synthetic load step in the deployer.",
            }
        },
    )["commentCreate"]
    comment = made["comment"]
    assert made["success"] and comment["user"] == {"email": "agent@acme.dev"}
    assert comment["issue"] == {"identifier": "INFRA-97"}
    assert comment["url"].endswith(f"#comment-{comment['id'][:8]}")
    reply = api.data(
        """mutation ($input: CommentCreateInput!) {
             commentCreate(input: $input) { comment { parent { id } } } }""",
        {"input": {"issueId": "INFRA-97", "body": "PR is up.", "parentId": comment["id"]}},
    )["commentCreate"]["comment"]
    assert reply["parent"] == {"id": comment["id"]}
    thread = api.data(
        """{ issue(id: "INFRA-97") { comments(orderBy: createdAt) {
               nodes { body user { name } children { nodes { body } } } } } }"""
    )["issue"]["comments"]["nodes"]
    bodies = [c["body"] for c in thread]
    assert bodies[:2] == ["PR is up.", "Taking this: synthetic load step in the deployer."]
    assert thread[1]["children"]["nodes"] == [{"body": "PR is up."}]
    logged = events(linear, mark)
    assert [e["kind"] for e in logged] == ["comment.created", "comment.created"]
    assert logged[0]["object_id"] == "INFRA-97"
    assert logged[0]["payload"]["body"] == "Taking this: synthetic load step in the deployer."


def test_label_create_and_use(linear, api, ids):
    made = api.data(
        """mutation ($input: IssueLabelCreateInput!) {
             issueLabelCreate(input: $input) { success issueLabel { id name color team { key } } } }""",
        {"input": {"name": "bfcm", "color": "#ff8800", "teamId": ids["team"]["PAY"]}},
    )["issueLabelCreate"]
    label = made["issueLabel"]
    assert made["success"] and label["name"] == "bfcm" and label["color"] == "#FF8800"
    assert label["team"] == {"key": "PAY"}
    tagged = api.data(
        'mutation ($l: String!) { issueAddLabel(id: "PAY-223", labelId: $l) { success } }',
        {"l": label["id"]},
    )
    assert tagged["issueAddLabel"]["success"]
    listed = api.data('{ issues(filter: {labels: {name: {eq: "bfcm"}}}) { nodes { identifier } } }')
    assert listed["issues"]["nodes"] == [{"identifier": "PAY-223"}]
    duplicate = api.errors(
        'mutation ($t: String!) { issueLabelCreate(input: {name: "BFCM", teamId: $t}) '
        "{ success } }",
        {"t": ids["team"]["PAY"]},
    )[0]
    assert duplicate["message"] == "Duplicate label name"
    other_team = api.errors(UPDATE, {"id": "ENG-1", "input": {"addedLabelIds": [label["id"]]}})[0]
    assert "belongs to another team" in other_team["extensions"]["userPresentableMessage"]
    assert [e["kind"] for e in events(linear)][-2:] == ["label.created", "issue.updated"]


def test_move_issue_to_another_team_keeps_the_old_identifier_working(api, ids):
    moved = api.data(UPDATE, {"id": "DATA-69", "input": {"teamId": ids["team"]["ENG"]}})
    issue = moved["issueUpdate"]["issue"]
    assert issue["team"] == {"key": "ENG"} and issue["identifier"].startswith("ENG-")
    assert issue["previousIdentifiers"] == ["DATA-69"]
    assert issue["state"] == {"name": "Backlog", "type": "backlog"}  # same state name there
    again = api.data('{ issue(id: "DATA-69") { identifier } }')["issue"]
    assert again["identifier"] == issue["identifier"]


def test_archive_hides_an_issue_from_lists_but_not_lookups(api):
    archived = api.data(
        'mutation { issueArchive(id: "ENG-146") { success entity { archivedAt } } }'
    )
    assert archived["issueArchive"]["success"] and archived["issueArchive"]["entity"]["archivedAt"]
    query = """query ($a: Boolean) { issues(filter: {team: {key: {eq: "ENG"}}, number: {eq: 146}},
                                           includeArchived: $a) { nodes { identifier } } }"""
    assert api.data(query, {"a": False})["issues"]["nodes"] == []
    assert api.data(query, {"a": True})["issues"]["nodes"] == [{"identifier": "ENG-146"}]
    assert api.data('{ issue(id: "ENG-146") { identifier } }')["issue"] == {"identifier": "ENG-146"}


def test_mutation_validation_errors_change_nothing(linear, api, ids):
    mark = last_event_id(linear)
    cases = [
        ({"teamId": "ENG", "title": "x"}, "teamId must be a UUID"),
        ({"teamId": ids["team"]["ENG"], "title": "   "}, "title must not be empty"),
        ({"teamId": ids["team"]["ENG"], "title": "x", "priority": 7}, "priority must be one of"),
        (
            {"teamId": ids["team"]["ENG"], "title": "x", "stateId": ids["state"][("PAY", "Todo")]},
            "belongs to another team",
        ),
        (
            {
                "teamId": ids["team"]["ENG"],
                "title": "x",
                "cycleId": "00000000-0000-4000-8000-000000000000",
            },
            "Could not find referenced Cycle.",
        ),
    ]
    for input_, message in cases:
        response = api.post(CREATE, {"input": input_})
        body = response.json()
        assert response.status_code == 400 and body["data"] is None, body
        error = body["errors"][0]
        assert error["path"] == ["issueCreate"] and error["extensions"]["type"] == "invalid input"
        assert message in error["extensions"]["userPresentableMessage"], error
    parent_loop = api.errors(UPDATE, {"id": "ENG-105", "input": {"parentId": "ENG-107"}})[0]
    assert "own parent" in parent_loop["extensions"]["userPresentableMessage"]
    missing = api.post(UPDATE, {"id": "ENG-9999", "input": {"title": "x"}}).json()["errors"][0]
    assert missing["message"] == "Entity not found: Issue"
    assert events(linear, mark) == []


def test_two_mutations_in_one_document_run_in_order(api, ids):
    data = api.data(
        """mutation {
             a: commentCreate(input: {issueId: "DATA-70", body: "first"}) { comment { body } }
             b: issueUpdate(id: "DATA-70", input: {title: "Marketing sends get their own queue"}) {
               issue { title comments { nodes { body } } } }
           }"""
    )
    assert data["a"]["comment"]["body"] == "first"
    assert data["b"]["issue"]["title"] == "Marketing sends get their own queue"
    assert data["b"]["issue"]["comments"]["nodes"][0]["body"] == "first"


def test_a_failed_mutation_does_not_undo_the_one_before_it(linear, api):
    response = api.post(
        """mutation {
             ok: commentCreate(input: {issueId: "DATA-68", body: "kept"}) { success }
             bad: commentCreate(input: {issueId: "DATA-9999", body: "lost"}) { success }
           }"""
    )
    body = response.json()
    # Both payloads are non-null in Linear's schema, so one error nulls all of `data`...
    assert response.status_code == 400 and body["data"] is None
    assert body["errors"][0]["path"] == ["bad"]
    # ...but mutations run one after the other and the first one happened.
    comments = api.data('{ issue(id: "DATA-68") { comments { nodes { body } } } }')
    assert comments["issue"]["comments"]["nodes"] == [{"body": "kept"}]


def test_people_act_as_themselves_and_edit_only_their_comments(linear, api):
    emily = Linear(linear, EMILY_TOKEN)
    try:
        made = emily.data(
            'mutation { commentCreate(input: {issueId: "PAY-215", body: "merged"}) '
            "{ comment { id user { email } } } }"
        )["commentCreate"]["comment"]
        assert made["user"] == {"email": "emily.zhang@acme.dev"}
        edited = emily.data(
            'mutation ($id: String!) { commentUpdate(id: $id, input: {body: "merged and deployed"}) '
            "{ comment { body editedAt } } }",
            {"id": made["id"]},
        )["commentUpdate"]["comment"]
        assert edited["body"] == "merged and deployed" and edited["editedAt"]
    finally:
        emily.close()
    forbidden = api.errors(
        'mutation ($id: String!) { commentUpdate(id: $id, input: {body: "hijack"}) { success } }',
        {"id": made["id"]},
    )[0]
    assert forbidden["extensions"]["type"] == "forbidden"
    assert events(linear)[-1]["actor"] == "emily.zhang"
