"""Per-app state for the web tier plus small helpers shared by the views."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from acme.common.settings import Settings
from acme.web.client import ApiClient, ApiFailure, ApiUnavailable

SESSION_COOKIE = "acme_session"
FLASH_COOKIE = "acme_flash"
STORE_INFO_TTL = 30.0


@dataclass
class WebState:
    settings: Settings
    api: ApiClient
    templates: Jinja2Templates
    _store: tuple[float, dict[str, Any]] | None = field(default=None)

    async def store_info(self) -> dict[str, Any]:
        """Store name/banner, cached briefly: every page shows them."""
        now = time.monotonic()
        if self._store and now - self._store[0] < STORE_INFO_TTL:
            return self._store[1]
        try:
            info = await self.api.get("/store")
        except (ApiFailure, ApiUnavailable):
            return self._store[1] if self._store else {"store_name": "Acme", "maintenance_banner": "",
                                                       "features": {}}
        self._store = (now, dict(info))
        return self._store[1]


def web(request: Request) -> WebState:
    return request.app.state.web  # type: ignore[no-any-return]


def token_of(request: Request) -> str | None:
    return request.cookies.get(SESSION_COOKIE) or None


async def current_user(request: Request) -> dict[str, Any] | None:
    """The signed-in user, fetched once per request and memoised on request.state."""
    if hasattr(request.state, "user"):
        return request.state.user  # type: ignore[no-any-return]
    user = None
    token = token_of(request)
    if token:
        try:
            user = await web(request).api.get("/users/me", token=token)
        except (ApiFailure, ApiUnavailable):
            user = None
    request.state.user = user
    return user


async def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    state = web(request)
    raw_flash = request.cookies.get(FLASH_COOKIE)
    flash = unquote(raw_flash) if raw_flash else None
    response = state.templates.TemplateResponse(
        request,
        template,
        {
            "user": await current_user(request),
            "store": await state.store_info(),
            "flash": flash,
            **context,
        },
        status_code=status_code,
    )
    if raw_flash:
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


def redirect(url: str, flash: str | None = None) -> RedirectResponse:
    response = RedirectResponse(url, status_code=303)
    if flash:
        response.set_cookie(FLASH_COOKIE, quote(flash), max_age=60, httponly=True, samesite="lax", path="/")
    return response


def login_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return redirect(f"/login?next={quote(target)}")


def set_session(response: RedirectResponse, request: Request, token: str, max_age: int) -> None:
    secure = request.headers.get("x-forwarded-proto", request.url.scheme) == "https"
    response.set_cookie(SESSION_COOKIE, token, max_age=max_age, httponly=True, samesite="lax",
                        secure=secure, path="/")


def safe_next(target: str | None) -> str:
    """Only same-site relative redirects after login (no open redirects)."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/account"


def new_idempotency_key() -> str:
    return uuid.uuid4().hex
