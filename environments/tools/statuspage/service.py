"""The status page service: the manage API (``/v1``), the public page and ``/api/v2``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from environments.tools.common import ToolService, ToolSettings, build_app
from environments.tools.statuspage import api, public
from environments.tools.statuspage.fixtures import apply_document
from environments.tools.statuspage.schema import EXPORT_TABLES, SCHEMA

PAGE = "/v1/pages/{page_id}"


class StatuspageService(ToolService):
    name = "statuspage"
    schema = SCHEMA

    def apply_fixtures(self, doc: Mapping[str, Any], *, origin: Path | None = None) -> dict:
        with self.store.write() as db:
            return apply_document(db, doc, seed=self.seed, origin=origin)

    def export(self) -> dict[str, Any]:
        return {
            table: self.store.dump_table(table, order, json_cols)
            for table, (order, json_cols) in EXPORT_TABLES.items()
        }

    def error_response(self, request: Request, status: int, code: str, detail: str) -> Response:
        path = request.url.path
        if status == 404:
            message = "The requested resource could not be found."
        elif status == 405:
            message = f"The {request.method} method is not supported for this resource."
        elif status >= 500:
            message = "Internal server error"
        else:
            message = detail
        if path.startswith(("/v1/", "/api/")) or status != 404:
            return api.json_response({"error": message}, status)
        return HTMLResponse(public._document("Not found", f"<h1>{message}</h1>"), status)

    def routes(self) -> list[BaseRoute]:
        def get(path: str, handler: api.Handler) -> Route:
            return Route(path, api.endpoint(self, handler), methods=["GET", "HEAD"])

        def write(path: str, handler: api.Handler, *methods: str) -> Route:
            return Route(path, api.endpoint(self, handler, writes=True), methods=list(methods))

        routes: list[BaseRoute] = [
            get("/v1/pages", api.pages),
            get(PAGE, api.page),
            get(f"{PAGE}/components", api.components),
            write(f"{PAGE}/components", api.create_component, "POST"),
            get(f"{PAGE}/components/{{component_id}}", api.component),
            write(f"{PAGE}/components/{{component_id}}", api.update_component, "PATCH", "PUT"),
            write(f"{PAGE}/components/{{component_id}}", api.delete_component, "DELETE"),
            get(f"{PAGE}/incidents", api.incident_list("all")),
            write(f"{PAGE}/incidents", api.create_incident, "POST"),
        ]
        for which in ("unresolved", "scheduled", "upcoming", "active_maintenance"):
            routes.append(get(f"{PAGE}/incidents/{which}", api.incident_list(which)))
        routes += [
            get(f"{PAGE}/incidents/{{incident_id}}", api.incident),
            write(f"{PAGE}/incidents/{{incident_id}}", api.update_incident, "PATCH", "PUT"),
            write(f"{PAGE}/incidents/{{incident_id}}", api.delete_incident, "DELETE"),
            write(
                f"{PAGE}/incidents/{{incident_id}}/incident_updates/{{update_id}}",
                api.edit_incident_update,
                "PATCH",
                "PUT",
            ),
            Route("/", public.home_endpoint(self), methods=["GET", "HEAD"]),
            Route(
                "/incidents/{incident_id}",
                public.incident_page_endpoint(self),
                methods=["GET", "HEAD"],
            ),
        ]
        for which in public.V2_DOCUMENTS:
            routes.append(
                Route(
                    f"/api/v2/{which}.json",
                    public.v2_endpoint(self, which),
                    methods=["GET", "HEAD"],
                )
            )
        return routes


def create_app(settings: ToolSettings) -> Starlette:
    """The status page app (state in ``<state_dir>/statuspage.db``)."""
    return build_app(StatuspageService, settings)
