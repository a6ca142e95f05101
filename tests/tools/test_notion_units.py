"""The pure parts of the Notion imitation: ids, Markdown → blocks, rich text, filters."""

from __future__ import annotations

import pytest

from environments.tools.notion.errors import NotionError
from environments.tools.notion.ids import normalise_id
from environments.tools.notion.markdown import Refs, inline_markdown, markdown_blocks
from environments.tools.notion.properties import add_option
from environments.tools.notion.query import compile_filter, sort_rows
from environments.tools.notion.richtext import parse_rich_text, plain

UUID = "1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9"


class NoMentions:
    def user_name(self, user_id):
        return "Maya Chen" if user_id == UUID else None

    def page_title(self, page_id):
        return None

    def database_title(self, database_id):
        return None


@pytest.mark.parametrize(
    "raw",
    [
        UUID,
        UUID.upper(),
        UUID.replace("-", ""),
        "Runbook-High-error-rate-" + UUID.replace("-", ""),
        "https://www.notion.so/acme/Runbook-" + UUID.replace("-", "") + "?pvs=4",
    ],
)
def test_ids_are_normalised_to_dashed_lower_case(raw):
    assert normalise_id(raw) == UUID


@pytest.mark.parametrize("raw", ["", "abc", "g" * 32, UUID[:-1], None, 5, "x" * 5000])
def test_non_ids_are_refused(raw):
    assert normalise_id(raw) is None


def test_markdown_blocks_cover_the_common_types():
    blocks = markdown_blocks(
        "# Title\n"
        "Intro line one\nline two with **bold** and `code`.\n\n"
        "- item\n  - nested\n- [x] done\n"
        "1. first\n2. second\n\n"
        "> [!WARNING] Careful\n\n"
        "> quoted\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |\n\n"
        "```sh\necho hi\n```\n"
        "<details><summary>More</summary>\n\nhidden\n\n</details>\n"
        "---\n"
    )
    assert [b.type for b in blocks] == [
        "heading_1",
        "paragraph",
        "bulleted_list_item",
        "to_do",
        "numbered_list_item",
        "numbered_list_item",
        "callout",
        "quote",
        "table",
        "code",
        "toggle",
        "divider",
    ]
    paragraph = blocks[1].payload["rich_text"]
    assert plain(paragraph) == "Intro line one line two with bold and code."
    assert [r["annotations"]["bold"] for r in paragraph] == [False, True, False, False, False]
    assert paragraph[3]["annotations"]["code"] is True
    assert [c.type for c in blocks[2].children] == ["bulleted_list_item"]
    assert blocks[3].payload["checked"] is True
    assert blocks[6].payload["icon"] == {"type": "emoji", "emoji": "⚠️"}
    table = blocks[8]
    assert table.payload == {"table_width": 2, "has_column_header": True, "has_row_header": False}
    assert [plain(c) for c in table.children[1].payload["cells"]] == ["1", "2"]
    assert (
        blocks[9].payload["language"] == "shell"
        and plain(blocks[9].payload["rich_text"]) == "echo hi"
    )
    assert (
        plain(blocks[10].payload["rich_text"]) == "More"
        and blocks[10].children[0].type == "paragraph"
    )


def test_markdown_is_deterministic_and_resolves_mentions():
    refs = Refs(
        user=lambda k: (UUID, "Maya Chen") if k == "maya.chen" else None, page=lambda k: None
    )
    text = "Ask <@maya.chen> about <page:nope> at https://status.acme.dev."
    first = inline_markdown(text, refs)
    assert first == inline_markdown(text, refs)
    assert [(r["type"], r["plain_text"]) for r in first] == [
        ("text", "Ask "),
        ("mention", "@Maya Chen"),
        ("text", " about <page:nope> at "),
        ("text", "https://status.acme.dev"),
        ("text", "."),
    ]
    assert first[3]["href"] == "https://status.acme.dev"
    # snake_case stays text, not italics.
    assert plain(inline_markdown("set ACME_FLAGS_FILE and _x_")) == "set ACME_FLAGS_FILE and x"


def test_rich_text_requests_are_filled_out():
    items = parse_rich_text(
        [
            {
                "text": {"content": "hi ", "link": {"url": "https://acme.dev"}},
                "annotations": {"bold": True},
            },
            {"type": "mention", "mention": {"user": {"id": UUID.replace("-", "")}}},
            {"type": "equation", "equation": {"expression": "e=mc^2"}},
        ],
        "rich_text",
        NoMentions(),
    )
    assert items[0]["plain_text"] == "hi " and items[0]["href"] == "https://acme.dev"
    assert items[0]["annotations"] == {
        "bold": True,
        "italic": False,
        "strikethrough": False,
        "underline": False,
        "code": False,
        "color": "default",
    }
    assert items[1]["plain_text"] == "@Maya Chen" and items[1]["mention"]["user"]["id"] == UUID
    assert items[2]["plain_text"] == "e=mc^2"
    for bad in ([{"text": {}}], [{"mention": {"user": {"id": "0" * 32}}}], "x", [{"type": "file"}]):
        with pytest.raises(NotionError) as err:
            parse_rich_text(bad, "rich_text", NoMentions())
        assert err.value.code == "validation_error"


def _schema():
    status = {"id": "st", "name": "Status", "type": "status"}
    for name in ("Draft", "Done"):
        add_option(status, name, "k")
    return [
        {"id": "title", "name": "Name", "type": "title"},
        status,
        {"id": "n", "name": "Points", "type": "number"},
        {"id": "c", "name": "Flag", "type": "checkbox"},
        {"id": "d", "name": "Due", "type": "date"},
    ]


def _row(name, status, points, flag, due):
    schema = _schema()
    return (
        {
            "title": inline_markdown(name),
            "st": schema[1]["options"][status]["id"] if status is not None else None,
            "n": points,
            "c": flag,
            "d": {"start": due, "end": None, "time_zone": None} if due else None,
        },
        {
            "created_time": "2026-01-01T00:00:00.000Z",
            "last_edited_time": "2026-01-01T00:00:00.000Z",
            "created_by": UUID,
            "last_edited_by": UUID,
        },
    )


ROWS = [
    _row("Alpha plan", 0, 3, True, "2026-09-22"),
    _row("beta", 1, None, False, "2026-10-14T05:00:00Z"),
    _row("Gamma", None, 8, False, None),
]


@pytest.mark.parametrize(
    "flt, expected",
    [
        ({"property": "Name", "title": {"contains": "ALPHA"}}, [0]),
        ({"property": "Name", "rich_text": {"starts_with": "b"}}, [1]),
        ({"property": "Status", "status": {"equals": "done"}}, [1]),
        ({"property": "Status", "status": {"is_empty": True}}, [2]),
        ({"property": "Points", "number": {"greater_than": 2}}, [0, 2]),
        ({"property": "Flag", "checkbox": {"equals": True}}, [0]),
        ({"property": "Due", "date": {"equals": "2026-10-14"}}, [1]),
        ({"property": "Due", "date": {"on_or_before": "2026-09-22"}}, [0]),
        ({"property": "Due", "date": {"is_not_empty": True}}, [0, 1]),
        (
            {
                "or": [
                    {"property": "Flag", "checkbox": {"equals": True}},
                    {"and": [{"property": "Points", "number": {"is_empty": True}}]},
                ]
            },
            [0, 1],
        ),
        ({"timestamp": "created_time", "created_time": {"after": "2025-12-31"}}, [0, 1, 2]),
    ],
)
def test_filters(flt, expected):
    test = compile_filter(flt, _schema(), now=0)
    assert [i for i, row in enumerate(ROWS) if test(row)] == expected


@pytest.mark.parametrize(
    "flt",
    [
        {"property": "Nope", "title": {"contains": "x"}},
        {"property": "Status", "select": {"equals": "Done"}},
        {"property": "Points", "number": {"greater_than": "2"}},
        {"property": "Due", "date": {"before": "soon"}},
        {"or": [{"and": [{"or": []}]}]},
        {"property": "Name", "title": {"contains": "a", "equals": "b"}},
        "status = done",
    ],
)
def test_bad_filters_are_validation_errors(flt):
    with pytest.raises(NotionError) as err:
        compile_filter(flt, _schema(), now=0)
    assert err.value.code == "validation_error"


def test_sorts_put_empty_values_last_both_ways():
    rows = list(range(3))
    asc = sort_rows(
        rows,
        [{"property": "Points", "direction": "ascending"}],
        _schema(),
        lambda i: ROWS[i],
        lambda u: None,
    )
    desc = sort_rows(
        rows,
        [{"property": "Points", "direction": "descending"}],
        _schema(),
        lambda i: ROWS[i],
        lambda u: None,
    )
    assert asc == [0, 2, 1] and desc == [2, 0, 1]
    by_status = sort_rows(
        rows,
        [{"property": "Status", "direction": "descending"}],
        _schema(),
        lambda i: ROWS[i],
        lambda u: None,
    )
    assert by_status == [1, 0, 2]  # option order, empty last
