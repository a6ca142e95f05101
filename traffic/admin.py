"""The traffic process's admin endpoint, on its metrics port: hostile traffic at run time.

    GET    /admin/hostile          -> 200 {"active": [{"kind", "rate", "sent", "started_at"}]}
    PUT    /admin/hostile/{kind}   {"rate": 5} (req/s, default 5) -> 200 {"attack": {...}}
                                   starts the attack, or changes the rate of a running one
    DELETE /admin/hostile/{kind}   -> 200 {"stopped": {...}}; 404 when it was not running

Every call needs `Authorization: Bearer <token>` (`--admin-token` or TRAFFIC_ADMIN_TOKEN);
a process started without a token answers 403 "admin endpoint disabled", so nothing can
switch attacks on in a run that did not ask for it. Errors are JSON `{"error": "..."}`.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable, Iterable
from typing import Any

from traffic.hostile import ATTACKS, DEFAULT_RATE, MAX_RATE, HostileTraffic

PREFIX = "/admin/hostile"
MAX_BODY = 4096
REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
}
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class AdminError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _body(environ: dict[str, Any]) -> dict[str, Any]:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY:
        raise AdminError(400, f"body too large (at most {MAX_BODY} bytes)")
    raw = environ["wsgi.input"].read(length) if length else b""
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise AdminError(400, f"body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise AdminError(400, 'body must be a JSON object like {"rate": 5}')
    return data


def _rate(data: dict[str, Any]) -> float:
    unknown = sorted(set(data) - {"rate"})
    if unknown:
        raise AdminError(400, f"unknown field(s) {', '.join(unknown)}: only rate is accepted")
    rate = data.get("rate", DEFAULT_RATE)
    if isinstance(rate, bool) or not isinstance(rate, int | float):
        raise AdminError(400, "rate must be a number of requests per second")
    if not 0 < rate <= MAX_RATE:
        raise AdminError(400, f"rate must be above 0 and at most {MAX_RATE:g} requests per second")
    return float(rate)


def admin_app(hostile: HostileTraffic, token: str | None) -> WSGIApp:
    """The WSGI app serving PREFIX; the caller routes paths under it here."""

    def handle(environ: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if not token:
            raise AdminError(403, "admin endpoint disabled: start traffic with --admin-token")
        auth = environ.get("HTTP_AUTHORIZATION", "")
        if not hmac.compare_digest(auth.encode(), f"Bearer {token}".encode()):
            raise AdminError(401, "missing or wrong bearer token")
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "").rstrip("/")
        if path == PREFIX:
            if method != "GET":
                raise AdminError(405, f"{method} {PREFIX}: use GET")
            return 200, {"active": hostile.active()}
        kind = path.removeprefix(PREFIX + "/")
        if "/" in kind or not path.startswith(PREFIX + "/") or kind not in ATTACKS:
            raise AdminError(404, f"no attack {kind!r}: use one of {', '.join(ATTACKS)}")
        if method == "PUT":
            return 200, {"attack": hostile.start(kind, _rate(_body(environ)))}
        if method == "DELETE":
            stopped = hostile.stop(kind)
            if stopped is None:
                raise AdminError(404, f"{kind} is not running")
            return 200, {"stopped": stopped}
        raise AdminError(405, f"{method} {path}: use PUT or DELETE")

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        try:
            status, body = handle(environ)
        except AdminError as exc:
            status, body = exc.status, {"error": str(exc)}
        payload = json.dumps(body).encode()
        start_response(
            f"{status} {REASONS[status]}",
            [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))],
        )
        return [payload]

    return app
