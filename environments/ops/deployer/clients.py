"""What the deployer talks to besides the runtime: the ingress, Slack and Prometheus' targets."""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from pathlib import Path

import httpx

from environments.runs import write_json_atomic

log = logging.getLogger(__name__)


class IngressAdmin:
    """The ingress's routing table (`GET|PUT /_ingress/upstreams`): weights for canaries."""

    def __init__(self, url: str, token: str):
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

    def close(self) -> None:
        self._client.close()


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
