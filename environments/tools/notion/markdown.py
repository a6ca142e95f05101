"""Markdown to Notion blocks, deterministically: how fixture page bodies are written, and what
``POST /v1/pages`` accepts as ``markdown``.

Supported, one construct per line as people write it:

- ``#`` / ``##`` / ``###`` headings, paragraphs (consecutive lines join with a space),
  ``---`` dividers, ``> quote``, ``> [!NOTE]`` / ``[!TIP]`` / ``[!WARNING]`` / ``[!IMPORTANT]``
  / ``[!CAUTION]`` callouts, fenced code with a language, GFM pipe tables;
- ``-`` / ``*`` bullets, ``1.`` numbered items, ``- [ ]`` / ``- [x]`` to-dos; items nest by
  indentation (anything indented under an item is its children);
- ``<details><summary>Title</summary> … </details>`` toggles;
- inline ``**bold**``, ``*italic*`` / ``_italic_``, ``~~strike~~``, ```code```, ``[text](url)``,
  bare ``https://`` links, and (with :class:`Refs`) ``<@maya.chen>`` user and ``<page:key>`` page
  mentions.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from environments.tools.notion.blocks import CODE_LANGUAGES, NewBlock
from environments.tools.notion.richtext import (
    MAX_TEXT,
    Resolver,
    annotations,
    mention_page,
    mention_user,
    text_item,
)

_LIST = re.compile(r"^(?P<indent>\s*)(?P<marker>[-*+]|\d{1,3}[.)])\s+(?P<rest>.*)$")
_TODO = re.compile(r"^\[(?P<mark>[ xX])\]\s+(?P<text>.*)$")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_CALLOUT = re.compile(r"^\[!(NOTE|TIP|WARNING|IMPORTANT|CAUTION)\]\s*(.*)$", re.IGNORECASE)
_SUMMARY = re.compile(r"^<details>\s*(?:<summary>(.*?)</summary>)?\s*$", re.IGNORECASE)
_TABLE_RULE = re.compile(r"^\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
CALLOUT_ICONS = {
    "NOTE": ("💡", "gray_background"),
    "TIP": ("✅", "green_background"),
    "WARNING": ("⚠️", "yellow_background"),
    "IMPORTANT": ("❗", "orange_background"),
    "CAUTION": ("🚨", "red_background"),
}
LANGUAGE_ALIASES = {
    "": "plain text",
    "text": "plain text",
    "txt": "plain text",
    "console": "shell",
    "sh": "shell",
    "zsh": "shell",
    "py": "python",
    "yml": "yaml",
    "js": "javascript",
    "ts": "typescript",
    "dockerfile": "docker",
    "md": "markdown",
    "promql": "plain text",
    "http": "plain text",
    "ini": "plain text",
    "env": "shell",
}

_INLINE = re.compile(
    r"(?P<code>`(?P<code_text>[^`]+)`)"
    r"|(?P<link>\[(?P<link_text>[^\]]+)\]\((?P<link_url>[^)\s]+)\))"
    r"|(?P<bold>\*\*(?P<bold_text>.+?)\*\*)"
    r"|(?P<strike>~~(?P<strike_text>.+?)~~)"
    r"|(?P<italic>(?<![\w*])\*(?=\S)(?P<italic_text>.+?)(?<=\S)\*(?![\w*]))"
    r"|(?P<uitalic>(?<!\w)_(?=\S)(?P<uitalic_text>.+?)(?<=\S)_(?!\w))"
    r"|(?P<user><@(?P<user_key>[a-z0-9][a-z0-9._:-]*)>)"
    r"|(?P<page><page:(?P<page_key>[a-z0-9][a-z0-9._-]*)>)"
    r"|(?P<url>https?://[^\s<>()\[\]]+[^\s<>()\[\].,;:!?'\"])"
)


@dataclass(frozen=True)
class Refs:
    """Resolves fixture keys in mentions: ``user(key)`` and ``page(key)`` give ``(id, label)``."""

    user: Callable[[str], tuple[str, str] | None]
    page: Callable[[str], tuple[str, str] | None]


def markdown_blocks(
    text: str, resolver: Resolver | None = None, refs: Refs | None = None
) -> list[NewBlock]:
    """The blocks of a Markdown document (``resolver`` is unused; kept for a uniform call)."""
    lines = text.replace("\r\n", "\n").replace("\t", "    ").split("\n")
    return _Parser(refs).blocks(lines)


class _Parser:
    def __init__(self, refs: Refs | None):
        self.refs = refs

    # -- blocks ------------------------------------------------------------------------------

    def blocks(self, lines: list[str]) -> list[NewBlock]:
        out: list[NewBlock] = []
        i = 0
        while i < len(lines):
            line = lines[i]
            stripped = line.strip()
            if not stripped:
                i += 1
                continue
            if stripped.startswith("```"):
                i = self._code(lines, i, out)
            elif stripped in ("---", "***", "___"):
                out.append(NewBlock("divider", {}))
                i += 1
            elif heading := _HEADING.match(stripped):
                level = min(3, len(heading.group(1)))
                out.append(
                    self._text_block(f"heading_{level}", heading.group(2), is_toggleable=False)
                )
                i += 1
            elif stripped.startswith(">"):
                i = self._quote(lines, i, out)
            elif stripped.startswith("|"):
                i = self._table(lines, i, out)
            elif _SUMMARY.match(stripped):
                i = self._toggle(lines, i, out)
            elif _LIST.match(line):
                i = self._list_item(lines, i, out)
            else:
                i = self._paragraph(lines, i, out)
        return out

    def _code(self, lines: list[str], i: int, out: list[NewBlock]) -> int:
        fence = lines[i].strip()
        language = fence[3:].strip().lower()
        language = LANGUAGE_ALIASES.get(language, language)
        if language not in CODE_LANGUAGES:
            language = "plain text"
        indent = len(lines[i]) - len(lines[i].lstrip())
        body: list[str] = []
        i += 1
        while i < len(lines) and not lines[i].strip().startswith("```"):
            line = lines[i]
            body.append(line[indent:] if not line[:indent].strip() else line.lstrip())
            i += 1
        content = "\n".join(body)
        items = [text_item(content[j : j + MAX_TEXT]) for j in range(0, len(content), MAX_TEXT)]
        out.append(NewBlock("code", {"caption": [], "rich_text": items, "language": language}))
        return i + 1

    def _quote(self, lines: list[str], i: int, out: list[NewBlock]) -> int:
        body: list[str] = []
        while i < len(lines) and lines[i].strip().startswith(">"):
            body.append(lines[i].strip()[1:].strip())
            i += 1
        callout = _CALLOUT.match(body[0]) if body else None
        if callout:
            emoji, color = CALLOUT_ICONS[callout.group(1).upper()]
            text = " ".join(part for part in [callout.group(2), *body[1:]] if part)
            block = self._text_block("callout", text, color=color)
            block.payload["icon"] = {"type": "emoji", "emoji": emoji}
            block.payload["color"] = color
            out.append(block)
        else:
            out.append(self._text_block("quote", "\n".join(body)))
        return i

    def _table(self, lines: list[str], i: int, out: list[NewBlock]) -> int:
        rows: list[list[str]] = []
        has_header = False
        while i < len(lines) and lines[i].strip().startswith("|"):
            stripped = lines[i].strip()
            if _TABLE_RULE.match(stripped):
                has_header = len(rows) == 1
            else:
                rows.append([cell.strip() for cell in _split_row(stripped)])
            i += 1
        width = max(len(r) for r in rows)
        children = [
            NewBlock("table_row", {"cells": [self.inline(c) for c in r + [""] * (width - len(r))]})
            for r in rows
        ]
        out.append(
            NewBlock(
                "table",
                {"table_width": width, "has_column_header": has_header, "has_row_header": False},
                children,
            )
        )
        return i

    def _toggle(self, lines: list[str], i: int, out: list[NewBlock]) -> int:
        summary = _SUMMARY.match(lines[i].strip()).group(1)  # type: ignore[union-attr]
        i += 1
        if summary is None and i < len(lines):
            match = re.match(r"^\s*<summary>(.*?)</summary>\s*$", lines[i], re.IGNORECASE)
            if match:
                summary = match.group(1)
                i += 1
        body: list[str] = []
        depth = 1
        while i < len(lines):
            stripped = lines[i].strip().lower()
            if stripped.startswith("<details"):
                depth += 1
            elif stripped == "</details>":
                depth -= 1
                if depth == 0:
                    i += 1
                    break
            body.append(lines[i])
            i += 1
        block = self._text_block("toggle", summary or "")
        block.children = self.blocks(body)
        out.append(block)
        return i

    def _list_item(self, lines: list[str], i: int, out: list[NewBlock]) -> int:
        match = _LIST.match(lines[i])
        assert match is not None
        indent = len(match.group("indent"))
        marker, rest = match.group("marker"), match.group("rest")
        kind = "numbered_list_item" if marker[0].isdigit() else "bulleted_list_item"
        extra: dict[str, Any] = {}
        todo = _TODO.match(rest) if kind == "bulleted_list_item" else None
        if todo:
            kind, rest = "to_do", todo.group("text")
            extra["checked"] = todo.group("mark") != " "
        text = [rest]
        i += 1
        # Lazy continuation: following lines indented past the marker, not starting a block.
        content_indent = indent + len(marker) + 1
        while i < len(lines) and lines[i].strip():
            line = lines[i]
            line_indent = len(line) - len(line.lstrip())
            if line_indent < content_indent or _LIST.match(line) or line.strip()[:1] in "`>|":
                break
            text.append(line.strip())
            i += 1
        child_lines: list[str] = []
        while i < len(lines):
            line = lines[i]
            if line.strip():
                if len(line) - len(line.lstrip()) <= indent:
                    break
            else:
                # A blank line ends the item unless more indented lines follow it.
                j = i
                while j < len(lines) and not lines[j].strip():
                    j += 1
                if j >= len(lines) or len(lines[j]) - len(lines[j].lstrip()) <= indent:
                    break
            child_lines.append(line)
            i += 1
        block = self._text_block(kind, " ".join(text), **extra)
        if child_lines:
            cut = min(len(line) - len(line.lstrip()) for line in child_lines if line.strip())
            block.children = self.blocks([line[cut:] for line in child_lines])
        out.append(block)
        return i

    def _paragraph(self, lines: list[str], i: int, out: list[NewBlock]) -> int:
        text: list[str] = []
        while i < len(lines):
            stripped = lines[i].strip()
            if (
                not stripped
                or stripped.startswith(("```", ">", "|", "#"))
                or stripped in ("---", "***", "___")
                or _LIST.match(lines[i])
                or _SUMMARY.match(stripped)
            ) and text:
                break
            if not stripped:
                break
            text.append(stripped)
            i += 1
        out.append(self._text_block("paragraph", " ".join(text)))
        return i

    def _text_block(self, kind: str, text: str, **extra: Any) -> NewBlock:
        payload: dict[str, Any] = {"rich_text": self.inline(text)}
        color = extra.pop("color", "default")
        payload.update(extra)
        payload["color"] = color
        return NewBlock(kind, payload)

    # -- inline ------------------------------------------------------------------------------

    def inline(self, text: str) -> list[dict[str, Any]]:
        items = self._inline(text, {}, None)
        return _merge(items)

    def _inline(self, text: str, flags: dict[str, Any], href: str | None) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        pos = 0
        for match in _INLINE.finditer(text):
            if match.start() > pos:
                out.append(text_item(text[pos : match.start()], link=href, **flags))
            pos = match.end()
            kind = match.lastgroup
            if match.group("code") is not None:
                out.append(
                    text_item(match.group("code_text"), link=href, **{**flags, "code": True})
                )
            elif match.group("link") is not None:
                out += self._inline(match.group("link_text"), flags, match.group("link_url"))
            elif match.group("bold") is not None:
                out += self._inline(match.group("bold_text"), {**flags, "bold": True}, href)
            elif match.group("strike") is not None:
                out += self._inline(
                    match.group("strike_text"), {**flags, "strikethrough": True}, href
                )
            elif match.group("italic") is not None:
                out += self._inline(match.group("italic_text"), {**flags, "italic": True}, href)
            elif match.group("uitalic") is not None:
                out += self._inline(match.group("uitalic_text"), {**flags, "italic": True}, href)
            elif match.group("user") is not None:
                found = self.refs.user(match.group("user_key")) if self.refs else None
                out.append(
                    mention_user(found[0], found[1], **flags)
                    if found
                    else text_item(match.group(0), link=href, **flags)
                )
            elif match.group("page") is not None:
                found = self.refs.page(match.group("page_key")) if self.refs else None
                out.append(
                    mention_page(found[0], found[1], **flags)
                    if found
                    else text_item(match.group(0), link=href, **flags)
                )
            elif match.group("url") is not None:
                url = match.group("url")
                out.append(text_item(url, link=href or url, **flags))
            else:  # pragma: no cover - every alternative is handled above
                raise AssertionError(kind)
        if pos < len(text):
            out.append(text_item(text[pos:], link=href, **flags))
        return out


def _split_row(line: str) -> list[str]:
    inner = line.strip()
    inner = inner.removeprefix("|")
    if inner.endswith("|") and not inner.endswith("\\|"):
        inner = inner[:-1]
    cells, current, escaped = [], [], False
    for char in inner:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "|":
            cells.append("".join(current))
            current = []
        else:
            current.append(char)
    cells.append("".join(current))
    return cells


def _merge(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Join neighbouring text items that look the same; keep each under Notion's 2000 chars."""
    merged: list[dict[str, Any]] = []
    for item in items:
        if not item["plain_text"]:
            continue
        last = merged[-1] if merged else None
        if (
            last is not None
            and item["type"] == "text"
            and last["type"] == "text"
            and last["annotations"] == item["annotations"]
            and last["href"] == item["href"]
            and len(last["plain_text"]) + len(item["plain_text"]) <= MAX_TEXT
        ):
            content = last["plain_text"] + item["plain_text"]
            merged[-1] = text_item(content, link=last["href"], **last["annotations"])
            continue
        if item["type"] == "text" and len(item["plain_text"]) > MAX_TEXT:
            content = item["plain_text"]
            for j in range(0, len(content), MAX_TEXT):
                merged.append(
                    text_item(content[j : j + MAX_TEXT], link=item["href"], **item["annotations"])
                )
            continue
        merged.append(item)
    return merged


__all__ = ["Refs", "annotations", "inline_markdown", "markdown_blocks"]


def inline_markdown(text: str, refs: Refs | None = None) -> list[dict[str, Any]]:
    """Rich text from one line of Markdown (``**bold**``, links, mentions...)."""
    return _Parser(refs).inline(" ".join(text.split("\n")))
