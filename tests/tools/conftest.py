"""Tool services under test run as real processes: uvicorn on a free loopback port."""

from __future__ import annotations

import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

if TYPE_CHECKING:
    from hypothesis import settings

REPO = Path(__file__).resolve().parents[2]
ACME_SLACK = REPO / "environments" / "acme" / "seed" / "tools" / "slack.yaml"
ADMIN_TOKEN = "test-admin-token-1234"

# Tokens configured in ACME_SLACK.
BOT_TOKEN = "xoxb-7301000000001-7301000000101-AcmeAgentBotLocalToken01"
MAYA_TOKEN = "xoxp-7301000000001-7301000000201-AcmeUserMayaLocalToken01"
AISHA_TOKEN = "xoxp-7301000000001-7301000000202-AcmeUserAishaLocalToken1"
ALERTS_HOOK = "/services/T07ACME0001/B07ALERTS001/Am9xQ2vLr7TzK4pW8sYd3NfE"
DEPLOYS_HOOK = "/services/T07ACME0001/B07DEPLOYS01/Dp4kR8tWz2QmX7vL9cHs5JgB"


# Below the kernel's ephemeral range (32768+), where runs and outgoing connections take their
# ports: a process left over from an earlier test that still sends to its old run's Sentry or
# Slack port can then never reach a tool started here and change the state under test.
_TEST_PORTS = range(20000, 32000)
_port_picker = random.Random(os.getpid())


def free_port() -> int:
    for _ in range(500):
        port = _port_picker.choice(_TEST_PORTS)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free loopback port in 20000-31999")


@dataclass
class ToolProcess:
    tool: str
    port: int
    state_dir: Path
    proc: subprocess.Popen
    log: Path
    admin_token: str = ADMIN_TOKEN
    argv: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def admin(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {self.admin_token}"}, timeout=10
        )

    def export(self) -> bytes:
        with self.admin() as client:
            response = client.get("/_admin/export")
        response.raise_for_status()
        return response.content

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def launch(
    tool: str, state_dir: Path, fixtures: list[Path], seed: int = 0, admin_token=ADMIN_TOKEN
) -> ToolProcess:
    """Start the service (without waiting for it to be ready)."""
    state_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    argv = [
        sys.executable,
        "-m",
        f"environments.tools.{tool}",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--state-dir",
        str(state_dir),
        "--seed",
        str(seed),
    ]
    for path in fixtures:
        argv += ["--fixtures", str(path)]
    env = {k: v for k, v in os.environ.items() if k != "PRODBENCH_ADMIN_TOKEN"}
    if admin_token is not None:
        env["PRODBENCH_ADMIN_TOKEN"] = admin_token
    log = state_dir / f"{tool}.{port}.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=REPO)
    return ToolProcess(tool, port, state_dir, proc, log, admin_token or "", argv)


def wait_ready(service: ToolProcess, timeout: float = 20.0) -> ToolProcess:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if service.proc.poll() is not None:
            raise RuntimeError(
                f"{service.tool} exited {service.proc.returncode}:\n"
                f"{service.log.read_text()[-3000:]}"
            )
        try:
            if httpx.get(f"{service.url}/healthz", timeout=1).status_code == 200:
                return service
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    service.stop()
    raise RuntimeError(
        f"{service.tool} not healthy in {timeout}s:\n{service.log.read_text()[-3000:]}"
    )


def refused(tool: str, state_dir: Path, fixtures: list[Path]) -> str:
    """Start a service that must refuse to: exit status 2 and no traceback. Its output, for
    the test to check the reason in."""
    service = launch(tool, state_dir, fixtures)
    assert service.proc.wait(timeout=20) == 2
    output = service.log.read_text()
    assert "Traceback" not in output
    return output


def exports_of(services: list[ToolProcess]) -> list[bytes]:
    """Each launched service's ``/_admin/export`` once it is ready; all of them stopped after
    (also when one does not start), so determinism tests can compare states side by side."""
    try:
        return [wait_ready(service).export() for service in services]
    finally:
        for service in services:
            service.stop()


def db_dump(path: Path) -> list[str]:
    """A state file as SQL statements: equal dumps mean byte-for-byte the same rows."""
    with sqlite3.connect(path) as db:
        return list(db.iterdump())


def fuzz_budget(default_examples: int) -> tuple[int, settings]:
    """Examples per fuzz test and the hypothesis settings every tool's fuzz tests share.

    ``PRODBENCH_FUZZ_EXAMPLES`` (e.g. 5000) overrides ``default_examples`` for a longer hunt.
    No deadline (a request to a real process varies) and no example database (a run must not
    depend on what an earlier one found).
    """
    from hypothesis import HealthCheck, settings

    examples = int(os.environ.get("PRODBENCH_FUZZ_EXAMPLES", str(default_examples)))
    return examples, settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )


@contextmanager
def running(
    tool: str, state_dir: Path, fixtures: list[Path], seed: int = 0, **kwargs
) -> Iterator[ToolProcess]:
    service = wait_ready(launch(tool, state_dir, fixtures, seed, **kwargs))
    try:
        yield service
    finally:
        service.stop()


@pytest.fixture(scope="session")
def slack(tmp_path_factory) -> Iterator[ToolProcess]:
    """One Slack seeded with Acme's fixtures, shared by the tests that tolerate each other."""
    with running("slack", tmp_path_factory.mktemp("slack-shared"), [ACME_SLACK]) as service:
        yield service
