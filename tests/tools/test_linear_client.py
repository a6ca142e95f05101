"""gql (with schema introspection) and raw httpx work against the service unchanged."""

from __future__ import annotations

import asyncio

import pytest
from gql import Client, GraphQLRequest, gql
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXAsyncTransport, HTTPXTransport
from graphql import GraphQLError

from tests.tools.linear_support import AGENT_KEY, MAYA_TOKEN, Linear, service_fixture

linear = service_fixture("linear-client")


def client(service, token: str = AGENT_KEY, *, bearer: bool = False) -> Client:
    header = f"Bearer {token}" if bearer else token
    transport = HTTPXTransport(url=f"{service.url}/graphql", headers={"Authorization": header})
    return Client(transport=transport, fetch_schema_from_transport=True)


def test_gql_fetches_the_schema_and_validates_queries_against_it(linear):
    with client(linear) as session:
        result = session.execute(gql("{ viewer { id name displayName app isMe } }"))
        schema = session.client.schema
        assert schema is not None
        issue = schema.type_map["Issue"]
        for field in ("identifier", "priorityLabel", "branchName", "url", "labels", "children"):
            assert field in issue.fields, field
        assert set(schema.type_map["PaginationOrderBy"].values) == {"createdAt", "updatedAt"}
        # gql validates locally against the fetched schema: an unknown field never leaves.
        with pytest.raises(GraphQLError, match="nope"):
            session.execute(gql("{ viewer { nope } }"))
    assert result["viewer"] == {
        "id": result["viewer"]["id"],
        "name": "Acme Agent",
        "displayName": "acme-agent",
        "app": True,
        "isMe": True,
    }


def test_variables_fragments_aliases_and_typename(linear):
    query = gql(
        """
        fragment IssueBits on Issue {
          __typename
          identifier
          title
          state { name type }
          assignee { ...Person }
        }
        fragment Person on User { name email }
        query Two($a: String!, $b: String!) {
          first: issue(id: $a) { ...IssueBits priority priorityLabel }
          second: issue(id: $b) { ...IssueBits team { key } }
        }
        """
    )
    with client(linear) as session:
        result = session.execute(
            GraphQLRequest(query, variable_values={"a": "ENG-107", "b": "PAY-215"})
        )
    first, second = result["first"], result["second"]
    assert first["__typename"] == "Issue"
    assert first["identifier"] == "ENG-107"
    assert first["title"] == "Saved carts: POST/GET/DELETE /v1/saved-carts"
    assert first["state"] == {"name": "In Progress", "type": "started"}
    assert first["assignee"] == {"name": "Emily Zhang", "email": "emily.zhang@acme.dev"}
    assert (first["priority"], first["priorityLabel"]) == (2, "High")
    assert second["identifier"] == "PAY-215" and second["team"] == {"key": "PAY"}
    assert second["state"]["name"] == "In Review"
    assert "team" not in first and "priority" not in second


def test_oauth_bearer_token_acts_as_its_user(linear):
    with client(linear, MAYA_TOKEN, bearer=True) as session:
        viewer = session.execute(gql("{ viewer { email isMe admin app } }"))["viewer"]
    assert viewer == {"email": "maya.chen@acme.dev", "isMe": True, "admin": True, "app": False}


def test_query_errors_reach_gql_as_linear_errors(linear):
    with client(linear) as session, pytest.raises(TransportQueryError) as caught:
        session.execute(gql('{ issue(id: "ENG-99999") { id } }'))
    error = caught.value.errors[0]
    assert error["message"] == "Entity not found: Issue"
    assert error["path"] == ["issue"]
    assert error["extensions"]["type"] == "invalid input"
    assert error["extensions"]["userPresentableMessage"] == "Could not find referenced Issue."


def test_async_transport_and_mutation_round_trip(linear):
    async def scenario():
        transport = HTTPXAsyncTransport(
            url=f"{linear.url}/graphql", headers={"Authorization": AGENT_KEY}
        )
        async with Client(transport=transport, fetch_schema_from_transport=True) as session:
            team = (await session.execute(gql('{ team(id: "DATA") { id key } }')))["team"]
            created = await session.execute(
                GraphQLRequest(
                    """mutation Make($input: IssueCreateInput!) {
                         issueCreate(input: $input) {
                           success lastSyncId issue { identifier team { key } creator { app } }
                         }
                       }""",
                    variable_values={"input": {"teamId": team["id"], "title": "From async gql"}},
                )
            )
            return created["issueCreate"]

    payload = asyncio.run(scenario())
    assert payload["success"] is True and payload["lastSyncId"] > 0
    assert payload["issue"]["identifier"] == "DATA-72"  # the next number after DATA-71
    assert payload["issue"]["team"] == {"key": "DATA"} and payload["issue"]["creator"]["app"]


def test_raw_httpx_with_edges_cursors_and_page_info(linear):
    api = Linear(linear)
    try:
        data = api.data(
            """query ($after: String) {
                 issues(first: 3, after: $after, filter: {team: {key: {eq: "INFRA"}}}) {
                   edges { cursor node { id identifier } }
                   pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
                 }
               }""",
            {"after": None},
        )
    finally:
        api.close()
    edges = data["issues"]["edges"]
    assert [e["node"]["identifier"] for e in edges] == ["INFRA-107", "INFRA-106", "INFRA-105"]
    assert all(e["cursor"] == e["node"]["id"] for e in edges)
    info = data["issues"]["pageInfo"]
    assert info["hasNextPage"] is True and info["hasPreviousPage"] is False
    assert (info["startCursor"], info["endCursor"]) == (edges[0]["cursor"], edges[-1]["cursor"])
