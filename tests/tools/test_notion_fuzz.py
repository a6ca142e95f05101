"""Whatever a client sends to any endpoint, the answer is Notion's shape and never a 5xx
(notion-client retries 5xx, so a mock that 500s on bad input makes agents hang)."""

from __future__ import annotations

import json
from urllib.parse import quote, urlencode

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from environments.tools.notion.api import ENDPOINTS
from environments.tools.notion.errors import KNOWN_CODES
from tests.tools.conftest import fuzz_budget
from tests.tools.notion_support import AGENT_TOKEN, OPS_TOKEN, client, notion_service

EXAMPLES, FUZZ = fuzz_budget(300)

# Words Notion bodies are made of, so generated documents reach deep into validation.
KEYS = """parent page_id database_id data_source_id block_id workspace type properties title
rich_text text content link url annotations bold code color plain_text mention user id page
date start end children paragraph heading_1 heading_2 heading_3 bulleted_list_item to_do checked
toggle quote callout icon emoji cover external code language table table_width table_row cells
divider bookmark equation expression child_page filter property and or select multi_select status
equals does_not_equal contains starts_with is_empty before after on_or_after past_week checkbox
number greater_than people sorts direction ascending timestamp last_edited_time created_time
start_cursor page_size query sort value object in_trash archived is_locked after position
after_block discussion_id markdown name options result_type erase_content Incident Status
Severity Date Commander Services RFC Author Component Tickets""".split()  # noqa: SIM905
CONTENT_TYPES = ["application/json", "application/json; charset=utf-8", "text/plain", ""]
leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.sampled_from(KEYS),
)


def documents(ids: list[str]):
    leaf = leaves | st.sampled_from(ids)
    return st.recursive(
        leaf,
        lambda kids: (
            st.lists(kids, max_size=4)
            | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), kids, max_size=5)
        ),
        max_leaves=25,
    )


@pytest.fixture(scope="module")
def target(tmp_path_factory):
    with notion_service(tmp_path_factory.mktemp("notion-fuzz")) as service:
        notion = client(service)
        pages = [
            p["id"]
            for p in notion.search(filter={"property": "object", "value": "page"}, page_size=20)[
                "results"
            ]
        ]
        sources = [
            d["id"]
            for d in notion.search(filter={"property": "object", "value": "data_source"})["results"]
        ]
        databases = [notion.data_sources.retrieve(s)["parent"]["database_id"] for s in sources]
        blocks = [b["id"] for b in notion.blocks.children.list(pages[0])["results"][:5]]
        users = [u["id"] for u in notion.users.list(page_size=3)["results"]]
        comment = notion.comments.create(
            parent={"page_id": pages[1]}, rich_text=[{"text": {"content": "fuzz"}}]
        )
        ids = (
            pages + sources + databases + blocks + users + [comment["id"], comment["discussion_id"]]
        )
        with httpx.Client(base_url=service.url, timeout=10) as http:
            yield service, http, ids


def path_for(pattern: str, draw, ids: list[str]) -> str:
    """A concrete path for an endpoint pattern, with known, mangled or junk ids."""
    out = pattern.replace("^", "").replace("$", "")
    while "(?P<" in out:
        start = out.index("(?P<")
        end = out.index(")", start)
        value = draw(
            st.sampled_from(ids)
            | st.sampled_from(ids).map(lambda i: i.replace("-", ""))
            | st.sampled_from(["title", "me", "0" * 32, "x", "%2e", "a b", "..", "\u00e9", ""])
            | st.text(max_size=40)
        )
        out = out[:start] + quote(value, safe="") + out[end + 1 :]
    return out


def check_notion_answer(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text[:500]
    body = response.json()
    assert isinstance(body, dict), body
    if response.status_code >= 400:
        assert body["object"] == "error" and body["status"] == response.status_code, body
        assert body["code"] in KNOWN_CODES and isinstance(body["message"], str), body
        assert isinstance(body["request_id"], str), body
    else:
        assert body["object"] in {
            "list",
            "page",
            "block",
            "database",
            "data_source",
            "user",
            "comment",
            "property_item",
            "page_markdown",
        }, body


@FUZZ
@given(data=st.data())
def test_every_endpoint_survives_arbitrary_requests(target, data):
    _, http, ids = target
    endpoint = data.draw(st.sampled_from(ENDPOINTS))
    method = data.draw(
        st.sampled_from([endpoint.method] * 6 + ["GET", "POST", "PATCH", "DELETE", "PUT"])
    )
    path = path_for(endpoint.pattern.pattern, data.draw, ids)
    version = data.draw(st.sampled_from(["2025-09-03", "2022-06-28", "2026-03-11", None, "", "x"]))
    token = data.draw(st.sampled_from([AGENT_TOKEN, OPS_TOKEN, "ntn_nope", "", None]))
    headers = {}
    if version is not None:
        headers["Notion-Version"] = version
    if token is not None:
        headers["Authorization"] = f"Bearer {token}".strip()
    query = data.draw(
        st.dictionaries(
            st.sampled_from(["page_size", "start_cursor", "block_id", "filter_properties"])
            | st.text(max_size=8),
            st.sampled_from(ids) | st.text(max_size=12) | st.integers(-5, 200).map(str),
            max_size=3,
        )
    )
    url = f"/v1/{path}"
    if query:
        url += "?" + urlencode(query, errors="surrogatepass")
    how = data.draw(st.sampled_from(["json", "json", "raw", "none"]))
    if how == "json":
        body = json.dumps(data.draw(documents(ids)), allow_nan=False).encode(
            "utf-8", "surrogatepass"
        )
    elif how == "raw":
        body = data.draw(
            st.binary(max_size=200)
            | st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass"))
        )
    else:
        body = b""
    headers["Content-Type"] = data.draw(st.sampled_from(CONTENT_TYPES))
    response = http.request(method, url, headers=headers, content=body)
    check_notion_answer(response)


VALID_SHAPES = {
    "children": [{"paragraph": {"rich_text": [{"text": {"content": "x"}}]}}],
    "properties": {"title": [{"text": {"content": "fuzzed"}}]},
    "filter": {"property": "Status", "status": {"equals": "Draft"}},
    "sorts": [{"property": "Date", "direction": "descending"}],
}


@settings(FUZZ, max_examples=max(50, EXAMPLES // 2))
@given(data=st.data())
def test_well_formed_requests_with_odd_values(target, data):
    """Mostly valid bodies with one field replaced: reaches each validator's edge."""
    _, http, ids = target
    endpoint = data.draw(st.sampled_from([e for e in ENDPOINTS if e.method in ("POST", "PATCH")]))
    path = path_for(endpoint.pattern.pattern, data.draw, ids)
    body: dict = {
        "parent": {"page_id": data.draw(st.sampled_from(ids))},
        **VALID_SHAPES,
        "rich_text": [{"text": {"content": "hi"}}],
    }
    field = data.draw(
        st.sampled_from(sorted(body) + ["page_size", "start_cursor", "query", "after", "in_trash"])
    )
    body[field] = data.draw(documents(ids))
    response = http.request(
        endpoint.method,
        f"/v1/{path}",
        headers={
            "Notion-Version": data.draw(st.sampled_from(["2025-09-03", "2022-06-28"])),
            "Authorization": f"Bearer {AGENT_TOKEN}",
        },
        json=body,
    )
    check_notion_answer(response)


@settings(FUZZ, max_examples=max(30, EXAMPLES // 5))
@given(
    doc=st.dictionaries(
        st.sampled_from(
            ["workspace", "users", "integrations", "pages", "databases", "company", "other"]
        ),
        documents(["engineering", "runbooks", "maya.chen"]),
        max_size=3,
    )
)
def test_admin_fixtures_survive_arbitrary_documents(target, doc):
    service, _, _ = target
    with service.admin() as admin:
        response = admin.post("/_admin/fixtures", content=json.dumps(doc).encode())
    assert response.status_code in (200, 400), response.text
    assert "error" in response.json() or response.json()["ok"] is True
