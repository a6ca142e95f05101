"""The Notion service: REST under ``/v1`` keyed on ``Notion-Version``, fixtures, export.

Every request goes: route → ``Notion-Version`` → bearer token → JSON body → handler inside one
transaction (mutations also write their foundation events there). Every refusal is Notion's
error object with a 4xx and a known code; nothing a client sends can produce a 5xx.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from environments.tools.common import ParamError, ToolService, ToolSettings, build_app, stable_uuid
from environments.tools.common.params import clean_json, clean_text, read_body
from environments.tools.notion.api import resolve
from environments.tools.notion.api.context import Caller, Ctx
from environments.tools.notion.errors import NotionError, show, validation
from environments.tools.notion.fixtures import apply_document
from environments.tools.notion.model import Memo, Repo
from environments.tools.notion.schema import EXPORT_TABLES, SCHEMA

# Notion-Version values Notion has released; True where data sources exist (2025-09-03 on).
VERSIONS: dict[str, bool] = {
    "2021-05-11": False,
    "2021-05-13": False,
    "2021-08-16": False,
    "2022-02-22": False,
    "2022-06-28": False,
    "2025-09-03": True,
    "2026-03-11": True,
}
METHODS = ["GET", "POST", "PATCH", "DELETE", "PUT", "HEAD", "OPTIONS"]
MAX_QUERY_FIELDS = 200


def notion_json(body: Mapping[str, Any], status: int = 200) -> Response:
    return Response(
        json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "replace"),
        status_code=status,
        media_type="application/json; charset=utf-8",
    )


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


class NotionService(ToolService):
    name = "notion"
    schema = SCHEMA

    def __init__(self, store, settings: ToolSettings):
        super().__init__(store, settings)
        self._requests = itertools.count(1)
        self._memo = Memo()

    # -- ToolService -----------------------------------------------------------------------

    def apply_fixtures(self, doc: Mapping[str, Any], *, origin: Path | None = None) -> dict:
        with self.store.write() as db:
            return apply_document(db, doc, seed=self.seed, origin=origin)

    def export(self) -> dict[str, Any]:
        return {
            table: self.store.dump_table(table, order, json_cols)
            for table, (order, json_cols) in EXPORT_TABLES.items()
        }

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/v1", self.api, methods=METHODS),
            Route("/v1/{path:path}", self.api, methods=METHODS),
        ]

    def error_response(self, request: Request, status: int, code: str, detail: str) -> Response:
        if status >= 500:
            error = NotionError(500, "internal_server_error", "Unexpected error occurred.")
        else:  # Starlette's own 404/405 for paths outside /v1
            error = NotionError(400, "invalid_request_url", "Invalid request URL.")
        return notion_json(error.body(self.request_id()), error.status)

    # -- requests --------------------------------------------------------------------------

    def request_id(self) -> str:
        return stable_uuid(self.seed, "notion", "request", next(self._requests))

    async def api(self, request: Request) -> Response:
        request_id = self.request_id()
        try:
            result = await self._handle(request)
        except NotionError as exc:
            return notion_json(exc.body(request_id), exc.status)
        result["request_id"] = request_id
        return notion_json(result)

    async def _handle(self, request: Request) -> dict[str, Any]:
        endpoint, path_params = resolve(request.method, request.path_params.get("path", ""))
        version = self._version(request)
        caller = self._authenticate(request)
        query = self._query(request)
        body = await self._body(request) if request.method in ("POST", "PATCH") else {}
        with self.store.write() if endpoint.writes else self.store.read() as db:
            repo = Repo(db, seed=self.seed, new=VERSIONS[version], memo=self._memo)
            ctx = Ctx(repo, caller, version, path_params, query, body, self.now())
            result = endpoint.handler(ctx)
            for kind, object_id, payload in ctx.events:
                self.store.record_event(
                    time=ctx.now,
                    actor=caller.user_id,
                    kind=kind,
                    object_id=object_id,
                    payload=payload,
                )
        return result

    def _version(self, request: Request) -> str:
        raw = request.headers.get("notion-version")
        if raw is None or not raw.strip():
            raise NotionError(
                400,
                "missing_version",
                "Notion-Version header failed validation: Notion-Version header should be "
                "defined, instead was `undefined`.",
            )
        version = raw.strip()
        if version not in VERSIONS:
            raise NotionError(
                400,
                "missing_version",
                "Notion-Version header failed validation: Notion-Version header should be one "
                f"of {', '.join(VERSIONS)}, instead was `{show(clean_text(version)[:40])}`.",
            )
        return version

    def _authenticate(self, request: Request) -> Caller:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or len(token) > 500:
            raise NotionError(401, "unauthorized", "API token is invalid.")
        with self.store.read() as db:
            row = db.execute(
                "SELECT u.id, u.key, u.name FROM tokens t JOIN users u ON u.id = t.user_id "
                "WHERE t.token = ?",
                (token,),
            ).fetchone()
        if row is None:
            raise NotionError(401, "unauthorized", "API token is invalid.")
        return Caller(row["id"], row["key"], row["name"])

    def _query(self, request: Request) -> dict[str, list[str]]:
        raw = request.scope.get("query_string", b"").decode("utf-8", "replace")
        try:
            pairs = parse_qsl(raw, keep_blank_values=True, max_num_fields=MAX_QUERY_FIELDS)
        except ValueError:
            raise validation("query failed validation: too many query parameters.") from None
        query: dict[str, list[str]] = {}
        for key, value in pairs:
            key = clean_text(key)
            key = key.removesuffix("[]")
            query.setdefault(key, []).append(clean_text(value))
        return query

    async def _body(self, request: Request) -> dict[str, Any]:
        try:
            raw = await read_body(request, self.settings.max_body_bytes)
        except ParamError as exc:
            if exc.code == "request_too_large":
                raise validation(
                    f"Request body too large: the limit is {self.settings.max_body_bytes} bytes."
                ) from None
            raise NotionError(
                400, "invalid_request", "The request body could not be read."
            ) from None
        if not raw.strip():
            return {}
        try:
            doc = clean_json(json.loads(raw, parse_constant=_reject_constant))
        except (ValueError, RecursionError):
            raise NotionError(400, "invalid_json", "Error parsing JSON body.") from None
        if not isinstance(doc, dict):
            raise validation(
                f"body failed validation: body should be an object, instead was `{show(doc)}`."
            )
        if not _finite(doc):
            raise NotionError(400, "invalid_json", "Error parsing JSON body.")
        return doc


def _finite(value: Any, depth: int = 0) -> bool:
    """False for numbers JSON cannot hold (huge exponents decode to inf)."""
    if depth > 200:
        return False
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite(v, depth + 1) for v in value.values())
    if isinstance(value, list):
        return all(_finite(v, depth + 1) for v in value)
    return True


def create_app(settings: ToolSettings) -> Starlette:
    """The Notion service app (state in ``<state_dir>/notion.db``)."""
    return build_app(NotionService, settings)
