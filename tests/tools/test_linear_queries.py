"""Queries against Acme's seeded workspace: lookups, every kind of filter, pagination, search."""

from __future__ import annotations

import pytest

from tests.tools.linear_support import Linear, service_fixture

linear = service_fixture("linear-queries")


@pytest.fixture(scope="module")
def api(linear):
    client = Linear(linear)
    yield client
    client.close()


def identifiers(api: Linear, filter_: dict, first: int = 250, **extra) -> list[str]:
    data = api.data(
        """query ($filter: IssueFilter, $first: Int, $archived: Boolean) {
             issues(filter: $filter, first: $first, includeArchived: $archived) {
               nodes { identifier } pageInfo { hasNextPage }
             }
           }""",
        {"filter": filter_, "first": first, "archived": extra.get("archived")},
    )
    assert not data["issues"]["pageInfo"]["hasNextPage"], "raise first for this filter"
    return [n["identifier"] for n in data["issues"]["nodes"]]


# -- lookups ------------------------------------------------------------------------------


def test_issue_by_identifier_any_case_and_by_uuid(api):
    by_key = api.data('{ issue(id: "infra-97") { id identifier number title url branchName } }')
    issue = by_key["issue"]
    assert issue["identifier"] == "INFRA-97" and issue["number"] == 97
    assert issue["title"].startswith("The canary at 10% must run through a traffic peak")
    assert issue["url"] == (
        "https://linear.app/acme/issue/INFRA-97/"
        "the-canary-at-10-must-run-through-a-traffic-peak-or-a"
    )
    assert issue["branchName"].startswith("tomasz/infra-97-the-canary-at-10")
    by_id = api.data("query ($id: String!) { issue(id: $id) { identifier } }", {"id": issue["id"]})
    assert by_id["issue"]["identifier"] == "INFRA-97"


def test_nested_fields_of_an_issue(api):
    issue = api.data(
        """{ issue(id: "ENG-107") {
              state { name type team { key } } team { key name }
              assignee { name displayName } creator { name }
              project { name state lead { name } } cycle { number isActive }
              parent { identifier title children { nodes { identifier } } }
              labels { nodes { name } } labelIds
              comments { nodes { body user { name } issue { identifier } } }
              estimate priority priorityLabel
        } }"""
    )["issue"]
    assert issue["state"] == {"name": "In Progress", "type": "started", "team": {"key": "ENG"}}
    assert issue["team"] == {"key": "ENG", "name": "Engineering"}
    assert issue["assignee"] == {"name": "Emily Zhang", "displayName": "emily"}
    assert issue["project"] == {
        "name": "Saved carts",
        "state": "started",
        "lead": {"name": "Jordan Reyes"},
    }
    assert issue["cycle"] == {"number": 43, "isActive": True}
    assert issue["parent"]["identifier"] == "ENG-105"
    siblings = {n["identifier"] for n in issue["parent"]["children"]["nodes"]}
    assert siblings == {f"ENG-{n}" for n in range(106, 112)}
    assert {n["name"] for n in issue["labels"]["nodes"]} == {"api", "feature"}
    assert len(issue["labelIds"]) == 2
    assert issue["comments"]["nodes"][0]["user"]["name"] == "Emily Zhang"
    assert issue["comments"]["nodes"][0]["issue"]["identifier"] == "ENG-107"
    assert (issue["estimate"], issue["priority"], issue["priorityLabel"]) == (5, 2, "High")


def test_teams_states_users_labels_projects_cycles_and_viewer(api):
    data = api.data(
        """{
          teams { nodes { key name } }
          team(id: "ENG") { key cyclesEnabled activeCycle { number } triageIssueState { name }
                            defaultIssueState { name } members(first: 100) { nodes { email } } }
          workflowStates(filter: {team: {key: {eq: "PAY"}}}) { nodes { name type position } }
          users(filter: {email: {endsWith: "@acme.dev"}}, first: 100) { nodes { email app } }
          issueLabels(filter: {team: {null: true}}, first: 100) { nodes { name } }
          projects(filter: {state: {eq: "started"}}) { nodes { name } }
          cycles(filter: {team: {key: {eq: "ENG"}}, isActive: {eq: true}}) { nodes { number } }
          organization { name urlKey userCount }
          viewer { email app }
        }"""
    )
    assert {t["key"] for t in data["teams"]["nodes"]} == {"ENG", "INFRA", "PAY", "DATA"}
    team = data["team"]
    assert team["activeCycle"] == {"number": 43} and team["triageIssueState"] == {"name": "Triage"}
    assert team["defaultIssueState"] == {"name": "Backlog"}
    assert "agent@acme.dev" in {m["email"] for m in team["members"]["nodes"]}
    states = {s["name"]: s["type"] for s in data["workflowStates"]["nodes"]}
    assert states == {
        "Triage": "triage",
        "Backlog": "backlog",
        "Todo": "unstarted",
        "In Progress": "started",
        "In Review": "started",
        "Done": "completed",
        "Canceled": "canceled",
        "Duplicate": "duplicate",
    }
    assert len(data["users"]["nodes"]) == 25  # 24 employees and the agent
    assert {"bug", "security", "api", "postmortem-action"} <= {
        n["name"] for n in data["issueLabels"]["nodes"]
    }
    assert "flaky-test" not in {n["name"] for n in data["issueLabels"]["nodes"]}
    assert "Checkout v2" in {p["name"] for p in data["projects"]["nodes"]}
    assert "Payments reliability" not in {p["name"] for p in data["projects"]["nodes"]}
    assert data["cycles"]["nodes"] == [{"number": 43}]
    assert data["organization"] == {"name": "Acme Commerce Inc.", "urlKey": "acme", "userCount": 24}
    assert data["viewer"] == {"email": "agent@acme.dev", "app": True}


def test_missing_entities_answer_linear_not_found(api):
    for field, entity in (("team", "Team"), ("user", "User"), ("project", "Project")):
        response = api.post(f'{{ {field}(id: "00000000-0000-4000-8000-000000000000") {{ id }} }}')
        body = response.json()
        assert response.status_code == 400 and body["data"] is None
        assert body["errors"][0]["message"] == f"Entity not found: {entity}"
        assert body["errors"][0]["path"] == [field]


# -- filters ------------------------------------------------------------------------------


def test_team_and_state_filters(api):
    started = identifiers(
        api, {"team": {"key": {"eq": "INFRA"}}, "state": {"type": {"eq": "started"}}}
    )
    assert started == ["INFRA-98", "INFRA-89"]
    by_name = identifiers(
        api, {"team": {"name": {"eq": "Payments"}}, "state": {"name": {"eq": "In Review"}}}
    )
    assert by_name == ["PAY-215"]
    by_id = api.ids()["team"]["DATA"]
    assert len(identifiers(api, {"team": {"id": {"eq": by_id}}})) == 17
    several = identifiers(
        api, {"team": {"key": {"in": ["DATA"]}}, "state": {"type": {"in": ["triage", "backlog"]}}}
    )
    assert several == ["DATA-71", "DATA-69", "DATA-64"]


def test_assignee_filters_including_is_me_and_null(api):
    mei = identifiers(
        api,
        {
            "assignee": {"email": {"eq": "mei.lin@acme.dev"}},
            "state": {"type": {"neq": "completed"}},
        },
    )
    assert mei == ["DATA-70", "DATA-68", "ENG-110"]
    unassigned_triage = identifiers(
        api, {"assignee": {"null": True}, "state": {"name": {"eq": "Triage"}}}
    )
    assert unassigned_triage == ["ENG-144", "ENG-142"]
    assert identifiers(api, {"assignee": {"isMe": {"eq": True}}}) == []
    by_name = identifiers(api, {"assignee": {"name": {"containsIgnoreCase": "ZOE"}}})
    assert by_name == ["PAY-232", "ENG-54"]


def test_label_filters_some_every_and_none(api):
    postmortem = identifiers(api, {"labels": {"name": {"eq": "postmortem-action"}}})
    assert {"INFRA-88", "INFRA-89", "INFRA-97", "PAY-214", "PAY-215", "PAY-216"} <= set(postmortem)
    both = identifiers(
        api,
        {
            "and": [
                {"labels": {"name": {"eq": "incident"}}},
                {"labels": {"name": {"eq": "payments"}}},
            ]
        },
    )
    assert both == ["PAY-217", "ENG-124"]
    flaky_only = identifiers(
        api, {"labels": {"every": {"name": {"eq": "flaky-test"}}, "null": False}}
    )
    assert flaky_only == ["ENG-94"]  # ENG-24 is also a bug
    some = identifiers(api, {"labels": {"some": {"name": {"in": ["flaky-test"]}}}})
    assert set(some) == {"ENG-123", "ENG-94", "ENG-81", "ENG-24"}
    unlabelled = identifiers(api, {"labels": {"null": True}})
    assert unlabelled == []


def test_string_comparators(api):
    def titles(comparator: dict) -> set[str]:
        return set(identifiers(api, {"team": {"key": {"eq": "ENG"}}, "title": comparator}))

    assert titles({"eq": "Wishlist"}) == {"ENG-93"}
    assert titles({"eq": "wishlist"}) == set()
    assert titles({"eqIgnoreCase": "WISHLIST"}) == {"ENG-93"}
    assert titles({"startsWith": "Saved carts:"}) == {f"ENG-{n}" for n in range(106, 112)}
    assert titles({"endsWith": "(incident 2026-09-22)"}) == {"ENG-114"}
    assert titles({"contains": "pdp_gallery_v2"}) == {"ENG-95", "ENG-122", "ENG-141"}
    assert titles({"containsIgnoreCase": "PDP_GALLERY_V2"}) == {"ENG-95", "ENG-122", "ENG-141"}
    assert titles({"in": ["Wishlist", "Gift cards"]}) == {"ENG-93", "ENG-50"}
    assert "ENG-93" not in titles({"neq": "Wishlist"})
    assert "ENG-93" not in titles({"nin": ["Wishlist"]})
    assert titles({"notStartsWith": "S", "startsWith": "Sa"}) == set()
    assert titles({"startsWithIgnoreCase": "saved CARTS"}) == {f"ENG-{n}" for n in range(105, 112)}
    assert titles({"containsIgnoreCaseAndAccent": "sofia"}) == set()
    described = identifiers(api, {"description": {"contains": "cart_saved_carts"}})
    assert set(described) == {"ENG-105", "ENG-107"}
    nothing = identifiers(
        api,
        {
            "description": {"null": True},
            "team": {"key": {"eq": "PAY"}},
            "state": {"name": {"eq": "Todo"}},
        },
    )
    assert nothing == ["PAY-234", "PAY-223"]


def test_number_priority_and_date_filters(api):
    assert identifiers(
        api, {"team": {"key": {"eq": "PAY"}}, "number": {"gte": 214, "lte": 216}}
    ) == [
        "PAY-216",
        "PAY-215",
        "PAY-214",
    ]
    urgent_open = identifiers(
        api,
        {"priority": {"eq": 1}, "state": {"type": {"nin": ["completed", "canceled", "duplicate"]}}},
    )
    assert set(urgent_open) == {"ENG-127", "INFRA-97", "INFRA-98", "PAY-215", "DATA-70"}
    assert "ENG-1" not in identifiers(api, {"priority": {"null": True}})
    window = identifiers(api, {"createdAt": {"gte": "2026-11-19T00:00:00Z", "lt": "2026-11-20"}})
    assert window == ["ENG-148", "ENG-147", "DATA-71", "PAY-236"]
    due = identifiers(api, {"dueDate": {"eq": "2026-11-23"}})
    assert set(due) == {"ENG-129", "INFRA-98"}
    completed_in_october = identifiers(
        api, {"team": {"key": {"eq": "DATA"}}, "completedAt": {"gte": "2026-10", "lt": "2026-11"}}
    )
    assert completed_in_october == ["DATA-66", "DATA-60", "DATA-59", "DATA-57"]
    assert identifiers(api, {"completedAt": {"gt": "P1D"}}) == []  # nothing completes tomorrow


def test_and_or_nesting_and_relations(api):
    either = identifiers(
        api,
        {
            "or": [
                {"number": {"eq": 97}, "team": {"key": {"eq": "INFRA"}}},
                {"title": {"startsWith": "Circuit breaker"}},
            ]
        },
    )
    assert either == ["PAY-231", "INFRA-97"]
    project_cycle = identifiers(
        api,
        {"project": {"name": {"eq": "Saved carts"}}, "cycle": {"number": {"eq": 43}}},
    )
    assert project_cycle == ["ENG-109", "ENG-107"]
    children = identifiers(api, {"parent": {"number": {"eq": 105}, "team": {"key": {"eq": "ENG"}}}})
    assert len(children) == 6
    no_project = identifiers(
        api,
        {
            "project": {"null": True},
            "team": {"key": {"eq": "DATA"}},
            "state": {"type": {"eq": "unstarted"}},
        },
    )
    assert no_project == ["DATA-68"]


# -- pagination ---------------------------------------------------------------------------


PAGE = """query ($first: Int, $after: String, $last: Int, $before: String, $order: PaginationOrderBy) {
  issues(first: $first, after: $after, last: $last, before: $before, orderBy: $order,
         filter: {team: {key: {eq: "ENG"}}}) {
    nodes { identifier createdAt updatedAt }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""


def test_forward_pagination_to_exhaustion(api):
    seen, after, pages = [], None, 0
    while True:
        page = api.data(PAGE, {"first": 40, "after": after})["issues"]
        seen += [n["identifier"] for n in page["nodes"]]
        pages += 1
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert pages == 4 and len(seen) == len(set(seen)) == 149
    assert seen[0] == "ENG-149" and seen[-1] == "ENG-1"  # newest first, like Linear


def test_backward_pagination_to_exhaustion(api):
    seen, before = [], None
    while True:
        page = api.data(PAGE, {"last": 50, "before": before})["issues"]
        seen = [n["identifier"] for n in page["nodes"]] + seen
        assert page["pageInfo"]["hasNextPage"] is (before is not None)
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]
    forward = [n["identifier"] for n in api.data(PAGE, {"first": 250})["issues"]["nodes"]]
    assert seen == forward


def test_order_by_updated_at_and_default_page_size(api):
    updated = api.data(PAGE, {"order": "updatedAt", "first": 5})["issues"]["nodes"]
    stamps = [n["updatedAt"] for n in updated]
    assert stamps == sorted(stamps, reverse=True)
    assert updated[0]["identifier"] == "ENG-149"
    default = api.data(PAGE, {})["issues"]
    assert len(default["nodes"]) == 50 and default["pageInfo"]["hasNextPage"]


def test_page_size_bounds_and_bad_cursors(api):
    for variables in ({"first": 251}, {"first": 0}, {"last": -1}):
        error = api.errors(PAGE, variables)[0]
        assert error["message"] == "Argument Validation Error"
        assert "between 1 and 250" in error["extensions"]["userPresentableMessage"]
    error = api.errors(PAGE, {"after": "not-a-cursor"})[0]
    assert error["message"] == "Invalid cursor" and error["path"] == ["issues"]


def test_nested_connections_paginate_too(api):
    data = api.data(
        """{ team(id: "ENG") { issues(first: 2, filter: {labels: {name: {eq: "incident"}}}) {
               nodes { identifier } pageInfo { hasNextPage endCursor } } } }"""
    )["team"]["issues"]
    assert [n["identifier"] for n in data["nodes"]] == ["ENG-124", "ENG-114"]
    assert data["pageInfo"]["hasNextPage"] is True
    rest = api.data(
        """query ($after: String) { team(id: "ENG") { issues(first: 2, after: $after,
               filter: {labels: {name: {eq: "incident"}}}) { nodes { identifier } } } }""",
        {"after": data["pageInfo"]["endCursor"]},
    )
    assert [n["identifier"] for n in rest["team"]["issues"]["nodes"]] == ["ENG-44"]


# -- search and limits --------------------------------------------------------------------


def test_search_issues_ranks_title_matches_first(api):
    result = api.data(
        '{ searchIssues(term: "circuit breaker", first: 3) { totalCount nodes { identifier metadata } } }'
    )["searchIssues"]
    assert result["nodes"][0]["identifier"] == "PAY-231"
    assert result["totalCount"] >= 3 and result["nodes"][0]["metadata"]
    by_key = api.data('{ searchIssues(term: "DATA-61") { nodes { identifier } } }')
    assert by_key["searchIssues"]["nodes"][0]["identifier"] == "DATA-61"
    in_comments = api.data(
        """{ searchIssues(term: "frozen clock fixture", includeComments: true) {
               nodes { identifier } totalCount } }"""
    )["searchIssues"]
    assert [n["identifier"] for n in in_comments["nodes"]] == ["ENG-123"]
    filtered = api.data(
        """{ searchIssues(term: "pool", filter: {team: {key: {eq: "INFRA"}}}) {
               nodes { identifier } } }"""
    )["searchIssues"]["nodes"]
    assert [n["identifier"] for n in filtered] == ["INFRA-99", "INFRA-97"]  # title, then text


def test_too_complex_queries_are_refused_with_a_reason(api):
    response = api.post(
        "{ issues(first: 250) { nodes { children(first: 250) { nodes { comments(first: 250) "
        "{ nodes { body } } } } } } }"
    )
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX" and "first/last" in error["message"]


def test_project_by_slug_and_the_deprecated_issue_search(api):
    project = api.data(
        '{ projects(filter: {name: {eq: "Checkout v2"}}) { nodes { id slugId url } } }'
    )
    node = project["projects"]["nodes"][0]
    assert node["url"] == f"https://linear.app/acme/project/checkout-v2-{node['slugId']}"
    for ref in (node["id"], node["slugId"], f"checkout-v2-{node['slugId']}"):
        found = api.data("query ($id: String!) { project(id: $id) { name } }", {"id": ref})
        assert found["project"] == {"name": "Checkout v2"}
    old = api.data('{ issueSearch(query: "circuit breaker", first: 1) { nodes { identifier } } }')
    assert old["issueSearch"]["nodes"] == [{"identifier": "PAY-231"}]
