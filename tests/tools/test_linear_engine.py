"""The engine in-process: the fast executor answers exactly what graphql-core answers, and the
schema promises only what the resolvers deliver."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from graphql import (
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLUnionType,
    get_named_type,
    is_leaf_type,
)
from hypothesis import HealthCheck, given, settings

from environments.tools.common import ToolSettings
from environments.tools.linear import create_app
from environments.tools.linear.engine import SCHEMA_FILE, Request
from environments.tools.linear.filters import SPECS
from tests.tools.linear_support import ACME_LINEAR, AGENT_KEY, operations

REFERENCE = Path("/work/shared/reference/linear-schema-subset.graphql")


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    settings_ = ToolSettings(
        state_dir=tmp_path_factory.mktemp("linear-engine"), fixtures=(ACME_LINEAR,)
    )
    app = create_app(settings_)
    yield app.state.service
    app.state.service.store.close()


def normalised(body) -> str:
    """JSON text with integral floats as ints (the fast path prints 2, graphql-core 2.0)."""

    def walk(value):
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        return value

    return json.dumps(walk(body), ensure_ascii=False)


def both(service, query: str, variables: dict | None = None) -> tuple:
    request = Request(query, variables or {}, None)
    answers = []
    for fast in (True, False):
        service.engine.use_fast_path = fast
        try:
            status, body = service.engine.run(request, service, AGENT_KEY)
        finally:
            service.engine.use_fast_path = True
        answers.append((status, normalised(body)))
    return answers[0], answers[1]


CORPUS = [
    (
        '{ issues(first: 7, filter: {team: {key: {eq: "ENG"}}}) { nodes { id identifier title '
        "priority priorityLabel estimate dueDate url branchName createdAt state { name type } "
        "assignee { name isMe } labels { nodes { name } } labelIds project { name } cycle { number } "
        "parent { identifier } } pageInfo { hasNextPage endCursor } } }"
    ),
    """fragment F on Issue { identifier ... on Issue { title } __typename }
       query { a: issue(id: "ENG-105") { ...F children(first: 3) { edges { cursor node { ...F } } } }
               b: issue(id: "PAY-231") { ...F comments { nodes { body user { displayName } } } } }""",
    """query ($skip: Boolean!, $inc: Boolean!) {
         viewer { id name @skip(if: $skip) email @include(if: $inc) __typename }
         organization { name urlKey teams { nodes { key issueCount(includeArchived: true) } } } }""",
    (
        '{ team(id: "ENG") { cycles(first: 3) { nodes { number isActive isNext isPast isFuture '
        "isPrevious progress completedAt } } states { nodes { name type position } } } }"
    ),
    (
        "{ projects { nodes { name status { name type } progress scope url lead { name } "
        "teams { nodes { key } } members(first: 3) { nodes { name } } } } }"
    ),
    '{ searchIssues(term: "canary", first: 4) { totalCount nodes { identifier metadata } } }',
    # Errors: a missing entity, a bad cursor, a page too large.
    '{ ok: viewer { id } bad: issue(id: "ENG-424242") { id } }',
    '{ issues(first: 2, after: "nope") { nodes { id } } }',
    '{ issue(id: "ENG-1") { id comments(first: 999) { nodes { id } } } }',
    (
        "{ users(first: 3, includeDisabled: true) { nodes { name initials url teams { nodes { key } } "
        "assignedIssues(first: 1) { nodes { identifier } } createdIssueCount } } }"
    ),
    (
        "{ workflowStates(first: 2, orderBy: updatedAt) { nodes { name team { key } issues(first: 1) "
        "{ nodes { identifier } } } } }"
    ),
    (
        '{ issueLabels(filter: {name: {in: ["bug", "flaky-test"]}}) { nodes { name team { key } '
        "issues(first: 2) { nodes { identifier } } children { nodes { id } } parent { id } } } }"
    ),
    (
        '{ comments(first: 3, filter: {issue: {team: {key: {eq: "PAY"}}}}) { nodes { body url '
        "issue { identifier } parent { id } } } }"
    ),
]


@pytest.mark.parametrize("query", CORPUS)
def test_fast_path_matches_graphql_core(service, query):
    variables = {"skip": True, "inc": False}
    fast, core = both(service, query, variables if "$skip" in query else None)
    assert fast == core


def test_errors_null_every_non_null_parent_like_graphql_core(service):
    # Linear's root fields are all non-null: one failed field nulls the whole `data`.
    (status, body), _ = both(service, CORPUS[6])
    parsed = json.loads(body)
    assert status == 400 and parsed["data"] is None
    assert parsed["errors"][0]["path"] == ["bad"]


@settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(op=operations())
def test_fast_path_matches_graphql_core_on_generated_queries(service, op):
    query, variables = op
    if query.startswith("mutation"):
        return
    fast, core = both(service, query, variables)
    assert fast == core


def test_every_field_of_every_type_resolves(service):
    """Ask for every scalar field of every object reachable from the root lists."""

    def scalars(object_type: GraphQLObjectType) -> str:
        return " ".join(
            name
            for name, field in object_type.fields.items()
            if is_leaf_type(get_named_type(field.type))
            and not any(isinstance(a.type, GraphQLNonNull) for a in field.args.values())
        )

    schema = service.engine.schema
    queries = []
    for root, type_name in (
        ("issues(first: 20)", "Issue"),
        ("teams", "Team"),
        ("workflowStates(first: 10)", "WorkflowState"),
        ("users(first: 30)", "User"),
        ("issueLabels(first: 30)", "IssueLabel"),
        ("projects", "Project"),
        ("cycles(first: 10)", "Cycle"),
        ("comments(first: 20)", "Comment"),
    ):
        object_type = schema.type_map[type_name]
        objects = []
        for name, field in object_type.fields.items():
            target = get_named_type(field.type)
            if isinstance(target, GraphQLObjectType) and not target.name.endswith(
                ("Connection", "Payload")
            ):
                objects.append(f"{name} {{ {scalars(target)} }}")
        queries.append(f"{{ {root} {{ nodes {{ {scalars(object_type)} {' '.join(objects)} }} }} }}")
    queries.append(f"{{ organization {{ {scalars(schema.type_map['Organization'])} }} }}")
    queries.append(f"{{ viewer {{ {scalars(schema.type_map['User'])} }} }}")
    for query in queries:
        status, body = service.engine.run(Request(query, {}, None), service, AGENT_KEY)
        assert status == 200 and "errors" not in body, (query, body)


def test_no_field_returns_an_abstract_type(service):
    """The fast executor's contract: objects, scalars and enums only."""
    for type_ in service.engine.schema.type_map.values():
        if isinstance(type_, GraphQLObjectType) and not type_.name.startswith("__"):
            for name, field in type_.fields.items():
                target = get_named_type(field.type)
                assert not isinstance(target, GraphQLInterfaceType | GraphQLUnionType), (
                    f"{type_.name}.{name}"
                )


def test_every_filter_field_has_sql(service):
    schema = service.engine.schema
    filters = {
        "IssueFilter": "Issue",
        "NullableIssueFilter": "Issue",
        "TeamFilter": "Team",
        "NullableTeamFilter": "Team",
        "WorkflowStateFilter": "WorkflowState",
        "UserFilter": "User",
        "NullableUserFilter": "User",
        "IssueLabelFilter": "IssueLabel",
        "ProjectFilter": "Project",
        "NullableProjectFilter": "Project",
        "CycleFilter": "Cycle",
        "NullableCycleFilter": "Cycle",
        "CommentFilter": "Comment",
    }
    for input_name, entity in filters.items():
        input_type = schema.type_map[input_name]
        assert isinstance(input_type, GraphQLInputObjectType)
        for field in input_type.fields:
            assert field in ("and", "or", "null") or field in SPECS[entity].filters, (
                f"{input_name}.{field}"
            )


@pytest.mark.skipif(not REFERENCE.exists(), reason="Linear's schema subset is not on this machine")
def test_schema_file_is_the_cut_of_linears_schema():
    from environments.tools.linear.cut_schema import cut

    assert cut(REFERENCE.read_text(encoding="utf-8")) == SCHEMA_FILE.read_text(encoding="utf-8")


def test_issues_the_fixtures_mention_exist(service):
    """A description or comment that names ENG-123 / PAY-215 names a real issue."""
    import re

    with service.store.read() as db:
        identifiers = {row[0] for row in db.execute("SELECT identifier FROM issues")}
        texts = [row[0] for row in db.execute("SELECT description FROM issues") if row[0]]
        texts += [row[0] for row in db.execute("SELECT body FROM comments")]
    mentioned = {m for text in texts for m in re.findall(r"\b(?:ENG|INFRA|PAY|DATA)-\d+\b", text)}
    assert len(mentioned) > 10
    assert mentioned <= identifiers, sorted(mentioned - identifiers)
