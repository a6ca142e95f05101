"""notion-client (the official Python SDK) against the local Notion, with both Notion-Version
values it may send: search, pages, property items, blocks, databases/data sources, comments,
users, and pagination through the SDK's own helpers."""

from __future__ import annotations

import asyncio
import re

import pytest
from notion_client import APIResponseError, AsyncClient
from notion_client.helpers import (
    async_collect_paginated_api,
    collect_paginated_api,
    iterate_paginated_api,
)

from environments.tools.notion.markdown import markdown_blocks
from environments.tools.notion.richtext import plain
from tests.tools.notion_support import (
    AGENT_TOKEN,
    NEW,
    OLD,
    VERSIONS,
    client,
    data_source_id,
    database_id,
    find_page,
    notion_service,
    title,
)

DASHED = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    with notion_service(tmp_path_factory.mktemp("notion-client")) as svc:
        yield svc


@pytest.fixture(params=VERSIONS)
def notion(request, service):
    return client(service, request.param)


def version_of(notion) -> str:
    return notion.options.notion_version


# -- search ---------------------------------------------------------------------------------


def test_search_finds_runbooks_by_title_first(notion):
    response = notion.search(query="runbook")
    assert response["object"] == "list"
    kind = "page_or_data_source" if version_of(notion) == NEW else "page_or_database"
    assert response["type"] == kind and response[kind] == {}
    assert DASHED.match(response["request_id"])
    titles = [title(p) for p in response["results"] if p["object"] == "page"]
    runbooks = [t for t in titles if t.startswith("Runbook:")]
    assert len(runbooks) == 6
    # Title matches rank before pages that only mention the word in their content.
    first_other = next(i for i, t in enumerate(titles) if "runbook" not in t.lower())
    assert all(i < first_other for i, t in enumerate(titles) if t in runbooks)


def test_search_matches_page_content(notion):
    titles = {title(p) for p in notion.search(query="ACME_FLAGS_FILE")["results"]}
    assert {"Architecture overview", "Feature flags (OpenFeature)"} <= titles
    assert "On-call guide" not in titles


def test_search_filter_values_follow_the_version(notion):
    container = "data_source" if version_of(notion) == NEW else "database"
    other = "database" if container == "data_source" else "data_source"
    found = notion.search(filter={"property": "object", "value": container})["results"]
    assert sorted("".join(t["plain_text"] for t in r["title"]) for r in found) == [
        "Incidents",
        "RFCs",
    ]
    assert {r["object"] for r in found} == {container}
    pages = notion.search(filter={"property": "object", "value": "page"})["results"]
    assert pages and {p["object"] for p in pages} == {"page"}
    with pytest.raises(APIResponseError) as err:
        notion.search(filter={"property": "object", "value": other})
    assert err.value.code == "validation_error" and err.value.status == 400


def test_search_paginates_through_the_helpers(notion):
    everything = notion.search(page_size=100)["results"]
    assert len(everything) > 30
    paged = collect_paginated_api(notion.search, page_size=7)
    assert [r["id"] for r in paged] == [r["id"] for r in everything]
    first = notion.search(page_size=7)
    assert first["has_more"] is True and first["next_cursor"] == everything[7]["id"]


def test_search_sorts_by_last_edited_time(notion):
    asc = notion.search(
        filter={"property": "object", "value": "page"},
        sort={"direction": "ascending", "timestamp": "last_edited_time"},
    )["results"]
    stamps = [p["last_edited_time"] for p in asc]
    assert stamps == sorted(stamps) and stamps[0] < stamps[-1]
    desc = notion.search(
        filter={"property": "object", "value": "page"},
        sort={"direction": "descending", "timestamp": "last_edited_time"},
    )["results"]
    assert [p["last_edited_time"] for p in desc] == sorted(stamps, reverse=True)


# -- users ----------------------------------------------------------------------------------


def test_users_list_me_and_retrieve(notion):
    me = notion.users.me()
    assert me["type"] == "bot" and me["name"] == "Acme Agent"
    assert me["bot"]["workspace_name"] == "Acme Commerce Inc."
    people = collect_paginated_api(notion.users.list, page_size=5)
    names = {u["name"] for u in people}
    assert {"Maya Chen", "Aisha Bello", "Acme Agent"} <= names and len(people) == 26
    maya = next(u for u in people if u["name"] == "Maya Chen")
    assert maya["person"]["email"] == "maya.chen@acme.dev"
    again = notion.users.retrieve(maya["id"].replace("-", ""))
    assert DASHED.match(again.pop("request_id")) and again == maya
    with pytest.raises(APIResponseError) as err:
        notion.users.retrieve("0" * 32)
    assert err.value.code == "object_not_found" and err.value.status == 404


# -- pages ----------------------------------------------------------------------------------


def test_page_retrieve_accepts_dashless_ids_and_url_slugs(notion):
    page = find_page(notion, "On-call guide")
    assert DASHED.match(page["id"])
    slug = page["url"].rsplit("/", 1)[1]  # On-call-guide-<32 hex>
    for form in (page["id"].replace("-", ""), slug, page["id"].upper()):
        assert notion.pages.retrieve(form)["id"] == page["id"]
    assert page["parent"]["type"] == "page_id"
    assert page["properties"]["title"]["id"] == "title"
    assert page["created_by"]["object"] == "user" and page["icon"]["emoji"] == "📟"
    assert page["url"].startswith("https://www.notion.so/On-call-guide-")


def test_database_rows_have_version_specific_parents(notion):
    row = find_page(notion, "2026-09-22 ingress 502s")
    parent = row["parent"]
    if version_of(notion) == NEW:
        assert parent["type"] == "data_source_id"
        assert parent["database_id"] and parent["data_source_id"] != parent["database_id"]
    else:
        assert parent == {"type": "database_id", "database_id": parent["database_id"]}
    props = row["properties"]
    assert props["Severity"]["select"]["name"] == "SEV2"
    assert props["Status"]["status"]["name"] == "Postmortem done"
    assert props["Date"]["date"]["start"].startswith("2026-09-22T09:25")
    assert [p["name"] for p in props["Commander"]["people"]] == ["Aisha Bello"]
    assert [o["name"] for o in props["Services"]["multi_select"]] == ["ingress", "web"]
    assert props["Created"]["created_time"] == row["created_time"]


def test_create_update_and_archive_a_page(notion):
    parent = find_page(notion, "Runbooks")
    page = notion.pages.create(
        parent={"page_id": parent["id"].replace("-", "")},
        properties={"title": [{"text": {"content": "Runbook: Disk full"}}]},
        icon={"emoji": "💾"},
        children=[
            {"heading_2": {"rich_text": [{"text": {"content": "First five minutes"}}]}},
            {
                "paragraph": {
                    "rich_text": [
                        {"text": {"content": "Check "}},
                        {"text": {"content": "df -h"}, "annotations": {"code": True}},
                        {"text": {"content": " docs", "link": {"url": "https://acme.dev"}}},
                    ]
                }
            },
        ],
    )
    assert page["object"] == "page" and title(page) == "Runbook: Disk full"
    assert page["parent"] == {"type": "page_id", "page_id": parent["id"]}
    assert page["created_by"]["id"] == notion.users.me()["id"]
    blocks = notion.blocks.children.list(page["id"])["results"]
    assert [b["type"] for b in blocks] == ["heading_2", "paragraph"]
    rich = blocks[1]["paragraph"]["rich_text"]
    assert [r["plain_text"] for r in rich] == ["Check ", "df -h", " docs"]
    assert rich[1]["annotations"] == {
        "bold": False,
        "italic": False,
        "strikethrough": False,
        "underline": False,
        "code": True,
        "color": "default",
    }
    assert rich[2]["href"] == "https://acme.dev" and rich[0]["href"] is None
    # The new page is a child_page block of its parent.
    siblings = collect_paginated_api(notion.blocks.children.list, block_id=parent["id"])
    assert any(b["id"] == page["id"] and b["type"] == "child_page" for b in siblings)

    renamed = notion.pages.update(
        page["id"],
        properties={"title": {"title": [{"text": {"content": "Runbook: Disk almost full"}}]}},
    )
    assert title(renamed) == "Runbook: Disk almost full"
    trashed = notion.pages.update(page["id"], in_trash=True)
    assert trashed["in_trash"] is True and trashed["archived"] is True
    with pytest.raises(APIResponseError) as err:
        notion.pages.update(page["id"], properties={"title": [{"text": {"content": "x"}}]})
    assert err.value.code == "validation_error"
    assert page["id"] not in [b["id"] for b in notion.blocks.children.list(parent["id"])["results"]]
    restored = notion.pages.update(page["id"], archived=False)
    assert restored["in_trash"] is False


def test_create_database_row_and_update_its_properties(notion):
    new = version_of(notion) == NEW
    if new:
        parent = {"data_source_id": data_source_id(notion, "Incidents")}
    else:
        parent = {"database_id": database_id(notion, "Incidents")}
    maya = next(u for u in notion.users.list()["results"] if u["name"] == "Maya Chen")
    row = notion.pages.create(
        parent=parent,
        properties={
            "Incident": {
                "title": [
                    {"text": {"content": f"Search 429s for integrators {version_of(notion)}"}}
                ]
            },
            "Status": {"status": {"name": "Investigating"}},
            "Severity": {"select": {"name": "SEV3"}},
            "Services": {"multi_select": [{"name": "api"}, {"name": "search"}]},
            "Date": {"date": {"start": "2026-11-20"}},
            "Commander": {"people": [{"object": "user", "id": maya["id"]}]},
        },
    )
    assert row["properties"]["Services"]["multi_select"][1]["name"] == "search"  # new option
    updated = notion.pages.update(
        row["id"],
        properties={
            "Status": {"status": {"name": "Resolved"}},
            "Action items": {"rich_text": [{"text": {"content": "SHOP-188"}}]},
        },
    )
    assert updated["properties"]["Status"]["status"]["name"] == "Resolved"
    assert updated["properties"]["Severity"]["select"]["name"] == "SEV3"  # untouched
    assert updated["last_edited_by"]["id"] == notion.users.me()["id"]
    with pytest.raises(APIResponseError) as err:
        notion.pages.update(row["id"], properties={"Status": {"status": {"name": "Closed"}}})
    assert err.value.code == "validation_error" and "Closed" in str(err.value)
    with pytest.raises(APIResponseError) as err:
        notion.pages.update(row["id"], properties={"Nope": {"checkbox": True}})
    assert err.value.code == "validation_error"
    with pytest.raises(APIResponseError) as err:
        notion.pages.update(row["id"], properties={"Severity": {"status": {"name": "SEV1"}}})
    assert err.value.code == "validation_error"


def test_property_items(notion):
    row = find_page(notion, "2026-10-14 checkout failures (payments pool exhaustion)")
    item = notion.pages.properties.retrieve(row["id"], "title")
    assert item["object"] == "list" and item["type"] == "property_item"
    assert item["property_item"]["type"] == "title"
    assert "".join(r["title"]["plain_text"] for r in item["results"]) == title(row)
    severity = row["properties"]["Severity"]["id"]
    single = notion.pages.properties.retrieve(row["id"], severity)
    assert single["object"] == "property_item" and single["select"]["name"] == "SEV1"
    people = notion.pages.properties.retrieve(row["id"], row["properties"]["Commander"]["id"])
    assert [p["people"]["name"] for p in people["results"]] == ["Kenji Watanabe"]
    with pytest.raises(APIResponseError) as err:
        notion.pages.properties.retrieve(row["id"], "zzzz")
    assert err.value.code == "object_not_found"


# -- blocks ---------------------------------------------------------------------------------


def test_block_children_paginate_via_the_query_string(notion):
    page = find_page(notion, "Deploy procedure")
    full = notion.blocks.children.list(page["id"])
    assert full["type"] == "block" and full["block"] == {} and not full["has_more"]
    first = notion.blocks.children.list(page["id"], page_size=4)
    assert len(first["results"]) == 4 and first["has_more"]
    assert first["next_cursor"] == full["results"][4]["id"]
    walked = list(
        iterate_paginated_api(notion.blocks.children.list, block_id=page["id"], page_size=4)
    )
    assert [b["id"] for b in walked] == [b["id"] for b in full["results"]]
    kinds = {b["type"] for b in walked}
    assert {"heading_2", "paragraph", "numbered_list_item", "table"} <= kinds
    table = next(b for b in walked if b["type"] == "table")
    assert table["has_children"] is True
    rows = notion.blocks.children.list(table["id"])["results"]
    assert (
        rows[0]["type"] == "table_row"
        and len(rows[0]["table_row"]["cells"]) == table["table"]["table_width"]
    )


def test_append_returns_only_the_appended_blocks_in_position(notion):
    page = notion.pages.create(
        parent={"page_id": find_page(notion, "Engineering")["id"]},
        properties={"title": [{"text": {"content": f"Scratch {version_of(notion)}"}}]},
        children=[{"paragraph": {"rich_text": [{"text": {"content": t}}]}} for t in "ac"],
    )
    first, last = notion.blocks.children.list(page["id"])["results"]
    appended = notion.blocks.children.append(
        page["id"],
        children=[{"paragraph": {"rich_text": [{"text": {"content": "b"}}]}}],
        after=first["id"],
    )
    assert appended["object"] == "list" and appended["type"] == "block"
    assert [b["paragraph"]["rich_text"][0]["plain_text"] for b in appended["results"]] == ["b"]
    start = notion.blocks.children.append(
        page["id"],
        children=[{"type": "divider", "divider": {}}],
        position={"type": "start"},
    )
    nested = notion.blocks.children.append(
        page["id"],
        children=[
            {
                "toggle": {
                    "rich_text": [{"text": {"content": "details"}}],
                    "children": [{"to_do": {"rich_text": [{"text": {"content": "check"}}]}}],
                }
            }
        ],
    )
    assert nested["results"][0]["has_children"] is True
    order = notion.blocks.children.list(page["id"])["results"]
    assert [b["id"] for b in order] == [
        start["results"][0]["id"],
        first["id"],
        appended["results"][0]["id"],
        last["id"],
        nested["results"][0]["id"],
    ]
    with pytest.raises(APIResponseError) as err:
        notion.blocks.children.append(
            page["id"],
            children=[{"paragraph": {"rich_text": []}}],
            after=find_page(notion, "Engineering")["id"],
        )
    assert err.value.code == "validation_error"
    with pytest.raises(APIResponseError) as err:  # dividers cannot hold children
        notion.blocks.children.append(start["results"][0]["id"], children=[{"divider": {}}])
    assert err.value.code == "validation_error"


def test_block_retrieve_update_delete(notion):
    page = notion.pages.create(
        parent={"page_id": find_page(notion, "Engineering")["id"]},
        properties={"title": [{"text": {"content": f"Checklist {version_of(notion)}"}}]},
        children=[{"to_do": {"rich_text": [{"text": {"content": "write runbook"}}]}}],
    )
    todo = notion.blocks.children.list(page["id"])["results"][0]
    got = notion.blocks.retrieve(todo["id"].replace("-", ""))
    assert got["id"] == todo["id"] and got["to_do"]["checked"] is False
    assert got["parent"] == {"type": "page_id", "page_id": page["id"]}
    done = notion.blocks.update(todo["id"], to_do={"checked": True})
    assert done["to_do"]["checked"] is True
    assert done["to_do"]["rich_text"][0]["plain_text"] == "write runbook"
    with pytest.raises(APIResponseError) as err:
        notion.blocks.update(todo["id"], paragraph={"rich_text": []})
    assert err.value.code == "validation_error"
    deleted = notion.blocks.delete(todo["id"])
    assert deleted["archived"] is True and deleted["in_trash"] is True
    assert notion.blocks.retrieve(todo["id"])["in_trash"] is True
    assert notion.blocks.children.list(page["id"])["results"] == []
    with pytest.raises(APIResponseError) as err:
        notion.blocks.update(todo["id"], to_do={"checked": False})
    assert err.value.code == "validation_error"
    restored = notion.blocks.update(todo["id"], archived=False)
    assert restored["in_trash"] is False
    # A page is a child_page block; renaming it through the block renames the page.
    as_block = notion.request(  # notion-client's blocks.update does not pass child_page on
        path=f"blocks/{page['id']}",
        method="PATCH",
        body={"child_page": {"title": "Checklist (renamed)"}},
    )
    assert (
        as_block["type"] == "child_page"
        and as_block["child_page"]["title"] == "Checklist (renamed)"
    )
    assert title(notion.pages.retrieve(page["id"])) == "Checklist (renamed)"


# -- databases and data sources -------------------------------------------------------------


def test_database_retrieve_shape_depends_on_version(service):
    new, old = client(service, NEW), client(service, OLD)
    db_id = database_id(old, "Incidents")
    ds_id = data_source_id(new, "Incidents")
    fresh = new.databases.retrieve(db_id)
    assert fresh["data_sources"] == [{"id": ds_id, "name": "Incidents"}]
    assert "properties" not in fresh
    legacy = old.databases.retrieve(db_id.replace("-", ""))
    assert "data_sources" not in legacy
    assert list(legacy["properties"])[:4] == ["Incident", "Status", "Severity", "Date"]
    source = new.data_sources.retrieve(ds_id)
    assert source["object"] == "data_source"
    assert source["parent"] == {"type": "database_id", "database_id": db_id}
    assert source["properties"] == legacy["properties"]
    status = source["properties"]["Status"]["status"]
    assert [g["name"] for g in status["groups"]] == ["To-do", "In progress", "Complete"]
    with pytest.raises(APIResponseError) as err:
        new.data_sources.retrieve(db_id)  # a database id is not a data source id
    assert err.value.code == "validation_error"
    with pytest.raises(APIResponseError) as err:
        old.data_sources.retrieve(ds_id)
    assert err.value.code == "invalid_request_url"
    with pytest.raises(APIResponseError) as err:
        new.request(path=f"databases/{db_id}/query", method="POST", body={})
    assert err.value.code == "invalid_request_url"


def _names(response) -> list[str]:
    """Titles of the rows of a query, leaving out rows other tests of this module create."""
    return [title(p) for p in response["results"] if not title(p).startswith("Search 429s")]


def test_data_source_query_filters_and_sorts(service):
    notion = client(service, NEW)
    ds = data_source_id(notion, "Incidents")
    sev1 = notion.data_sources.query(
        ds, filter={"property": "Severity", "select": {"equals": "SEV1"}}
    )
    assert sev1["type"] == "page_or_data_source"
    assert _names(sev1) == ["2026-10-14 checkout failures (payments pool exhaustion)"]
    ingress = notion.data_sources.query(
        ds, filter={"property": "Incident", "title": {"contains": "INGRESS"}}
    )
    assert _names(ingress) == ["2026-09-22 ingress 502s"]
    worker_sev4 = notion.data_sources.query(
        ds,
        filter={
            "and": [
                {"property": "Services", "multi_select": {"contains": "worker"}},
                {"property": "Severity", "select": {"equals": "SEV4"}},
            ]
        },
        sorts=[{"property": "Date", "direction": "ascending"}],
    )
    assert _names(worker_sev4) == [
        "Fulfilment queue backlog at night",
        "Worker object store volume 91% full",
    ]
    either = notion.data_sources.query(
        ds,
        filter={
            "or": [
                {"property": "Status", "status": {"equals": "Postmortem done"}},
                {"property": "Date", "date": {"after": "2026-11-10"}},
            ]
        },
        sorts=[{"property": "Date", "direction": "descending"}],
    )
    assert _names(either)[:3] == [
        "Payment provider degraded card authorisations (EU)",
        "2026-10-14 checkout failures (payments pool exhaustion)",
        "2026-09-22 ingress 502s",
    ]
    before = notion.data_sources.query(
        ds, filter={"property": "Date", "date": {"before": "2026-09-20"}}
    )
    assert sorted(_names(before)) == [
        "Fulfilment queue backlog at night",
        "Order confirmation emails 20–40 minutes late",
    ]
    by_time = notion.data_sources.query(
        ds, sorts=[{"timestamp": "created_time", "direction": "ascending"}]
    )
    stamps = [p["created_time"] for p in by_time["results"]]
    assert stamps == sorted(stamps)
    paged = collect_paginated_api(notion.data_sources.query, data_source_id=ds, page_size=2)
    assert [p["id"] for p in paged] == [p["id"] for p in notion.data_sources.query(ds)["results"]]
    assert len(paged) == len(by_time["results"]) >= 8
    only = notion.data_sources.query(ds, filter_properties=["title"], page_size=1)
    assert list(only["results"][0]["properties"]) == ["Incident"]
    with pytest.raises(APIResponseError) as err:
        notion.data_sources.query(ds, filter={"property": "Severity", "checkbox": {"equals": True}})
    assert err.value.code == "validation_error"
    with pytest.raises(APIResponseError) as err:
        notion.data_sources.query(ds, filter={"property": "Missing", "select": {"equals": "x"}})
    assert err.value.code == "validation_error"


def test_rfc_query_by_status_checkbox_free(service):
    notion = client(service, NEW)
    ds = data_source_id(notion, "RFCs")
    drafts = notion.data_sources.query(
        ds,
        filter={"property": "Status", "status": {"equals": "Draft"}},
        sorts=[{"property": "RFC", "direction": "ascending"}],
    )
    assert _names(drafts) == [
        "Per-token rate limits for authenticated API integrations",
        "Separate queue for marketing email",
    ]
    authored = notion.data_sources.query(
        ds,
        filter={
            "property": "Author",
            "people": {"contains": drafts["results"][1]["properties"]["Author"]["people"][0]["id"]},
        },
    )
    assert _names(authored) == ["Separate queue for marketing email"]


def test_old_version_database_query_via_raw_request(service):
    notion = client(service, OLD)
    db = database_id(notion, "RFCs")
    response = notion.request(
        path=f"databases/{db}/query",
        method="POST",
        body={
            "filter": {"property": "Component", "select": {"equals": "payments"}},
            "sorts": [{"property": "Date", "direction": "descending"}],
        },
    )
    assert response["type"] == "page_or_database"
    assert _names(response) == ["Circuit breaker around the payment provider"]
    assert response["results"][0]["parent"] == {"type": "database_id", "database_id": db}


# -- comments -------------------------------------------------------------------------------


def test_comments_start_and_continue_discussions(notion):
    page = find_page(notion, "2026-10-14 checkout failures (payments pool exhaustion)")
    seeded = notion.comments.list(block_id=page["id"])
    assert seeded["type"] == "comment"
    texts = ["".join(t["plain_text"] for t in c["rich_text"]) for c in seeded["results"]]
    assert texts[0].startswith("Good write-up. INFRA-97")
    reply_to = seeded["results"][1]["discussion_id"]
    assert seeded["results"][2]["discussion_id"] == reply_to
    started = notion.comments.create(
        parent={"page_id": page["id"]}, rich_text=[{"text": {"content": "PAY-215 shipped."}}]
    )
    assert started["object"] == "comment" and started["parent"] == {
        "type": "page_id",
        "page_id": page["id"],
    }
    assert started["created_by"]["id"] == notion.users.me()["id"]
    reply = notion.comments.create(
        discussion_id=started["discussion_id"], rich_text=[{"text": {"content": "thanks"}}]
    )
    assert reply["discussion_id"] == started["discussion_id"]
    listed = collect_paginated_api(notion.comments.list, block_id=page["id"], page_size=2)
    assert [c["id"] for c in listed][-2:] == [started["id"], reply["id"]]
    assert notion.comments.retrieve(reply["id"])["id"] == reply["id"]
    with pytest.raises(APIResponseError) as err:
        notion.comments.create(rich_text=[{"text": {"content": "orphan"}}])
    assert err.value.code == "validation_error"
    with pytest.raises(APIResponseError) as err:
        notion.comments.create(discussion_id="0" * 32, rich_text=[{"text": {"content": "x"}}])
    assert err.value.code == "object_not_found"


# -- markdown -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "Architecture overview",
        "On-call guide",
        "2026-10-14 checkout failures (payments pool exhaustion)",
    ],
)
def test_page_markdown_round_trips_to_the_same_blocks(service, name):
    notion = client(service, NEW)
    page = find_page(notion, name)
    answer = notion.pages.retrieve_markdown(page["id"])
    assert answer["object"] == "page_markdown" and answer["id"] == page["id"]
    assert answer["truncated"] is False and answer["unknown_block_ids"] == []
    blocks = collect_paginated_api(notion.blocks.children.list, block_id=page["id"])
    again = markdown_blocks(answer["markdown"])

    def shape(kind, payload):
        if kind in ("child_page", "child_database"):  # written as a link to the page
            return "paragraph", payload["title"]
        return kind, " ".join(plain(payload.get("rich_text", [])).split())

    assert [shape(b.type, b.payload) for b in again] == [
        shape(b["type"], b[b["type"]]) for b in blocks
    ]


def test_page_markdown_insert_content(service):
    notion = client(service, NEW)
    page = notion.pages.create(
        parent={"page_id": find_page(notion, "Engineering")["id"]},
        properties={"title": [{"text": {"content": "Markdown notes"}}]},
        children=[{"paragraph": {"rich_text": [{"text": {"content": "first"}}]}}],
    )
    first = notion.blocks.children.list(page["id"])["results"][0]
    answer = notion.pages.update_markdown(
        page["id"],
        type="insert_content",
        insert_content={"content": "## Timeline\n\n- 09:25 502s start\n- [x] rolled back"},
    )
    assert answer["markdown"] == "first\n\n## Timeline\n\n- 09:25 502s start\n- [x] rolled back\n"
    notion.pages.update_markdown(
        page["id"],
        type="insert_content",
        insert_content={"content": "Summary", "after": first["id"]},
    )
    kinds = [b["type"] for b in notion.blocks.children.list(page["id"])["results"]]
    assert kinds == ["paragraph", "paragraph", "heading_2", "bulleted_list_item", "to_do"]
    with pytest.raises(APIResponseError) as err:
        notion.pages.update_markdown(page["id"], type="replace_content", replace_content={})
    assert err.value.code == "validation_error"


# -- the async client -----------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_async_client_paginates_too(service, version):
    async def run():
        async with AsyncClient(
            auth=AGENT_TOKEN, base_url=service.url, retry=False, notion_version=version
        ) as notion:
            results = await async_collect_paginated_api(notion.search, query="runbook", page_size=3)
            me = await notion.users.me()
            return results, me

    results, me = asyncio.run(run())
    assert me["name"] == "Acme Agent"
    assert [r["id"] for r in results] == [
        r["id"] for r in client(service, version).search(query="runbook")["results"]
    ]
    assert sum(title(r).startswith("Runbook:") for r in results if r["object"] == "page") >= 6
