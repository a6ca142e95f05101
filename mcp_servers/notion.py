"""MCP server for Notion: search, read pages as Markdown, write Markdown, databases, comments.

Modelled on Notion's two MCP servers: the hosted one (``notion-search``, ``notion-fetch`` that
renders a page as Markdown, ``notion-create-pages``, ``notion-update-page``,
``notion-query-data-sources``, comments, users) and makenotion/notion-mcp-server (one tool per
REST call: block children, append, query a data source, comments, users, self). It keeps the
hosted server's agent-friendly shape: ids or URLs anywhere an object is named, Markdown in and
out, simple ``{"Status": "Done"}`` property values and filters translated with the database's
schema; raw Notion filter and property objects are still accepted.

It talks to Notion's public REST API with the official client, ``notion_client.Client``
(Notion-Version 2025-09-03: databases hold data sources, rows are queried per data source), so
pointing it at api.notion.com is configuration only.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterator
from typing import Annotated, Any, Literal, TypeVar

import httpx
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from notion_client import APIResponseError, Client
from notion_client.errors import HTTPResponseError, RequestTimeoutError
from pydantic import Field

__all__ = ["create_server"]

INSTRUCTIONS = (
    "Notion, the team's wiki and databases (Incidents, RFCs ...). Find pages and databases with "
    "search, read one with fetch (Markdown), write with create_page / append_blocks (Markdown) "
    "and update_page. Any page, database or block may be named by id or URL. Lists return "
    "next_cursor: pass it as cursor for more."
)

READ = ToolAnnotations(read_only_hint=True, open_world_hint=False)
CREATE = ToolAnnotations(read_only_hint=False, destructive_hint=False, open_world_hint=False)
UPDATE = ToolAnnotations(read_only_hint=False, destructive_hint=True, open_world_hint=False)

MAX_TEXT = 2000  # characters per rich text item (Notion's limit)
MAX_CHILDREN = 100  # blocks per append request
MAX_RENDER_BLOCKS = 1500  # blocks fetch renders before it stops
MAX_RENDER_DEPTH = 8
_ID = re.compile(
    r"([0-9a-fA-F]{8})-?([0-9a-fA-F]{4})-?([0-9a-fA-F]{4})-?([0-9a-fA-F]{4})-?([0-9a-fA-F]{12})"
)
READ_ONLY_PROPS = frozenset(
    {
        "formula",
        "rollup",
        "created_time",
        "created_by",
        "last_edited_time",
        "last_edited_by",
        "unique_id",
        "verification",
        "button",
    }
)

# -- parameter types ---------------------------------------------------------------------------

Ref = Annotated[
    str,
    Field(min_length=1, max_length=500, description="A Notion id (with or without dashes) or URL."),
]
PageSize = Annotated[int, Field(ge=1, le=100, description="Results per page (1-100).")]
Cursor = Annotated[
    str | None,
    Field(max_length=200, description="next_cursor from the previous page, to continue."),
]
Markdown = Annotated[
    str,
    Field(
        max_length=200_000,
        description="Markdown: # headings, paragraphs, - bullets, 1. numbered, - [ ] to-dos, "
        "> quotes, > [!NOTE] callouts, ``` code ```, --- dividers, | tables |, "
        "<details><summary> toggles, **bold** *italic* `code` ~~strike~~ [links](url); "
        "indent to nest.",
    ),
]
Properties = Annotated[
    dict[str, Any] | None,
    Field(
        description='Property values by name, simply: {"Status": "Resolved", "Severity": '
        '"SEV2", "Services": ["api"], "Date": "2026-11-20", "Commander": '
        '"maya.chen@acme.dev", "Done": true}; null clears one. A raw Notion property value '
        "object is passed through as it is."
    ),
]

T = TypeVar("T")


# -- ids, results, errors ----------------------------------------------------------------------


def _notion_id(ref: str) -> str | None:
    """The dashed UUID in an id, a ``collection://`` id or a notion.so URL (its last one)."""
    path = ref.strip().split("?")[0].split("#")[0]
    found = _ID.findall(path)
    if not found:
        return None
    return "-".join(found[-1]).lower()


def _require_id(ref: str, what: str = "page") -> str:
    found = _notion_id(ref)
    if not found:
        raise ToolError(f"{ref!r} is not a Notion {what} id or URL: use search to find its id.")
    return found


def _out(data: dict[str, Any], text: str | None = None) -> CallToolResult:
    """A result as compact JSON (or the given text), with the object as structured content."""
    body = text if text is not None else json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return CallToolResult(content=[TextContent(type="text", text=body)], structured_content=data)


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None and v != [] and v != "" and v != {}}


def _api_message(exc: Exception) -> str:
    if isinstance(exc, APIResponseError):
        code = getattr(exc.code, "value", exc.code)
        message = str(exc).strip() or code
        if exc.status == 404 or code == "object_not_found":
            return f"Notion: {message} Use search to find the right id."
        if code == "unauthorized":
            return f"Notion rejected the integration token: {message}"
        if code == "restricted_resource":
            return f"Notion: the integration may not do this: {message}"
        if code == "rate_limited":
            return "Notion rate limit reached: wait a few seconds, then retry."
        if code == "conflict_error":
            return f"Notion: conflicting edit, retry: {message}"
        if exc.status >= 500:
            return f"Notion is unavailable (HTTP {exc.status}): {message} Retry shortly."
        return f"Notion rejected the request ({code}): {message}"
    if isinstance(exc, RequestTimeoutError):
        return "Notion did not answer in time: retry shortly."
    if isinstance(exc, HTTPResponseError):
        return f"Notion answered HTTP {exc.status}: {str(exc)[:200]} Retry shortly."
    return f"Cannot reach Notion: {exc}. Retry shortly."


def _notion_errors(fn: Callable[..., T]) -> Callable[..., T]:
    """Turn the client's exceptions into tool errors with a message an agent can act on."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        try:
            return fn(*args, **kwargs)
        except (APIResponseError, HTTPResponseError, RequestTimeoutError, httpx.HTTPError) as exc:
            raise ToolError(_api_message(exc)) from exc

    return wrapper


def _is_missing(exc: APIResponseError) -> bool:
    code = getattr(exc.code, "value", exc.code)
    return exc.status == 404 or code in ("object_not_found", "validation_error")


# -- rich text ---------------------------------------------------------------------------------


def _plain(rich: list[dict[str, Any]] | None) -> str:
    return "".join(item.get("plain_text", "") for item in rich or [])


def _wrap(text: str, mark: str) -> str:
    """``text`` inside ``mark`` with surrounding spaces kept outside (``** x**`` is not bold)."""
    core = text.strip()
    if not core:
        return text
    left = text[: len(text) - len(text.lstrip())]
    right = text[len(text.rstrip()) :]
    return f"{left}{mark}{core}{mark[::-1] if mark != '`' else mark}{right}"


def _rich_md(rich: list[dict[str, Any]] | None) -> str:
    """Rich text as inline Markdown: bold, italic, strikethrough, code, links, mentions."""
    parts: list[str] = []
    for item in rich or []:
        text = item.get("plain_text", "")
        kind = item.get("type")
        notes = item.get("annotations") or {}
        href = item.get("href")
        if kind == "equation":
            parts.append(f"${text}$")
            continue
        if notes.get("code"):
            text = _wrap(text, "`")
        if notes.get("bold"):
            text = _wrap(text, "**")
        if notes.get("italic"):
            text = _wrap(text, "*")
        if notes.get("strikethrough"):
            text = _wrap(text, "~~")
        if href and href != item.get("plain_text"):
            text = f"[{text}]({href})"
        parts.append(text)
    return "".join(parts)


_INLINE = re.compile(
    r"(?P<code>`[^`\n]+`)"
    r"|(?P<bold>\*\*(?=\S)(?P<bold_in>.+?)(?<=\S)\*\*)"
    r"|(?P<bold2>(?<!\w)__(?=\S)(?P<bold2_in>.+?)(?<=\S)__(?!\w))"
    r"|(?P<strike>~~(?=\S)(?P<strike_in>.+?)(?<=\S)~~)"
    r"|(?P<italic>\*(?=[^\s*])(?P<italic_in>.+?)(?<=[^\s*])\*)"
    r"|(?P<italic2>(?<!\w)_(?=[^\s_])(?P<italic2_in>.+?)(?<=[^\s_])_(?!\w))"
    r"|(?P<link>\[(?P<link_text>[^\]\n]+)\]\((?P<link_url>[^)\s]+)\))"
    r"|(?P<url>https?://[^\s)>\]]*[^\s)>\].,;:!?'\"])"
)


def _text_items(text: str, annotations: dict[str, bool], link: str | None) -> list[dict[str, Any]]:
    items = []
    for start in range(0, len(text), MAX_TEXT):
        item: dict[str, Any] = {
            "type": "text",
            "text": {"content": text[start : start + MAX_TEXT]},
        }
        if link:
            item["text"]["link"] = {"url": link}
        if annotations:
            item["annotations"] = dict(annotations)
        items.append(item)
    return items


def _rich(text: str, annotations: dict[str, bool] | None = None, link: str | None = None) -> list:
    """Inline Markdown as Notion rich text items."""
    notes = annotations or {}
    out: list[dict[str, Any]] = []
    pos = 0
    for match in _INLINE.finditer(text):
        if match.start() > pos:
            out += _text_items(text[pos : match.start()], notes, link)
        pos = match.end()
        if match.group("code"):
            out += _text_items(match.group("code")[1:-1], {**notes, "code": True}, link)
        elif match.group("bold"):
            out += _rich(match.group("bold_in"), {**notes, "bold": True}, link)
        elif match.group("bold2"):
            out += _rich(match.group("bold2_in"), {**notes, "bold": True}, link)
        elif match.group("strike"):
            out += _rich(match.group("strike_in"), {**notes, "strikethrough": True}, link)
        elif match.group("italic"):
            out += _rich(match.group("italic_in"), {**notes, "italic": True}, link)
        elif match.group("italic2"):
            out += _rich(match.group("italic2_in"), {**notes, "italic": True}, link)
        elif match.group("link"):
            out += _rich(match.group("link_text"), notes, match.group("link_url"))
        else:
            url = match.group("url")
            out += _text_items(url, notes, link or url)
    if pos < len(text):
        out += _text_items(text[pos:], notes, link)
    return out


# -- Markdown -> blocks ------------------------------------------------------------------------

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_LIST = re.compile(r"^(?P<indent>[ \t]*)(?P<marker>[-*+]|\d{1,4}[.)])\s+(?P<rest>.*)$")
_TODO = re.compile(r"^\[(?P<mark>[ xX])\]\s*(?P<text>.*)$")
_FENCE = re.compile(r"^\s*(```+|~~~+)\s*([\w+#.\- ]*)\s*$")
_DIVIDER = re.compile(r"^\s*([-*_])(\s*\1){2,}\s*$")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{1,}:?\s*(\|\s*:?-{1,}:?\s*)*\|?\s*$")
_CALLOUT = re.compile(r"^\[!(NOTE|TIP|WARNING|IMPORTANT|CAUTION|INFO)\]\s*(.*)$", re.IGNORECASE)
_DETAILS = re.compile(
    r"^\s*<details>\s*(?:<summary>(?P<summary>.*?)</summary>)?\s*$", re.IGNORECASE
)
_SUMMARY = re.compile(r"^\s*<summary>(?P<summary>.*?)</summary>\s*$", re.IGNORECASE)
_IMAGE = re.compile(r"^\s*!\[(?P<alt>[^\]]*)\]\((?P<url>[^)\s]+)\)\s*$")
CALLOUT_ICONS = {
    "NOTE": "💡",
    "INFO": "ℹ️",
    "TIP": "✅",
    "WARNING": "⚠️",
    "IMPORTANT": "❗",
    "CAUTION": "🚨",
}
CODE_LANGUAGES = {
    "": "plain text",
    "text": "plain text",
    "txt": "plain text",
    "plaintext": "plain text",
    "sh": "shell",
    "console": "shell",
    "zsh": "shell",
    "py": "python",
    "python3": "python",
    "js": "javascript",
    "ts": "typescript",
    "yml": "yaml",
    "md": "markdown",
    "dockerfile": "docker",
    "rb": "ruby",
    "rs": "rust",
    "golang": "go",
    "c++": "c++",
    "cpp": "c++",
    "cs": "c#",
    "csharp": "c#",
    "kt": "kotlin",
    "tf": "hcl",
    "terraform": "hcl",
    "ini": "plain text",
    "toml": "toml",
    "promql": "plain text",
    "jsonc": "json",
}
KNOWN_LANGUAGES = frozenset(
    """abap arduino bash basic c clojure coffeescript css dart diff docker elixir elm erlang
    flow fortran gherkin glsl go graphql groovy haskell html java javascript json julia kotlin
    latex less lisp livescript lua makefile markdown markup matlab mermaid nix objective-c
    ocaml pascal perl php powershell prolog protobuf python r reason ruby rust sass scala
    scheme scss shell sql swift toml typescript xml yaml""".split()  # noqa: SIM905
) | {"plain text", "c++", "c#", "hcl", "visual basic", "vb.net"}


def _language(tag: str) -> str:
    tag = tag.strip().lower().split()[0] if tag.strip() else ""
    lang = CODE_LANGUAGES.get(tag, tag)
    return lang if lang in KNOWN_LANGUAGES else "plain text"


def _block(kind: str, payload: dict[str, Any], children: list | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"object": "block", "type": kind, kind: payload}
    if children:
        payload["children"] = children
    return block


def _text_block(kind: str, text: str, children: list | None = None, **extra: Any) -> dict:
    return _block(kind, {"rich_text": _rich(text), **extra}, children)


def _indent_of(line: str) -> int:
    expanded = line.expandtabs(4)
    return len(expanded) - len(expanded.lstrip(" "))


def _dedent(lines: list[str]) -> list[str]:
    widths = [_indent_of(ln) for ln in lines if ln.strip()]
    cut = min(widths) if widths else 0
    return [ln.expandtabs(4)[cut:] if ln.strip() else "" for ln in lines]


def _table_cells(line: str) -> list[str]:
    row = line.strip()
    row = row.removeprefix("|")
    if row.endswith("|") and not row.endswith("\\|"):
        row = row[:-1]
    return [cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", row)]


def markdown_blocks(text: str) -> list[dict[str, Any]]:
    """Notion blocks (with nested ``children``) for a Markdown document."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    blocks: list[dict[str, Any]] = []
    i = 0
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            blocks.append(_text_block("paragraph", "\n".join(paragraph)))
            paragraph.clear()

    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if not stripped:
            flush()
            i += 1
            continue
        fence = _FENCE.match(line)
        if fence:
            flush()
            mark = fence.group(1)
            body: list[str] = []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith(mark):
                body.append(lines[i])
                i += 1
            i += 1  # the closing fence
            code = "\n".join(_dedent(body)) if body else ""
            blocks.append(
                _block(
                    "code",
                    {
                        "rich_text": _text_items(code, {}, None),
                        "language": _language(fence.group(2)),
                    },
                )
            )
            continue
        heading = _HEADING.match(stripped)
        if heading and _indent_of(line) < 4:
            flush()
            level = min(len(heading.group(1)), 3)
            blocks.append(_text_block(f"heading_{level}", heading.group(2)))
            i += 1
            continue
        if _DIVIDER.match(line):
            flush()
            blocks.append(_block("divider", {}))
            i += 1
            continue
        if (
            stripped.startswith("|")
            and i + 1 < len(lines)
            and _TABLE_RULE.match(lines[i + 1])
            and "-" in lines[i + 1]
        ):
            flush()
            rows = [_table_cells(line)]
            i += 2
            while i < len(lines) and lines[i].strip().startswith("|"):
                rows.append(_table_cells(lines[i]))
                i += 1
            width = max(len(r) for r in rows)
            table_rows = [
                _block("table_row", {"cells": [_rich(c) for c in row + [""] * (width - len(row))]})
                for row in rows
            ]
            blocks.append(
                _block(
                    "table",
                    {"table_width": width, "has_column_header": True, "has_row_header": False},
                    table_rows,
                )
            )
            continue
        details = _DETAILS.match(line)
        if details:
            flush()
            summary = details.group("summary")
            inner: list[str] = []
            depth = 1
            i += 1
            while i < len(lines):
                if _DETAILS.match(lines[i]) or lines[i].strip().lower().startswith("<details"):
                    depth += 1
                elif lines[i].strip().lower() == "</details>":
                    depth -= 1
                    if depth == 0:
                        break
                if summary is None and depth == 1 and _SUMMARY.match(lines[i]):
                    summary = _SUMMARY.match(lines[i]).group("summary")  # type: ignore[union-attr]
                else:
                    inner.append(lines[i])
                i += 1
            i += 1  # </details>
            children = markdown_blocks("\n".join(_dedent(inner)))
            blocks.append(_text_block("toggle", summary or "Details", children))
            continue
        if stripped.startswith(">"):
            flush()
            quoted: list[str] = []
            while i < len(lines) and lines[i].strip().startswith(">"):
                quoted.append(re.sub(r"^\s*>\s?", "", lines[i]))
                i += 1
            callout = _CALLOUT.match(quoted[0].strip())
            if callout:
                rest = [callout.group(2)] if callout.group(2) else []
                body_lines = rest + quoted[1:]
                first, *more = body_lines or [""]
                text_lines = [first]
                while more and more[0].strip() and not _LIST.match(more[0]):
                    text_lines.append(more.pop(0))
                blocks.append(
                    _text_block(
                        "callout",
                        "\n".join(text_lines).strip(),
                        markdown_blocks("\n".join(more)) or None,
                        icon={"type": "emoji", "emoji": CALLOUT_ICONS[callout.group(1).upper()]},
                    )
                )
            else:
                first_para: list[str] = []
                while quoted and quoted[0].strip():
                    first_para.append(quoted.pop(0))
                children = markdown_blocks("\n".join(quoted)) if quoted else []
                blocks.append(_text_block("quote", "\n".join(first_para), children or None))
            continue
        image = _IMAGE.match(line)
        if image:
            flush()
            alt, url = image.group("alt"), image.group("url")
            blocks.append(_block("paragraph", {"rich_text": _text_items(alt or url, {}, url)}))
            i += 1
            continue
        item = _LIST.match(line)
        # A numbered item interrupts a paragraph only from 1 ("in 2026. we ..." stays text).
        marker = item.group("marker") if item else ""
        if item and (not paragraph or not marker[0].isdigit() or marker[:-1] == "1"):
            flush()
            indent = _indent_of(line)
            i += 1
            nested: list[str] = []
            while i < len(lines):
                nxt = lines[i]
                if nxt.strip() and _indent_of(nxt) <= indent:
                    break
                if not nxt.strip():
                    # A blank line ends the item unless more indented content follows.
                    ahead = i + 1
                    while ahead < len(lines) and not lines[ahead].strip():
                        ahead += 1
                    if ahead >= len(lines) or _indent_of(lines[ahead]) <= indent:
                        break
                nested.append(nxt)
                i += 1
            children = markdown_blocks("\n".join(_dedent(nested))) if nested else []
            rest = item.group("rest")
            marker = item.group("marker")
            todo = _TODO.match(rest) if not marker[0].isdigit() else None
            if todo:
                blocks.append(
                    _text_block(
                        "to_do",
                        todo.group("text"),
                        children or None,
                        checked=todo.group("mark").lower() == "x",
                    )
                )
            elif marker[0].isdigit():
                blocks.append(_text_block("numbered_list_item", rest, children or None))
            else:
                blocks.append(_text_block("bulleted_list_item", rest, children or None))
            continue
        paragraph.append(stripped)
        i += 1
    flush()
    return blocks


# -- blocks -> Markdown ------------------------------------------------------------------------


def _block_line(block: dict[str, Any]) -> str:
    """One block's own text as a Markdown line, without its children."""
    kind = block["type"]
    data = block.get(kind) or {}
    text = _rich_md(data.get("rich_text"))
    if kind == "paragraph":
        return text
    if kind.startswith("heading_"):
        return "#" * int(kind[-1]) + " " + text
    if kind == "bulleted_list_item":
        return f"- {text}"
    if kind == "numbered_list_item":
        return f"1. {text}"
    if kind == "to_do":
        return f"- [{'x' if data.get('checked') else ' '}] {text}"
    if kind == "quote":
        return f"> {text}"
    if kind == "callout":
        icon = (data.get("icon") or {}).get("emoji") or ""
        return f"> {icon} {text}".replace(">  ", "> ")
    if kind == "toggle":
        return f"<details><summary>{text}</summary>"
    if kind == "code":
        lang = data.get("language") or ""
        return f"```{'' if lang == 'plain text' else lang}\n{_plain(data.get('rich_text'))}\n```"
    if kind == "divider":
        return "---"
    if kind == "equation":
        return f"$${data.get('expression', '')}$$"
    if kind == "child_page":
        return f"[📄 {data.get('title', 'Untitled')}]({block['id']})"
    if kind == "child_database":
        return f"[🗃️ {data.get('title', 'Untitled')}]({block['id']})"
    if kind == "link_to_page":
        target = data.get(data.get("type", ""), "")
        return f"[→ linked {data.get('type', 'page').replace('_id', '')}]({target})"
    if kind in ("bookmark", "embed", "link_preview"):
        url = data.get("url", "")
        caption = _plain(data.get("caption")) or url
        return f"[{caption}]({url})"
    if kind in ("image", "file", "pdf", "video", "audio"):
        source = data.get(data.get("type", ""), {}) or {}
        url = source.get("url", "")
        caption = _plain(data.get("caption")) or data.get("name") or kind
        return f"![{caption}]({url})" if kind == "image" else f"[{kind}: {caption}]({url})"
    if kind == "table_row":
        return "| " + " | ".join(_rich_md(cell) for cell in data.get("cells", [])) + " |"
    if kind in (
        "table_of_contents",
        "breadcrumb",
        "column_list",
        "column",
        "synced_block",
        "table",
    ):
        return ""
    return f"[{kind}]"


LIST_KINDS = frozenset({"bulleted_list_item", "numbered_list_item", "to_do"})


class _Renderer:
    """A block tree as compact Markdown, fetched level by level with a block budget."""

    def __init__(self, children: Callable[[str], Iterator[dict[str, Any]]]):
        self.children = children
        self.count = 0
        self.truncated = False

    def markdown(self, parent_id: str) -> str:
        return _join(self.render(parent_id, 0))

    def render(self, parent_id: str, depth: int) -> list[tuple[str, str]]:
        """``(kind, text)`` entries; ``text`` may span lines. Lists nest by indenting."""
        out: list[tuple[str, str]] = []
        number = 0
        for block in self.children(parent_id):
            self.count += 1
            if self.count > MAX_RENDER_BLOCKS:
                self.truncated = True
                break
            kind = block["type"]
            number = number + 1 if kind == "numbered_list_item" else 0
            if kind == "table":
                out.append(("table", self._table(block)))
                continue
            line = _block_line(block)
            if kind == "numbered_list_item":
                line = f"{number}." + line[2:]
            kids: list[tuple[str, str]] = []
            if block.get("has_children") and kind not in ("child_page", "child_database"):
                if depth >= MAX_RENDER_DEPTH:
                    self.truncated = True
                else:
                    kids = self.render(block["id"], depth + 1)
            if kind in LIST_KINDS:
                text = line.replace("\n", "\n  ")
                if kids:
                    text += "\n" + _indent(_join(kids), "  ")
                out.append(("list", text))
            elif kind in ("quote", "callout"):
                text = line.replace("\n", "\n> ")
                if kids:
                    text += "\n" + _indent(_join(kids), "> ", blank=">")
                out.append(("quote", text))
            elif kind == "toggle":
                inner = _join(kids)
                out.append(
                    ("toggle", f"{line}\n{inner}\n</details>" if inner else f"{line}</details>")
                )
            elif kind in ("column_list", "column", "synced_block") or (
                not line and kind != "paragraph"
            ):
                out += kids
            else:
                if line or kind == "paragraph":
                    out.append((kind, line))
                if kids:
                    out.append(("nested", _indent(_join(kids), "  ")))
        return out

    def _table(self, block: dict[str, Any]) -> str:
        rows = [_block_line(row) for row in self.children(block["id"])]
        self.count += len(rows)
        if not rows:
            return ""
        table = block.get("table") or {}
        width = table.get("table_width") or rows[0].count("|") - 1
        lines = rows[:1]
        if table.get("has_column_header", True):
            lines.append("|" + " --- |" * width)
        return "\n".join(lines + rows[1:])


def _indent(text: str, prefix: str, blank: str = "") -> str:
    return "\n".join(f"{prefix}{line}" if line else blank for line in text.split("\n"))


def _join(entries: list[tuple[str, str]]) -> str:
    """Entries as a document: a blank line between blocks, none between list items."""
    out = ""
    previous = None
    for kind, text in entries:
        if kind == "paragraph" and not text:
            previous = kind
            continue  # empty paragraphs are spacing in Notion, noise here
        if out:
            out += "\n" if kind == previous == "list" else "\n\n"
        out += text
        previous = kind
    return out


# -- properties --------------------------------------------------------------------------------


def _title_of(obj: dict[str, Any]) -> str:
    if obj.get("object") in ("data_source", "database"):
        return _plain(obj.get("title")) or "Untitled"
    for value in (obj.get("properties") or {}).values():
        if value.get("type") == "title":
            return _plain(value.get("title")) or "Untitled"
    return "Untitled"


def _person(user: dict[str, Any] | None) -> str | None:
    if not user:
        return None
    return user.get("name") or (user.get("person") or {}).get("email") or user.get("id")


def _simple(prop: dict[str, Any]) -> Any:
    """A property value as plain JSON: text, number, option name(s), date, people's names."""
    kind = prop.get("type")
    value = prop.get(kind) if kind else None
    if kind in ("title", "rich_text"):
        return _rich_md(value)
    if kind in ("select", "status"):
        return value.get("name") if value else None
    if kind == "multi_select":
        return [opt["name"] for opt in value or []]
    if kind == "date":
        if not value:
            return None
        return f"{value['start']} → {value['end']}" if value.get("end") else value.get("start")
    if kind == "people":
        return [_person(p) for p in value or []]
    if kind in ("created_by", "last_edited_by"):
        return _person(value)
    if kind == "relation":
        return [r["id"] for r in value or []]
    if kind == "files":
        return [f.get("name") for f in value or []]
    if kind == "formula":
        return (value or {}).get((value or {}).get("type")) if value else None
    if kind == "rollup":
        if not value:
            return None
        inner = value.get(value.get("type"))
        if isinstance(inner, list):
            return [_simple(x) for x in inner]
        return inner
    if kind == "unique_id":
        if not value:
            return None
        prefix = value.get("prefix")
        return f"{prefix}-{value.get('number')}" if prefix else value.get("number")
    if kind == "verification":
        return (value or {}).get("state")
    return value


def _properties(page: dict[str, Any]) -> dict[str, Any]:
    """A page's properties as plain values, the title left out (it is shown on its own)."""
    return {
        name: _simple(prop)
        for name, prop in (page.get("properties") or {}).items()
        if prop.get("type") != "title"
    }


def _schema(source: dict[str, Any]) -> dict[str, Any]:
    """A data source's properties as ``{name: "type"}`` or ``{name: "select: a | b"}``."""
    out = {}
    for name, prop in (source.get("properties") or {}).items():
        kind = prop.get("type", "?")
        options = (
            (prop.get(kind) or {}).get("options") if isinstance(prop.get(kind), dict) else None
        )
        out[name] = f"{kind}: {' | '.join(o['name'] for o in options)}" if options else kind
    return out


def _parent(obj: dict[str, Any]) -> dict[str, Any] | str:
    parent = obj.get("parent") or {}
    kind = parent.get("type")
    if kind == "page_id":
        return {"page": parent["page_id"]}
    if kind == "data_source_id":
        return {"database": parent.get("data_source_id")}
    if kind == "database_id":
        return {"database": parent.get("database_id")}
    if kind == "block_id":
        return {"block": parent["block_id"]}
    return "workspace"


def _page_row(page: dict[str, Any]) -> dict[str, Any]:
    return _clean(
        {
            "type": "page",
            "id": page["id"],
            "title": _title_of(page),
            "parent": _parent(page),
            "last_edited": page.get("last_edited_time"),
            "in_trash": True if page.get("in_trash") or page.get("archived") else None,
        }
    )


def _source_row(source: dict[str, Any]) -> dict[str, Any]:
    return _clean(
        {
            "type": "database",
            "id": source["id"],
            "database_id": (source.get("parent") or {}).get("database_id"),
            "title": _title_of(source),
            "description": _plain(source.get("description")) or None,
            "last_edited": source.get("last_edited_time"),
        }
    )


# -- the server --------------------------------------------------------------------------------


def create_server(base_url: str, token: str) -> MCPServer:
    """A Notion MCP server using notion-client against ``base_url`` (no ``/v1``) with ``token``."""
    notion = Client(auth=token, base_url=base_url.rstrip("/"))
    srv = MCPServer("notion", instructions=INSTRUCTIONS)

    def tool(annotations: ToolAnnotations) -> Callable[[Callable[..., T]], Callable[..., T]]:
        def register(fn: Callable[..., T]) -> Callable[..., T]:
            srv.tool(annotations=annotations)(_notion_errors(fn))
            return fn

        return register

    # -- reading helpers --------------------------------------------------------------------

    def children(block_id: str) -> Iterator[dict[str, Any]]:
        cursor = None
        while True:
            kwargs: dict[str, Any] = {"page_size": 100}
            if cursor:
                kwargs["start_cursor"] = cursor
            page = notion.blocks.children.list(block_id, **kwargs)
            yield from page["results"]
            if not page.get("has_more") or not page.get("next_cursor"):
                return
            cursor = page["next_cursor"]

    def find_data_source(ref: str) -> dict[str, Any]:
        """A data source by its id, its database's id, a URL, or the database's title."""
        found = _notion_id(ref)
        if found:
            try:
                return notion.data_sources.retrieve(found)
            except APIResponseError as exc:
                if not _is_missing(exc):
                    raise
            try:
                database = notion.databases.retrieve(found)
            except APIResponseError as exc:
                if not _is_missing(exc):
                    raise
                raise ToolError(
                    f"No database or data source with id {found}: search with "
                    "filter='database' lists them."
                ) from None
            sources = database.get("data_sources") or []
            if not sources:
                raise ToolError(f"Database {found} has no data source to query.")
            return notion.data_sources.retrieve(sources[0]["id"])
        results = notion.search(
            query=ref.strip(), filter={"property": "object", "value": "data_source"}, page_size=20
        )["results"]
        exact = [r for r in results if _title_of(r).strip().lower() == ref.strip().lower()]
        if len(exact) == 1 or (not exact and len(results) == 1):
            return (exact or results)[0]
        names = ", ".join(repr(_title_of(r)) for r in (exact or results)[:10])
        if not results:
            raise ToolError(
                f"No database called {ref!r}: search with filter='database' lists them."
            )
        raise ToolError(f"{ref!r} matches several databases ({names}): pass its id.")

    def resolve_parent(ref: str) -> tuple[str, dict[str, Any]]:
        """("page", page) or ("database", data source) for an id, URL or exact title."""
        target = _notion_id(ref)
        if target:
            try:
                return "page", notion.pages.retrieve(target)
            except APIResponseError as exc:
                if not _is_missing(exc):
                    raise
            return "database", find_data_source(target)
        wanted = ref.strip().lower()
        results = notion.search(query=ref.strip(), page_size=50)["results"]
        exact = [r for r in results if _title_of(r).strip().lower() == wanted]
        if len(exact) == 1:
            hit = exact[0]
            return ("page", hit) if hit.get("object") == "page" else ("database", hit)
        if not exact:
            raise ToolError(f"No page or database titled {ref!r}: use search, then pass its id.")
        raise ToolError(
            f"{len(exact)} pages or databases are titled {ref!r}: pass the id of the one you "
            "mean (search shows them)."
        )

    def users_all() -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        cursor = None
        while True:
            kwargs: dict[str, Any] = {"page_size": 100}
            if cursor:
                kwargs["start_cursor"] = cursor
            page = notion.users.list(**kwargs)
            out += page["results"]
            if not page.get("has_more") or not page.get("next_cursor") or len(out) > 5000:
                return out
            cursor = page["next_cursor"]

    def user_id(ref: str, people: list[dict[str, Any]] | None = None) -> str:
        text = ref.strip()
        if text.lower() == "me":
            return notion.users.me()["id"]
        found = _notion_id(text)
        if found:
            return found
        everyone = people if people is not None else users_all()
        wanted = text.lower()
        for person in everyone:
            email = ((person.get("person") or {}).get("email") or "").lower()
            if wanted in ((person.get("name") or "").lower(), email, email.split("@")[0]):
                return person["id"]
        raise ToolError(f"No Notion user matches {ref!r}: list_users shows everyone.")

    def prop_named(schema: dict[str, Any], name: str) -> tuple[str, dict[str, Any]]:
        if name in schema:
            return name, schema[name]
        for key, prop in schema.items():
            if key.lower() == name.strip().lower():
                return key, prop
        raise ToolError(f"No property {name!r}. Properties: {', '.join(schema)}.")

    # -- writing helpers --------------------------------------------------------------------

    def property_value(name: str, prop: dict[str, Any], value: Any, people: list | None) -> Any:
        kind = prop["type"]
        if isinstance(value, dict) and (kind in value or "type" in value):
            return value  # a raw Notion property value
        if kind in READ_ONLY_PROPS:
            raise ToolError(f"Property {name!r} ({kind}) is computed by Notion and cannot be set.")
        if value is None:
            empty: dict[str, Any] = {
                "title": [],
                "rich_text": [],
                "multi_select": [],
                "people": [],
                "relation": [],
                "files": [],
            }
            return {kind: empty.get(kind)}
        if kind in ("title", "rich_text"):
            return {kind: _rich(str(value))}
        if kind == "number":
            try:
                return {"number": float(value) if "." in str(value) else int(value)}
            except (TypeError, ValueError):
                raise ToolError(f"Property {name!r} is a number, not {value!r}.") from None
        if kind == "checkbox":
            if isinstance(value, str):
                value = value.strip().lower() in ("true", "yes", "1", "x", "checked")
            return {"checkbox": bool(value)}
        if kind in ("select", "status"):
            options = [o["name"] for o in (prop.get(kind) or {}).get("options", [])]
            text = str(value).strip()
            if kind == "status" and options:
                match = [o for o in options if o.lower() == text.lower()]
                if not match:
                    raise ToolError(
                        f"{text!r} is not a {name} option. Options: {', '.join(options)}."
                    )
                text = match[0]
            elif options:
                text = next((o for o in options if o.lower() == text.lower()), text)
            return {kind: {"name": text}}
        if kind == "multi_select":
            names = value if isinstance(value, list) else [v for v in str(value).split(",")]
            options = [o["name"] for o in (prop.get(kind) or {}).get("options", [])]
            picked = []
            for raw in names:
                text = str(raw).strip()
                picked.append(next((o for o in options if o.lower() == text.lower()), text))
            return {"multi_select": [{"name": n} for n in picked if n]}
        if kind == "date":
            if isinstance(value, dict):
                return {"date": value}
            text = str(value)
            for sep in (" → ", "→", "/", " to ", ".."):
                if sep in text:
                    start, end = (p.strip() for p in text.split(sep, 1))
                    return {"date": {"start": start, "end": end}}
            return {"date": {"start": text.strip()}}
        if kind == "people":
            refs = value if isinstance(value, list) else [value]
            return {"people": [{"id": user_id(str(r), people)} for r in refs]}
        if kind == "relation":
            refs = value if isinstance(value, list) else [value]
            return {"relation": [{"id": _require_id(str(r))} for r in refs]}
        if kind in ("url", "email", "phone_number"):
            return {kind: str(value)}
        if kind == "files":
            refs = value if isinstance(value, list) else [value]
            return {"files": [{"name": str(r)[:100], "external": {"url": str(r)}} for r in refs]}
        raise ToolError(f"Property {name!r} has type {kind}, which this tool cannot set.")

    def property_values(schema: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
        people = (
            users_all()
            if any(prop_named(schema, n)[1]["type"] == "people" for n in values)
            else None
        )
        out = {}
        for name, value in values.items():
            key, prop = prop_named(schema, name)
            out[key] = property_value(key, prop, value, people)
        return out

    def append_tree(parent_id: str, blocks: list[dict[str, Any]], after: str | None = None) -> list:
        """Append blocks of any depth: Notion takes 100 per request, nested two levels deep."""
        ids: list[str] = []
        for start in range(0, len(blocks), MAX_CHILDREN):
            chunk = blocks[start : start + MAX_CHILDREN]
            deeper: list[tuple[int, int, list]] = []  # (top index, child index, grandchildren)
            sendable = []
            for top, block in enumerate(chunk):
                block = json.loads(json.dumps(block))
                payload = block[block["type"]]
                for pos, child in enumerate(payload.get("children") or []):
                    if child["type"] == "table":
                        continue  # a table is sent with its rows, which have no children
                    grand = child[child["type"]].pop("children", None)
                    if grand:
                        deeper.append((top, pos, grand))
                sendable.append(block)
            kwargs: dict[str, Any] = {"children": sendable}
            if after:
                kwargs["after"] = after
            result = notion.blocks.children.append(parent_id, **kwargs)["results"]
            ids += [b["id"] for b in result]
            if result:
                after = result[-1]["id"]
            for top, pos, grand in deeper:
                kids = list(children(result[top]["id"]))
                append_tree(kids[pos]["id"], grand)
        return ids

    def count_blocks(blocks: list[dict[str, Any]]) -> int:
        return sum(1 + count_blocks(b[b["type"]].get("children") or []) for b in blocks)

    def page_summary(page: dict[str, Any]) -> dict[str, Any]:
        row = _page_row(page)
        row.pop("type", None)
        row["url"] = page.get("url")
        props = _properties(page)
        if props:
            row["properties"] = props
        return row

    # -- search and read --------------------------------------------------------------------

    @tool(READ)
    def search(
        query: Annotated[
            str,
            Field(
                max_length=500,
                description="Words to look for in titles and content; empty lists everything.",
            ),
        ] = "",
        filter: Annotated[
            Literal["page", "database"] | None,
            Field(description="Only pages, or only databases."),
        ] = None,
        sort: Annotated[
            Literal["relevance", "last_edited_desc", "last_edited_asc"],
            Field(description="Order of results."),
        ] = "relevance",
        page_size: PageSize = 20,
        cursor: Cursor = None,
    ) -> CallToolResult:
        """Search the workspace for pages and databases by title (and page content). Returns
        each result's type, id, title, parent and last edit; fetch reads one."""
        kwargs: dict[str, Any] = {"page_size": page_size}
        if query.strip():
            kwargs["query"] = query.strip()
        if filter:
            kwargs["filter"] = {
                "property": "object",
                "value": "page" if filter == "page" else "data_source",
            }
        if sort != "relevance":
            kwargs["sort"] = {
                "timestamp": "last_edited_time",
                "direction": "descending" if sort == "last_edited_desc" else "ascending",
            }
        if cursor:
            kwargs["start_cursor"] = cursor
        found = notion.search(**kwargs)
        rows = [
            _page_row(r) if r.get("object") == "page" else _source_row(r) for r in found["results"]
        ]
        return _out({"results": rows, "next_cursor": found.get("next_cursor")})

    @tool(READ)
    def fetch(
        id: Ref,
        include_content: Annotated[
            bool, Field(description="Render the page body as Markdown (false: properties only).")
        ] = True,
    ) -> CallToolResult:
        """Fetch a page, database or data source by id, URL or exact title. A page comes back as its
        title, properties and its whole content as Markdown (sub-pages and child databases as
        links holding their ids); a database as its properties (the schema) and data source
        ids, for query_data_source and create_page."""
        target = _notion_id(id)
        if target is None:  # an exact title, as agents often know it
            kind, found = resolve_parent(id)
            target = found["id"]
            if kind == "database":
                return fetch_database(target)
        try:
            page = notion.pages.retrieve(target)
        except APIResponseError as exc:
            if not _is_missing(exc):
                raise
            page = None
        if page is None:
            return fetch_database(target)
        data = page_summary(page)
        data = {"title": data.pop("title"), **data}
        header = [f"# {_title_of(page)}", f"id: {page['id']}", f"url: {page.get('url')}"]
        parent = _parent(page)
        header.append(
            "parent: "
            + (parent if isinstance(parent, str) else " ".join(next(iter(parent.items()))))
        )
        header.append(f"last edited: {page.get('last_edited_time')}")
        if page.get("in_trash") or page.get("archived"):
            header.append("in trash: yes")
        for name, value in data.get("properties", {}).items():
            shown = ", ".join(map(str, value)) if isinstance(value, list) else value
            header.append(f"{name}: {'' if shown is None else shown}")
        text = "\n".join(header)
        if include_content:
            renderer = _Renderer(children)
            markdown = renderer.markdown(page["id"])
            data["markdown"] = markdown
            text += "\n\n" + (markdown or "(empty page)")
            if renderer.truncated:
                data["truncated"] = True
                text += "\n\n[content truncated: read the rest with get_block_children]"
        return _out(data, text)

    def fetch_database(target: str) -> CallToolResult:
        try:
            source = notion.data_sources.retrieve(target)
            database_id = (source.get("parent") or {}).get("database_id")
            sources = None
        except APIResponseError as exc:
            if not _is_missing(exc):
                raise
            try:
                database = notion.databases.retrieve(target)
            except APIResponseError as exc2:
                if not _is_missing(exc2):
                    raise
                raise ToolError(
                    f"Nothing with id {target} (page, database or data source): check the id or "
                    "find it with search. Blocks are read with get_block_children."
                ) from None
            sources = database.get("data_sources") or []
            if not sources:
                raise ToolError(f"Database {target} has no data source.")
            source = notion.data_sources.retrieve(sources[0]["id"])
            database_id = database["id"]
        data = _clean(
            {
                "type": "database",
                "title": _title_of(source),
                "data_source_id": source["id"],
                "database_id": database_id,
                "description": _plain(source.get("description")) or None,
                "other_data_sources": [s["id"] for s in (sources or [])[1:]],
                "properties": _schema(source),
            }
        )
        lines = [
            f"# {data['title']} (database)",
            f"data_source_id: {source['id']}",
            f"database_id: {database_id}",
        ]
        if data.get("description"):
            lines.append(f"description: {data['description']}")
        lines.append("properties:")
        lines += [f"- {name}: {kind}" for name, kind in data["properties"].items()]
        lines.append("Rows: query_data_source; new row: create_page with this database as parent.")
        return _out(data, "\n".join(lines))

    @tool(READ)
    def get_block_children(
        block_id: Ref, page_size: PageSize = 100, cursor: Cursor = None
    ) -> CallToolResult:
        """List the blocks directly inside a page or block: id, type, its text as Markdown,
        and whether it has children of its own (read those with another call)."""
        kwargs: dict[str, Any] = {"page_size": page_size}
        if cursor:
            kwargs["start_cursor"] = cursor
        found = notion.blocks.children.list(_require_id(block_id, "block"), **kwargs)
        rows = [
            _clean(
                {
                    "id": b["id"],
                    "type": b["type"],
                    "text": _block_line(b),
                    "has_children": b.get("has_children") or None,
                }
            )
            for b in found["results"]
        ]
        return _out({"blocks": rows, "next_cursor": found.get("next_cursor")})

    @tool(READ)
    def query_data_source(
        data_source: Annotated[
            str,
            Field(
                min_length=1,
                max_length=500,
                description="The database: data source id, "
                "database id, URL, or its exact title (e.g. 'Incidents').",
            ),
        ],
        filter: Annotated[
            dict[str, Any] | None,
            Field(
                description='Simple: {"Status": "Resolved", "Severity": ["SEV1", '
                '"SEV2"], "Date": ">=2026-10-01", "Title": "checkout"} (text: '
                "contains; option: equals; list: any of; >, >=, <, <= for numbers and dates; "
                "null: empty; all must match). Or a raw Notion filter object."
            ),
        ] = None,
        sorts: Annotated[
            list[str] | None,
            Field(
                max_length=5,
                description='e.g. ["Date desc", "Severity"]; '
                "created_time / last_edited_time work too.",
            ),
        ] = None,
        page_size: PageSize = 50,
        cursor: Cursor = None,
    ) -> CallToolResult:
        """Query a database's rows with a simple filter and sorts. Each row comes back as id,
        title, URL and its properties as plain values; fetch reads a row's content."""
        source = find_data_source(data_source)
        schema = source.get("properties") or {}
        kwargs: dict[str, Any] = {"page_size": page_size}
        if filter:
            kwargs["filter"] = build_filter(schema, filter)
        if sorts:
            kwargs["sorts"] = [build_sort(schema, s) for s in sorts]
        if cursor:
            kwargs["start_cursor"] = cursor
        found = notion.data_sources.query(source["id"], **kwargs)
        rows = [
            {
                "id": p["id"],
                "title": _title_of(p),
                **_clean({"properties": _properties(p)}),
            }
            for p in found["results"]
        ]
        return _out(
            {
                "database": _title_of(source),
                "data_source_id": source["id"],
                "results": rows,
                "next_cursor": found.get("next_cursor"),
            }
        )

    def build_sort(schema: dict[str, Any], text: str) -> dict[str, Any]:
        spec = text.strip()
        direction = "ascending"
        if spec.startswith("-"):
            spec, direction = spec[1:], "descending"
        words = spec.rsplit(" ", 1)
        if len(words) == 2 and words[1].lower() in ("asc", "ascending", "desc", "descending"):
            spec = words[0].strip()
            direction = "descending" if words[1].lower().startswith("desc") else "ascending"
        if spec in ("created_time", "last_edited_time"):
            return {"timestamp": spec, "direction": direction}
        key, _ = prop_named(schema, spec)
        return {"property": key, "direction": direction}

    def build_filter(schema: dict[str, Any], simple: dict[str, Any]) -> dict[str, Any]:
        if {"property", "and", "or", "timestamp"} & set(simple):
            return simple  # a raw Notion filter
        parts = []
        people = None
        for name, value in simple.items():
            if name in ("created_time", "last_edited_time"):
                parts.append({"timestamp": name, name: condition("date", name, value)})
                continue
            key, prop = prop_named(schema, name)
            kind = prop["type"]
            if kind in ("people", "created_by", "last_edited_by") and people is None:
                people = users_all()
            values = value if isinstance(value, list) and kind != "checkbox" else [value]
            ors = []
            for one in values:
                if kind in ("people", "created_by", "last_edited_by") and one is not None:
                    one = user_id(str(one), people)
                if kind in ("relation",) and one is not None:
                    one = _require_id(str(one))
                if kind == "status" and one is not None:
                    options = [o["name"] for o in (prop.get("status") or {}).get("options", [])]
                    if options and str(one).lower() not in (o.lower() for o in options):
                        raise ToolError(
                            f"{one!r} is not a {key} option. Options: {', '.join(options)}."
                        )
                    one = next((o for o in options if o.lower() == str(one).lower()), one)
                ors.append({"property": key, kind: condition(kind, key, one)})
            parts.append(ors[0] if len(ors) == 1 else {"or": ors})
        return parts[0] if len(parts) == 1 else {"and": parts}

    def condition(kind: str, name: str, value: Any) -> dict[str, Any]:
        if value is None:
            return {"is_empty": True}
        if kind in ("title", "rich_text", "url", "email", "phone_number"):
            return {"contains": str(value)}
        if kind in ("select", "status"):
            return {"equals": str(value)}
        if kind in ("multi_select", "people", "created_by", "last_edited_by", "relation"):
            return {"contains": str(value)}
        if kind == "checkbox":
            if isinstance(value, str):
                value = value.strip().lower() in ("true", "yes", "1", "x", "checked")
            return {"equals": bool(value)}
        if kind in ("number", "date", "created_time", "last_edited_time"):
            text = str(value).strip()
            ops = [
                (">=", "on_or_after", "greater_than_or_equal_to"),
                ("<=", "on_or_before", "less_than_or_equal_to"),
                (">", "after", "greater_than"),
                ("<", "before", "less_than"),
                ("!=", "does_not_equal", "does_not_equal"),
                ("=", "equals", "equals"),
            ]
            op_date, op_number = "equals", "equals"
            for prefix, date_op, number_op in ops:
                if text.startswith(prefix):
                    text, op_date, op_number = text[len(prefix) :].strip(), date_op, number_op
                    break
            if kind == "number":
                try:
                    number = float(text)
                except ValueError:
                    raise ToolError(f"{name} is a number: {value!r} is not.") from None
                return {op_number: int(number) if number.is_integer() else number}
            if op_date == "does_not_equal":
                raise ToolError(f"{name}: dates take =, >, >=, <, <=, not !=.")
            return {op_date: text}
        raise ToolError(f"Property {name!r} ({kind}) cannot be filtered simply: pass a raw filter.")

    # -- write ------------------------------------------------------------------------------

    @tool(CREATE)
    def create_page(
        parent: Annotated[
            str,
            Field(
                min_length=1,
                max_length=500,
                description="Where: a parent page, or a database "
                "(a new row) - id or URL, or a database's exact title.",
            ),
        ],
        title: Annotated[str, Field(min_length=1, max_length=2000, description="Page title.")],
        content: Annotated[
            str | None, Field(max_length=200_000, description="Page body in Markdown.")
        ] = None,
        properties: Properties = None,
        icon: Annotated[str | None, Field(max_length=8, description="An emoji icon.")] = None,
    ) -> CallToolResult:
        """Create a page under a page, or a row in a database, with a title, Markdown content
        and (for database rows) property values by name. Returns its id and URL."""
        blocks = markdown_blocks(content) if content and content.strip() else []
        body: dict[str, Any] = {}
        kind, found = resolve_parent(parent)
        if kind == "page":
            if properties:
                raise ToolError(
                    "A page under a page has only a title: drop properties, or use a database "
                    "as parent."
                )
            body["parent"] = {"type": "page_id", "page_id": found["id"]}
            body["properties"] = {"title": {"title": _rich(title)}}
        else:
            schema = found.get("properties") or {}
            title_name = next((n for n, p in schema.items() if p.get("type") == "title"), "title")
            values = property_values(schema, properties or {})
            values[title_name] = {"title": _rich(title)}
            body["parent"] = {"type": "data_source_id", "data_source_id": found["id"]}
            body["properties"] = values
        if icon:
            body["icon"] = {"type": "emoji", "emoji": icon}
        page = notion.pages.create(**body)
        added = append_tree(page["id"], blocks) if blocks else []
        result = page_summary(page)
        result["blocks_added"] = count_blocks(blocks) if added else 0
        return _out(result)

    @tool(UPDATE)
    def update_page(
        page_id: Ref,
        title: Annotated[str | None, Field(max_length=2000, description="New title.")] = None,
        properties: Properties = None,
        icon: Annotated[str | None, Field(max_length=8, description="An emoji icon.")] = None,
        archive: Annotated[
            bool | None,
            Field(description="true: move the page to the trash; false: restore it."),
        ] = None,
        replace_content: Annotated[
            str | None,
            Field(
                max_length=200_000,
                description="Markdown that replaces the page's whole "
                "body (sub-pages and child databases are kept). To add, use append_blocks.",
            ),
        ] = None,
    ) -> CallToolResult:
        """Update a page: title, property values by name (database rows), icon, trash or
        restore it, or replace its content with Markdown. Returns the page's new state."""
        target = _require_id(page_id)
        page = notion.pages.retrieve(target)
        body: dict[str, Any] = {}
        values: dict[str, Any] = {}
        if properties:
            parent = page.get("parent") or {}
            if parent.get("type") == "data_source_id":
                schema = notion.data_sources.retrieve(parent["data_source_id"]).get("properties")
            else:
                schema = {
                    name: {"type": prop["type"], "id": prop.get("id")}
                    for name, prop in (page.get("properties") or {}).items()
                }
            values = property_values(schema or {}, properties)
        if title is not None:
            title_name = next(
                (n for n, p in (page.get("properties") or {}).items() if p.get("type") == "title"),
                "title",
            )
            values[title_name] = {"title": _rich(title)}
        if values:
            body["properties"] = values
        if icon:
            body["icon"] = {"type": "emoji", "emoji": icon}
        if archive is not None:
            body["in_trash"] = archive
        if not body and replace_content is None:
            raise ToolError(
                "Nothing to update: pass title, properties, icon, archive or replace_content."
            )
        blocks = markdown_blocks(replace_content) if replace_content else []
        if body.get("in_trash") is False:  # restore first, so content edits are allowed
            page = notion.pages.update(target, in_trash=False)
            body.pop("in_trash")
        if replace_content is not None:
            for block in list(children(target)):
                if block["type"] not in ("child_page", "child_database"):
                    notion.blocks.delete(block["id"])
            if blocks:
                append_tree(target, blocks)
        if body:
            page = notion.pages.update(target, **body)
        result = page_summary(page)
        if replace_content is not None:
            result["blocks_written"] = count_blocks(blocks)
        return _out(result)

    @tool(CREATE)
    def append_blocks(
        block_id: Annotated[
            str,
            Field(
                min_length=1,
                max_length=500,
                description="The page (or block) to add to: id or URL.",
            ),
        ],
        markdown: Markdown,
        after: Annotated[
            str | None,
            Field(
                max_length=100,
                description="Insert after this child block id instead of at "
                "the end (ids from get_block_children).",
            ),
        ] = None,
    ) -> CallToolResult:
        """Append Markdown to a page or block as Notion blocks (at the end, or after a given
        block). Returns the ids of the new top-level blocks."""
        if not markdown.strip():
            raise ToolError("markdown is empty: nothing to append.")
        blocks = markdown_blocks(markdown)
        after_id = _require_id(after, "block") if after else None
        ids = append_tree(_require_id(block_id), blocks, after_id)
        return _out({"appended": count_blocks(blocks), "block_ids": ids})

    # -- comments and people ----------------------------------------------------------------

    @tool(READ)
    def get_comments(
        block_id: Annotated[
            str, Field(min_length=1, max_length=500, description="Page (or block) id or URL.")
        ],
        page_size: PageSize = 50,
        cursor: Cursor = None,
    ) -> CallToolResult:
        """List the open comments on a page or block, oldest first: author, text, time and
        discussion_id (reply to a thread with create_comment)."""
        kwargs: dict[str, Any] = {"block_id": _require_id(block_id), "page_size": page_size}
        if cursor:
            kwargs["start_cursor"] = cursor
        found = notion.comments.list(**kwargs)
        rows = [
            _clean(
                {
                    "id": c["id"],
                    "discussion_id": c.get("discussion_id"),
                    "author": (c.get("display_name") or {}).get("resolved_name")
                    or (c.get("created_by") or {}).get("id"),
                    "created": c.get("created_time"),
                    "text": _rich_md(c.get("rich_text")),
                }
            )
            for c in found["results"]
        ]
        return _out({"comments": rows, "next_cursor": found.get("next_cursor")})

    @tool(CREATE)
    def create_comment(
        text: Annotated[
            str,
            Field(
                min_length=1,
                max_length=20_000,
                description="Comment text; inline "
                "Markdown (**bold**, `code`, [links](url)) is kept.",
            ),
        ],
        page_id: Annotated[
            str | None, Field(max_length=500, description="Page to comment on (new discussion).")
        ] = None,
        discussion_id: Annotated[
            str | None, Field(max_length=100, description="Discussion to reply in instead.")
        ] = None,
    ) -> CallToolResult:
        """Comment on a page (a new discussion), or reply in an existing discussion."""
        if bool(page_id) == bool(discussion_id):
            raise ToolError("Pass exactly one of page_id (new comment) or discussion_id (reply).")
        if not text.strip():
            raise ToolError("text is empty.")
        kwargs: dict[str, Any] = {"rich_text": _rich(text.strip())}
        if page_id:
            kwargs["parent"] = {"page_id": _require_id(page_id)}
        else:
            kwargs["discussion_id"] = _require_id(str(discussion_id), "discussion")
        comment = notion.comments.create(**kwargs)
        return _out(
            _clean(
                {
                    "id": comment["id"],
                    "discussion_id": comment.get("discussion_id"),
                    "created": comment.get("created_time"),
                    "text": _rich_md(comment.get("rich_text")),
                }
            )
        )

    def user_row(person: dict[str, Any]) -> dict[str, Any]:
        return _clean(
            {
                "id": person["id"],
                "name": person.get("name"),
                "type": person.get("type"),
                "email": (person.get("person") or {}).get("email"),
            }
        )

    @tool(READ)
    def list_users(
        query: Annotated[
            str | None,
            Field(max_length=200, description="Only people whose name or email contains this."),
        ] = None,
        page_size: PageSize = 100,
        cursor: Cursor = None,
    ) -> CallToolResult:
        """List the workspace's people and bots: id, name, type, email."""
        if query and query.strip():
            wanted = query.strip().lower()
            rows = [
                user_row(u)
                for u in users_all()
                if wanted in (u.get("name") or "").lower()
                or wanted in ((u.get("person") or {}).get("email") or "").lower()
            ]
            return _out({"users": rows[:page_size], "next_cursor": None})
        kwargs: dict[str, Any] = {"page_size": page_size}
        if cursor:
            kwargs["start_cursor"] = cursor
        found = notion.users.list(**kwargs)
        return _out(
            {
                "users": [user_row(u) for u in found["results"]],
                "next_cursor": found.get("next_cursor"),
            }
        )

    @tool(READ)
    def get_self() -> CallToolResult:
        """Who this integration is in Notion: its bot user id, name and workspace."""
        me = notion.users.me()
        return _out(
            _clean(
                {
                    "id": me["id"],
                    "name": me.get("name"),
                    "type": me.get("type"),
                    "workspace": (me.get("bot") or {}).get("workspace_name"),
                }
            )
        )

    return srv
