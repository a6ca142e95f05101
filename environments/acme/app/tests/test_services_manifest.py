"""services.yaml is accurate: modules exist, the migration head matches, commands really start."""

from __future__ import annotations

import importlib
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import yaml

from acme.common import migrate
from acme.common.settings import Settings

APP_ROOT = Path(__file__).resolve().parents[1]
MANIFEST = yaml.safe_load((APP_ROOT / "services.yaml").read_text())


def test_every_service_module_has_a_factory_and_main() -> None:
    names = [s["name"] for s in MANIFEST["services"]]
    assert names == ["api", "web", "payments", "worker", "ingress"]
    assert sorted(MANIFEST["start_order"]) == sorted(names)
    for svc in MANIFEST["services"]:
        module = importlib.import_module(svc["module"])
        assert callable(module.create_app)
        assert (APP_ROOT / svc["module"].replace(".", "/") / "__main__.py").exists()
        assert "{host}" in svc["command"] and "{port}" in svc["command"]
        assert svc["health"] == "/healthz" and svc["metrics"] == "/metrics"
        assert set(svc["depends_on"]) <= set(names)
        env_names = set(svc["env"])
        assert {"ACME_SERVICE_INSTANCE", "ACME_RELEASE", "SENTRY_DSN"} <= env_names


def test_manifest_head_matches_alembic() -> None:
    assert MANIFEST["migrations"]["head"] == migrate.head_revision()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_api_command_starts_and_reports_healthy(settings: Settings) -> None:
    svc = next(s for s in MANIFEST["services"] if s["name"] == "api")
    port = _free_port()
    argv = [sys.executable if a == "python" else a.format(host="127.0.0.1", port=port)
            for a in svc["command"]]
    env = {**os.environ, "PYTHONPATH": str(APP_ROOT), "ACME_DATABASE_URL": settings.database_url,
           "ACME_SERVICE_INSTANCE": "api-smoke", "ACME_RELEASE": "deadbeef",
           "ACME_OBJECT_STORE": settings.object_store}
    proc = subprocess.Popen(argv, cwd=APP_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 15
        health = None
        while time.monotonic() < deadline:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert health is not None and health.status_code == 200, "api did not come up"
        assert health.json()["instance"] == "api-smoke" and health.json()["release"] == "deadbeef"
        httpx.get(f"http://127.0.0.1:{port}/api/v1/products/1", headers={"X-Request-ID": "smoke-1"})
    finally:
        proc.terminate()
        output, _ = proc.communicate(timeout=15)
    lines = [json.loads(line) for line in output.decode().splitlines() if line.startswith("{")]
    access = [entry for entry in lines if entry.get("request_id") == "smoke-1"]
    assert access and access[0]["service"] == "api" and access[0]["instance"] == "api-smoke"
    assert access[0]["route"] == "/api/v1/products/{product_id}"
    assert all({"ts", "level", "service", "instance", "request_id", "msg"} <= set(e) for e in lines)
