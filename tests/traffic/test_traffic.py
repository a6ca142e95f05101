"""Traffic as prodbench runs it: seeded locust journeys and synthetic probes, a service of the run.

One Acme run is shared by the module (it already runs the `traffic` service); the determinism
test starts further traffic processes against the same ingress.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from environments.acme.environment import ACME
from environments.runs import RunHandle
from environments.runtime.procs import run_processes
from prodbench.session import prepare_run, start_run, stop_run
from traffic.plan import World, plan_iteration, user_rng
from traffic.shapes import users_at

ROOT = Path(__file__).resolve().parents[2]
CHECKS = ("storefront_home", "product_page", "api_health", "checkout")


@pytest.fixture(scope="module")
def acme_run(tmp_path_factory):
    runs_dir = tmp_path_factory.mktemp("traffic-runs")
    paths = prepare_run(ACME, runs_dir, seed=3, run_id="traffic-e2e")
    result = start_run(paths)
    handle = RunHandle(paths)
    try:
        assert result.status == "healthy", result.error
        yield result.env
    finally:
        stop_run(handle)
        assert run_processes(handle.run_id) == []


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _metric_sum(text: str, metric: str, **labels: str) -> float:
    total = 0.0
    for line in text.splitlines():
        m = re.match(rf"^{metric}(?:\{{(.*)\}})? (\S+)$", line)
        if not m:
            continue
        have = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1) or ""))
        if all(have.get(k) == v for k, v in labels.items()):
            total += float(m.group(2))
    return total


def _traffic(target: str, seed: int, log: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "traffic",
            "--target",
            target,
            "--seed",
            str(seed),
            "--users",
            "2",
            "--metrics-port",
            str(_free_port()),
            "--no-probes",
            "--think-scale",
            "0.3",
            "--journey-log",
            str(log),
            *extra,
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _sequence(log: Path, iterations: int) -> dict[int, list[tuple]]:
    per_user: dict[int, list[tuple]] = {}
    for line in log.read_text().splitlines():
        rec = json.loads(line)
        if rec["event"] == "journey":
            key = (rec["iteration"], rec["journey"], rec["product"], rec["query"], rec["category"])
            per_user.setdefault(rec["user"], []).append(key)
    for user, seq in per_user.items():
        seq.sort()
        assert len(seq) >= iterations, (user, seq)
        assert [s[0] for s in seq[:iterations]] == list(range(iterations)), seq
        per_user[user] = seq[:iterations]
    return per_user


def test_the_same_seed_gives_the_same_journeys(acme_run, tmp_path):
    target = acme_run.services["ingress"].url
    logs = [tmp_path / f"journeys-{i}.jsonl" for i in range(3)]
    procs = [
        _traffic(target, seed, log, "--duration", "8")
        for seed, log in zip((11, 11, 12), logs, strict=True)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=40)
        assert proc.returncode == 0, err[-2000:]
    first, again, other = (_sequence(log, 3) for log in logs)
    assert set(first) == {0, 1}
    assert first == again
    assert first != other


def test_traffic_flows_through_the_run(acme_run):
    env = acme_run
    ingress = env.services["ingress"].url
    traffic = env.services["traffic"].url
    assert httpx.get(traffic + "/healthz", timeout=5).status_code == 200
    before = _metric_sum(httpx.get(ingress + "/metrics").text, "http_requests_total")
    deadline = time.monotonic() + 25
    while True:
        text = httpx.get(traffic + "/metrics", timeout=5).text
        after = _metric_sum(httpx.get(ingress + "/metrics").text, "http_requests_total")
        checkouts = _metric_sum(text, "traffic_checkouts_total", result="ok")
        probes = {c: _metric_sum(text, "probe_success", check=c) for c in CHECKS}
        done = after > before and checkouts >= 1 and all(v == 1 for v in probes.values())
        if done or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert after > before, "the ingress saw no new requests"
    assert checkouts >= 1, text
    assert probes == dict.fromkeys(CHECKS, 1.0), text
    assert (
        _metric_sum(
            text, "traffic_requests_total", name="/api/v1/orders", method="POST", status="201"
        )
        >= 1
    )
    assert _metric_sum(text, "traffic_request_duration_seconds_count") > 0
    assert _metric_sum(text, "traffic_journeys_total") >= 1
    assert "probe_duration_seconds{" in text


def test_prometheus_scrapes_the_traffic(acme_run):
    prom = acme_run.services["prometheus"].url
    deadline = time.monotonic() + 20
    while True:
        resp = httpx.get(prom + "/api/v1/query", params={"query": 'up{job="traffic"}'}).json()
        values = [r["value"][1] for r in resp["data"]["result"]]
        if values == ["1"] or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert values == ["1"], resp


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--target", "not-a-url", "--seed", "1", "--metrics-port", "9"], "--target must be"),
        (["--target", "http://x", "--seed", "one", "--metrics-port", "9"], "invalid int value"),
        (
            ["--target", "http://x", "--seed", "1", "--metrics-port", "9", "--shape", "flat"],
            "invalid choice: 'flat'",
        ),
        (
            ["--target", "http://x", "--seed", "1", "--metrics-port", "9", "--users", "0"],
            "--users must be between",
        ),
        (["--target", "http://x", "--seed", "1", "--metrics-port", "70000"], "--metrics-port"),
        (["--target", "http://x", "--metrics-port", "9"], "required: --seed"),
    ],
)
def test_bad_arguments_get_a_clear_error(args, message):
    proc = subprocess.run(
        [sys.executable, "-m", "traffic", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr and "usage: python -m traffic" in proc.stderr, proc.stderr


def test_an_unreachable_target_is_a_clear_error():
    port = _free_port()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "traffic",
            "--target",
            f"http://127.0.0.1:{_free_port()}",
            "--seed",
            "1",
            "--metrics-port",
            str(port),
            "--setup-timeout",
            "1",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert proc.returncode == 1
    assert "could not read the catalogue" in proc.stderr, proc.stderr


def test_plans_depend_only_on_seed_and_user():
    world = World(
        products=(1, 2, 3, 5, 8), categories=("a", "b"), customers=("c",), probe_customer="p"
    )

    def plans(seed: int, index: int) -> list:
        rng = user_rng(seed, index)
        return [plan_iteration(rng, world, index, i) for i in range(20)]

    assert plans(1, 0) == plans(1, 0)
    assert plans(1, 0) != plans(1, 1) and plans(1, 0) != plans(2, 0)
    assert {p.journey for p in plans(1, 0) + plans(1, 1)} == {
        "shopper",
        "reader",
        "account",
        "admin",
    }


def test_shapes():
    assert [users_at("steady", t, 3) for t in (0, 50, 500)] == [3, 3, 3]
    diurnal = [users_at("diurnal", t, 5) for t in range(0, 120, 5)]
    assert min(diurnal) == 1 and max(diurnal) == 5 and diurnal[0] == 3
    assert users_at("spike", 10, 2) == 2 and users_at("spike", 35, 2) == 6
    with pytest.raises(ValueError, match="unknown shape"):
        users_at("flat", 0, 1)
