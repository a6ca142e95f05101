"""How the MCP servers answer: compact JSON text plus the same data as structured content.

Agents pay per token, so a result is minified JSON; clients that read structured content get
the same dict, advertised as an object output schema.
"""

from __future__ import annotations

import functools
import inspect
import json
import re
from collections.abc import Callable
from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolResult, TextContent, ToolAnnotations

# Tools answer with compact JSON text (agents pay per token) and the same data as
# structured content, advertised as an object output schema.
Result = Annotated[CallToolResult, dict[str, Any]]


def as_result(data: dict[str, Any]) -> CallToolResult:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=data)


def tool_registrar(srv: MCPServer) -> Callable[..., Any]:
    """``@tool`` / ``@tool(read_only=True)`` registers a function returning a dict as a tool
    answering :func:`as_result`."""

    def register(fn: Callable[..., dict[str, Any]] | None = None, *, read_only: bool = False):
        if fn is None:
            return functools.partial(register, read_only=read_only)

        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> CallToolResult:
            return as_result(fn(*args, **kwargs))

        signature = inspect.signature(fn, eval_str=True)
        run.__signature__ = signature.replace(return_annotation=Result)  # type: ignore[attr-defined]
        hints = ToolAnnotations(
            read_only_hint=read_only, destructive_hint=False, open_world_hint=True
        )
        # The docstring as one paragraph per blank-line-separated block, without indentation.
        description = re.sub(r"(?<!\n)\n(?!\n)", " ", inspect.cleandoc(fn.__doc__ or ""))
        srv.tool(description=description, annotations=hints)(run)
        return fn

    return register
