"""Fixtures for hidden feature tests: the pytest plugin the feature grader loads (`-p graders.testkit`).

Hidden tests (`tasks/<id>/tests/test_*.py`) check the agent's work against production and the
deployed code. They run in a grader-only process with these fixtures at hand, nothing to import:

| fixture | what it is |
|---|---|
| `acme` | `httpx.Client` on the ingress (`ACME_URL`), anonymous, `follow_redirects=False` |
| `admin_client` | the same, logged in as the store admin (`admin@acme.test`) with a bearer token |
| `customer_client` | the same, logged in as the first seeded customer (lowest id); `customer_email` names it |
| `new_customer` | `new_customer(name="Grace Hopper") -> dict`: registers a fresh customer (unique email) and returns its bearer `Authorization` header |
| `workspace` | `Path` of the deployed commit's files (a `git archive` export, not the agent's checkout) |
| `prometheus` | `prometheus(query) -> list[dict]`: an instant PromQL query's `data.result` |
| `tool_state` | `tool_state(tool) -> dict`: a team tool's whole state (slack, linear, notion, sentry, statuspage) |
| `ops` | `httpx.Client` on the ops service (deployer, flags, faults) with the ops admin token |
| `app_db` | `app_db(sql, **params) -> list[tuple]`: read-only SQL on production's app database (`:name` parameters) |
| `agent_changed_production_at` | `() -> float or None`: when the agent's last deploy, rollback, restart or flag change finished (epoch s); measure "after the fix" windows from it |
| `run_view` | `graders.runview.RunView` of the run, for anything else (task state, tool admin clients) |

```python
def test_discount_applies_at_checkout(customer_client, admin_client):
    resp = customer_client.post("/api/v1/cart/items", json={"product_id": 7, "quantity": 1})
    assert resp.status_code == 201
```

Clients are function-scoped (a test's cookies never leak into another's); logins are made once
per session. The store is live: traffic buys, stock moves, so assert on what your test did, not
on global counts. The smoke journeys use the second seeded customer and traffic the last ones,
so `customer_client`'s cart is the tests' own. Every value comes from `PRODBENCH_*` variables
and `ACME_URL`, which the feature grader sets and the agent never sees.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from graders.runview import RunView
from graders.smoke import ADMIN, CUSTOMER_PASSWORD, api_login, seeded_customers

TIMEOUT = 15.0


def _env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise pytest.UsageError(f"{name} is not set: hidden tests run under the feature grader")
    return value


def _client(base_url: str, headers: dict[str, str] | None = None) -> httpx.Client:
    return httpx.Client(
        base_url=base_url,
        headers=headers or {},
        timeout=TIMEOUT,
        follow_redirects=False,
        trust_env=False,
    )


@pytest.fixture(scope="session")
def acme_url() -> str:
    """The ingress of the run: where users reach the store."""
    return _env("ACME_URL").rstrip("/")


@pytest.fixture
def acme(acme_url: str) -> Iterator[httpx.Client]:
    with _client(acme_url) as client:
        yield client


@pytest.fixture(scope="session")
def _admin_auth(acme_url: str) -> dict[str, str]:
    with _client(acme_url) as client:
        return api_login(client, *ADMIN)


@pytest.fixture
def admin_client(acme_url: str, _admin_auth: dict[str, str]) -> Iterator[httpx.Client]:
    with _client(acme_url, _admin_auth) as client:
        yield client


@pytest.fixture(scope="session")
def customer_email(acme_url: str) -> str:
    """The first seeded customer's email (the lowest user id that is not the admin)."""
    with _client(acme_url) as client:
        return seeded_customers(client, count=1)[0]


@pytest.fixture(scope="session")
def _customer_auth(acme_url: str, customer_email: str) -> dict[str, str]:
    with _client(acme_url) as client:
        return api_login(client, customer_email, CUSTOMER_PASSWORD)


@pytest.fixture
def customer_client(acme_url: str, _customer_auth: dict[str, str]) -> Iterator[httpx.Client]:
    with _client(acme_url, _customer_auth) as client:
        yield client


@pytest.fixture
def new_customer(acme_url: str) -> Iterator[Callable[..., dict[str, str]]]:
    """A fresh customer per call: an empty cart and no orders, whatever the tests did before."""
    with _client(acme_url) as client:

        def register(name: str = "Grace Hopper") -> dict[str, str]:
            email = f"grader-{uuid.uuid4().hex[:12]}@example.com"
            resp = client.post(
                "/api/v1/users",
                json={"email": email, "name": name, "password": "s3cure-pass-123"},
            )
            assert resp.status_code == 201, f"registering a customer: {resp.text}"
            return {"Authorization": f"Bearer {resp.json()['token']}"}

        yield register


@pytest.fixture(scope="session")
def workspace() -> Path:
    return Path(_env("PRODBENCH_WORKSPACE"))


@pytest.fixture(scope="session")
def run_view() -> RunView:
    return RunView(Path(_env("PRODBENCH_RUN_DIR")))


@pytest.fixture(scope="session")
def prometheus() -> Callable[[str], list[dict[str, Any]]]:
    base = _env("PRODBENCH_PROMETHEUS_URL").rstrip("/")

    def query(promql: str) -> list[dict[str, Any]]:
        resp = httpx.get(f"{base}/api/v1/query", params={"query": promql}, timeout=TIMEOUT)
        resp.raise_for_status()
        return resp.json()["data"]["result"]

    return query


@pytest.fixture(scope="session")
def tool_state() -> Callable[[str], dict[str, Any]]:
    urls: dict[str, str] = json.loads(_env("PRODBENCH_TOOL_URLS"))
    token = _env("PRODBENCH_ADMIN_TOKEN")

    def export(tool: str) -> dict[str, Any]:
        if tool not in urls:
            raise KeyError(f"no tool {tool!r}; the run has {', '.join(sorted(urls))}")
        headers = {"Authorization": f"Bearer {token}"}
        resp = httpx.get(f"{urls[tool]}/_admin/export", headers=headers, timeout=TIMEOUT)
        resp.raise_for_status()
        return resp.json()["state"]

    return export


@pytest.fixture
def ops() -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {_env('PRODBENCH_OPS_TOKEN')}"}
    with _client(_env("PRODBENCH_OPS_URL"), headers) as client:
        yield client


@pytest.fixture(scope="session")
def app_db(run_view: RunView) -> Iterator[Callable[..., list[tuple[Any, ...]]]]:
    """Read-only SQL on production's app database, for state no API shows (a new table's
    rows, an outbox): `app_db("SELECT id FROM saved_items WHERE user_id = :u", u=7)`."""
    url = run_view.deployer_config().database_url
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        uri = f"file:{path}?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=TIMEOUT)) as db:
            yield lambda sql, **params: [tuple(row) for row in db.execute(sql, params)]
        return
    import sqlalchemy as sa

    engine = sa.create_engine(url, execution_options={"postgresql_readonly": True})
    try:

        def query(sql: str, **params: Any) -> list[tuple[Any, ...]]:
            with engine.connect() as conn:
                return [tuple(row) for row in conn.execute(sa.text(sql), params)]

        yield query
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def agent_changed_production_at(run_view: RunView) -> Callable[[], float | None]:
    """When the agent's last production change finished (None: it changed nothing). A metric
    judged over "the last minute" right after a deploy still sees the time before it; a test
    measures from here instead."""
    from graders.devops import agent_last_change

    return lambda: agent_last_change(run_view, run_view.task_state())
