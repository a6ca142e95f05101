"""A small JSON-over-HTTP client for the run's ops services, with tool-error messages.

The monitoring and deploy servers talk to services that may not exist in a run (they arrive
with the ops services); `OpsAPI(None, ...)` then answers every call with a tool error saying
so, instead of the server failing to start or a tool crashing.
"""

from __future__ import annotations

from typing import Any

import httpx
from mcp.server.mcpserver.exceptions import ToolError


def unavailable(what: str) -> ToolError:
    return ToolError(f"not available in this run: {what} arrives with the ops services")


class OpsAPI:
    """`base_url` of a service (None when the run has none); `what` names it in messages."""

    def __init__(self, base_url: str | None, token: str | None, what: str, timeout: float = 30):
        self.what = what
        self.base_url = base_url.rstrip("/") if base_url else None
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._client = (
            httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout)
            if self.base_url
            else None
        )

    @property
    def available(self) -> bool:
        return self._client is not None

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
    ) -> Any:
        if self._client is None:
            raise unavailable(self.what)
        params = {k: v for k, v in (params or {}).items() if v is not None}
        try:
            response = self._client.request(method, path, params=params, json=json)
        except httpx.HTTPError as exc:
            raise ToolError(
                f"{self.what} is unreachable at {self.base_url} ({exc.__class__.__name__}: "
                f"{exc}); try again shortly"
            ) from None
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.is_error:
            raise ToolError(f"{self.what} refused {method} {path}: {_reason(response, body)}")
        return body

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params)

    def post(self, path: str, json: Any = None, **params: Any) -> Any:
        return self.request("POST", path, json=json, params=params)

    def put(self, path: str, json: Any = None) -> Any:
        return self.request("PUT", path, json=json)


def _reason(response: httpx.Response, body: Any) -> str:
    if isinstance(body, dict):
        for key in ("error", "detail", "message"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return f"{value} (HTTP {response.status_code})"
            if value:
                return f"{value!r} (HTTP {response.status_code})"
    text = response.text.strip().splitlines()[0][:300] if response.text.strip() else ""
    return f"HTTP {response.status_code}" + (f": {text}" if text else "")
