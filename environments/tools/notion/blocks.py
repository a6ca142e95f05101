"""Block types: what a request may create or change, in the shape Notion stores and answers.

A block is stored as its type plus the type's payload in output form (``{"rich_text": [...],
"color": "default"}`` for a paragraph); its children are separate rows. Pages and databases are
blocks too (``child_page`` / ``child_database``), but they are made through their own endpoints.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from environments.tools.notion.errors import body_invalid, validation
from environments.tools.notion.richtext import COLORS, Resolver, parse_rich_text, plain

TEXT_TYPES = frozenset(
    {
        "paragraph",
        "heading_1",
        "heading_2",
        "heading_3",
        "bulleted_list_item",
        "numbered_list_item",
        "quote",
        "to_do",
        "toggle",
        "callout",
    }
)
CREATABLE = TEXT_TYPES | {
    "code",
    "divider",
    "breadcrumb",
    "table",
    "table_row",
    "bookmark",
    "table_of_contents",
    "equation",
}
READ_ONLY = frozenset({"child_page", "child_database"})
ALL_TYPES = CREATABLE | READ_ONLY
# Types whose blocks may hold children (headings only when toggleable; tables hold rows only).
NESTABLE = (TEXT_TYPES - {"heading_1", "heading_2", "heading_3"}) | {"table"}
HEADINGS = frozenset({"heading_1", "heading_2", "heading_3"})

MAX_CHILDREN = 100
MAX_DEPTH = 2  # children of children of the appended blocks, as Notion allows per request
MAX_BLOCKS_PER_REQUEST = 1000

CODE_LANGUAGES = frozenset(
    """abap abc agda arduino ascii-art assembly bash basic bnf c c# c++ clojure coffeescript coq
    css dart dhall diff docker ebnf elixir elm erlang f# flow fortran gherkin glsl go graphql
    groovy haskell hcl html idris java javascript json julia kotlin latex less lisp livescript
    llvm-ir lua makefile markdown markup matlab mathematica mermaid nix notion-formula
    objective-c ocaml pascal perl php plain-text powershell prolog protobuf purescript python r
    racket reason ruby rust sass scala scheme scss shell smalltalk solidity sql swift toml
    typescript vb.net verilog vhdl visual-basic webassembly xml yaml java/c/c++/c#""".replace(
        "-", " "
    ).split()
) | {"ascii art", "llvm ir", "notion formula", "plain text", "visual basic"}


@dataclass
class NewBlock:
    """A block parsed from a request, with its children, ready to be stored."""

    type: str
    payload: dict[str, Any]
    children: list[NewBlock] = field(default_factory=list)

    def count(self) -> int:
        return 1 + sum(child.count() for child in self.children)


def block_plain(kind: str, payload: Mapping[str, Any]) -> str:
    """The searchable text of a block."""
    if "rich_text" in payload:
        return plain(payload["rich_text"])
    if kind == "table_row":
        return " | ".join(plain(cell) for cell in payload.get("cells", []))
    if kind in ("child_page", "child_database"):
        return str(payload.get("title", ""))
    if kind == "bookmark":
        return str(payload.get("url", ""))
    if kind == "equation":
        return str(payload.get("expression", ""))
    return ""


def parse_children(
    value: Any, path: str, resolver: Resolver, parent_type: str | None = None
) -> list[NewBlock]:
    """The ``children`` array of an append / page create, validated (nesting, limits);
    ``parent_type`` is the type of the block they are appended to (``table`` takes rows)."""
    blocks = _parse_list(value, path, resolver, depth=0, parent_type=parent_type)
    total = sum(block.count() for block in blocks)
    if total > MAX_BLOCKS_PER_REQUEST:
        raise validation(
            f"body failed validation: a request may create at most {MAX_BLOCKS_PER_REQUEST} "
            f"blocks, this one has {total}."
        )
    return blocks


def _parse_list(
    value: Any, path: str, resolver: Resolver, *, depth: int, parent_type: str | None
) -> list[NewBlock]:
    if not isinstance(value, list):
        raise body_invalid(path, "an array", value)
    if len(value) > MAX_CHILDREN:
        raise validation(
            f"body failed validation: body.{path}.length should be ≤ `{MAX_CHILDREN}`, "
            f"instead was `{len(value)}`."
        )
    blocks = [_parse_block(raw, f"{path}[{i}]", resolver, depth) for i, raw in enumerate(value)]
    for i, block in enumerate(blocks):
        if (block.type == "table_row") != (parent_type == "table"):
            raise validation(
                f"body failed validation: body.{path}[{i}] is a {block.type} block; "
                + (
                    "table rows can only be children of a table."
                    if block.type == "table_row"
                    else "a table can only hold table_row blocks."
                )
            )
    return blocks


def block_type_of(raw: Mapping[str, Any]) -> str | None:
    kind = raw.get("type")
    if isinstance(kind, str):
        return kind
    present = [k for k in raw if k in ALL_TYPES]
    return present[0] if len(present) == 1 else None


def _parse_block(raw: Any, path: str, resolver: Resolver, depth: int) -> NewBlock:
    if not isinstance(raw, Mapping):
        raise body_invalid(path, "an object", raw)
    kind = block_type_of(raw)
    if kind is None:
        raise body_invalid(f"{path}.type", "defined (or exactly one block type key)")
    if kind in READ_ONLY:
        raise validation(
            f"body failed validation: body.{path}.type `{kind}` cannot be created by appending "
            "blocks; use the create page API."
        )
    if kind not in CREATABLE:
        raise body_invalid(f"{path}.type", "a supported block type", kind)
    payload_raw = raw.get(kind, {})
    if not isinstance(payload_raw, Mapping):
        raise body_invalid(f"{path}.{kind}", "an object", payload_raw)
    payload = parse_payload(kind, payload_raw, f"{path}.{kind}", resolver, base=None)
    children_raw = payload_raw.get("children", raw.get("children"))
    children: list[NewBlock] = []
    if children_raw is not None:
        if kind not in NESTABLE and not (kind in HEADINGS and payload.get("is_toggleable")):
            raise validation(
                f"body failed validation: body.{path} is a {kind} block, which cannot have "
                "children."
            )
        if depth >= MAX_DEPTH:
            raise validation(
                f"body failed validation: body.{path}.{kind}.children nests more than "
                f"{MAX_DEPTH} levels below the appended blocks; append the rest in another request."
            )
        children = _parse_list(
            children_raw, f"{path}.{kind}.children", resolver, depth=depth + 1, parent_type=kind
        )
    if kind == "table":
        if not children:
            raise body_invalid(f"{path}.table.children", "defined")
        for i, row in enumerate(children):
            if len(row.payload["cells"]) != payload["table_width"]:
                raise validation(
                    f"body failed validation: body.{path}.table.children[{i}]: number of cells "
                    "in table row must match the table width of the parent."
                )
    return NewBlock(kind, payload, children)


def parse_payload(
    kind: str,
    raw: Mapping[str, Any],
    path: str,
    resolver: Resolver,
    *,
    base: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The stored payload of a ``kind`` block from a request; ``base`` supplies omitted fields
    (block updates may send only what changes)."""
    base = dict(base or {})
    out: dict[str, Any] = {}

    def rich(name: str, required: bool) -> list[dict[str, Any]]:
        if name in raw:
            return parse_rich_text(raw[name], f"{path}.{name}", resolver)
        if name in base:
            return base[name]
        if required:
            raise body_invalid(f"{path}.{name}", "defined")
        return []

    def color(default: str = "default") -> str:
        value = raw.get("color", base.get("color", default))
        if value not in COLORS:
            raise body_invalid(f"{path}.color", "a valid color", value)
        return value

    def flag(name: str) -> bool:
        value = raw.get(name, base.get(name, False))
        if not isinstance(value, bool):
            raise body_invalid(f"{path}.{name}", "a boolean", value)
        return value

    if kind in TEXT_TYPES:
        out["rich_text"] = rich("rich_text", required=True)
        if kind in HEADINGS:
            out["is_toggleable"] = flag("is_toggleable")
        if kind == "to_do":
            out["checked"] = flag("checked")
        if kind == "callout":
            out["icon"] = (
                parse_icon(raw["icon"], f"{path}.icon")
                if "icon" in raw
                else (base.get("icon") or {"type": "emoji", "emoji": "💡"})
            )
        out["color"] = color()
    elif kind == "code":
        out["caption"] = rich("caption", required=False)
        out["rich_text"] = rich("rich_text", required=True)
        language = raw.get("language", base.get("language", "plain text"))
        if language not in CODE_LANGUAGES:
            raise body_invalid(f"{path}.language", "a supported language", language)
        out["language"] = language
    elif kind == "table":
        width = raw.get("table_width", base.get("table_width"))
        if isinstance(width, bool) or not isinstance(width, int) or not 1 <= width <= 100:
            raise body_invalid(f"{path}.table_width", "a number between 1 and 100", width)
        if base and width != base.get("table_width"):
            raise validation("The table width of an existing table cannot be changed.")
        out["table_width"] = width
        out["has_column_header"] = flag("has_column_header")
        out["has_row_header"] = flag("has_row_header")
    elif kind == "table_row":
        cells = raw.get("cells", base.get("cells"))
        if not isinstance(cells, list) or not cells or len(cells) > 100:
            raise body_invalid(f"{path}.cells", "an array of rich text arrays", cells)
        if "cells" in raw:
            cells = [
                parse_rich_text(cell, f"{path}.cells[{i}]", resolver)
                for i, cell in enumerate(cells)
            ]
        if base and len(cells) != len(base.get("cells", [])):
            raise validation(
                "Number of cells in table row must match the table width of the parent."
            )
        out["cells"] = cells
    elif kind == "bookmark":
        url = raw.get("url", base.get("url"))
        if not isinstance(url, str) or not url.strip() or len(url) > 2000:
            raise body_invalid(f"{path}.url", "a URL string", url)
        out["caption"] = rich("caption", required=False)
        out["url"] = url.strip()
    elif kind == "table_of_contents":
        out["color"] = color()
    elif kind == "equation":
        expression = raw.get("expression", base.get("expression"))
        if not isinstance(expression, str) or len(expression) > 2000:
            raise body_invalid(f"{path}.expression", "a string", expression)
        out["expression"] = expression
    elif kind in ("divider", "breadcrumb"):
        pass
    elif kind in ("child_page", "child_database"):
        title = raw.get("title", base.get("title"))
        if not isinstance(title, str) or len(title) > 2000:
            raise body_invalid(f"{path}.title", "a string", title)
        out["title"] = title
    return out


def parse_icon(value: Any, path: str) -> dict[str, Any] | None:
    """An icon: ``{"type": "emoji", "emoji": "🔥"}`` or an external image URL (or null)."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise body_invalid(path, "an object or `null`", value)
    kind = value.get("type") or (
        "emoji" if "emoji" in value else "external" if "external" in value else None
    )
    if kind == "emoji":
        emoji = value.get("emoji")
        if not isinstance(emoji, str) or not 0 < len(emoji) <= 16:
            raise body_invalid(f"{path}.emoji", "an emoji", emoji)
        return {"type": "emoji", "emoji": emoji}
    if kind == "external":
        return {"type": "external", "external": {"url": _external_url(value, path)}}
    raise body_invalid(f"{path}.type", '`"emoji"` or `"external"`', kind)


def parse_cover(value: Any, path: str) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise body_invalid(path, "an object or `null`", value)
    if (value.get("type") or "external") != "external":
        raise body_invalid(f"{path}.type", '`"external"`', value.get("type"))
    return {"type": "external", "external": {"url": _external_url(value, path)}}


def _external_url(value: Mapping[str, Any], path: str) -> str:
    external = value.get("external")
    url = external.get("url") if isinstance(external, Mapping) else None
    if not isinstance(url, str) or not url.strip() or len(url) > 2000:
        raise body_invalid(f"{path}.external.url", "a URL string", url)
    return url.strip()
