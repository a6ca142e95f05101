"""Acme's alert rules: rendered for a time scale, valid for promtool, and unit-tested by it."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from environments.acme.ops.rules import ALERTS_TESTS, render_rules
from environments.binaries import find_binary

PROMTOOL = find_binary("promtool") or shutil.which("promtool")
RUNBOOKS = "https://www.notion.so/acme/Runbook-"


def need_promtool() -> str:
    if PROMTOOL is None:
        if os.environ.get("CI"):
            pytest.fail("CI must install promtool (it ships with Prometheus)")
        pytest.skip("promtool not installed; `prodbench doctor` says how")
    return PROMTOOL


def promtool(*args: str, cwd: Path) -> None:
    proc = subprocess.run(
        [need_promtool(), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, f"promtool {' '.join(args)} failed:\n{proc.stdout}{proc.stderr}"


def alerts(text: str) -> list[dict]:
    return [r for g in yaml.safe_load(text)["groups"] for r in g["rules"] if "alert" in r]


@pytest.mark.parametrize("time_scale", [1.0, 60.0])
def test_rendered_rules_pass_promtool_check(tmp_path, time_scale):
    (tmp_path / "acme.yml").write_text(render_rules(time_scale))
    promtool("check", "rules", "acme.yml", cwd=tmp_path)


def test_every_alert_passes_its_promtool_unit_tests(tmp_path):
    (tmp_path / "acme.yml").write_text(render_rules())
    shutil.copy(ALERTS_TESTS, tmp_path / "alerts_test.yml")
    promtool("test", "rules", "alerts_test.yml", cwd=tmp_path)


def test_every_alert_is_unit_tested_firing_and_quiet():
    names = {a["alert"] for a in alerts(render_rules())}
    cases = [
        case
        for test in yaml.safe_load(ALERTS_TESTS.read_text())["tests"]
        for case in test.get("alert_rule_test", [])
    ]
    firing = {c["alertname"] for c in cases if c.get("exp_alerts")}
    quiet = {c["alertname"] for c in cases if not c.get("exp_alerts")}
    assert names - firing == set(), "alerts with no firing test"
    assert names - quiet == set(), "alerts with no not-firing test"


def test_every_alert_has_severity_service_and_a_runbook():
    for alert in alerts(render_rules()):
        labels, notes = alert.get("labels", {}), alert.get("annotations", {})
        assert labels.get("severity") in ("page", "ticket"), alert["alert"]
        # `service` comes from the expression (by service) or is set on the alert.
        assert "service" in labels or "service" in alert["expr"], alert["alert"]
        assert {"summary", "description", "runbook_url"} <= notes.keys(), alert["alert"]
        assert notes["runbook_url"].startswith(RUNBOOKS), alert["alert"]


def test_time_scale_stretches_windows_and_for_but_not_latency():
    compressed, production = render_rules(1.0), render_rules(60.0)
    assert "[1m]" in compressed and "[1h]" in production and "[1m]" not in production
    fors = [a.get("for", "0s") for a in alerts(compressed)]
    assert all(f.endswith("s") and int(f[:-1]) <= 10 for f in fors), fors
    assert "for: 10m" in production and "for: 10s" not in production
    assert "acme_queue_lag_seconds) > 10\n" in compressed
    assert "acme_queue_lag_seconds) > 600\n" in production
    assert "p95 > 0.5" in compressed and "p95 > 0.5" in production  # real seconds
    assert "${" not in production


def test_bad_time_scale_or_mark_is_refused():
    with pytest.raises(ValueError):
        render_rules(0)
    with pytest.raises(ValueError, match="bad duration mark"):
        render_rules(template="expr: rate(x[${1 minute}])")
    assert render_rules(0.5, template="[${1m}] ${3s} ${3s:s} ${1h}") == "[30s] 1500ms 1.5 30m"
