"""The Slack service: Web API dispatch at ``/api/<method>``, incoming webhooks, fixtures, export."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from environments.tools.common import (
    ParamError,
    ToolService,
    ToolSettings,
    build_app,
    gather_params,
)
from environments.tools.slack.fixtures import apply_document
from environments.tools.slack.methods import METHODS
from environments.tools.slack.methods.base import Call, Caller
from environments.tools.slack.model import Renderer, SlackError, ts_from_micro, ts_to_micro
from environments.tools.slack.schema import EXPORT_TABLES, SCHEMA
from environments.tools.slack.webhooks import incoming_webhook


def slack_json(body: Mapping[str, Any], status: int = 200) -> Response:
    # Inputs are cleaned of lone surrogates on the way in; "replace" is the last safety net.
    return Response(
        json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "replace"),
        status_code=status,
        media_type="application/json; charset=utf-8",
    )


def param_error(exc: ParamError) -> SlackError:
    """A ParamError in Slack's words: invalid_arguments with a pointer, or the body error code."""
    if exc.code != "invalid_arguments":
        return SlackError(exc.code)
    pointer = f" [json-pointer:/{exc.name}]" if exc.name else ""
    return SlackError(
        "invalid_arguments", response_metadata={"messages": [f"[ERROR] {exc.problem}{pointer}"]}
    )


class SlackService(ToolService):
    name = "slack"
    schema = SCHEMA

    def __init__(self, store, settings: ToolSettings):
        super().__init__(store, settings)
        self._last_micro: int | None = None

    # -- ToolService -----------------------------------------------------------------------

    def apply_fixtures(self, doc: Mapping[str, Any], *, origin: Path | None = None) -> dict:
        with self.store.write() as db:
            counts = apply_document(db, doc, seed=self.seed, origin=origin)
        self._last_micro = None  # fixtures may have added later messages
        return counts

    def export(self) -> dict[str, Any]:
        return {
            table: self.store.dump_table(table, order, json_cols)
            for table, (order, json_cols) in EXPORT_TABLES.items()
        }

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/api/{method:path}", self.api, methods=["GET", "POST"]),
            Route("/services/{path:path}", self.webhook, methods=["POST"]),
        ]

    def error_response(self, request: Request, status: int, code: str, detail: str) -> Response:
        if request.url.path.startswith("/services/"):
            return PlainTextResponse(code if status != 404 else "no_service", status_code=status)
        if request.url.path.startswith("/api/") and status < 500:
            # Slack answers logical errors with 200; slack_sdk reads `error` either way.
            return slack_json({"ok": False, "error": "unknown_method" if status == 404 else code})
        return slack_json({"ok": False, "error": code}, status=status)

    # -- time ------------------------------------------------------------------------------

    def next_ts(self, db) -> str:
        """A fresh message ts: now, but always after every stored message (unique, ordered)."""
        if self._last_micro is None:
            latest = db.execute("SELECT MAX(ts) FROM messages").fetchone()[0]
            self._last_micro = ts_to_micro(latest) if latest else 0
        self._last_micro = max(int(self.now() * 1_000_000), self._last_micro + 1)
        return ts_from_micro(self._last_micro)

    # -- Web API ---------------------------------------------------------------------------

    async def api(self, request: Request) -> Response:
        name = request.path_params["method"]
        spec = METHODS.get(name)
        if spec is None:
            return slack_json({"ok": False, "error": "unknown_method", "req_method": name[:100]})
        try:
            params = await gather_params(request, max_body_bytes=self.settings.max_body_bytes)
            return slack_json(self._run(spec, params, request))
        except SlackError as exc:
            return slack_json(exc.body())
        except ParamError as exc:
            return slack_json(param_error(exc).body())

    def _run(self, spec, params, request: Request) -> dict[str, Any]:
        caller = self._authenticate(request, params) if spec.auth else None
        if spec.user_token_only and caller is not None and caller.is_bot:
            raise SlackError("not_allowed_token_type")
        with self.store.write() if spec.writes else self.store.read() as db:
            team = db.execute("SELECT * FROM team").fetchone()
            if team is None:
                raise SlackError("team_not_found")
            call = Call(self, db, params, caller, Renderer(db, team), self.now())
            result = spec.fn(call)
            for actor, kind, object_id, payload in call.events:
                self.store.record_event(
                    time=call.now, actor=actor, kind=kind, object_id=object_id, payload=payload
                )
        return {"ok": True, **result}

    def _authenticate(self, request: Request, params) -> Caller:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        token = token.strip() if scheme.lower() == "bearer" else ""
        token = token or (params.text("token", max_len=300) or "")
        if not token:
            raise SlackError("not_authed")
        with self.store.read() as db:
            row = db.execute(
                "SELECT t.kind, u.id, u.name, u.bot_id, u.deleted FROM tokens t "
                "JOIN users u ON u.id = t.user_id WHERE t.token = ?",
                (token,),
            ).fetchone()
        if row is None:
            raise SlackError("invalid_auth")
        if row["deleted"]:
            raise SlackError("account_inactive")
        return Caller(row["id"], row["name"], row["kind"], row["bot_id"], token)

    # -- incoming webhooks -----------------------------------------------------------------

    async def webhook(self, request: Request) -> Response:
        return await incoming_webhook(self, request)


def create_app(settings: ToolSettings) -> Starlette:
    """The Slack service app (state in ``<state_dir>/slack.db``)."""
    return build_app(SlackService, settings)
