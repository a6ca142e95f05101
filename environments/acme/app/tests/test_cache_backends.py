"""Every cache backend honours the same contract; Redis against a real redis-server."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from acme.common.cache import create_cache


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    port = _free_port()
    workdir = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(workdir)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(params=["memory", "sqlite", "redis"])
def cache_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "memory":
        return "memory://"
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/cache.db"
    url: str = request.getfixturevalue("redis_url")
    import redis

    redis.Redis.from_url(url).flushdb()
    return url


def test_values_round_trip_and_expire(cache_url: str) -> None:
    cache = create_cache(cache_url)
    assert cache.get_json("product:1") is None
    cache.set_json("product:1", {"name": "Ember Jacket", "price": 12900}, ttl_seconds=60)
    assert cache.get_json("product:1") == {"name": "Ember Jacket", "price": 12900}
    cache.set_json("short", [1, 2], ttl_seconds=1)
    assert cache.get_json("short") == [1, 2]
    time.sleep(1.2)
    assert cache.get_json("short") is None
    cache.delete("product:1")
    assert cache.get_json("product:1") is None


def test_generations_invalidate_a_namespace(cache_url: str) -> None:
    cache = create_cache(cache_url)
    assert cache.generation("catalog") == 0
    cache.bump("catalog")
    cache.bump("catalog")
    assert cache.generation("catalog") == 2


def test_redis_backend_really_stores_in_redis(redis_url: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    create_cache(redis_url).set_json("k", {"v": 1}, ttl_seconds=30)
    assert client.get("acme:k") == b'{"v": 1}'
    assert 0 < client.ttl("acme:k") <= 30


def test_an_unreachable_redis_degrades_to_misses() -> None:
    cache = create_cache(f"redis://127.0.0.1:{_free_port()}/0")
    cache.set_json("k", 1, ttl_seconds=10)  # must not raise
    assert cache.get_json("k") is None
    assert cache.generation("catalog") == 0
