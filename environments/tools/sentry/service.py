"""The Sentry service: SDK ingestion, the ``/api/0/`` web API, fixtures and export."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from environments.tools.common import ToolService, ToolSettings, build_app
from environments.tools.sentry import ingest_http, web_discover, web_issues, web_org
from environments.tools.sentry.fixtures import apply_document
from environments.tools.sentry.schema import EXPORT_TABLES, SCHEMA
from environments.tools.sentry.web import NOT_FOUND, ApiError, Handler, endpoint, json_response

API = "/api/0"
ISSUE_PREFIXES = (
    f"{API}/organizations/{{org}}/issues/{{issue}}",
    f"{API}/issues/{{issue}}",
    f"{API}/groups/{{issue}}",
)


class SentryService(ToolService):
    name = "sentry"
    schema = SCHEMA

    # -- ToolService -----------------------------------------------------------------------

    def apply_fixtures(self, doc: Mapping[str, Any], *, origin: Path | None = None) -> dict:
        with self.store.write() as db:
            return apply_document(db, doc, seed=self.seed, origin=origin)

    def export(self) -> dict[str, Any]:
        return {
            table: self.store.dump_table(table, order, json_cols)
            for table, (order, json_cols) in EXPORT_TABLES.items()
        }

    def error_response(self, request: Request, status: int, code: str, detail: str) -> Response:
        if status == 404:
            text = NOT_FOUND
        elif status == 405:
            text = f'Method "{request.method}" not allowed.'
        elif status >= 500:
            text = "Internal Error"
        else:
            text = detail
        return json_response({"detail": text}, status)

    # -- helpers ---------------------------------------------------------------------------

    def base_url(self, request: Request) -> str:
        return f"{request.url.scheme}://{request.url.netloc}"

    def authenticate(self, request: Request, db: sqlite3.Connection) -> sqlite3.Row:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.strip().partition(" ")
        if not header.strip():
            raise ApiError(401, "Authentication credentials were not provided.")
        if scheme.lower() not in ("bearer", "token") or not token.strip():
            raise ApiError(401, "Invalid token header. No credentials provided.")
        row = db.execute(
            "SELECT u.* FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.token = ?",
            (token.strip(),),
        ).fetchone()
        if row is None:
            raise ApiError(401, "Invalid token")
        return row

    # -- routes ----------------------------------------------------------------------------

    def routes(self) -> list[BaseRoute]:
        def get(path: str, handler: Handler) -> Route:
            return Route(path, endpoint(self, handler), methods=["GET", "HEAD"])

        def write(path: str, handler: Handler, method: str) -> Route:
            return Route(path, endpoint(self, handler, writes=True), methods=[method])

        async def envelope(request: Request) -> Response:
            return await ingest_http.envelope_endpoint(self, request)

        async def store(request: Request) -> Response:
            return await ingest_http.store_endpoint(self, request)

        routes: list[BaseRoute] = [
            Route("/api/{project_id}/envelope/", envelope, methods=["POST"]),
            Route("/api/{project_id}/store/", store, methods=["POST"]),
            Route("/api/{project_id}/envelope/", ingest_http.preflight, methods=["OPTIONS"]),
            Route("/api/{project_id}/store/", ingest_http.preflight, methods=["OPTIONS"]),
            get(f"{API}/", web_org.api_index),
            get(f"{API}/auth/", web_org.whoami),
            get(f"{API}/organizations/", web_org.organizations),
            get(f"{API}/organizations/{{org}}/", web_org.organization),
            get(f"{API}/organizations/{{org}}/projects/", web_org.projects),
            get(f"{API}/organizations/{{org}}/teams/", web_org.teams),
            get(f"{API}/organizations/{{org}}/members/", web_org.members),
            get(f"{API}/organizations/{{org}}/environments/", web_org.environments),
            get(f"{API}/organizations/{{org}}/tags/", web_org.org_tags),
            get(f"{API}/organizations/{{org}}/releases/", web_org.releases),
            write(f"{API}/organizations/{{org}}/releases/", web_org.create_release, "POST"),
            get(f"{API}/organizations/{{org}}/releases/{{version}}/", web_org.release),
            get(f"{API}/organizations/{{org}}/releases/{{version}}/deploys/", web_org.deploys),
            write(
                f"{API}/organizations/{{org}}/releases/{{version}}/deploys/",
                web_org.create_deploy,
                "POST",
            ),
            get(f"{API}/organizations/{{org}}/issues/", web_issues.org_issues),
            write(f"{API}/organizations/{{org}}/issues/", web_issues.bulk_update, "PUT"),
            get(f"{API}/organizations/{{org}}/shortids/{{short_id}}/", web_issues.short_id_lookup),
            get(f"{API}/organizations/{{org}}/events/", web_discover.discover),
            get(f"{API}/organizations/{{org}}/replay-count/", web_discover.replay_count),
            get(f"{API}/organizations/{{org}}/eventids/{{event}}/", web_issues.event_id_lookup),
            get(f"{API}/teams/{{org}}/{{team}}/", web_org.team),
            get(f"{API}/projects/", web_org.all_projects),
            get(f"{API}/projects/{{org}}/{{project}}/", web_org.project),
            get(f"{API}/projects/{{org}}/{{project}}/keys/", web_org.project_keys),
            get(f"{API}/projects/{{org}}/{{project}}/teams/", web_org.project_teams),
            get(f"{API}/projects/{{org}}/{{project}}/issues/", web_issues.project_issues),
            write(f"{API}/projects/{{org}}/{{project}}/issues/", web_issues.bulk_update, "PUT"),
            get(f"{API}/projects/{{org}}/{{project}}/events/", web_issues.project_events),
            get(f"{API}/projects/{{org}}/{{project}}/events/{{event}}/", web_issues.project_event),
            get(
                f"{API}/projects/{{org}}/{{project}}/events/{{event}}/attachments/",
                web_issues.event_attachments,
            ),
            get(
                f"{API}/projects/{{org}}/{{project}}/events/{{event}}/attachments/{{attachment}}/",
                web_issues.event_attachment,
            ),
            get(f"{API}/projects/{{org}}/{{project}}/releases/", web_org.releases),
            get(f"{API}/projects/{{org}}/{{project}}/releases/{{version}}/", web_org.release),
            get(
                f"{API}/projects/{{org}}/{{project}}/stacktrace-link/", web_discover.stacktrace_link
            ),
        ]
        for prefix in ISSUE_PREFIXES:
            routes += [
                get(f"{prefix}/", web_issues.issue_details),
                write(f"{prefix}/", web_issues.update_issue, "PUT"),
                get(f"{prefix}/events/", web_issues.issue_events),
                get(f"{prefix}/events/{{event}}/", web_issues.issue_event),
                get(f"{prefix}/activities/", web_issues.activities),
                get(f"{prefix}/tags/", web_issues.issue_tags),
                get(f"{prefix}/tags/{{key}}/", web_issues.issue_tag),
                get(f"{prefix}/tags/{{key}}/values/", web_issues.issue_tag_values),
                get(f"{prefix}/external-issues/", web_discover.external_issues),
                get(f"{prefix}/user-reports/", web_discover.user_reports),
                get(f"{prefix}/autofix/", web_discover.autofix),
            ]
            for notes in ("notes", "comments"):
                routes += [
                    get(f"{prefix}/{notes}/", web_issues.notes),
                    write(f"{prefix}/{notes}/", web_issues.add_note, "POST"),
                    write(f"{prefix}/{notes}/{{note}}/", web_issues.edit_note, "PUT"),
                    write(f"{prefix}/{notes}/{{note}}/", web_issues.delete_note, "DELETE"),
                ]
        return routes


def create_app(settings: ToolSettings) -> Starlette:
    """The Sentry service app (state in ``<state_dir>/sentry.db``)."""
    return build_app(SentryService, settings)
