"""Health probes over raw asyncio streams: cheap enough to poll every few milliseconds."""

from __future__ import annotations

import asyncio


async def probe_tcp(host: str, port: int, timeout: float) -> tuple[bool, str]:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except (OSError, TimeoutError) as exc:
        return False, f"tcp {host}:{port}: {exc.__class__.__name__} {exc}".strip()
    writer.close()
    return True, "tcp ok"


async def probe_http(host: str, port: int, path: str, timeout: float) -> tuple[bool, str]:
    """A 2xx or 3xx answer to GET path counts as healthy."""
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except (OSError, TimeoutError) as exc:
        return False, f"GET {path} on port {port}: cannot connect ({exc.__class__.__name__})"
    try:
        request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: prodbench-health\r\n"
            "Accept: */*\r\nConnection: close\r\n\r\n"
        )
        writer.write(request.encode())
        line = await asyncio.wait_for(reader.readline(), timeout)
    except (OSError, TimeoutError) as exc:
        return False, f"GET {path} on port {port}: no answer ({exc.__class__.__name__})"
    finally:
        writer.close()
    parts = line.split()
    try:
        code = int(parts[1])
    except (IndexError, ValueError):
        return False, f"GET {path} on port {port}: not an HTTP answer: {line[:60]!r}"
    return 200 <= code < 400, f"GET {path} -> HTTP {code}"
