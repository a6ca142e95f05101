"""Synchronous MCP tool calls for the oracle, over the same wire a real agent uses.

One `mcp.Client` per server (a `ClientSession` over `streamable_http_client`, protocol version
negotiated as any client would), opened lazily on first use and kept for the whole solve. The
SDK is async; the sessions live on an anyio event loop in a background thread (a blocking portal)
so that `solve(kit)` stays plain synchronous Python. Each session's context is entered and left
in one task of that loop (`wrap_async_context_manager`), as anyio's cancel scopes require.
"""

from __future__ import annotations

import contextlib
import json
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Self

import anyio
from anyio.from_thread import BlockingPortal, start_blocking_portal
from mcp import Client
from mcp.types import CallToolResult

from mcp_servers.configs import McpJson


class ToolCallError(RuntimeError):
    """A tool answered with an error (isError), or its server could not be reached."""

    def __init__(self, server: str, tool: str, message: str):
        super().__init__(f"{server}.{tool}: {message}")
        self.server, self.tool, self.message = server, tool, message


def server_urls(mcp_config: Path) -> dict[str, str]:
    """Server name -> streamable HTTP URL, from a run's mcp.json."""
    return {name: entry.url for name, entry in McpJson.read(mcp_config).mcpServers.items()}


def payload(result: CallToolResult) -> Any:
    """A successful result as data: the structured content (unwrapped from the SDK's
    {"result": ...} for tools that return non-objects), else the text parsed as JSON if it is
    JSON, else the text itself."""
    if result.structured_content is not None:
        data = result.structured_content
        if isinstance(data, dict) and set(data) == {"result"}:
            return data["result"]
        return data
    text = "\n".join(getattr(block, "text", "") for block in result.content)
    try:
        return json.loads(text)
    except ValueError:
        return text


def error_text(result: CallToolResult) -> str:
    return "\n".join(getattr(block, "text", "") for block in result.content) or "tool error"


class McpSessions:
    """Open sessions to a run's MCP servers; `call` blocks until the tool answers."""

    def __init__(self, urls: dict[str, str], request_timeout: float = 300.0):
        self.urls = dict(urls)
        self.request_timeout = request_timeout
        self._portal_cm: AbstractContextManager[BlockingPortal] | None = None
        self._portal: BlockingPortal | None = None
        self._clients: dict[str, Client] = {}
        self._contexts: list[AbstractContextManager[Client]] = []

    def __enter__(self) -> Self:
        self._portal_cm = start_blocking_portal("asyncio")
        self._portal = self._portal_cm.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        while self._contexts:
            context = self._contexts.pop()
            with contextlib.suppress(Exception):  # a session that cannot close cleanly is gone
                context.__exit__(None, None, None)
        self._clients.clear()
        if self._portal_cm is not None:
            self._portal_cm.__exit__(None, None, None)
            self._portal_cm = self._portal = None

    def _client(self, server: str) -> Client:
        if server in self._clients:
            return self._clients[server]
        if server not in self.urls:
            known = ", ".join(sorted(self.urls)) or "none"
            raise ToolCallError(
                server, "*", f"no MCP server {server!r} in this run (servers: {known})"
            )
        if self._portal is None:
            raise RuntimeError("McpSessions is not open: use it as a context manager")
        url = self.urls[server]
        client = self._portal.call(
            lambda: Client(url, read_timeout_seconds=self.request_timeout, cache=None)
        )
        context = self._portal.wrap_async_context_manager(client)
        try:
            context.__enter__()
        except Exception as exc:
            raise ToolCallError(server, "*", f"cannot connect to {url}: {exc!r}") from exc
        self._contexts.append(context)
        self._clients[server] = client
        return client

    def call(self, server: str, tool: str, arguments: dict[str, Any]) -> CallToolResult:
        client = self._client(server)
        assert self._portal is not None

        async def _call() -> CallToolResult:
            with anyio.fail_after(self.request_timeout):
                return await client.call_tool(tool, arguments)

        try:
            return self._portal.call(_call)
        except TimeoutError as exc:
            raise ToolCallError(server, tool, f"no answer in {self.request_timeout:.0f}s") from exc
