"""Argument errors an agent can act on: one line per bad argument, not pydantic's report.

The SDK answers arguments that fail a tool's schema with pydantic's multi-line report
(`N validation errors for <tool>Arguments`, input values echoed back, a documentation URL per
error). The gateway attaches `tidy_argument_errors` to every server so the agent reads instead
`invalid arguments for slack_post_message: text: Field required; limit: Input should be less
than or equal to 200`. Any other result passes through untouched.
"""

from __future__ import annotations

import re
from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext

_REPORT = re.compile(
    r"^(?:Error executing tool \S+: )?\d+ validation errors? for (\S+?)Arguments\n"
)
_TYPE_SUFFIX = re.compile(r"\s*\[type=[^\]]*\]\s*$")


def tidy_report(text: str) -> str | None:
    """The one-line form of a pydantic argument report, or None when `text` is not one."""
    match = _REPORT.match(text)
    if not match:
        return None
    problems: list[str] = []
    field: str | None = None
    for line in text[match.end() :].splitlines():
        if not line.strip() or line.startswith("    "):
            continue  # the "For further information visit ..." lines
        if line.startswith("  "):
            message = _TYPE_SUFFIX.sub("", line.strip())
            problems.append(f"{field}: {message}" if field else message)
        else:
            field = line.strip()
    if not problems:
        return None
    return (
        f"invalid arguments for {match.group(1)}: "
        + "; ".join(problems)
        + " (see the tool's input schema)"
    )


async def tidy_argument_errors(
    ctx: ServerRequestContext[Any, Any], call_next: CallNext
) -> HandlerResult:
    result = await call_next(ctx)
    if ctx.method != "tools/call" or not isinstance(result, dict) or not result.get("isError"):
        return result
    content = result.get("content") or []
    if len(content) == 1 and isinstance(content[0], dict) and content[0].get("type") == "text":
        tidy = tidy_report(content[0].get("text", ""))
        if tidy:
            return {**result, "content": [{**content[0], "text": tidy}]}
    return result
