"""Shared pieces of the Sentry and status page tests: credentials from the Acme fixtures,
real sentry-sdk runs in a subprocess, and checks mirroring getsentry/sentry-mcp's zod schemas."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from tests.tools.conftest import REPO, ToolProcess

ACME_SENTRY = REPO / "environments" / "acme" / "seed" / "tools" / "sentry.yaml"
ACME_STATUSPAGE = REPO / "environments" / "acme" / "seed" / "tools" / "statuspage.yaml"

AGENT_TOKEN = "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"
MAYA_TOKEN = "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"
KEYS = {  # project slug -> (project id, public key)
    "acme-api": (2, "294d8a50d4c5c8a353a8210b1ccc071f"),
    "acme-web": (3, "8cc7652b94e90a2b4491e12c85a3175f"),
    "acme-worker": (4, "02ad1e50aa37496065546d5569e1f819"),
    "acme-payments": (5, "19fda324489b082b2b770926fb6b9a81"),
    "acme-ingress": (6, "4904f57a40f11ba72b5335a8e6413e4d"),
}
PAGE_ID = "acmestatus26"
STATUSPAGE_KEY = "6f1c2e7a-93d4-4b8e-a5f0-2d7c9b1e4a36"
SUPPORT_KEY = "0b9e4d2c-7a61-4f3e-8c5d-1e2f3a4b5c6d"

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def dsn(service: ToolProcess, project: str = "acme-api") -> str:
    project_id, key = KEYS[project]
    return f"http://{key}@127.0.0.1:{service.port}/{project_id}"


def web(service: ToolProcess, token: str = AGENT_TOKEN) -> httpx.Client:
    return httpx.Client(
        base_url=f"{service.url}/api/0", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )


def run_sdk(script: str, *, timeout: float = 30) -> str:
    """Run a script with the real sentry-sdk in a fresh interpreter; returns its stdout.

    It runs from a file (not ``-c``) so the SDK can read source lines for frame context."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "checkout_job.py"
        path.write_text(textwrap.dedent(script))
        done = subprocess.run(
            [sys.executable, str(path)],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=tmp,
            check=False,
        )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def sdk_capture(
    service: ToolProcess,
    *,
    function: str,
    message: str,
    release: str,
    compression: str = "gzip",
    project: str = "acme-api",
    error: str = "ValueError",
) -> str:
    """Raise ``error(message)`` inside a function called ``function`` and capture it with the
    SDK (transport compression ``gzip`` or ``br``); returns the event id."""
    return run_sdk(
        f"""
        import sentry_sdk
        sentry_sdk.init(
            dsn={dsn(service, project)!r},
            release={release!r},
            environment="production",
            auto_enabling_integrations=False,  # only to start faster: the transport is the same
            _experiments={{"transport_compression_algo": {compression!r}}},
        )
        def {function}():
            raise {error}({message!r})
        try:
            {function}()
        except Exception:
            event_id = sentry_sdk.capture_exception()
        sentry_sdk.flush(timeout=10)
        print(event_id)
        """
    ).strip()


# -- shapes sentry-mcp validates ---------------------------------------------------------------


def is_url(value: object) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return bool(parts.scheme) and bool(parts.netloc)


def check_issue(issue: dict) -> None:
    """IssueSchema (packages/mcp-core/src/api-client/schema.ts)."""
    assert isinstance(issue["id"], str | int)
    assert issue["shortId"] is None or isinstance(issue["shortId"], str)
    assert isinstance(issue["title"], str)
    for key in ("firstSeen", "lastSeen"):
        assert issue[key] is None or ISO_Z.match(issue[key]), issue[key]
    assert isinstance(issue["count"], str | int) and isinstance(issue["userCount"], str | int)
    assert is_url(issue["permalink"]), issue["permalink"]
    project = issue["project"]
    assert isinstance(project["id"], str | int) and isinstance(project["slug"], str)
    assert isinstance(project["name"], str)
    assert isinstance(issue["status"], str)
    assert issue["culprit"] is None or isinstance(issue["culprit"], str)
    assigned = issue.get("assignedTo")
    if isinstance(assigned, dict):
        assert assigned["type"] in ("user", "team") and isinstance(assigned["name"], str)
    for key in ("title", "location", "value"):
        value = issue.get("metadata", {}).get(key)
        assert value is None or isinstance(value, str)


def check_frame(frame: dict) -> None:
    for key in ("filename", "function", "absPath", "module", "package", "platform", "sourceLink"):
        assert frame.get(key) is None or isinstance(frame[key], str)
    for key in ("lineNo", "colNo"):
        assert frame.get(key) is None or isinstance(frame[key], int)
    for pair in frame.get("context", []):
        assert isinstance(pair[0], int) and isinstance(pair[1], str)
    assert isinstance(frame.get("inApp", False), bool)
    assert "lineno" not in frame and "abs_path" not in frame and "in_app" not in frame


def check_event(event: dict) -> None:
    """ErrorEventSchema / DefaultEventSchema: web-format entries, tags as {key, value}."""
    assert isinstance(event["id"], str) and isinstance(event["title"], str)
    assert event["message"] is None or isinstance(event["message"], str)
    assert event["type"] in ("error", "default")
    assert ISO_Z.match(event["dateCreated"])
    assert event["culprit"] is None or isinstance(event["culprit"], str)
    for tag in event["tags"]:
        assert set(tag) == {"key", "value"} and isinstance(tag["key"], str)
    for ctx in event.get("contexts", {}).values():
        assert isinstance(ctx, dict)
    for entry in event["entries"]:
        data = entry["data"]
        if entry["type"] == "exception":
            for value in data["values"]:
                for frame in (value.get("stacktrace") or {}).get("frames", []):
                    check_frame(frame)
        elif entry["type"] == "request":
            assert data.get("url") is None or is_url(data["url"])
        elif entry["type"] == "breadcrumbs":
            for crumb in data["values"]:
                assert crumb.get("timestamp") is None or isinstance(crumb["timestamp"], str)
                assert crumb.get("data") is None or isinstance(crumb["data"], dict)
    json.dumps(event)


def link_cursors(response: httpx.Response) -> dict[str, tuple[str, bool]]:
    """``{"previous": (cursor, results), "next": (cursor, results)}`` from a Link header."""
    out = {}
    for part in response.headers["link"].split(", <"):
        rel = re.search(r'rel="(\w+)"', part)[1]
        results = re.search(r'results="(true|false)"', part)[1] == "true"
        cursor = re.search(r'cursor="([^"]+)"', part)[1]
        out[rel] = (cursor, results)
    return out
