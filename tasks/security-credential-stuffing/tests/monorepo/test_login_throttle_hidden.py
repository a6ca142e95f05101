"""Hidden tests run inside the monorepo at the deployed commit (its own conftest fixtures):
failed logins are throttled per client and per account with a 429 and Retry-After, successful
ones never are. In-process every request comes from the same client address."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient


def _login(api: TestClient, email: str, password: str) -> Any:
    return api.post("/api/v1/sessions", json={"email": email, "password": password})


def _throttled(resp: Any) -> bool:
    return resp.status_code == 429


def test_account_throttle_in_process(api: TestClient, customer: dict[str, Any]) -> None:
    email = customer["user"]["email"]
    statuses = [_login(api, email, "wrong-password").status_code for _ in range(5)]
    assert statuses == [401] * 5, statuses
    blocked = [_login(api, email, "s3cure-pass") for _ in range(2)]
    assert _throttled(blocked[-1]), [r.status_code for r in blocked]
    body = blocked[-1].json()
    assert body["error"]["code"] == "too_many_login_attempts", body
    assert int(blocked[-1].headers.get("retry-after", "0")) > 0
    # The address itself is under its own limit: another account still logs in.
    other = api.post("/api/v1/users", json={"email": "other@example.com", "name": "Other",
                                             "password": "s3cure-pass"})
    assert other.status_code == 201
    assert _login(api, "OTHER@example.com", "s3cure-pass").status_code == 201


def test_client_throttle_in_process(api: TestClient, customer: dict[str, Any]) -> None:
    statuses = [_login(api, f"nobody-{uuid.uuid4().hex[:8]}@example.com", "hunter2").status_code
                for _ in range(9)]
    assert statuses == [401] * 9, statuses
    after = [_login(api, f"nobody-{uuid.uuid4().hex[:8]}@example.com", "hunter2")
             for _ in range(3)]
    assert _throttled(after[-1]), [r.status_code for r in after]
    assert after[-1].json()["error"]["code"] == "too_many_login_attempts"
    assert int(after[-1].headers.get("retry-after", "0")) > 0
    # Blocked means blocked: the right password from this client waits too.
    assert _throttled(_login(api, customer["user"]["email"], "s3cure-pass"))


def test_successful_logins_never_count(api: TestClient, customer: dict[str, Any]) -> None:
    email = customer["user"]["email"]
    for _ in range(25):
        assert _login(api, email, "s3cure-pass").status_code == 201
    assert _login(api, email, "wrong").status_code == 401
