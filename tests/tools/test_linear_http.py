"""Authentication the way Linear does it, and GraphQL-shaped errors for every bad request."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.tools.linear_support import (
    AGENT_KEY,
    MAYA_TOKEN,
    graphql_shaped,
    service_fixture,
)

linear = service_fixture("linear-http")
VIEWER = {"query": "{ viewer { email } }"}
VARIABLE_BODY = json.dumps(
    {"query": "query ($n: Int!) { issues(first: $n) { nodes { id } } }", "variables": {"n": "ten"}}
).encode()


@pytest.fixture(scope="module")
def http(linear):
    with httpx.Client(base_url=linear.url, timeout=20) as client:
        yield client


@pytest.mark.parametrize(
    ("header", "email"),
    [
        (AGENT_KEY, "agent@acme.dev"),  # personal API key, no scheme (Linear's way)
        (f"Bearer {AGENT_KEY}", "agent@acme.dev"),  # ... and with one
        (f"bearer   {MAYA_TOKEN}", "maya.chen@acme.dev"),  # OAuth token, any case
    ],
)
def test_api_keys_with_or_without_bearer(http, header, email):
    response = http.post("/graphql", json=VIEWER, headers={"Authorization": header})
    assert graphql_shaped(response) == {"data": {"viewer": {"email": email}}}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": ""},
        {"Authorization": "Bearer"},
        {"Authorization": "lin_api_wrong"},
        {"Authorization": f"Basic {AGENT_KEY}"},
        {"Authorization": f"Bearer {AGENT_KEY}x"},
    ],
)
def test_missing_or_bad_credentials(http, headers):
    response = http.post("/graphql", json=VIEWER, headers=headers)
    body = graphql_shaped(response)
    assert response.status_code == 401 and "data" not in body
    error = body["errors"][0]
    assert error["message"] == "Authentication required, not authenticated"
    assert error["extensions"]["type"] == "authentication error"
    assert error["extensions"]["code"] == "AUTHENTICATION_ERROR"


def test_introspection_needs_no_key_but_a_bad_key_is_still_refused(http):
    query = {"query": "{ __schema { queryType { name } } __typename }"}
    assert http.post("/graphql", json=query).json() == {
        "data": {"__schema": {"queryType": {"name": "Query"}}, "__typename": "Query"}
    }
    refused = http.post("/graphql", json=query, headers={"Authorization": "lin_api_nope"})
    assert refused.status_code == 401


def test_get_runs_queries_but_not_mutations(http):
    ok = http.get(
        "/graphql",
        params={
            "query": "query ($id: String!) { issue(id: $id) { identifier } }",
            "variables": json.dumps({"id": "PAY-231"}),
        },
        headers={"Authorization": AGENT_KEY},
    )
    assert graphql_shaped(ok) == {"data": {"issue": {"identifier": "PAY-231"}}}
    mutation = http.get(
        "/graphql",
        params={
            "query": 'mutation { commentCreate(input: {issueId: "PAY-231", body: "x"}) { success } }'
        },
        headers={"Authorization": AGENT_KEY},
    )
    assert mutation.status_code == 405 and mutation.headers["allow"] == "POST"
    assert "POST" in graphql_shaped(mutation)["errors"][0]["message"]


def test_application_graphql_body(http):
    response = http.post(
        "/graphql",
        content=b'{ issue(id: "DATA-61") { title } }',
        headers={"Authorization": AGENT_KEY, "Content-Type": "application/graphql"},
    )
    assert graphql_shaped(response)["data"]["issue"]["title"].startswith("Retention job")


@pytest.mark.parametrize(
    ("body", "content_type", "status", "fragment"),
    [
        (b"{not json", "application/json", 400, "not valid JSON"),
        (b"", "application/json", 400, "JSON body"),
        (b"[]", "application/json", 400, "Batched"),
        (b'"query"', "application/json", 400, "object"),
        (b'{"variables": {}}', "application/json", 400, "Must provide query string"),
        (b'{"query": 7}', "application/json", 400, "must be a string"),
        (b'{"query": "{ viewer { id } }", "variables": [1]}', "application/json", 400, "variables"),
        (b'{"query": "{ viewer { id } }", "variables": "{"}', "application/json", 400, "variables"),
        (
            b'{"query": "{ viewer { id } }", "operationName": 5}',
            "application/json",
            400,
            "operationName",
        ),
        (b'{"query": "{ viewer { id "}', "application/json", 400, "Syntax Error"),
        (b'{"query": "{ viewer { nope } }"}', "application/json", 400, "nope"),
        (b'{"query": "{ issue { id } }"}', "application/json", 400, "issue(id:)"),
        (
            b'{"query": "query A { viewer { id } } query B { viewer { id } }"}',
            "application/json",
            400,
            "operation name",
        ),
        (
            b'{"query": "{ viewer { id } }", "operationName": "Z"}',
            "application/json",
            400,
            "Unknown operation",
        ),
        (b'{"query": "subscription { viewer { id } }"}', "application/json", 400, "subscription"),
        (VARIABLE_BODY, "application/json", 400, "$n"),
        (
            b'{"query": "{ issues(filter: {createdAt: {gt: \\"yesterday\\"}}) { nodes { id } } }"}',
            "application/json",
            400,
            "DateTimeOrDuration",
        ),
    ],
)
def test_bad_requests_get_graphql_errors(http, body, content_type, status, fragment):
    response = http.post(
        "/graphql", content=body, headers={"Authorization": AGENT_KEY, "Content-Type": content_type}
    )
    parsed = graphql_shaped(response)
    assert response.status_code == status, parsed
    messages = " ".join(e["message"] for e in parsed["errors"])
    assert fragment.lower() in messages.lower(), messages


def test_validation_errors_carry_locations(http):
    response = http.post(
        "/graphql",
        json={"query": "{\n  viewer {\n    nope\n  }\n}"},
        headers={"Authorization": AGENT_KEY},
    )
    error = graphql_shaped(response)["errors"][0]
    assert error["locations"] == [{"line": 3, "column": 5}]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


def test_oversized_body_and_deep_queries_are_refused(http, linear):
    huge = http.post(
        "/graphql",
        content=b'{"query": "' + b" " * (3 * 1024 * 1024) + b'{ viewer { id } }"}',
        headers={"Authorization": AGENT_KEY, "Content-Type": "application/json"},
    )
    assert huge.status_code == 413 and graphql_shaped(huge)["errors"]
    deep = '{ issue(id: "ENG-1") { ' + "parent { " * 30 + "id" + " }" * 31 + " }"
    response = http.post("/graphql", json={"query": deep}, headers={"Authorization": AGENT_KEY})
    assert response.status_code == 400
    assert "nested too deeply" in graphql_shaped(response)["errors"][0]["message"]


def test_other_paths_and_methods_answer_in_graphql_shape(http):
    missing = http.get("/v1/issues")
    assert missing.status_code == 404
    assert "POST /graphql" in graphql_shaped(missing)["errors"][0]["message"]
    wrong_method = http.put("/graphql", json=VIEWER)
    assert wrong_method.status_code == 405 and graphql_shaped(wrong_method)["errors"]


def test_filters_too_deep_or_too_wide_are_refused_not_crashed(http):
    query = "query ($f: IssueFilter) { issues(filter: $f) { nodes { id } } }"

    def post(filter_) -> dict:
        response = http.post(
            "/graphql",
            json={"query": query, "variables": {"f": filter_}},
            headers={"Authorization": AGENT_KEY},
        )
        assert response.status_code == 400, response.text[:300]
        return graphql_shaped(response)["errors"][0]

    deep: dict = {"title": {"eq": "x"}}
    for _ in range(30):
        deep = {"and": [deep]}
    assert "nested more than" in post(deep)["extensions"]["userPresentableMessage"]
    wide = {"title": {"in": [f"t{i}" for i in range(3000)]}}
    assert "values in the filter" in post(wide)["extensions"]["userPresentableMessage"]
    many = {"or": [{"team": {"key": {"eq": f"K{i}"}}} for i in range(100)]}
    assert "relation filters" in post(many)["extensions"]["userPresentableMessage"]
    body = '{"query": "{ viewer { id } }", "variables": {"x": ' + "[" * 700 + "]" * 700 + "}}"
    response = http.post(
        "/graphql",
        content=body.encode(),
        headers={"Authorization": AGENT_KEY, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert "nested too deeply" in graphql_shaped(response)["errors"][0]["message"]
