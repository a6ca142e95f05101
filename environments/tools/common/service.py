"""The shape every tool service has, and the app factory that wires one into Starlette.

A tool subclasses :class:`ToolService` (its SQL schema, how to apply a fixture document, how to
export its state, its routes, its error shape) and exposes::

    def create_app(settings: ToolSettings) -> Starlette:
        return build_app(SlackService, settings)

:func:`build_app` opens ``<state_dir>/<tool>.db``, seeds it from the fixture files on first start
only (a restart keeps the state), adds ``/healthz`` and the admin API, and makes sure no request
ever ends in an unhandled exception: bad input gets the tool's own error shape; a bug gets a 500
in that shape and one log record with the traceback.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, ClassVar

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from environments.tools.common.admin import admin_routes
from environments.tools.common.fixtures import load_fixture_file
from environments.tools.common.settings import ToolSettings
from environments.tools.common.store import Store, dumps

log = logging.getLogger("prodbench.tools")

SEEDED_KEY = "seeded"


class ToolService(ABC):
    """One tool's behaviour over its store. Instances live exactly as long as their app."""

    name: ClassVar[str]
    schema: ClassVar[str] = ""

    def __init__(self, store: Store, settings: ToolSettings):
        self.store = store
        self.settings = settings
        self.seed = settings.seed

    # -- what each tool provides ------------------------------------------------------------

    @abstractmethod
    def apply_fixtures(self, doc: Mapping[str, Any], *, origin: Path | None = None) -> dict:
        """Apply one fixture document on top of the current state (inside a transaction).

        ``origin`` is the file it came from (relative paths in it resolve against its folder),
        None for documents posted to the admin API. Returns counts of what was applied.
        Raises FixtureError with a readable message on a bad document.
        """

    @abstractmethod
    def export(self) -> dict[str, Any]:
        """The whole state as plain JSON-able data, in a deterministic order."""

    @abstractmethod
    def routes(self) -> list[BaseRoute]:
        """The tool's own API routes."""

    def error_response(self, request: Request, status: int, code: str, detail: str) -> Response:
        """An error in the tool's own shape. Override to speak the real API's dialect."""
        return JSONResponse({"ok": False, "error": code, "detail": detail}, status_code=status)

    # -- shared helpers ---------------------------------------------------------------------

    def now(self) -> float:
        return time.time()

    def record(self, actor: str, kind: str, object_id: str, payload: Mapping[str, Any]) -> None:
        """Append a mutation to the events table (call inside the mutation's transaction)."""
        self.store.record_event(
            time=self.now(), actor=actor, kind=kind, object_id=object_id, payload=payload
        )


def seed_once(service: ToolService, fixtures: tuple[Path, ...]) -> bool:
    """Apply the fixture files if this state was never seeded. True if it seeded now.

    On a restart the stored seed wins over the one in the settings, so ids derived later (from
    fixtures posted to the admin API) stay consistent with the ones already stored.
    """
    stored = service.store.get_meta(SEEDED_KEY)
    if stored is not None:
        service.seed = int(_json_field(stored, "seed", service.seed))
        return False
    with service.store.write():
        digests = []
        for path in fixtures:
            doc = load_fixture_file(path)
            service.apply_fixtures(doc, origin=Path(path))
            digests.append(hashlib.sha256(Path(path).read_bytes()).hexdigest())
        service.store.set_meta(SEEDED_KEY, dumps({"seed": service.seed, "fixtures": digests}))
    return True


def _json_field(text: str, key: str, default: Any) -> Any:
    try:
        return json.loads(text).get(key, default)
    except (ValueError, AttributeError):
        return default


class _Guard:
    """Outermost ASGI layer: any exception that escapes the app becomes the tool's 500."""

    def __init__(self, app: ASGIApp, service: ToolService):
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked_send(message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracked_send)
        except Exception:
            log.exception(
                "%s: unhandled error on %s %s",
                self.service.name,
                scope.get("method"),
                scope.get("path"),
            )
            if started:
                return  # too late for a clean error; the connection ends here
            response = self.service.error_response(
                Request(scope), 500, "internal_error", "the service failed; see its log"
            )
            await response(scope, receive, send)


def build_app(service_cls: type[ToolService], settings: ToolSettings) -> Starlette:
    """A Starlette app for one tool: state opened and seeded, admin API and health added."""
    store = Store(Path(settings.state_dir) / f"{service_cls.name}.db", service_cls.schema)
    service = service_cls(store, settings)
    try:
        seeded = seed_once(service, tuple(settings.fixtures))
    except BaseException:
        store.close()
        raise
    log.info(
        "%s: state %s %s (seed %d)",
        service.name,
        store.path,
        f"seeded from {len(settings.fixtures)} fixture file(s)" if seeded else "kept as it was",
        service.seed,
    )

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok", "tool": service.name})

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return service.error_response(request, exc.status_code, code, str(exc.detail))

    @asynccontextmanager
    async def lifespan(app: Starlette):
        yield
        store.close()

    routes: list[BaseRoute] = [
        Route("/healthz", healthz, methods=["GET", "HEAD"]),
        *admin_routes(service),
        *service.routes(),
    ]
    app = Starlette(
        routes=routes, exception_handlers={HTTPException: http_error}, lifespan=lifespan
    )
    app.state.service = service
    app.add_middleware(_Guard, service=service)
    return app
