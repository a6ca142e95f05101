"""Deploys over MCP: ship a git ref, watch it, roll back, flip feature flags, restart.

The tools front the run's deployer (build -> checks -> migrate -> canary with automated
analysis -> promote or roll back), which arrives with the ops services in a later step. Until
a run has one (`base_url` None) every tool answers with a tool error saying so.

The deployer's API, as this module calls it (JSON, `Authorization: Bearer <token>`):
    GET  /api/v1/services                         services, their live version and health
    POST /api/v1/deploys {services, ref}          start a deploy -> {id, ...}
    GET  /api/v1/deploys?service=&limit=          history, newest first
    GET  /api/v1/deploys/{id}                     one deploy's status and stages
    GET  /api/v1/deploys/{id}/logs?tail=          its build/check/canary log lines
    POST /api/v1/services/{service}/rollback {to} roll back to the previous (or a given) release
    POST /api/v1/services/{service}/restart       restart a service's instances
    GET  /api/v1/flags                            feature flags and their values
    PUT  /api/v1/flags/{name} {value}             set a flag
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from mcp.server.mcpserver import MCPServer
from pydantic import Field

from mcp_servers.opsapi import OpsAPI

INSTRUCTIONS = (
    "Acme's production deployer: deploy git refs of the monorepo to services (canary, "
    "automated analysis, promote or roll back), follow a deploy, read its logs, roll back, "
    "restart, and read or set feature flags."
)

Service = Annotated[
    str,
    Field(pattern=r"^[a-z][a-z0-9-]{0,39}$", description="A service name, e.g. api or web"),
]
DeployId = Annotated[str, Field(min_length=1, max_length=100, description="A deploy id")]


def create_server(base_url: str | None, token: str | None) -> MCPServer:
    """An MCP server for the deployer at `base_url` (None: not in this run), acting with `token`."""
    api = OpsAPI(base_url, token, "the deployer")
    srv = MCPServer("deploy", instructions=INSTRUCTIONS)

    @srv.tool()
    def list_services() -> Any:
        """The deployable services: their live release (git sha), instances and health."""
        return api.get("/api/v1/services")

    @srv.tool()
    def deploy(
        services: Annotated[
            list[Service], Field(min_length=1, max_length=10, description="Services to deploy")
        ],
        ref: Annotated[
            str,
            Field(
                min_length=1,
                max_length=200,
                description="Git ref of the monorepo to deploy: a branch, tag or commit sha",
            ),
        ] = "HEAD",
    ) -> Any:
        """Deploy a git ref to services: build, checks, migrations, canary with automated
        analysis, then promote or roll back. Returns the deploy id; follow it with
        deploy_status and deploy_logs."""
        return api.post("/api/v1/deploys", json={"services": services, "ref": ref})

    @srv.tool()
    def deploy_status(deploy_id: DeployId) -> Any:
        """A deploy's state and stages (build, checks, migrate, canary steps, promote)."""
        return api.get(f"/api/v1/deploys/{quote(deploy_id, safe='')}")

    @srv.tool()
    def deploy_logs(
        deploy_id: DeployId,
        tail: Annotated[int, Field(ge=1, le=2000, description="Last lines returned")] = 200,
    ) -> Any:
        """The log of a deploy: build output, check results, canary analysis."""
        return api.get(f"/api/v1/deploys/{quote(deploy_id, safe='')}/logs", tail=tail)

    @srv.tool()
    def rollback(
        service: Service,
        to: Annotated[
            str | None,
            Field(max_length=200, description="Release (git sha) to return to [default: previous]"),
        ] = None,
    ) -> Any:
        """Roll a service back to its previous release (or to the release `to`)."""
        return api.post(f"/api/v1/services/{service}/rollback", json={"to": to})

    @srv.tool()
    def deploy_history(
        service: Annotated[Service | None, Field(description="Only this service's deploys")] = None,
        limit: Annotated[int, Field(ge=1, le=100, description="Most deploys returned")] = 20,
    ) -> Any:
        """Past deploys, newest first: id, services, ref, outcome, who, when."""
        return api.get("/api/v1/deploys", service=service, limit=limit)

    @srv.tool()
    def get_flags() -> Any:
        """The feature flags and their current values."""
        return api.get("/api/v1/flags")

    @srv.tool()
    def set_flag(
        name: Annotated[
            str,
            Field(pattern=r"^[A-Za-z0-9_.-]{1,100}$", description="Flag key, e.g. pdp_gallery_v2"),
        ],
        value: Annotated[
            bool | int | float | str | dict[str, Any],
            Field(
                description="New value: a literal (usually true or false) or a rule object "
                '{"value": ..., "instances": {...}, "rollout_percent": N}'
            ),
        ],
    ) -> Any:
        """Set a feature flag; services read the new value within seconds."""
        return api.put(f"/api/v1/flags/{name}", json={"value": value})

    @srv.tool()
    def restart(service: Service) -> Any:
        """Restart a service's instances (same release)."""
        return api.post(f"/api/v1/services/{service}/restart")

    return srv
