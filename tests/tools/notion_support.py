"""Shared helpers for the Notion tests: the Acme fixtures, tokens, clients for both versions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from notion_client import Client

from tests.tools.conftest import REPO, ToolProcess, running

ACME_NOTION = REPO / "environments" / "acme" / "seed" / "tools" / "notion.yaml"
AGENT_TOKEN = "ntn_562184930172AcmeAgentLocalIntegrationToken01"
OPS_TOKEN = "secret_AcmeOpsAutomationLocalIntegrationToken001"
NEW = "2025-09-03"
OLD = "2022-06-28"
VERSIONS = (NEW, OLD)


@contextmanager
def notion_service(state_dir: Path, seed: int = 0) -> Iterator[ToolProcess]:
    with running("notion", state_dir, [ACME_NOTION], seed=seed) as service:
        yield service


def client(service: ToolProcess, version: str = NEW, token: str = AGENT_TOKEN) -> Client:
    """notion-client pointed at the service, retries off (a 5xx must fail the test, not hang)."""
    return Client(auth=token, base_url=service.url, retry=False, notion_version=version)


def raw(
    service: ToolProcess, version: str | None = NEW, token: str | None = AGENT_TOKEN
) -> httpx.Client:
    """A plain HTTP client for what notion-client cannot send (bad JSON, no version header)."""
    headers = {}
    if version is not None:
        headers["Notion-Version"] = version
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.Client(base_url=service.url + "/v1/", headers=headers, timeout=10)


def title(page: dict) -> str:
    """The plain title of a page object, whatever its title property is called."""
    for value in page["properties"].values():
        if value["type"] == "title":
            return "".join(t["plain_text"] for t in value["title"])
    raise AssertionError("page without a title property")


def find_page(notion: Client, text: str) -> dict:
    results = notion.search(query=text, filter={"property": "object", "value": "page"})["results"]
    for page in results:
        if title(page) == text:
            return page
    raise AssertionError(f"no page titled {text!r} in {[title(p) for p in results]}")


def data_source_id(notion: Client, name: str) -> str:
    """The id of the (only) data source of the database called ``name`` (new version)."""
    for ds in notion.search(query=name, filter={"property": "object", "value": "data_source"})[
        "results"
    ]:
        if "".join(t["plain_text"] for t in ds["title"]) == name:
            return ds["id"]
    raise AssertionError(f"no data source {name!r}")


def database_id(notion: Client, name: str) -> str:
    """The id of the database called ``name`` (old version search)."""
    for db in notion.search(query=name, filter={"property": "object", "value": "database"})[
        "results"
    ]:
        if "".join(t["plain_text"] for t in db["title"]) == name:
            return db["id"]
    raise AssertionError(f"no database {name!r}")
