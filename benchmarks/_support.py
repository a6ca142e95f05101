"""What every tools benchmark needs: ports, processes, timing and memory, written once.

The benchmark scripts import this as ``_support`` (their own folder is on ``sys.path`` when one
is run as ``python benchmarks/x.py``; each script also puts it there itself, so they import
from any cwd or as ``benchmarks.x``). Nothing here knows about a particular tool.
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
SEED = REPO / "environments" / "acme" / "seed" / "tools"  # Acme's fixtures, one file a tool
ADMIN = "bench-admin-token"  # PRODBENCH_ADMIN_TOKEN of every service a benchmark starts


def free_port() -> int:
    """A loopback port nothing listens on now (the kernel picks it, so runs do not collide)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_kib(pid: int) -> dict[str, int]:
    """``VmRSS`` (resident now) and ``VmHWM`` (peak resident) of a process, in KiB.

    Read from /proc rather than psutil: no extra dependency, and these are the figures the
    kernel (and an OOM killer) goes by.
    """
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0])
    return fields


def mib(kib: int) -> float:
    """KiB as MiB with one decimal, as the reports print memory."""
    return round(kib / 1024, 1)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (load on the machine does not inflate it)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(samples: Sequence[float], q: float) -> float:
    """The nearest-rank ``q`` quantile (0..1): a sample that was measured, never interpolated."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def stats(samples: Sequence[float]) -> dict[str, float]:
    """p50, p99 and mean of millisecond samples, rounded to what is worth printing."""
    return {
        "p50": round(percentile(samples, 0.5), 2),
        "p99": round(percentile(samples, 0.99), 2),
        "mean": round(statistics.fmean(samples), 2),
    }


def status_ok(response: httpx.Response) -> bool:
    """The default check of :func:`timed`: HTTP 200."""
    return response.status_code == 200


def timed(
    n: int,
    send: Callable[[int], httpx.Response],
    ok: Callable[[httpx.Response], bool] = status_ok,
) -> list[float]:
    """Wall-clock milliseconds of ``send(i)`` for ``i`` in ``range(n)``.

    Only the request is timed, not the check; a failed request ends the benchmark, since the
    figures of a service answering errors would mean nothing.
    """
    out = []
    for i in range(n):
        t0 = time.perf_counter()
        response = send(i)
        elapsed = time.perf_counter() - t0
        if not ok(response):
            raise SystemExit(f"request failed: {response.status_code} {response.text[:300]}")
        out.append(elapsed * 1000)
    return out


@dataclass
class Service:
    """A process a benchmark started, and the URL it answers on once healthy."""

    name: str
    proc: subprocess.Popen
    url: str
    startup_seconds: float

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
        self.proc.wait(timeout=10)


def spawn_module(module: str, *args: str) -> subprocess.Popen:
    """``python -m module args`` from the repo with the bench admin token, output discarded
    (a run's services are quiet; timing must not wait on a pipe nobody reads)."""
    return subprocess.Popen(
        [sys.executable, "-m", module, *args],
        cwd=REPO,
        env={**os.environ, "PRODBENCH_ADMIN_TOKEN": ADMIN},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )


def wait_healthy(proc: subprocess.Popen, url: str, what: str, timeout: float = 30.0) -> float:
    """Seconds until ``url`` answers 200; SystemExit if ``proc`` dies or time runs out."""
    started = time.perf_counter()
    while True:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return time.perf_counter() - started
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.perf_counter() - started > timeout:
            proc.kill()
            raise SystemExit(f"{what} did not start")
        time.sleep(0.02)


def start_tool(
    tool: str,
    state_dir: str | Path,
    fixtures: Sequence[Path],
    *extra: str,
    timeout: float = 30.0,
) -> Service:
    """One tool in its own process, the way a run starts it, once ``/healthz`` answers."""
    port = free_port()
    args = ["--port", str(port), "--state-dir", str(state_dir)]
    for path in fixtures:
        args += ["--fixtures", str(path)]
    proc = spawn_module(f"environments.tools.{tool}", *args, *extra)
    url = f"http://127.0.0.1:{port}"
    startup = wait_healthy(proc, url + "/healthz", f"the {tool} service", timeout)
    return Service(tool, proc, url, startup)


def admin_fixtures(url: str, document: dict, timeout: float = 300) -> float:
    """POST a fixture document to a service's admin API; the seconds it took to apply."""
    t0 = time.perf_counter()
    response = httpx.post(
        url + "/_admin/fixtures",
        json=document,
        headers={"Authorization": f"Bearer {ADMIN}"},
        timeout=timeout,
    )
    response.raise_for_status()
    return time.perf_counter() - t0
