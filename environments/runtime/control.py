"""The runtime control API: how a run's deployer starts, replaces and stops service instances.

The supervisor owns every process of a run, so a deployer asks it: HTTP/1.1 on a loopback
port, JSON in and out, every request carrying the run's bearer token. This module is the HTTP
side (payload models, auth, routing, the wire: h11 on asyncio streams, served in the
supervisor's own event loop); the supervisor implements `Runtime`, the operations themselves.

    GET    /v1/instances                      every instance, main and extra
    POST   /v1/services/{service}/start       start a main instance that is not running
    POST   /v1/services/{service}/restart     replace the main instance (new vars/env)
    POST   /v1/services/{service}/instances   start an extra instance (a canary)
    DELETE /v1/instances/{instance}           stop an extra instance, release its ports

Errors are `{"error": "..."}` (plus `log_tail` when a process failed to become healthy) with
400 (bad request), 401 (token), 404 (unknown service, instance or endpoint), 405, 409 (state
conflict), 413 or 422 (the process failed).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import re
import sys
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Protocol, TypeVar
from urllib.parse import unquote

import h11
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

RUNTIME_URL_ENV = "PRODBENCH_RUNTIME_URL"
RUNTIME_TOKEN_ENV = "PRODBENCH_RUNTIME_TOKEN"
INSTANCE_NAME = r"^[a-z][a-z0-9-]{0,62}$"
# Variables the supervisor sets itself: an override of these could hide a process from the
# run's clean-up (PRODBENCH_RUN_ID) or hand another service the control token.
RESERVED_ENV = frozenset(
    {
        "PRODBENCH_RUN_ID",
        "PRODBENCH_SERVICE",
        "PRODBENCH_INSTANCE",
        "PRODBENCH_READY_FD",
        RUNTIME_URL_ENV,
        RUNTIME_TOKEN_ENV,
    }
)
MAX_BODY = 1 << 20
IDLE_TIMEOUT = 300.0  # seconds a connection may wait for its next bytes before we close it
M = TypeVar("M", bound=BaseModel)
_ENV_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_VAR_KEY = re.compile(r"^[A-Za-z_][\w.-]*$")


# ---- payloads ---------------------------------------------------------------------------------


class InstanceInfo(BaseModel):
    """One process of a service, as the API reports it."""

    model_config = ConfigDict(extra="ignore")

    instance: str
    service: str
    main: bool
    status: str
    pid: int | None = None
    ports: dict[str, int] = Field(default_factory=dict)
    url: str | None = None
    vars: dict[str, str] = Field(default_factory=dict, description="{vars.NAME} overrides")
    env: dict[str, str] = Field(default_factory=dict, description="environment overrides")
    restarts: int = 0
    started_at: float | None = None
    healthy_at: float | None = None
    error: str | None = None


class Overrides(BaseModel):
    """Body of start and restart: a given key replaces that override dict, an absent one keeps it."""

    model_config = ConfigDict(extra="forbid", strict=True)

    vars: dict[str, str] | None = None
    env: dict[str, str] | None = None

    @field_validator("vars")
    @classmethod
    def _var_names(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        bad = [k for k in value or {} if not _VAR_KEY.match(k)]
        if bad:
            raise ValueError(f"{bad[0]!r} is not a var name (letters, digits, _ . -)")
        return value

    @field_validator("env")
    @classmethod
    def _env_names(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        for key in value or {}:
            if not _ENV_KEY.match(key):
                raise ValueError(f"{key!r} is not an environment variable name")
            if key in RESERVED_ENV:
                raise ValueError(f"{key} is set by the supervisor and cannot be overridden")
        return value


class NewInstance(Overrides):
    """Body of POST /v1/services/{service}/instances."""

    instance: str = Field(pattern=INSTANCE_NAME)


class ControlError(Exception):
    """A request the runtime refuses; becomes `{"error": message}` with `status`."""

    def __init__(self, status: int, message: str, log_tail: list[str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.log_tail = log_tail


class Runtime(Protocol):
    """What the API asks of the supervisor."""

    def list_instances(self) -> list[InstanceInfo]: ...

    async def start_service(self, service: str, overrides: Overrides) -> InstanceInfo: ...

    async def restart_service(self, service: str, overrides: Overrides) -> InstanceInfo: ...

    async def add_instance(self, service: str, request: NewInstance) -> InstanceInfo: ...

    async def remove_instance(self, instance: str) -> InstanceInfo: ...


# ---- routing ----------------------------------------------------------------------------------


@dataclass
class Response:
    status: int
    body: dict
    headers: list[tuple[str, str]] = field(default_factory=list)


def error(status: int, message: str, **extra: object) -> Response:
    return Response(status, {"error": message, **extra})


Handler = Callable[["ControlAPI", dict[str, str], bytes], Awaitable[Response]]


class ControlAPI:
    """Auth, routing and payload checks, apart from the wire so each is small and testable."""

    def __init__(self, runtime: Runtime, token: str):
        self.runtime = runtime
        self._token = f"Bearer {token}".encode()

    async def handle(
        self, method: str, target: str, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> Response:
        if not self._authorized(headers):
            return self._unauthorized(headers)
        path = unquote(target.split("?", 1)[0])
        for pattern, handlers in ROUTES:
            match = pattern.fullmatch(path)
            if match is None:
                continue
            handler = handlers.get(method)
            if handler is None:
                allowed = ", ".join(sorted(handlers))
                return Response(
                    405,
                    {"error": f"{method} is not allowed on {path}; use {allowed}"},
                    [("allow", allowed)],
                )
            return await self._call(handler, match.groupdict(), body)
        return error(404, f"no endpoint {method} {path}; the API serves: " + "; ".join(ENDPOINTS))

    async def _call(self, handler: Handler, params: dict[str, str], body: bytes) -> Response:
        try:
            return await handler(self, params, body)
        except ControlError as exc:
            extra = {"log_tail": exc.log_tail} if exc.log_tail is not None else {}
            return error(exc.status, exc.message, **extra)
        except Exception as exc:  # noqa: BLE001 - a bug must not take the supervisor down
            traceback.print_exc(file=sys.stderr)
            return error(
                500,
                f"internal error in the runtime control API ({exc.__class__.__name__}: {exc}); "
                "the supervisor log (logs/_supervisor.log) has the traceback",
            )

    def _authorized(self, headers: list[tuple[bytes, bytes]]) -> bool:
        given = next((v for k, v in headers if k == b"authorization"), None)
        return given is not None and hmac.compare_digest(given.strip(), self._token)

    @staticmethod
    def _unauthorized(headers: list[tuple[bytes, bytes]]) -> Response:
        given = any(k == b"authorization" for k, _ in headers)
        message = (
            "invalid bearer token for this run"
            if given
            else "missing 'Authorization: Bearer <token>' header; services with runtime_access "
            f"get the token in {RUNTIME_TOKEN_ENV}"
        )
        return Response(401, {"error": message}, [("www-authenticate", "Bearer")])

    # ---- endpoints ----------------------------------------------------------------------------

    async def list_instances(self, params: dict[str, str], body: bytes) -> Response:
        instances = self.runtime.list_instances()
        return Response(200, {"instances": [i.model_dump() for i in instances]})

    async def start(self, params: dict[str, str], body: bytes) -> Response:
        info = await self.runtime.start_service(params["service"], parse(Overrides, body))
        return Response(200, info.model_dump())

    async def restart(self, params: dict[str, str], body: bytes) -> Response:
        info = await self.runtime.restart_service(params["service"], parse(Overrides, body))
        return Response(200, info.model_dump())

    async def add_instance(self, params: dict[str, str], body: bytes) -> Response:
        info = await self.runtime.add_instance(params["service"], parse(NewInstance, body))
        return Response(201, info.model_dump())

    async def remove_instance(self, params: dict[str, str], body: bytes) -> Response:
        info = await self.runtime.remove_instance(params["instance"])
        return Response(200, info.model_dump())


ROUTES: list[tuple[re.Pattern[str], dict[str, Handler]]] = [
    (re.compile(r"/v1/instances"), {"GET": ControlAPI.list_instances}),
    (re.compile(r"/v1/instances/(?P<instance>[^/]+)"), {"DELETE": ControlAPI.remove_instance}),
    (re.compile(r"/v1/services/(?P<service>[^/]+)/start"), {"POST": ControlAPI.start}),
    (re.compile(r"/v1/services/(?P<service>[^/]+)/restart"), {"POST": ControlAPI.restart}),
    (re.compile(r"/v1/services/(?P<service>[^/]+)/instances"), {"POST": ControlAPI.add_instance}),
]
ENDPOINTS = [
    "GET /v1/instances",
    "POST /v1/services/{service}/start",
    "POST /v1/services/{service}/restart",
    "POST /v1/services/{service}/instances",
    "DELETE /v1/instances/{instance}",
]


def parse(model: type[M], body: bytes) -> M:
    """A request body as `model`; an empty body is `{}`. Errors say which field and why."""
    if not body.strip():
        data: object = {}
    else:
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise ControlError(400, f"request body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ControlError(400, f"request body must be a JSON object, got {type(data).__name__}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = ".".join(str(x) for x in err["loc"]) or "body"
            problems.append(f"{loc}: {err['msg'].removeprefix('Value error, ')}")
        raise ControlError(400, "invalid request body: " + "; ".join(problems)) from None


# ---- the wire ---------------------------------------------------------------------------------


class _TooLarge(Exception):
    pass


class ControlServer:
    """HTTP/1.1 with keep-alive over asyncio streams; one task per connection."""

    def __init__(self, api: ControlAPI):
        self.api = api
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task] = set()

    async def start(self, host: str, port: int) -> None:
        self._server = await asyncio.start_server(self._connection, host, port, reuse_address=True)

    async def close(self) -> None:
        """Stop listening and cancel requests in flight (their processes stop with the run)."""
        if self._server is not None:
            self._server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._connections.add(task)
        try:
            await self._serve(h11.Connection(h11.SERVER), reader, writer)
        except (OSError, h11.ProtocolError):
            pass  # the client went away or broke the protocol after a response: nothing to tell
        finally:
            if task is not None:
                self._connections.discard(task)
            writer.close()

    async def _serve(
        self, conn: h11.Connection, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        while True:
            try:
                received = await _receive(conn, reader, writer)
            except h11.RemoteProtocolError as exc:
                await _send(conn, writer, error(400, f"malformed HTTP request: {exc}"))
                return
            except _TooLarge:
                await _send(conn, writer, error(413, f"request body over {MAX_BODY} bytes"))
                return
            if received is None:
                return
            request, body = received
            response = await self.api.handle(
                request.method.decode("ascii", "replace"),
                request.target.decode("ascii", "replace"),
                list(request.headers),
                body,
            )
            await _send(conn, writer, response)
            if conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
                return
            conn.start_next_cycle()


async def _receive(
    conn: h11.Connection, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> tuple[h11.Request, bytes] | None:
    """The next request and its body, or None when the client closed (or left) the connection."""
    request: h11.Request | None = None
    body = bytearray()
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            if conn.they_are_waiting_for_100_continue:
                writer.write(conn.send(h11.InformationalResponse(status_code=100, headers=[])))
            try:
                data = await asyncio.wait_for(reader.read(65536), IDLE_TIMEOUT)
            except TimeoutError:
                return None
            conn.receive_data(data)
        elif isinstance(event, h11.Request):
            request = event
        elif isinstance(event, h11.Data):
            body += event.data
            if len(body) > MAX_BODY:
                raise _TooLarge
        elif isinstance(event, h11.EndOfMessage):
            assert request is not None
            return request, bytes(body)
        elif isinstance(event, h11.ConnectionClosed):
            return None


async def _send(conn: h11.Connection, writer: asyncio.StreamWriter, response: Response) -> None:
    if conn.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
        return
    data = json.dumps(response.body).encode()
    headers = [
        ("content-type", "application/json"),
        ("content-length", str(len(data))),
        *response.headers,
    ]
    phrase = HTTPStatus(response.status).phrase.encode()
    writer.write(
        conn.send(h11.Response(status_code=response.status, headers=headers, reason=phrase))
    )
    writer.write(conn.send(h11.Data(data=data)))
    writer.write(conn.send(h11.EndOfMessage()))
    await writer.drain()
