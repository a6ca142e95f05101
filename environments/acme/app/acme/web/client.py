"""Async client for the Acme API as used by the web tier (a backend-for-frontend)."""

from __future__ import annotations

import logging
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any

import httpx

from acme.common.logging import current_request_id

log = logging.getLogger(__name__)


class ApiFailure(Exception):
    """The API answered with an error envelope."""

    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details


class ApiUnavailable(Exception):
    """The API could not be reached or returned a server error."""


class ApiClient:
    def __init__(self, base_url: str, *, transport: httpx.AsyncBaseTransport | None = None,
                 timeout: float = 10.0) -> None:
        self.http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            # Shared by every visitor: a cookie jar here would hand one user's cookies to all.
            cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
            transport=transport,
            timeout=httpx.Timeout(timeout, connect=2.0),
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=50),
        )

    async def close(self) -> None:
        await self.http.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        params: dict[str, Any] | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        hdrs = dict(headers or {})
        if token:
            hdrs["Authorization"] = f"Bearer {token}"
        rid = current_request_id()
        if rid:
            hdrs["X-Request-ID"] = rid
        clean = {k: v for k, v in (params or {}).items() if v not in (None, "")}
        try:
            resp = await self.http.request(method, f"/api/v1{path}", params=clean, json=json, headers=hdrs)
        except httpx.HTTPError as exc:
            log.warning("api unreachable", extra={"path": path, "error": str(exc)})
            raise ApiUnavailable(str(exc)) from exc
        if resp.status_code == 204:
            return None
        try:
            data = resp.json()
        except ValueError:
            data = None
        if resp.status_code >= 500 and resp.status_code != 503:
            raise ApiUnavailable(f"api returned {resp.status_code}")
        if resp.status_code >= 400:
            err = (data or {}).get("error", {}) if isinstance(data, dict) else {}
            raise ApiFailure(resp.status_code, str(err.get("code", "error")),
                             str(err.get("message", resp.reason_phrase)), err.get("details"))
        return data

    async def get(self, path: str, **kw: Any) -> Any:
        return await self.request("GET", path, **kw)

    async def post(self, path: str, **kw: Any) -> Any:
        return await self.request("POST", path, **kw)

    async def put(self, path: str, **kw: Any) -> Any:
        return await self.request("PUT", path, **kw)

    async def patch(self, path: str, **kw: Any) -> Any:
        return await self.request("PATCH", path, **kw)

    async def delete(self, path: str, **kw: Any) -> Any:
        return await self.request("DELETE", path, **kw)
