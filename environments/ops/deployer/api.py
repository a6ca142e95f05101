"""The deployer's HTTP API, as the deploy MCP server calls it (see mcp_servers/deploy.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from environments.ops.deployer.models import DeployRequest, FlagRequest, RollbackRequest
from environments.ops.deployer.pipeline import Deployer, DeployRejected
from environments.runtime.client import RuntimeControlError

Handler = Callable[[Request, str], Awaitable[Any]]


def error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def actor_for(request: Request, tokens: dict[str, str]) -> str | None:
    """Who is calling: the token's owner, or None."""
    auth = request.headers.get("authorization", "")
    scheme, _, token = auth.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    return tokens.get(token)


async def body_of(request: Request, model: type[BaseModel]) -> BaseModel:
    raw = await request.body()
    try:
        return model.model_validate_json(raw or b"{}")
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise DeployRejected(f"invalid request: {where}: {first['msg']}", 400) from None


def _int(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise DeployRejected(f"{name} must be an integer, got {raw!r}") from None
    if not low <= value <= high:
        raise DeployRejected(f"{name} must be between {low} and {high}")
    return value


def deployer_routes(deployer: Deployer, tokens: dict[str, str]) -> list[Route]:
    """`tokens` maps each accepted bearer token to the actor it stands for."""

    def endpoint(fn: Handler):
        async def handle(request: Request) -> JSONResponse:
            actor = actor_for(request, tokens)
            if actor is None:
                return error(401, "missing or wrong bearer token")
            try:
                result = await fn(request, actor)
            except DeployRejected as exc:
                return error(exc.status, str(exc))
            except RuntimeControlError as exc:
                # The run's runtime could not answer (or does not support the call): the
                # deployer is fine, what it depends on is not — a gateway error, not a 500.
                return error(502, f"the runtime could not answer: {exc}")
            if isinstance(result, JSONResponse):
                return result
            return JSONResponse(result)

        return handle

    async def services(request: Request, actor: str) -> Any:
        return {"services": await asyncio.to_thread(deployer.services)}

    async def create(request: Request, actor: str) -> Any:
        req = await body_of(request, DeployRequest)
        deploy = await asyncio.to_thread(deployer.submit, req.services, req.ref, actor)
        return JSONResponse(deploy.public(), status_code=202)

    async def listing(request: Request, actor: str) -> Any:
        limit = _int(request, "limit", 20, 1, 100)
        service = request.query_params.get("service") or None
        return {"deploys": [d.public() for d in deployer.history.list(service, limit)]}

    async def one(request: Request, actor: str) -> Any:
        deploy = deployer.history.get(request.path_params["id"])
        if deploy is None:
            raise DeployRejected(f"no deploy {request.path_params['id']!r}", 404)
        return deploy.public()

    async def logs(request: Request, actor: str) -> Any:
        deploy = deployer.history.get(request.path_params["id"])
        if deploy is None:
            raise DeployRejected(f"no deploy {request.path_params['id']!r}", 404)
        tail = _int(request, "tail", 200, 1, 2000)
        return {
            "id": deploy.id,
            "status": deploy.status,
            "lines": deployer.history.tail(deploy.id, tail),
        }

    async def rollback(request: Request, actor: str) -> Any:
        req = await body_of(request, RollbackRequest)
        service = request.path_params["service"]
        deploy = await asyncio.to_thread(deployer.rollback, service, req.to, actor)
        return deploy.public()

    async def restart(request: Request, actor: str) -> Any:
        deploy = await asyncio.to_thread(deployer.restart, request.path_params["service"], actor)
        return deploy.public()

    async def flags(request: Request, actor: str) -> Any:
        return {"flags": deployer.flags()}

    async def set_flag(request: Request, actor: str) -> Any:
        req = await body_of(request, FlagRequest)
        name = request.path_params["name"]
        deploy = await asyncio.to_thread(deployer.set_flag, name, req.value, actor)
        return {"flag": name, "value": req.value, "id": deploy.id, "status": deploy.status}

    return [
        Route("/api/v1/services", endpoint(services), methods=["GET"]),
        Route("/api/v1/deploys", endpoint(create), methods=["POST"]),
        Route("/api/v1/deploys", endpoint(listing), methods=["GET"]),
        Route("/api/v1/deploys/{id}", endpoint(one), methods=["GET"]),
        Route("/api/v1/deploys/{id}/logs", endpoint(logs), methods=["GET"]),
        Route("/api/v1/services/{service}/rollback", endpoint(rollback), methods=["POST"]),
        Route("/api/v1/services/{service}/restart", endpoint(restart), methods=["POST"]),
        Route("/api/v1/flags", endpoint(flags), methods=["GET"]),
        Route("/api/v1/flags/{name:str}", endpoint(set_flag), methods=["PUT"]),
    ]
