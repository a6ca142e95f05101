"""Cache interface with in-memory, SQLite and Redis backends.

The cache is an optimisation only: backend errors are logged and treated as
misses so a Redis outage degrades latency rather than availability.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
from collections import OrderedDict
from typing import Any, Protocol
from urllib.parse import urlparse

from acme.common.metrics import Metrics

log = logging.getLogger(__name__)


class CacheBackend(Protocol):
    def get(self, key: str) -> str | None: ...
    def set(self, key: str, value: str, ttl_seconds: int) -> None: ...
    def delete(self, key: str) -> None: ...
    def incr(self, key: str) -> int: ...


class MemoryCache:
    """Per-process LRU with TTLs; the default when no shared cache is configured."""

    def __init__(self, max_entries: int = 10_000) -> None:
        self._data: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._lock = threading.Lock()
        self.max_entries = max_entries

    def get(self, key: str) -> str | None:
        with self._lock:
            item = self._data.get(key)
            if item is None:
                return None
            expires, value = item
            if expires and expires < time.monotonic():
                del self._data[key]
                return None
            self._data.move_to_end(key)
            return value

    def set(self, key: str, value: str, ttl_seconds: int) -> None:
        expires = time.monotonic() + ttl_seconds if ttl_seconds > 0 else 0.0
        with self._lock:
            self._data[key] = (expires, value)
            self._data.move_to_end(key)
            while len(self._data) > self.max_entries:
                self._data.popitem(last=False)

    def delete(self, key: str) -> None:
        with self._lock:
            self._data.pop(key, None)

    def incr(self, key: str) -> int:
        with self._lock:
            _, value = self._data.get(key, (0.0, "0"))
            new = int(value) + 1
            self._data[key] = (0.0, str(new))
            return new


class SQLiteCache:
    """A cache file shared by the processes on one host (``sqlite:///path``)."""

    def __init__(self, path: str) -> None:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self.path = path
        self._local = threading.local()
        with self._conn() as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS cache_entries "
                "(key TEXT PRIMARY KEY, value TEXT NOT NULL, expires_at REAL NOT NULL)"
            )

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=5, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            self._local.conn = conn
        return conn

    def get(self, key: str) -> str | None:
        row = self._conn().execute(
            "SELECT value, expires_at FROM cache_entries WHERE key = ?", (key,)
        ).fetchone()
        if row is None or (row[1] and row[1] < time.time()):
            return None
        return str(row[0])

    def set(self, key: str, value: str, ttl_seconds: int) -> None:
        expires = time.time() + ttl_seconds if ttl_seconds > 0 else 0.0
        self._conn().execute(
            "INSERT INTO cache_entries (key, value, expires_at) VALUES (?, ?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at",
            (key, value, expires),
        )

    def delete(self, key: str) -> None:
        self._conn().execute("DELETE FROM cache_entries WHERE key = ?", (key,))

    def incr(self, key: str) -> int:
        conn = self._conn()
        conn.execute(
            "INSERT INTO cache_entries (key, value, expires_at) VALUES (?, '1', 0) "
            "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1",
            (key,),
        )
        row = conn.execute("SELECT value FROM cache_entries WHERE key = ?", (key,)).fetchone()
        return int(row[0])


class RedisCache:
    """Redis backend; the client library is imported only when configured."""

    def __init__(self, url: str) -> None:
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)

    def get(self, key: str) -> str | None:
        value = self.client.get(key)
        return value.decode("utf-8") if isinstance(value, bytes) else value

    def set(self, key: str, value: str, ttl_seconds: int) -> None:
        self.client.set(key, value, ex=ttl_seconds if ttl_seconds > 0 else None)

    def delete(self, key: str) -> None:
        self.client.delete(key)

    def incr(self, key: str) -> int:
        return int(self.client.incr(key))


class Cache:
    """Instrumented, failure-tolerant facade used by application code."""

    def __init__(self, backend: CacheBackend, metrics: Metrics | None = None, prefix: str = "acme:"):
        self.backend = backend
        self.metrics = metrics
        self.prefix = prefix

    def _count(self, result: str) -> None:
        if self.metrics is not None:
            self.metrics.cache_requests.labels(result).inc()

    def get_json(self, key: str) -> Any | None:
        try:
            raw = self.backend.get(self.prefix + key)
        except Exception as exc:  # backend outage: degrade to a miss
            log.warning("cache get failed", extra={"key": key, "error": str(exc)})
            raw = None
        self._count("hit" if raw is not None else "miss")
        return json.loads(raw) if raw is not None else None

    def set_json(self, key: str, value: Any, ttl_seconds: int) -> None:
        try:
            self.backend.set(self.prefix + key, json.dumps(value, default=str), ttl_seconds)
        except Exception as exc:
            log.warning("cache set failed", extra={"key": key, "error": str(exc)})

    def delete(self, key: str) -> None:
        try:
            self.backend.delete(self.prefix + key)
        except Exception as exc:
            log.warning("cache delete failed", extra={"key": key, "error": str(exc)})

    def generation(self, namespace: str) -> int:
        """Current generation of a namespace; bump it to invalidate every key under it."""
        try:
            raw = self.backend.get(f"{self.prefix}gen:{namespace}")
            return int(raw) if raw is not None else 0
        except Exception:
            return 0

    def bump(self, namespace: str) -> None:
        try:
            self.backend.incr(f"{self.prefix}gen:{namespace}")
        except Exception as exc:
            log.warning("cache bump failed", extra={"namespace": namespace, "error": str(exc)})


def create_cache(url: str, metrics: Metrics | None = None) -> Cache:
    """``memory://`` (default), ``sqlite:///path/cache.db`` or ``redis://host:port/db``."""
    scheme = urlparse(url).scheme
    backend: CacheBackend
    if scheme in ("", "memory"):
        backend = MemoryCache()
    elif scheme == "sqlite":
        backend = SQLiteCache(url.split(":///", 1)[1] if ":///" in url else "cache.db")
    elif scheme in ("redis", "rediss", "unix"):
        backend = RedisCache(url)
    else:
        raise ValueError(f"unsupported ACME_CACHE_URL scheme: {scheme!r}")
    return Cache(backend, metrics)
