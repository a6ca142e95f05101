"""A synchronous client for the supervisor's runtime control API (what a deployer calls).

    client = RuntimeClient.from_env()   # PRODBENCH_RUNTIME_URL / PRODBENCH_RUNTIME_TOKEN
    client.add_instance("api", "api-canary", vars={"release": sha})
    client.restart("api", vars={"release": sha})
    client.remove_instance("api-canary")

Every call returns once the supervisor has answered: a start returns when the process is
healthy. Instances come back as the API's JSON objects: dicts with the fields of
`control.InstanceInfo` (instance, service, main, status, pid, ports, url, vars, env,
restarts, started_at, healthy_at, error). Errors raise `RuntimeControlError` with the API's
message, the HTTP status and, when a process failed to become healthy, its log's last lines.
"""

from __future__ import annotations

import os
from typing import Any, Self

import httpx

from environments.runtime.control import RUNTIME_TOKEN_ENV, RUNTIME_URL_ENV

Instance = dict[str, Any]  # one instance as the API returns it (see control.InstanceInfo)


class RuntimeControlError(RuntimeError):
    """The runtime refused or failed a request; `status` is None when it could not be reached."""

    def __init__(self, message: str, status: int | None = None, log_tail: list[str] | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.log_tail = log_tail or []

    def __str__(self) -> str:
        if not self.log_tail:
            return self.message
        return self.message + "\n  last lines of its log:\n    " + "\n    ".join(self.log_tail)


class RuntimeClient:
    def __init__(self, base_url: str, token: str, timeout: float = 120.0):
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
        )

    @classmethod
    def from_env(cls, timeout: float = 120.0) -> RuntimeClient:
        """The client for the run this process belongs to (a service with `runtime_access`)."""
        url, token = os.environ.get(RUNTIME_URL_ENV), os.environ.get(RUNTIME_TOKEN_ENV)
        missing = [
            name for name, v in ((RUNTIME_URL_ENV, url), (RUNTIME_TOKEN_ENV, token)) if not v
        ]
        if missing:
            raise RuntimeControlError(
                f"{' and '.join(missing)} not set: only services with `runtime_access: true` in "
                "the stack spec get the runtime control API's URL and token"
            )
        return cls(url, token, timeout=timeout)

    def instances(self) -> list[Instance]:
        return list(self._request("GET", "/v1/instances")["instances"])

    def start(
        self, service: str, vars: dict[str, str] | None = None, env: dict[str, str] | None = None
    ) -> Instance:
        """Start a main instance that is not running (an on-request service's first deploy)."""
        body = _overrides(vars, env)
        return self._instance("POST", f"/v1/services/{service}/start", body)

    def restart(
        self, service: str, vars: dict[str, str] | None = None, env: dict[str, str] | None = None
    ) -> Instance:
        """Replace the main instance; a given `vars`/`env` replaces that override dict."""
        body = _overrides(vars, env)
        return self._instance("POST", f"/v1/services/{service}/restart", body)

    def add_instance(
        self,
        service: str,
        instance: str,
        vars: dict[str, str] | None = None,
        env: dict[str, str] | None = None,
    ) -> Instance:
        """Start an extra instance of `service` on fresh ports (a canary)."""
        body = {"instance": instance, **_overrides(vars, env)}
        return self._instance("POST", f"/v1/services/{service}/instances", body)

    def remove_instance(self, instance: str) -> Instance:
        """Stop an extra instance and release its ports."""
        return self._instance("DELETE", f"/v1/instances/{instance}")

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _instance(self, method: str, path: str, body: dict | None = None) -> Instance:
        return self._request(method, path, body)

    def _request(self, method: str, path: str, body: dict | None = None) -> dict:
        try:
            response = self._http.request(method, path, json=body)
        except httpx.HTTPError as exc:
            raise RuntimeControlError(
                f"cannot reach the runtime control API at {self.base_url}: "
                f"{exc.__class__.__name__}: {exc}"
            ) from exc
        try:
            data = response.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise RuntimeControlError(
                f"{method} {path}: HTTP {response.status_code} without a JSON object: "
                f"{response.text[:200]!r}",
                response.status_code,
            )
        if response.is_error:
            message = str(data.get("error") or f"HTTP {response.status_code}")
            raise RuntimeControlError(message, response.status_code, data.get("log_tail"))
        return data


def _overrides(vars: dict[str, str] | None, env: dict[str, str] | None) -> dict:
    body: dict = {}
    if vars is not None:
        body["vars"] = vars
    if env is not None:
        body["env"] = env
    return body
