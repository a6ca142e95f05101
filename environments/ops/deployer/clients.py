"""What the deployer talks to besides the runtime: the ingress, Slack and Prometheus' targets."""

from __future__ import annotations

import json
import logging
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
    """Posts to a channel through its incoming webhook; a failed post never fails a deploy."""

    def __init__(self, url: str | None):
        self.url = url

    def post(self, text: str) -> bool:
        if not self.url:
            return False
        try:
            resp = httpx.post(self.url, json={"text": text}, timeout=5)
            return resp.status_code == 200
        except httpx.HTTPError as exc:
            log.warning("slack webhook failed: %s", exc)
            return False


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
