"""The tools host: several tools in one process, each on its own port, stopped together."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx
from slack_sdk import WebClient

from tests.tools.conftest import ACME_SLACK, ADMIN_TOKEN, BOT_TOKEN, free_port

HOST = [sys.executable, "-m", "environments.tools.host"]


def start(tmp_path, *args):
    env = {**os.environ, "PRODBENCH_ADMIN_TOKEN": ADMIN_TOKEN}
    return subprocess.Popen(
        [*HOST, "--state-dir", str(tmp_path), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_health(port: int, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            resp = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            if resp.status_code == 200:
                return resp.json()
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise AssertionError("the host never became healthy")


def test_a_tool_served_by_the_host_behaves_as_when_alone(tmp_path):
    health, slack = free_port(), free_port()
    proc = start(
        tmp_path,
        "--health-port",
        str(health),
        "--serve",
        f"slack={slack}",
        "--fixtures",
        f"slack={ACME_SLACK}",
    )
    try:
        assert wait_health(health) == {"status": "ok", "tools": {"slack": True}}
        client = WebClient(token=BOT_TOKEN, base_url=f"http://127.0.0.1:{slack}/api/")
        assert client.auth_test()["team"] == "Acme Commerce Inc."
        posted = client.chat_postMessage(
            channel=_channel(client, "eng"), text="hello from the host"
        )
        assert posted["ok"] and posted["message"]["text"] == "hello from the host"
        admin = httpx.get(f"http://127.0.0.1:{slack}/_admin/export")
        assert admin.status_code in (401, 403)
        export = httpx.get(
            f"http://127.0.0.1:{slack}/_admin/export",
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )
        assert export.status_code == 200 and "hello from the host" in export.text
        assert (tmp_path / "slack.db").exists()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        proc.kill()


def _channel(client: WebClient, name: str) -> str:
    return next(
        c["id"] for c in client.conversations_list(limit=200)["channels"] if c["name"] == name
    )


def test_bad_arguments_are_explained(tmp_path):
    proc = start(tmp_path, "--health-port", "1", "--serve", "jira=123")
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode != 0
    assert "--serve 'jira=123': expected TOOL=VALUE with TOOL one of slack" in out
    proc = start(tmp_path, "--health-port", "1")
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 2 and "nothing to serve" in out


def test_bad_fixtures_stop_the_host_with_a_reason(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("channels: [{name: 42}]\n")
    proc = start(
        tmp_path,
        "--health-port",
        str(free_port()),
        "--serve",
        f"slack={free_port()}",
        "--fixtures",
        f"slack={bad}",
    )
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 2 and "cannot seed their state" in out
