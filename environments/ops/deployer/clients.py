"""What the deployer talks to besides the runtime: the ingress, Slack and Prometheus' targets."""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from pathlib import Path
from typing import Self

import httpx

from environments.runs import write_json_atomic

log = logging.getLogger(__name__)


class IngressAdmin:
    """The ingress's routing table (`GET|PUT /_ingress/upstreams`): weights for canaries."""

    def __init__(self, url: str, token: str):
        self._token = token
        self._client = httpx.Client(
            base_url=url.rstrip("/"), headers={"Authorization": f"Bearer {token}"}, timeout=10
        )

    def routes(self) -> dict:
        resp = self._client.get("/_ingress/upstreams")
        resp.raise_for_status()
        return resp.json()["routes"]

    def set_instances(self, prefix: str, instances: list[dict]) -> None:
        """Replace the instances behind `prefix` (name, url, weight), keeping other routes."""
        routes = self.routes()
        if prefix not in routes:
            raise RuntimeError(f"the ingress has no route {prefix!r} (it has {sorted(routes)})")
        routes[prefix]["instances"] = instances
        resp = self._client.put("/_ingress/upstreams", content=json.dumps(routes))
        if resp.is_error:
            raise RuntimeError(f"the ingress refused the new weights: {resp.text[:300]}")

    def load(self, instance: str, paths: list[str], rps: float) -> AnalysisLoad:
        """A load tester pinned to `instance` through the ingress, to start with `with`."""
        return AnalysisLoad(self._client.base_url, self._token, instance, paths, rps)

    def close(self) -> None:
        self._client.close()


class AnalysisLoad:
    """Flagger's loadtester: steady GETs pinned to one instance through the ingress while a
    canary is analysed, so the ingress (and Prometheus) see enough of its answers to judge it
    even when live traffic is light. Failures are what the analysis is for: never raised."""

    def __init__(
        self, base_url: httpx.URL, token: str, instance: str, paths: list[str], rps: float
    ):
        self.sent = self.failed = 0
        self._paths, self._interval = paths, 1.0 / rps if rps > 0 else 0.0
        self._headers = {"X-Ingress-Instance": instance, "X-Ingress-Token": token}
        self._base_url = base_url
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"load-{instance}", daemon=True)

    def __enter__(self) -> Self:
        if self._paths and self._interval:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        with httpx.Client(base_url=self._base_url, headers=self._headers, timeout=5) as client:
            deadline = time.monotonic()
            while not self._stop.is_set():
                path = self._paths[self.sent % len(self._paths)]
                self.sent += 1
                try:
                    self.failed += client.get(path).status_code >= 500
                except httpx.HTTPError:
                    self.failed += 1
                deadline += self._interval
                self._stop.wait(max(0.0, deadline - time.monotonic()))


class SlackWebhook:
    """Posts to a channel through its incoming webhook, in order, off the deploy's path.

    A post waits (up to `patience` seconds) for Slack to come up, since the deployer may start
    before the tools do; a post that still fails is logged and never fails a deploy.
    """

    def __init__(self, url: str | None, patience: float = 30.0):
        self.url = url
        self.patience = patience
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._thread: threading.Thread | None = None

    def post(self, text: str) -> None:
        if not self.url:
            return
        if self._thread is None:
            self._thread = threading.Thread(target=self._drain, name="slack", daemon=True)
            self._thread.start()
        self._queue.put(text)

    def flush(self, timeout: float = 10.0) -> None:
        """Wait until every queued post was sent (or given up on)."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.05)

    def _drain(self) -> None:
        while True:
            text = self._queue.get()
            try:
                if text is not None:
                    self._send(text)
            finally:
                self._queue.task_done()

    def _send(self, text: str) -> None:
        deadline = time.monotonic() + self.patience
        while True:
            try:
                resp = httpx.post(self.url, json={"text": text}, timeout=5)
                if resp.status_code != 200:
                    log.warning("slack webhook answered %s: %s", resp.status_code, resp.text[:200])
                return
            except httpx.TransportError as exc:
                if time.monotonic() >= deadline:
                    log.warning("slack webhook unreachable, message dropped: %s", exc)
                    return
                time.sleep(0.5)


class Targets:
    """Prometheus file_sd target files, one per service, rewritten as instances come and go."""

    def __init__(self, directory: Path | None):
        self.dir = directory

    def write(self, service: str, replicas: dict[str, str]) -> None:
        """`replicas`: instance name -> host:port."""
        if self.dir is None:
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        groups = [
            {"targets": [address], "labels": {"replica": name}}
            for name, address in sorted(replicas.items())
        ]
        write_json_atomic(self.dir / f"{service}.json", groups)
