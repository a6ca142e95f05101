"""Whatever a client sends, the service answers GraphQL-shaped JSON and never a 5xx.

Two hunts: arbitrary HTTP requests (bodies, content types, methods, headers), and queries
built from the schema itself with arbitrary arguments, so every resolver and filter sees
values of the right type, the wrong type and the extreme.
"""

from __future__ import annotations

import json

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.tools.conftest import fuzz_budget
from tests.tools.linear_support import (
    AGENT_KEY,
    MAYA_TOKEN,
    graphql_shaped,
    json_values,
    operations,
    service_fixture,
    strings,
)

EXAMPLES, FUZZ = fuzz_budget(400)

linear = service_fixture("linear-fuzz")


@pytest.fixture(scope="module")
def http(linear):
    with httpx.Client(base_url=linear.url, timeout=30) as client:
        yield client


headers = st.sampled_from(
    [
        {},
        {"Authorization": AGENT_KEY},
        {"Authorization": f"Bearer {MAYA_TOKEN}"},
        {"Authorization": "lin_api_x"},
        {"Authorization": "Bearer"},
    ]
)


@settings(FUZZ, max_examples=max(50, EXAMPLES // 2))
@given(op=operations(), auth=headers)
def test_schema_driven_queries_never_fail_the_server(http, op, auth):
    query, variables = op
    try:
        payload = json.dumps({"query": query, "variables": variables}).encode(
            "utf-8", "surrogatepass"
        )
    except ValueError:
        return
    response = http.post(
        "/graphql", content=payload, headers={**auth, "Content-Type": "application/json"}
    )
    graphql_shaped(response)


@FUZZ
@given(
    body=st.one_of(
        json_values.map(lambda v: json.dumps(v).encode()),
        st.dictionaries(
            st.sampled_from(["query", "variables", "operationName", "extensions"]),
            json_values | strings,
            max_size=4,
        ).map(lambda d: json.dumps(d).encode("utf-8", "surrogatepass")),
        st.binary(max_size=200),
        st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
    ),
    ctype=st.sampled_from(
        [
            "application/json",
            "application/graphql",
            "application/x-www-form-urlencoded",
            "text/plain",
            "multipart/form-data; boundary=x",
            "",
        ]
    ),
    method=st.sampled_from(["POST", "GET"]),
    auth=headers,
)
def test_arbitrary_requests_get_graphql_shaped_answers(http, body, ctype, method, auth):
    if method == "GET":
        text = body.decode("utf-8", "replace")
        response = http.get(
            "/graphql", params={"query": text, "variables": text[:50]}, headers=auth
        )
    else:
        response = http.post("/graphql", content=body, headers={**auth, "Content-Type": ctype})
    graphql_shaped(response)


@FUZZ
@given(text=st.text(max_size=300), auth=headers)
def test_arbitrary_query_text(http, text, auth):
    safe = text.encode("utf-8", "replace").decode("utf-8")
    graphql_shaped(http.post("/graphql", json={"query": safe}, headers=auth))
