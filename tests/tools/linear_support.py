"""Shared pieces of the Linear tests: fixture paths, tokens, a running service, a client, and
hypothesis strategies that build GraphQL operations from the schema itself."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    build_schema,
    get_named_type,
)
from hypothesis import strategies as st

from environments.tools.linear.engine import SCHEMA_FILE
from tests.tools.conftest import REPO, ToolProcess, running

ACME_LINEAR = REPO / "environments" / "acme" / "seed" / "tools" / "linear.yaml"

# Tokens configured in ACME_LINEAR.
AGENT_KEY = "lin_api_AcmeAgentLocalKey7301000000000000000101"
MAYA_TOKEN = "lin_oauth_AcmeUserMayaLocalToken730100000000000000000000000201"
EMILY_TOKEN = "lin_oauth_AcmeUserEmilyLocalToken73010000000000000000000000205"


class Linear:
    """A raw GraphQL client the way most Linear users write one: httpx and a JSON body."""

    def __init__(self, service: ToolProcess, token: str | None = AGENT_KEY):
        self.service = service
        headers = {"Authorization": token} if token else {}
        self.http = httpx.Client(base_url=service.url, headers=headers, timeout=20)

    @property
    def url(self) -> str:
        return f"{self.service.url}/graphql"

    def post(self, query: str, variables: dict[str, Any] | None = None, **kwargs) -> httpx.Response:
        body: dict[str, Any] = {"query": query}
        if variables is not None:
            body["variables"] = variables
        return self.http.post("/graphql", json=body, **kwargs)

    def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The ``data`` of a request that must succeed."""
        response = self.post(query, variables)
        body = response.json()
        assert response.status_code == 200 and "errors" not in body, body
        return body["data"]

    def errors(self, query: str, variables: dict[str, Any] | None = None) -> list[dict]:
        body = self.post(query, variables).json()
        assert body.get("errors"), body
        return body["errors"]

    def ids(self) -> dict[str, Any]:
        """Ids the tests look things up by: teams, states, labels, users, projects, cycles."""
        data = self.data(
            """{
              teams { nodes { id key states { nodes { id name type } } } }
              issueLabels(first: 250) { nodes { id name team { key } } }
              users(first: 250) { nodes { id email displayName } }
              projects { nodes { id name slugId } }
              cycles(first: 100) { nodes { id number team { key } } }
            }"""
        )
        teams = {t["key"]: t for t in data["teams"]["nodes"]}
        return {
            "team": {k: t["id"] for k, t in teams.items()},
            "state": {
                (k, s["name"]): s["id"] for k, t in teams.items() for s in t["states"]["nodes"]
            },
            "label": {
                ((lb["team"] or {}).get("key"), lb["name"]): lb["id"]
                for lb in data["issueLabels"]["nodes"]
            },
            "user": {u["email"].split("@")[0]: u["id"] for u in data["users"]["nodes"]},
            "project": {p["name"]: p["id"] for p in data["projects"]["nodes"]},
            "cycle": {(c["team"]["key"], c["number"]): c["id"] for c in data["cycles"]["nodes"]},
        }

    def close(self) -> None:
        self.http.close()


def launch_linear(tmp: Path, *, seed: int = 0, fixtures: list[Path] | None = None):
    """A context manager running the Linear service seeded with Acme's fixtures."""
    return running("linear", tmp, fixtures if fixtures is not None else [ACME_LINEAR], seed)


def service_fixture(name: str):
    """A module-scoped running service (each test module gets its own state)."""

    @pytest.fixture(scope="module")
    def service(tmp_path_factory) -> Iterator[ToolProcess]:
        with launch_linear(tmp_path_factory.mktemp(name)) as process:
            yield process

    return service


def graphql_shaped(response: httpx.Response) -> dict[str, Any]:
    """Assert the answer is GraphQL-shaped JSON (never a 5xx); return the body."""
    assert response.status_code < 500, response.text[:500]
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body = response.json()
    assert isinstance(body, dict), body
    assert set(body) <= {"data", "errors"} and body, body
    for error in body.get("errors") or ():
        assert isinstance(error["message"], str) and error["message"], error
        ext = error["extensions"]
        assert isinstance(ext["type"], str) and isinstance(ext["code"], str), error
        assert isinstance(ext["userPresentableMessage"], str), error
        assert ext["statusCode"] < 500, error
    if "errors" not in body:
        assert response.status_code == 200 and isinstance(body["data"], dict), body
    return body


# -- hypothesis strategies ------------------------------------------------------------------

SCHEMA = build_schema(SCHEMA_FILE.read_text(encoding="utf-8"))

leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
)
json_values = st.recursive(
    leaves,
    lambda kids: (
        st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=8), kids, max_size=3)
    ),
    max_leaves=8,
)
strings = st.one_of(
    st.sampled_from(
        [
            "ENG-1",
            "eng-107",
            "PAY-231",
            "ENG-0",
            "ENG-99999999",
            "X-1",
            "ENG",
            "PAY",
            "00000000-0000-4000-8000-000000000000",
            "started",
            "Todo",
            "In Progress",
            "2026-11-20",
            "2026-11-20T10:00:00Z",
            "-P2W",
            "P1D",
            "2021",
            "P",
            "",
            " ",
            "%",
            "createdAt",
            "\x00",
            "\ud800",
            "🙂",
            "a" * 300,
        ]
    ),
    st.text(max_size=20),
)


def value_for(gql_type, depth: int = 0) -> st.SearchStrategy:
    """Arguments of the declared type, sometimes of another type or out of range."""
    if isinstance(gql_type, GraphQLNonNull):
        return value_for(gql_type.of_type, depth)
    wrong = json_values if depth < 2 else leaves
    if isinstance(gql_type, GraphQLList):
        right = st.lists(value_for(gql_type.of_type, depth + 1), max_size=3)
    elif isinstance(gql_type, GraphQLEnumType):
        right = st.sampled_from(sorted(gql_type.values))
    elif isinstance(gql_type, GraphQLInputObjectType):
        if depth > 3:
            return st.just({})
        fields = sorted(gql_type.fields)
        right = st.lists(st.sampled_from(fields), max_size=3, unique=True).flatmap(
            lambda chosen: st.fixed_dictionaries(
                {name: value_for(gql_type.fields[name].type, depth + 1) for name in chosen}
            )
        )
    elif isinstance(gql_type, GraphQLScalarType) and gql_type.name in ("Int", "Float"):
        right = st.integers(min_value=-5, max_value=300) | st.sampled_from([2**31 - 1, 2**31])
    elif isinstance(gql_type, GraphQLScalarType) and gql_type.name == "Boolean":
        right = st.booleans()
    else:
        right = strings
    return st.one_of(right, right, right, wrong)


def type_text(gql_type) -> str:
    return str(gql_type)


@st.composite
def operations(draw) -> tuple[str, dict]:
    """A query or mutation over real fields with variables for the arguments."""
    kind = draw(st.sampled_from(["query"] * 5 + ["mutation"]))
    root = SCHEMA.query_type if kind == "query" else SCHEMA.mutation_type
    variables: dict = {}
    definitions: list[str] = []

    def selection(object_type: GraphQLObjectType, depth: int) -> str:
        names = sorted(object_type.fields)
        picked = draw(st.lists(st.sampled_from(names), min_size=1, max_size=4, unique=True))
        parts = []
        for name in picked:
            field = object_type.fields[name]
            args = ""
            if field.args:
                chosen = draw(
                    st.lists(st.sampled_from(sorted(field.args)), max_size=3, unique=True)
                )
                required = [a for a, d in field.args.items() if isinstance(d.type, GraphQLNonNull)]
                pairs = []
                for arg in sorted(set(chosen) | set(required)):
                    var = f"v{len(variables)}"
                    arg_type = field.args[arg].type
                    variables[var] = draw(value_for(arg_type))
                    definitions.append(f"${var}: {type_text(arg_type)}")
                    pairs.append(f"{arg}: ${var}")
                args = f"({', '.join(pairs)})" if pairs else ""
            named = get_named_type(field.type)
            if isinstance(named, GraphQLObjectType):
                if depth >= 3:
                    parts.append(f"{name}{args} {{ __typename }}")
                else:
                    parts.append(f"{name}{args} {{ {selection(named, depth + 1)} }}")
            else:
                parts.append(f"{name}{args}")
        return " ".join(parts)

    body = selection(root, 0)
    head = f"{kind} Fuzz({', '.join(definitions)})" if definitions else kind
    return f"{head} {{ {body} }}", variables
