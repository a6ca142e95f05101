"""Upstream routing table: prefixes → weighted instances, swappable at run time.

Config (``ACME_INGRESS_UPSTREAMS`` or ``PUT /_ingress/upstreams``) maps a path
prefix to instances, either as a bare list or with an explicit upstream name::

    {"/api": [{"name": "api-1", "url": "http://127.0.0.1:8001", "weight": 90},
              {"name": "api-canary", "url": "http://127.0.0.1:8011", "weight": 10}],
     "/": {"upstream": "web", "instances": ["http://127.0.0.1:8002"]}}
"""

from __future__ import annotations

import json
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse


class UpstreamConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Instance:
    name: str
    url: str
    weight: float


@dataclass(frozen=True)
class RouteEntry:
    prefix: str
    upstream: str
    instances: tuple[Instance, ...]

    def matches(self, path: str) -> bool:
        if self.prefix == "/":
            return True
        return path == self.prefix or path.startswith(self.prefix + "/")


def _default_name(prefix: str) -> str:
    return prefix.strip("/").replace("/", "_") or "web"


def _parse_instance(raw: Any, prefix: str, index: int) -> Instance:
    if isinstance(raw, str):
        raw = {"url": raw}
    if not isinstance(raw, dict) or "url" not in raw:
        raise UpstreamConfigError(f"{prefix}[{index}]: expected a URL or an object with 'url'")
    url = str(raw["url"]).rstrip("/")
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise UpstreamConfigError(f"{prefix}[{index}]: invalid url {url!r}")
    try:
        weight = float(raw.get("weight", 1))
    except (TypeError, ValueError) as exc:
        raise UpstreamConfigError(f"{prefix}[{index}]: weight must be a number") from exc
    if weight < 0 or weight != weight:  # negative or NaN
        raise UpstreamConfigError(f"{prefix}[{index}]: weight must be >= 0")
    name = str(raw.get("name") or parsed.netloc)
    return Instance(name=name, url=url, weight=weight)


def parse_config(data: Any) -> tuple[RouteEntry, ...]:
    """Validate a config document; routes come back longest-prefix first."""
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError as exc:
            raise UpstreamConfigError(f"upstreams are not valid JSON: {exc}") from exc
    if isinstance(data, dict) and isinstance(data.get("routes"), dict):
        data = data["routes"]
    if not isinstance(data, dict) or not data:
        raise UpstreamConfigError("upstreams must be a non-empty object of prefix -> instances")
    routes = []
    for prefix, spec in data.items():
        if not isinstance(prefix, str) or not prefix.startswith("/"):
            raise UpstreamConfigError(f"route prefix must start with '/': {prefix!r}")
        prefix = prefix.rstrip("/") or "/"
        upstream = _default_name(prefix)
        if isinstance(spec, dict):
            upstream = str(spec.get("upstream") or upstream)
            spec = spec.get("instances")
        if not isinstance(spec, list) or not spec:
            raise UpstreamConfigError(f"{prefix}: needs at least one instance")
        instances = tuple(_parse_instance(item, prefix, i) for i, item in enumerate(spec))
        if not any(inst.weight > 0 for inst in instances):
            raise UpstreamConfigError(f"{prefix}: at least one instance needs a positive weight")
        names = [inst.name for inst in instances]
        if len(set(names)) != len(names):
            raise UpstreamConfigError(f"{prefix}: instance names must be unique")
        routes.append(RouteEntry(prefix, upstream, instances))
    return tuple(sorted(routes, key=lambda r: len(r.prefix), reverse=True))


def to_config(routes: tuple[RouteEntry, ...]) -> dict[str, Any]:
    return {
        r.prefix: {
            "upstream": r.upstream,
            "instances": [{"name": i.name, "url": i.url, "weight": i.weight} for i in r.instances],
        }
        for r in sorted(routes, key=lambda r: r.prefix)
    }


@dataclass
class UpstreamTable:
    """Thread-safe routing table with seeded weighted choice and passive ejection."""

    routes: tuple[RouteEntry, ...]
    seed: int = 0
    eject_seconds: float = 5.0
    _rng: random.Random = field(init=False)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)
    _down_until: dict[str, float] = field(init=False, default_factory=dict)
    version: int = field(init=False, default=1)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def replace(self, routes: tuple[RouteEntry, ...]) -> None:
        with self._lock:
            self.routes = routes
            self._down_until.clear()
            self.version += 1

    def match(self, path: str) -> RouteEntry | None:
        for route in self.routes:  # longest prefix first
            if route.matches(path):
                return route
        return None

    def choose(self, route: RouteEntry, exclude: set[str] | frozenset[str] = frozenset()) -> Instance | None:
        """Weighted random pick among healthy instances (falls back to ejected ones)."""
        now = time.monotonic()
        with self._lock:
            candidates = [i for i in route.instances if i.weight > 0 and i.name not in exclude]
            healthy = [i for i in candidates if self._down_until.get(f"{route.prefix}|{i.name}", 0) <= now]
            pool = healthy or candidates
            if not pool:
                return None
            return self._rng.choices(pool, weights=[i.weight for i in pool])[0]

    def mark_down(self, route: RouteEntry, instance: Instance) -> None:
        with self._lock:
            self._down_until[f"{route.prefix}|{instance.name}"] = time.monotonic() + self.eject_seconds

    def mark_up(self, route: RouteEntry, instance: Instance) -> None:
        with self._lock:
            self._down_until.pop(f"{route.prefix}|{instance.name}", None)
