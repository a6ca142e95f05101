"""Request-id propagation and structured access logs (pure ASGI, streaming-safe)."""

from __future__ import annotations

import logging
import re
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from acme.common.logging import new_request_id, request_id_var
from acme.common.metrics import route_template

REQUEST_ID_HEADER = "x-request-id"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
access_log = logging.getLogger("acme.access")


def incoming_request_id(scope: Scope) -> str | None:
    """The caller's ``X-Request-ID`` if it is safe to echo into logs and headers."""
    for key, value in scope.get("headers", []):
        if key == b"x-request-id":
            candidate: str = value.decode("latin-1").strip()
            if _VALID_REQUEST_ID.match(candidate):
                return candidate
            return None
    return None


class RequestContextMiddleware:
    """Adopt or mint a request id, expose it to logs, echo it, and log one access line."""

    def __init__(self, app: ASGIApp, *, skip_paths: tuple[str, ...] = ("/healthz", "/metrics")):
        self.app = app
        self.skip_paths = skip_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = incoming_request_id(scope) or new_request_id()
        scope.setdefault("state", {})["request_id"] = rid
        token = request_id_var.set(rid)
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = [(k, v) for k, v in message.get("headers", []) if k != b"x-request-id"]
                headers.append((b"x-request-id", rid.encode("latin-1")))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            path = scope.get("path", "")
            if path not in self.skip_paths:
                access_log.info(
                    "request",
                    extra={
                        "method": scope.get("method"),
                        "path": path,
                        "route": route_template(scope),
                        "status": status,
                        "duration_ms": round((time.perf_counter() - start) * 1000, 2),
                    },
                )
            request_id_var.reset(token)
