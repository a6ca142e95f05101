"""A page's blocks as Markdown, for ``GET /v1/pages/{id}/markdown``.

The output uses the same conventions :mod:`.markdown` reads (so a page can round-trip):
GFM headings, lists, to-dos, tables, fences, ``> [!NOTE]`` callouts and ``<details>``
toggles; sub-pages and databases become links; mentions become ``@Name`` / page links.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from environments.tools.notion.markdown import CALLOUT_ICONS
from environments.tools.notion.model import Repo, page_url

MAX_BLOCKS = 5000
LIST_TYPES = frozenset({"bulleted_list_item", "numbered_list_item", "to_do"})
_CALLOUT_KIND = {emoji: kind for kind, (emoji, _) in CALLOUT_ICONS.items()}


def rich_markdown(items: list[dict[str, Any]]) -> str:
    out = []
    for item in items:
        text = item.get("plain_text", "")
        if item.get("type") == "mention" and item["mention"].get("type") in ("page", "database"):
            out.append(f"[{text}]({item.get('href')})")
            continue
        notes = item.get("annotations", {})
        if text.strip():
            if notes.get("code"):
                text = f"`{text}`"
            if notes.get("bold"):
                text = f"**{text}**"
            if notes.get("italic"):
                text = f"*{text}*"
            if notes.get("strikethrough"):
                text = f"~~{text}~~"
        href = item.get("href")
        if href and item.get("type") == "text" and href != item.get("plain_text"):
            text = f"[{text}]({href})"
        out.append(text)
    return "".join(out)


class _Writer:
    def __init__(self, repo: Repo):
        self.repo = repo
        self.count = 0
        self.truncated = False

    def blocks(self, parent_id: str, indent: str) -> list[str]:
        lines: list[str] = []
        number = 0
        previous = None
        for row in self.repo.nodes(self.repo.child_ids(parent_id)):
            self.count += 1
            if self.count > MAX_BLOCKS:
                self.truncated = True
                break
            if previous in LIST_TYPES and row["type"] not in LIST_TYPES:
                lines.append("")  # a blank line ends a list
            number = number + 1 if row["type"] == "numbered_list_item" else 0
            lines += self.block(row, indent, number)
            previous = row["type"]
        return lines

    def block(self, row: sqlite3.Row, indent: str, number: int) -> list[str]:
        kind = row["type"]
        if row["kind"] != "block":
            title = self.repo.title_of(row) or "Untitled"
            return [f"{indent}[{title}]({page_url(title, row['id'])})", ""]
        data = json.loads(row["data"])
        text = rich_markdown(data.get("rich_text", []))
        nested = "  "
        if kind.startswith("heading_"):
            head = [f"{indent}{'#' * int(kind[-1])} {text}", ""]
        elif kind == "paragraph":
            head = [f"{indent}{text}", ""] if text else [""]
        elif kind == "bulleted_list_item":
            head = [f"{indent}- {text}"]
        elif kind == "numbered_list_item":
            head = [f"{indent}{number}. {text}"]
            nested = "   "
        elif kind == "to_do":
            head = [f"{indent}- [{'x' if data.get('checked') else ' '}] {text}"]
        elif kind == "quote":
            head = [f"{indent}> {line}" for line in text.split("\n")] + [""]
        elif kind == "callout":
            emoji = (data.get("icon") or {}).get("emoji", "💡")
            head = [f"{indent}> [!{_CALLOUT_KIND.get(emoji, 'NOTE')}] {text}", ""]
        elif kind == "code":
            code = "".join(t["plain_text"] for t in data.get("rich_text", []))
            language = data.get("language", "plain text")
            fence = "" if language == "plain text" else language
            head = [
                f"{indent}```{fence}",
                *[indent + line for line in code.split("\n")],
                f"{indent}```",
                "",
            ]
        elif kind == "divider":
            head = [f"{indent}---", ""]
        elif kind == "toggle":
            body = self.blocks(row["id"], "")
            return [
                f"{indent}<details><summary>{text}</summary>",
                "",
                *body,
                f"{indent}</details>",
                "",
            ]
        elif kind == "table":
            return self.table(row, data, indent)
        elif kind == "bookmark":
            head = [f"{indent}{data.get('url', '')}", ""]
        elif kind == "equation":
            head = [f"{indent}$${data.get('expression', '')}$$", ""]
        else:
            head = []
        return head + self.blocks(row["id"], indent + nested)

    def table(self, row: sqlite3.Row, data: dict[str, Any], indent: str) -> list[str]:
        cells = [
            [rich_markdown(c).replace("|", "\\|") for c in json.loads(r["data"]).get("cells", [])]
            for r in self.repo.nodes(self.repo.child_ids(row["id"]))
        ]
        self.count += len(cells)
        if not cells:
            return []
        width = data.get("table_width", len(cells[0]))
        lines = [f"{indent}| " + " | ".join(cells[0]) + " |"]
        lines.append(f"{indent}|" + "---|" * width)
        lines += [f"{indent}| " + " | ".join(r) + " |" for r in cells[1:]]
        return [*lines, ""]


def page_markdown(repo: Repo, page_id: str) -> tuple[str, bool]:
    """The Markdown of a page's content, and whether it was cut short."""
    writer = _Writer(repo)
    lines = writer.blocks(page_id, "")
    text = "\n".join(lines)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.strip() + "\n", writer.truncated
