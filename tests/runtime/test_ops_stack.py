"""The built-in `ops` stack: the real Prometheus and Alertmanager binaries, wired together."""

from __future__ import annotations

import json
import os
import time
import urllib.request

import pytest

from environments.binaries import find_binary
from environments.stacks import ops_stack

MISSING = [b for b in ("prometheus", "alertmanager") if find_binary(b) is None]


@pytest.fixture(autouse=True)
def _need_binaries():
    if MISSING:
        if os.environ.get("CI"):
            pytest.fail(f"CI must install {MISSING} (scripts/install.sh does)")
        pytest.skip(f"{MISSING} not installed; `prodbench doctor` says how")


def get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return json.loads(resp.read())


def test_prometheus_scrapes_itself_and_alertmanager_and_knows_where_to_send_alerts(up):
    result, handle = up(ops_stack())
    assert result.status == "healthy", result.error
    prom = result.env.services["prometheus"].url
    am = result.env.services["alertmanager"].url
    deadline = time.monotonic() + 20
    while True:
        targets = get(prom + "/api/v1/targets")["data"]["activeTargets"]
        health = {t["labels"]["job"]: t["health"] for t in targets}
        if health == {"prometheus": "up", "alertmanager": "up"} or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    assert health == {"prometheus": "up", "alertmanager": "up"}
    ams = get(prom + "/api/v1/alertmanagers")["data"]["activeAlertmanagers"]
    assert [a["url"].split("/api")[0] for a in ams] == [am]
    assert get(am + "/api/v2/status")["cluster"]["status"] in ("disabled", "ready")
    # one series per target, labelled with the run, proves the per-run config was used
    up_series = get(prom + "/api/v1/query?query=up")["data"]["result"]
    assert {s["metric"]["job"] for s in up_series} == {"prometheus", "alertmanager"}
    assert (handle.paths.prometheus / "data").is_dir()
