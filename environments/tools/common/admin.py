"""The admin API every tool serves under ``/_admin/``, for graders and task setup only.

All routes need ``Authorization: Bearer <PRODBENCH_ADMIN_TOKEN>``: 401 without credentials,
403 with wrong ones (or when the service was started without an admin token). Bodies are JSON;
errors are ``{"ok": false, "error": <code>, "detail": <what to do>}`` whatever the tool.

- ``GET  /_admin/export``                  the whole state: ``{"tool", "seed", "state": {...}}``
- ``GET  /_admin/events?since=&after_id=&kind=&limit=``
                                           mutations, oldest first: ``{"events": [...], "last_id"}``
- ``POST /_admin/fixtures``                apply a fixture document (JSON or YAML body) on top
"""

from __future__ import annotations

import hmac
import math
from typing import TYPE_CHECKING

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from environments.tools.common.fixtures import (
    FixtureError,
    describe_validation_error,
    parse_fixture_text,
)
from environments.tools.common.params import ParamError, gather_params, read_body
from environments.tools.common.store import MAX_EVENTS_PAGE, dumps

if TYPE_CHECKING:
    from environments.tools.common.service import ToolService

MAX_FIXTURE_BYTES = 16 * 1024 * 1024


def _error(status: int, code: str, detail: str, **headers: str) -> Response:
    return JSONResponse({"ok": False, "error": code, "detail": detail}, status, headers=headers)


def _json(data) -> Response:
    # Canonical bytes: two exports of the same state are byte-identical.
    return Response(dumps(data), media_type="application/json")


def _refusal(request: Request, expected: str | None) -> Response | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return _error(
            401,
            "not_authenticated",
            "send 'Authorization: Bearer <admin token>' (the run's PRODBENCH_ADMIN_TOKEN)",
            **{"WWW-Authenticate": "Bearer"},
        )
    if expected is None:
        return _error(
            403, "admin_disabled", "this service was started without PRODBENCH_ADMIN_TOKEN"
        )
    if not hmac.compare_digest(token.strip().encode(), expected.encode()):
        return _error(403, "forbidden", "the admin token is wrong")
    return None


def admin_routes(service: ToolService) -> list[Route]:
    expected = service.settings.admin_token

    async def export(request: Request) -> Response:
        if refusal := _refusal(request, expected):
            return refusal
        return _json({"tool": service.name, "seed": service.seed, "state": service.export()})

    async def events(request: Request) -> Response:
        if refusal := _refusal(request, expected):
            return refusal
        try:
            params = await gather_params(request, max_body_bytes=64 * 1024)
            since = _number(params.text("since", "0") or "0", "since")
            after_id = params.integer("after_id", 0, lo=0)
            limit = params.integer("limit", 1000, lo=1, hi=MAX_EVENTS_PAGE)
            kind = params.text("kind", max_len=200)
        except ParamError as exc:
            return _error(400, "invalid_arguments", str(exc))
        rows = service.store.events(since=since, after_id=after_id, kind=kind, limit=limit)
        return _json({"events": rows, "last_id": rows[-1]["id"] if rows else after_id})

    async def fixtures(request: Request) -> Response:
        if refusal := _refusal(request, expected):
            return refusal
        try:
            body = await read_body(request, MAX_FIXTURE_BYTES)
            doc = parse_fixture_text(body)
            with service.store.write():
                applied = service.apply_fixtures(doc, origin=None)
                service.record("admin", "fixtures.applied", service.name, {"applied": applied})
        except ParamError as exc:
            return _error(413 if exc.code == "request_too_large" else 400, exc.code, str(exc))
        except ValidationError as exc:
            return _error(400, "invalid_fixtures", str(describe_validation_error(exc, "fixtures")))
        except FixtureError as exc:
            return _error(400, "invalid_fixtures", str(exc))
        return _json({"ok": True, "applied": applied})

    return [
        Route("/_admin/export", export, methods=["GET"]),
        Route("/_admin/events", events, methods=["GET"]),
        Route("/_admin/fixtures", fixtures, methods=["POST"]),
    ]


def _number(text: str, name: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ParamError(name, "must be a unix timestamp (seconds)") from None
    if not math.isfinite(value):
        raise ParamError(name, "must be a finite number")
    return value
