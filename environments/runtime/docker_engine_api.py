"""The Docker Engine API over its unix socket: the few calls the docker runtime's control API makes.

The runtime service replaces app containers from inside the compose project, so it speaks to
the engine directly (the socket is mounted into its container) instead of shelling out to a
CLI its image does not have. Requests are JSON over HTTP/1.1 on the socket, as the docker CLI
sends them; errors carry the engine's own `message`.
"""

from __future__ import annotations

import io
import json
import struct
from typing import Any

import httpx

DEFAULT_SOCKET = "/var/run/docker.sock"


class EngineError(RuntimeError):
    """The engine refused a request (`status` is its HTTP status) or could not be reached."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class Engine:
    def __init__(self, socket: str = DEFAULT_SOCKET, timeout: float = 60.0):
        self.socket = socket
        self._http = httpx.Client(
            transport=httpx.HTTPTransport(uds=socket),
            base_url="http://docker",
            timeout=timeout,
        )

    def close(self) -> None:
        self._http.close()

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise EngineError(
                f"cannot reach the Docker engine at {self.socket}: {exc.__class__.__name__}: {exc}"
            ) from exc
        if response.is_error:
            try:
                message = response.json().get("message") or response.text
            except ValueError:
                message = response.text
            raise EngineError(f"{method} {path}: {message.strip()}", response.status_code)
        return response

    # ---- containers -------------------------------------------------------------------------

    def containers(self, labels: dict[str, str]) -> list[dict[str, Any]]:
        """Every container (running or not) carrying all of `labels`, as the list call has it."""
        filters = json.dumps({"label": [f"{k}={v}" for k, v in labels.items()]})
        return self._request(
            "GET", "/containers/json", params={"all": "1", "filters": filters}
        ).json()

    def inspect(self, container: str) -> dict[str, Any]:
        return self._request("GET", f"/containers/{container}/json").json()

    def create(self, name: str, body: dict[str, Any]) -> str:
        return self._request("POST", "/containers/create", params={"name": name}, json=body).json()[
            "Id"
        ]

    def start(self, container: str) -> None:
        self._request("POST", f"/containers/{container}/start")

    def stop(self, container: str, grace: int) -> None:
        try:
            self._request(
                "POST",
                f"/containers/{container}/stop",
                params={"t": str(grace)},
                timeout=grace + 30,
            )
        except EngineError as exc:
            if exc.status != 304:  # already stopped
                raise

    def remove(self, container: str) -> None:
        try:
            self._request("DELETE", f"/containers/{container}", params={"force": "1", "v": "1"})
        except EngineError as exc:
            if exc.status != 404:
                raise

    def logs(self, container: str, lines: int) -> list[str]:
        """A container's last lines, stdout and stderr (the engine's multiplexed stream)."""
        try:
            raw = self._request(
                "GET",
                f"/containers/{container}/logs",
                params={"stdout": "1", "stderr": "1", "tail": str(lines)},
            ).content
        except EngineError as exc:
            return [f"(no logs: {exc})"]
        return demultiplex(raw).decode(errors="replace").rstrip().splitlines()[-lines:]

    # ---- images -----------------------------------------------------------------------------

    def image_exists(self, tag: str) -> bool:
        try:
            self._request("GET", f"/images/{tag}/json")
        except EngineError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def build(
        self, context: bytes, tag: str, dockerfile: str, labels: dict[str, str], timeout: float
    ) -> None:
        """Build an image from a tar context; raises with the builder's own error message."""
        params = {
            "t": tag,
            "dockerfile": dockerfile,
            "labels": json.dumps(labels),
            "rm": "1",
            "forcerm": "1",
        }
        response = self._request(
            "POST",
            "/build",
            params=params,
            content=context,
            headers={"Content-Type": "application/x-tar"},
            timeout=timeout,
        )
        output = []
        for line in response.text.splitlines():
            try:
                item = json.loads(line)
            except ValueError:
                continue
            if item.get("error"):
                tail = "".join(output[-10:]).strip()
                raise EngineError(f"building {tag} failed: {item['error'].strip()}\n{tail}")
            output.append(item.get("stream") or "")


def demultiplex(raw: bytes) -> bytes:
    """The payload of the engine's log stream: 8-byte frame headers (stream, size) removed."""
    out, buf = io.BytesIO(), memoryview(raw)
    while len(buf) >= 8:
        stream, size = buf[0], struct.unpack(">I", bytes(buf[4:8]))[0]
        if stream not in (0, 1, 2) or any(buf[1:4]):
            return raw  # not multiplexed (a TTY container): the bytes as they are
        out.write(buf[8 : 8 + size])
        buf = buf[8 + size :]
    return out.getvalue()
