"""The Notion MCP server against the real Notion imitation seeded with Acme's fixtures.

Every tool with good arguments (effects read back with notion-client, as another integration
would see them), Markdown in and out (a document survives create_page then fetch unchanged),
simple property values and filters translated with the database's schema, and bad arguments
turned into one-line tool errors that say what to do.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from mcp import Client
from notion_client import Client as NotionClient

from mcp_servers.notion import create_server, markdown_blocks
from tests.tools.conftest import free_port
from tests.tools.notion_support import (
    AGENT_TOKEN,
    client,
    data_source_id,
    find_page,
    notion_service,
    title,
)

pytestmark = pytest.mark.anyio

TOOLS = {
    "search",
    "fetch",
    "get_block_children",
    "append_blocks",
    "create_page",
    "update_page",
    "query_data_source",
    "get_comments",
    "create_comment",
    "list_users",
    "get_self",
}
READ_ONLY = {
    "search",
    "fetch",
    "get_block_children",
    "query_data_source",
    "get_comments",
    "list_users",
    "get_self",
}

# A document in the Markdown fetch writes: create_page then fetch gives it back unchanged
# (except the callout, written GitHub-style and read back with its icon).
DOCUMENT = """# Postmortem

Checkout **failed** for *some* users; see [the runbook](https://example.com/runbook) and `ACME_POOL`.

## Timeline

- 04:45 alerts fire
  - pager to on-call
    - acked in 2 min
- 05:31 resolved
1. first
2. second
- [ ] follow up
- [x] rolled back

> [!WARNING] Careful during the freeze

> A plain quote

<details><summary>Raw logs</summary>
Nothing unusual.
</details>

| When | What |
| --- | --- |
| 04:45 | alert |
| 05:31 | ~~fixed~~ |

```python
print("hi")
```

---

Final line"""


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    with notion_service(tmp_path_factory.mktemp("mcp-notion")) as svc:
        yield svc


@pytest.fixture(scope="module")
def server(service):
    return create_server(service.url, AGENT_TOKEN)


@pytest.fixture(scope="module")
def notion(service) -> NotionClient:
    """notion-client with the agent's token, to read effects back through the REST API."""
    return client(service)


async def call_result(server, tool: str, **args: Any):
    async with Client(server) as mcp:
        result = await mcp.call_tool(tool, args)
    assert not result.is_error, result.content[0].text
    return result


async def call(server, tool: str, **args: Any) -> dict[str, Any]:
    result = await call_result(server, tool, **args)
    data = json.loads(result.content[0].text)
    assert data == result.structured_content
    return data


async def error(server, tool: str, **args: Any) -> str:
    async with Client(server) as mcp:
        result = await mcp.call_tool(tool, args)
    assert result.is_error, result.content[0].text
    text = result.content[0].text
    assert "Traceback" not in text and text != f"Error executing tool {tool}", text
    return text


def blocks(notion: NotionClient, block_id: str) -> list[dict[str, Any]]:
    return notion.blocks.children.list(block_id, page_size=100)["results"]


def plain(block: dict[str, Any]) -> str:
    return "".join(t["plain_text"] for t in block[block["type"]].get("rich_text", []))


async def test_the_tools_are_notions_own_with_bounded_parameters(server):
    async with Client(server) as mcp:
        tools = {t.name: t for t in (await mcp.list_tools()).tools}
    assert set(tools) == TOOLS
    for tool in tools.values():
        assert tool.description and len(tool.description) > 40, tool.name
        assert tool.annotations.read_only_hint is (tool.name in READ_ONLY), tool.name
        for name, prop in tool.input_schema.get("properties", {}).items():
            assert prop.get("description"), (tool.name, name)
    search = tools["search"].input_schema["properties"]
    assert search["page_size"]["maximum"] == 100
    assert search["filter"]["anyOf"][0]["enum"] == ["page", "database"]
    assert tools["fetch"].input_schema["required"] == ["id"]
    assert set(tools["create_page"].input_schema["required"]) == {"parent", "title"}
    assert set(tools["append_blocks"].input_schema["required"]) == {"block_id", "markdown"}
    assert tools["query_data_source"].input_schema["required"] == ["data_source"]
    assert tools["get_self"].input_schema.get("required", []) == []


def shape(markdown: str) -> list[tuple[str, str, int]]:
    """(type, text, number of children) of each top-level block ``markdown`` becomes."""
    return [
        (
            b["type"],
            "".join(t["text"]["content"] for t in b[b["type"]].get("rich_text", [])),
            len(b[b["type"]].get("children", [])),
        )
        for b in markdown_blocks(markdown)
    ]


async def test_markdown_is_read_the_way_agents_write_it():
    assert shape("Steps:\n1. build\n2. deploy") == [
        ("paragraph", "Steps:", 0),
        ("numbered_list_item", "build", 0),
        ("numbered_list_item", "deploy", 0),
    ]
    assert shape("We shipped in\n2026. It held.") == [
        ("paragraph", "We shipped in\n2026. It held.", 0)
    ]
    assert shape("Notes\n- a\n  - a.1\n\n- b") == [
        ("paragraph", "Notes", 0),
        ("bulleted_list_item", "a", 1),
        ("bulleted_list_item", "b", 0),
    ]
    assert shape("Above\n---\nBelow") == [
        ("paragraph", "Above", 0),
        ("divider", "", 0),
        ("paragraph", "Below", 0),
    ]
    assert shape("- [X] done\n* [ ] open") == [("to_do", "done", 0), ("to_do", "open", 0)]
    assert shape("#### Deep heading") == [("heading_3", "Deep heading", 0)]
    assert shape("```\nplain\n```")[0][0] == "code"
    (code,) = markdown_blocks("```sh\nmake test\n```")
    assert code["code"]["language"] == "shell"
    long = markdown_blocks("x" * 4500)[0]["paragraph"]["rich_text"]
    assert [len(t["text"]["content"]) for t in long] == [2000, 2000, 500]
    (para,) = markdown_blocks("see snake_case_name and https://acme.dev/x, **bold _both_**")
    rich = para["paragraph"]["rich_text"]
    assert rich[0]["text"]["content"] == "see snake_case_name and "
    assert rich[1]["text"]["link"] == {"url": "https://acme.dev/x"}
    assert rich[-1]["annotations"] == {"bold": True, "italic": True}


async def test_search_finds_pages_and_databases(server, notion):
    pages = await call(server, "search", query="runbook", filter="page")
    titles = [r["title"] for r in pages["results"]]
    assert "Runbook: Ingress 502s" in titles and {r["type"] for r in pages["results"]} == {"page"}
    row = pages["results"][0]
    assert set(row) <= {"type", "id", "title", "parent", "last_edited", "in_trash"}

    databases = await call(server, "search", query="RFCs", filter="database")
    rfcs = next(r for r in databases["results"] if r["title"] == "RFCs")
    assert rfcs["type"] == "database" and rfcs["id"] == data_source_id(notion, "RFCs")
    assert rfcs["database_id"] and rfcs["description"].startswith("Proposals")

    first = await call(server, "search", query="runbook", page_size=2)
    assert len(first["results"]) == 2 and first["next_cursor"]
    rest = await call(server, "search", query="runbook", page_size=100, cursor=first["next_cursor"])
    assert not {r["id"] for r in first["results"]} & {r["id"] for r in rest["results"]}

    newest = await call(server, "search", filter="page", sort="last_edited_desc", page_size=5)
    edited = [r["last_edited"] for r in newest["results"]]
    assert edited == sorted(edited, reverse=True)


async def test_fetch_renders_a_page_as_markdown_by_id_url_or_title(server, notion):
    page = find_page(notion, "Deploy procedure")
    for ref in (page["url"], page["id"].replace("-", ""), "deploy procedure"):
        result = await call_result(server, "fetch", id=ref)
        text = result.content[0].text
        assert text.startswith("# Deploy procedure\n") and f"id: {page['id']}" in text
        data = result.structured_content
        assert data["id"] == page["id"] and data["title"] == "Deploy procedure"
        markdown = data["markdown"]
        assert "## Canary analysis" in markdown and markdown in text
        assert "| Check | Fails when |\n| --- | --- |\n| Error rate" in markdown
        assert "1. **Build** the release" in markdown and "2. **Checks**" in markdown

    wiki = (await call_result(server, "fetch", id="Engineering")).structured_content
    runbooks = find_page(notion, "Runbooks")
    assert f"[📄 Runbooks]({runbooks['id']})" in wiki["markdown"]
    assert "[🗃️ Incidents](" in wiki["markdown"]

    postmortem = find_page(notion, "2026-10-14 checkout failures (payments pool exhaustion)")
    row = await call_result(server, "fetch", id=postmortem["id"], include_content=False)
    assert row.structured_content["properties"]["Severity"] == "SEV1"
    assert row.structured_content["properties"]["Commander"] == ["Kenji Watanabe"]
    assert "markdown" not in row.structured_content and "Severity: SEV1" in row.content[0].text


async def test_fetch_a_database_gives_its_schema(server, notion):
    source = data_source_id(notion, "Incidents")
    database = notion.data_sources.retrieve(source)["parent"]["database_id"]
    for ref in (source, database, "Incidents"):
        data = (await call_result(server, "fetch", id=ref)).structured_content
        assert data["type"] == "database" and data["title"] == "Incidents"
        assert data["data_source_id"] == source and data["database_id"] == database
        assert data["properties"]["Status"] == (
            "status: Investigating | Mitigated | Resolved | Postmortem done"
        )
        assert data["properties"]["Incident"] == "title"


async def test_markdown_survives_create_page_then_fetch(server, notion):
    parent = find_page(notion, "Engineering")
    created = await call(
        server,
        "create_page",
        parent=parent["id"],
        title="MCP postmortem",
        content=DOCUMENT,
        icon="🧪",
    )
    assert created["title"] == "MCP postmortem" and created["parent"] == {"page": parent["id"]}
    assert created["url"] and created["blocks_added"] > 20

    page = notion.pages.retrieve(created["id"])
    assert title(page) == "MCP postmortem" and page["icon"]["emoji"] == "🧪"
    top = blocks(notion, created["id"])
    kinds = [b["type"] for b in top]
    assert kinds[:3] == ["heading_1", "paragraph", "heading_2"]
    assert kinds.count("numbered_list_item") == 2 and kinds.count("to_do") == 2
    for kind in ("callout", "quote", "toggle", "table", "code", "divider"):
        assert kind in kinds, kind
    paragraph = top[1]["paragraph"]["rich_text"]
    assert [t["plain_text"] for t in paragraph if t["annotations"]["bold"]] == ["failed"]
    assert [t["href"] for t in paragraph if t["href"]] == ["https://example.com/runbook"]
    nested = blocks(notion, top[3]["id"])  # three levels of bullets, appended in two steps
    assert plain(nested[0]) == "pager to on-call"
    assert plain(blocks(notion, nested[0]["id"])[0]) == "acked in 2 min"
    code = next(b for b in top if b["type"] == "code")["code"]
    assert code["language"] == "python" and code["rich_text"][0]["plain_text"] == 'print("hi")'
    table = next(b for b in top if b["type"] == "table")
    assert len(blocks(notion, table["id"])) == 3

    fetched = (await call_result(server, "fetch", id=created["id"])).structured_content
    expected = DOCUMENT.replace("> [!WARNING] Careful", "> ⚠️ Careful")
    assert fetched["markdown"] == expected


async def test_append_blocks_at_the_end_or_after_a_block(server, notion):
    parent = find_page(notion, "Engineering")
    page = await call(
        server, "create_page", parent=parent["url"], title="MCP scratch", content="First\n\nLast"
    )
    appended = await call(
        server, "append_blocks", block_id=page["id"], markdown="## Added\n- one\n- two"
    )
    assert appended["appended"] == 3 and len(appended["block_ids"]) == 3
    texts = [plain(b) for b in blocks(notion, page["id"])]
    assert texts == ["First", "Last", "Added", "one", "two"]

    first_id = blocks(notion, page["id"])[0]["id"]
    await call(server, "append_blocks", block_id=page["url"], markdown="Second", after=first_id)
    assert [plain(b) for b in blocks(notion, page["id"])][:3] == ["First", "Second", "Last"]

    listed = await call(server, "get_block_children", block_id=page["id"], page_size=2)
    assert [b["text"] for b in listed["blocks"]] == ["First", "Second"]
    assert listed["next_cursor"]
    more = await call(
        server, "get_block_children", block_id=page["id"], cursor=listed["next_cursor"]
    )
    assert [b["type"] for b in more["blocks"]] == [
        "paragraph",
        "heading_2",
        "bulleted_list_item",
        "bulleted_list_item",
    ]
    assert more["blocks"][1]["text"] == "## Added"


async def test_database_rows_with_simple_property_values(server, notion):
    created = await call(
        server,
        "create_page",
        parent="Incidents",
        title="MCP: checkout 500s",
        properties={
            "Status": "investigating",
            "severity": "SEV2",
            "Services": ["api", "payments"],
            "Date": "2026-11-20T10:00:00Z → 2026-11-20T10:40:00Z",
            "Commander": "maya.chen@acme.dev",
            "Action items": "Roll back **api**",
        },
        content="## Timeline\n- 10:00 alert",
    )
    assert created["parent"] == {"database": data_source_id(notion, "Incidents")}
    page = notion.pages.retrieve(created["id"])
    props = page["properties"]
    assert title(page) == "MCP: checkout 500s"
    assert props["Status"]["status"]["name"] == "Investigating"
    assert props["Severity"]["select"]["name"] == "SEV2"
    assert [o["name"] for o in props["Services"]["multi_select"]] == ["api", "payments"]
    assert props["Date"]["date"]["start"].startswith("2026-11-20T10:00")
    assert props["Date"]["date"]["end"].startswith("2026-11-20T10:40")
    assert [p["name"] for p in props["Commander"]["people"]] == ["Maya Chen"]
    assert props["Action items"]["rich_text"][1]["annotations"]["bold"]
    assert [b["type"] for b in blocks(notion, created["id"])] == ["heading_2", "bulleted_list_item"]

    updated = await call(
        server,
        "update_page",
        page_id=created["url"],
        title="MCP: checkout 500s (resolved)",
        properties={
            "Status": "Resolved",
            "Services": ["api"],
            "Commander": None,
            "Severity": {"select": {"name": "SEV3"}},
        },
        icon="✅",
    )
    assert updated["title"] == "MCP: checkout 500s (resolved)"
    assert updated["properties"]["Status"] == "Resolved"
    page = notion.pages.retrieve(created["id"])
    props = page["properties"]
    assert title(page) == "MCP: checkout 500s (resolved)" and page["icon"]["emoji"] == "✅"
    assert props["Status"]["status"]["name"] == "Resolved"
    assert props["Severity"]["select"]["name"] == "SEV3"
    assert [o["name"] for o in props["Services"]["multi_select"]] == ["api"]
    assert props["Commander"]["people"] == []

    trashed = await call(server, "update_page", page_id=created["id"], archive=True)
    assert trashed["in_trash"] is True and notion.pages.retrieve(created["id"])["in_trash"]
    restored = await call(server, "update_page", page_id=created["id"], archive=False)
    assert "in_trash" not in restored and not notion.pages.retrieve(created["id"])["in_trash"]


async def test_replace_content_keeps_sub_pages(server, notion):
    parent = find_page(notion, "Engineering")
    page = await call(
        server,
        "create_page",
        parent=parent["id"],
        title="MCP replace me",
        content="Old one\n\nOld two",
    )
    child = await call(server, "create_page", parent=page["id"], title="MCP kept child")
    result = await call(
        server, "update_page", page_id=page["id"], replace_content="# New\n\nFresh text"
    )
    assert result["blocks_written"] == 2
    after = blocks(notion, page["id"])
    assert [b["type"] for b in after] == ["child_page", "heading_1", "paragraph"]
    assert after[0]["id"] == child["id"] and plain(after[2]) == "Fresh text"


async def test_query_data_source_with_simple_filters_and_sorts(server, notion):
    source = data_source_id(notion, "Incidents")
    severe = await call(
        server,
        "query_data_source",
        data_source="Incidents",
        filter={"Severity": ["SEV1", "SEV2"]},
        sorts=["Date desc"],
    )
    raw = notion.data_sources.query(
        source,
        filter={
            "or": [
                {"property": "Severity", "select": {"equals": "SEV1"}},
                {"property": "Severity", "select": {"equals": "SEV2"}},
            ]
        },
        sorts=[{"property": "Date", "direction": "descending"}],
    )["results"]
    assert [r["id"] for r in severe["results"]] == [r["id"] for r in raw]
    assert severe["data_source_id"] == source and severe["database"] == "Incidents"
    pm = next(r for r in severe["results"] if r["title"].startswith("2026-10-14"))
    assert pm["properties"]["Severity"] == "SEV1"
    assert pm["properties"]["Services"] == ["payments", "api"]
    assert pm["properties"]["Date"] == "2026-10-14T04:45:00.000Z → 2026-10-14T05:31:00.000Z"

    recent = await call(
        server,
        "query_data_source",
        data_source=source,
        filter={"Date": ">=2026-11-01", "Services": "payments"},
    )
    titles = {r["title"] for r in recent["results"]}
    assert "Payment provider degraded card authorisations (EU)" in titles
    assert "2026-10-14 checkout failures (payments pool exhaustion)" not in titles

    drafts = await call(
        server,
        "query_data_source",
        data_source="rfcs",
        filter={"Status": "draft", "Author": "Mei Lin"},
    )
    assert [r["title"] for r in drafts["results"]] == ["Separate queue for marketing email"]

    raw_filter = await call(
        server,
        "query_data_source",
        data_source="RFCs",
        page_size=2,
        filter={"property": "Status", "status": {"equals": "Implemented"}},
        sorts=["-Date"],
    )
    assert len(raw_filter["results"]) == 2 and raw_filter["next_cursor"]
    assert all(r["properties"]["Status"] == "Implemented" for r in raw_filter["results"])
    rest = await call(
        server,
        "query_data_source",
        data_source="RFCs",
        page_size=100,
        filter={"property": "Status", "status": {"equals": "Implemented"}},
        sorts=["-Date"],
        cursor=raw_filter["next_cursor"],
    )
    dates = [r["properties"]["Date"] for r in raw_filter["results"] + rest["results"]]
    assert dates == sorted(dates, reverse=True)


async def test_comments_and_replies(server, notion):
    page = find_page(notion, "Deploy procedure")
    seeded = await call(server, "get_comments", block_id=page["url"])
    authors = [c["author"] for c in seeded["comments"]]
    assert authors[:2] == ["Aisha Bello", "Tomasz Nowak"]
    assert seeded["comments"][0]["discussion_id"] == seeded["comments"][1]["discussion_id"]

    made = await call(
        server,
        "create_comment",
        page_id=page["id"],
        text="Thresholds are in the deployer config: see `deployer.yaml`.",
    )
    reply = await call(
        server, "create_comment", discussion_id=made["discussion_id"], text="Linked it."
    )
    assert reply["discussion_id"] == made["discussion_id"]
    stored = {c["id"]: c for c in notion.comments.list(block_id=page["id"])["results"]}
    assert stored[made["id"]]["rich_text"][1]["annotations"]["code"]
    assert stored[reply["id"]]["discussion_id"] == made["discussion_id"]
    again = await call(server, "get_comments", block_id=page["id"])
    assert again["comments"][-1]["text"] == "Linked it."
    assert again["comments"][-1]["author"] == "Acme Agent"


async def test_users_and_self(server, notion):
    found = await call(server, "list_users", query="maya")
    assert found["users"] == [
        {
            "id": found["users"][0]["id"],
            "name": "Maya Chen",
            "type": "person",
            "email": "maya.chen@acme.dev",
        }
    ]
    first = await call(server, "list_users", page_size=3)
    assert len(first["users"]) == 3 and first["next_cursor"]
    second = await call(server, "list_users", page_size=3, cursor=first["next_cursor"])
    assert not {u["id"] for u in first["users"]} & {u["id"] for u in second["users"]}
    me = await call(server, "get_self")
    assert me == {
        "id": notion.users.me()["id"],
        "name": "Acme Agent",
        "type": "bot",
        "workspace": "Acme Commerce Inc.",
    }


async def test_bad_arguments_are_one_line_errors_saying_what_to_do(server, notion):
    missing = "00000000-0000-4000-8000-000000000000"
    assert "Nothing with id" in await error(server, "fetch", id=missing)
    assert "No page or database titled" in await error(server, "fetch", id="No such page")
    assert "Use search" in await error(server, "get_block_children", block_id=missing)
    assert "not a Notion block id" in await error(server, "get_block_children", block_id="nope")
    assert "No database called" in await error(server, "query_data_source", data_source="Nope db")
    message = await error(server, "query_data_source", data_source="RFCs", filter={"Owner": "me"})
    assert "No property 'Owner'" in message and "Status" in message
    message = await error(
        server, "query_data_source", data_source="RFCs", filter={"Status": "Done"}
    )
    assert "not a Status option" in message and "Implemented" in message
    assert "No property 'Priority'" in await error(
        server, "query_data_source", data_source="RFCs", sorts=["Priority desc"]
    )
    engineering = find_page(notion, "Engineering")["id"]
    assert "only a title" in await error(
        server, "create_page", parent=engineering, title="x", properties={"Status": "Draft"}
    )
    assert "cannot be set" in await error(
        server, "create_page", parent="Incidents", title="x", properties={"Created": "2020-01-01"}
    )
    assert "No Notion user matches" in await error(
        server,
        "create_page",
        parent="Incidents",
        title="x",
        properties={"Commander": "nobody@example.com"},
    )
    assert "Nothing to update" in await error(server, "update_page", page_id=engineering)
    assert "exactly one of" in await error(server, "create_comment", text="hi")
    assert "nothing to append" in await error(
        server, "append_blocks", block_id=engineering, markdown="  \n"
    )
    assert "page_size" in await error(server, "search", page_size=500)


async def test_api_failures_become_tool_errors(service):
    wrong = create_server(service.url, "ntn_000000000000NotARealIntegrationToken000000")
    assert "rejected the integration token" in await error(wrong, "get_self")
    nowhere = create_server(f"http://127.0.0.1:{free_port()}", AGENT_TOKEN)
    assert "Cannot reach Notion" in await error(nowhere, "search", query="x")
