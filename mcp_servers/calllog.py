"""calls.jsonl: every MCP tool call of a run, one durable JSON line each, as it happens.

The log is attached to each server as SDK middleware (`MCPServer.middleware`), the one place
every `tools/call` passes through whatever the transport (streamable HTTP, legacy handshake,
stdio) and however it ends: a result, a tool error, bad arguments, an unknown tool. Servers
themselves know nothing of it.

Each line is appended with a single `write` on an `O_APPEND` descriptor, then fsynced, so
lines from several processes (the gateway, a stdio server) never interleave and a line that
was logged survives a crash of the run.
"""

from __future__ import annotations

import json
import logging
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from pydantic import BaseModel, ConfigDict

logger = logging.getLogger("prodbench.mcp.calllog")
ERROR_LIMIT = 2000  # characters of an error message kept in the log


class CallRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    time: str  # when the call arrived, ISO 8601 UTC with milliseconds
    server: str
    tool: str
    arguments: dict[str, Any]
    duration_ms: float
    error: str | None  # the message the agent saw, or None when the call succeeded
    result_bytes: int  # size of the JSON result sent back (0 when the call raised)


class CallLog:
    """Appends records to one file; safe to share between servers and with other processes."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = anyio.Lock()

    def append_sync(self, record: CallRecord) -> None:
        line = (record.model_dump_json() + "\n").encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)

    async def append(self, record: CallRecord) -> None:
        # fsync takes milliseconds: off the event loop, in arrival order.
        async with self._lock:
            await anyio.to_thread.run_sync(self.append_sync, record)

    def read(self) -> list[CallRecord]:
        if not self.path.exists():
            return []
        return [
            CallRecord.model_validate_json(line)
            for line in self.path.read_text().splitlines()
            if line.strip()
        ]

    def middleware(self, server: str):
        """SDK middleware recording each `tools/call` that `server` handles."""

        async def record_calls(
            ctx: ServerRequestContext[Any, Any], call_next: CallNext
        ) -> HandlerResult:
            if ctx.method != "tools/call" or ctx.request_id is None:
                return await call_next(ctx)
            params = dict(ctx.params or {})
            arguments = params.get("arguments")
            started_wall = time.time()
            started = time.perf_counter()
            error: str | None = None
            size = 0
            try:
                result = await call_next(ctx)
            except BaseException as exc:
                error = f"{exc.__class__.__name__}: {exc}" if not str(exc) else str(exc)
                raise
            else:
                size, error = _describe(result)
                return result
            finally:
                record = CallRecord(
                    time=_iso(started_wall),
                    server=server,
                    tool=str(params.get("name", "")),
                    arguments=arguments if isinstance(arguments, dict) else {},
                    duration_ms=round((time.perf_counter() - started) * 1000, 3),
                    error=error[:ERROR_LIMIT] if error else None,
                    result_bytes=size,
                )
                # Logged even when the caller went away and the call was cancelled.
                with anyio.CancelScope(shield=True):
                    try:
                        await self.append(record)
                    except OSError:
                        logger.exception("could not append to the call log %s", self.path)

        return record_calls


def _describe(result: HandlerResult) -> tuple[int, str | None]:
    """The result's size on the wire, and its error text when it is a tool error."""
    if isinstance(result, BaseModel):
        data: Any = result.model_dump(mode="json", by_alias=True, exclude_none=True)
    else:
        data = result or {}
    size = len(json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode())
    if isinstance(data, dict) and data.get("isError"):
        texts = [c.get("text", "") for c in data.get("content", []) if isinstance(c, dict)]
        return size, " ".join(t for t in texts if t) or "tool error"
    return size, None


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
