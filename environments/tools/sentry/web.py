"""What every web-API handler shares: Sentry's error shape, JSON bodies, Bearer auth, lookups.

Handlers are plain synchronous ``def handler(call: Call) -> Response`` functions wrapped by
:func:`endpoint`, which authenticates, opens the store (a transaction for writes) and turns
every anticipated failure into ``{"detail": ...}`` with the status Sentry would use.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from environments.tools.common.params import ParamError, parse_json_object, parse_query, read_body
from environments.tools.sentry.pagination import CursorError, Page
from environments.tools.sentry.search import SearchError
from environments.tools.sentry.serialize import View, parse_short_id

if TYPE_CHECKING:
    from environments.tools.sentry.service import SentryService

NOT_FOUND = "The requested resource does not exist"


class ApiError(Exception):
    """An answer other than success: status and Sentry's ``detail``."""

    def __init__(self, status: int, detail: str, **extra: Any):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.extra = extra


def json_response(
    data: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "replace")
    return Response(body, status, headers=dict(headers or {}), media_type="application/json")


def error_body(detail: str, **extra: Any) -> dict[str, Any]:
    return {"detail": detail, **extra}


@dataclass
class Call:
    """One authenticated web-API request in progress (handlers run synchronously on it)."""

    service: SentryService
    request: Request
    db: sqlite3.Connection
    user: sqlite3.Row
    view: View
    raw_body: bytes = b""
    events: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    @property
    def actor(self) -> str:
        return self.user["key"]

    def record(self, kind: str, object_id: str, payload: dict[str, Any]) -> None:
        """Queue a foundation event (written in the same transaction by :func:`endpoint`)."""
        self.events.append((kind, object_id, payload))

    def body(self) -> dict[str, Any]:
        """The JSON (or form) body as a dict; ``{}`` when empty."""
        raw = self.raw_body
        if not raw.strip():
            return {}
        if raw.lstrip()[:1] == b"{":
            return parse_json_object(raw)
        try:
            value = json.loads(raw)
        except (ValueError, RecursionError):
            return parse_query(raw)
        raise ApiError(400, f"Request body must be a JSON object, not {type(value).__name__}.")

    # -- lookups ---------------------------------------------------------------------------

    def org(self) -> sqlite3.Row:
        slug = self.request.path_params.get("org")
        org = self.view.org
        if slug is not None and slug != org["slug"] and slug != str(org["id"]):
            raise ApiError(404, NOT_FOUND)
        return org

    def project(self, ref: str | None = None) -> sqlite3.Row:
        self.org()
        ref = ref if ref is not None else self.request.path_params.get("project", "")
        row = self.db.execute(
            "SELECT * FROM projects WHERE slug = ? OR CAST(id AS TEXT) = ?", (ref, ref)
        ).fetchone()
        if row is None:
            raise ApiError(404, NOT_FOUND)
        return row

    def issue(self, ref: str | None = None) -> sqlite3.Row:
        """An issue by numeric id or short id (``ACME-API-1F``), as sentry-mcp passes either."""
        self.org()
        ref = (ref if ref is not None else self.request.path_params.get("issue", "")).strip()
        row = None
        if ref.isdecimal() and len(ref) <= 18:
            row = self.db.execute("SELECT * FROM issues WHERE id = ?", (int(ref),)).fetchone()
        elif (parsed := parse_short_id(ref)) is not None:
            row = self.db.execute(
                "SELECT i.* FROM issues i JOIN projects p ON p.id = i.project_id "
                "WHERE p.slug = ? AND i.short_seq = ?",
                parsed,
            ).fetchone()
        if row is None:
            raise ApiError(404, NOT_FOUND)
        return row


Handler = Callable[[Call], Response]


def endpoint(service: SentryService, handler: Handler, *, writes: bool = False):
    """A Starlette endpoint: auth, store access, foundation events, Sentry's error shape."""

    async def run(request: Request) -> Response:
        try:
            # The body is read before the store is opened: never await while holding it.
            raw = b""
            if request.method in ("POST", "PUT", "PATCH", "DELETE"):
                raw = await read_body(request, service.settings.max_body_bytes)
            with _store(service, writes) as db:
                user = service.authenticate(request, db)
                org = db.execute("SELECT * FROM org ORDER BY id LIMIT 1").fetchone()
                if org is None:
                    raise ApiError(404, NOT_FOUND)
                view = View(db, service.base_url(request), org, user, service.now())
                call = Call(service, request, db, user, view, raw)
                response = handler(call)
                for kind, object_id, payload in call.events:
                    service.record(call.actor, kind, object_id, payload)
                return response
        except ApiError as exc:
            return json_response(error_body(exc.detail, **exc.extra), exc.status)
        except ParamError as exc:
            status = 413 if exc.code == "request_too_large" else 400
            return json_response(error_body(str(exc)), status)
        except (CursorError, SearchError) as exc:
            return json_response(error_body(str(exc)), 400)

    return run


@contextmanager
def _store(service: SentryService, writes: bool) -> Iterator[sqlite3.Connection]:
    with service.store.write() if writes else service.store.read() as db:
        yield db


def paginated(
    call: Call, items: list[Any], page: Page, total: int | bool, **headers: str
) -> Response:
    return json_response(items, headers={"Link": page.link(call.request, total), **headers})


def flag(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "1", "yes"):
        return True
    if isinstance(value, str) and value.lower() in ("false", "0", "no"):
        return False
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise ApiError(400, f"{name}: Must be a valid boolean.")
