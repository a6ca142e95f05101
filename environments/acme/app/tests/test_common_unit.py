"""Unit tests for shared infrastructure: settings, security, cache, object store, text search."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from acme.common.cache import Cache, MemoryCache, SQLiteCache, create_cache
from acme.common.metrics import Metrics
from acme.common.objectstore import FileObjectStore, create_object_store
from acme.common.security import (
    hash_password,
    sign_payload,
    token_digest,
    verify_password,
    verify_signature,
)
from acme.common.settings import Settings, SettingsError
from acme.common.textsearch import build_document, tokens


def test_settings_from_env_parses_and_defaults() -> None:
    s = Settings.from_env({
        "ACME_DATABASE_URL": "postgresql+psycopg://u@h/db",
        "ACME_API_URL": "http://api:8001/",
        "ACME_LOG_LEVEL": "debug",
        "ACME_SESSION_TTL_SECONDS": "60",
        "ACME_SERVICE_INSTANCE": "api-canary",
        "ACME_RELEASE": "abc123",
    })
    assert s.database_url == "postgresql+psycopg://u@h/db"
    assert s.api_url == "http://api:8001"  # trailing slash stripped
    assert s.log_level == "DEBUG"
    assert s.session_ttl_seconds == 60
    assert s.instance_for("api") == "api-canary"
    assert s.release == "abc123"
    assert s.environment == "production"
    assert Settings.from_env({}).database_url == "sqlite:///./acme.db"
    assert Settings.from_env({}).instance_for("web") == "web"


def test_settings_rejects_non_numeric() -> None:
    with pytest.raises(SettingsError, match="ACME_SESSION_TTL_SECONDS"):
        Settings.from_env({"ACME_SESSION_TTL_SECONDS": "soon"})


def test_password_hash_roundtrip_and_rejects_wrong_password() -> None:
    encoded = hash_password("hunter2hunter2")
    assert encoded.startswith("scrypt$")
    assert verify_password("hunter2hunter2", encoded)
    assert not verify_password("hunter2hunter3", encoded)
    assert not verify_password("x", "garbage")
    # Salts differ, so equal passwords hash differently.
    assert hash_password("same-password") != hash_password("same-password")


def test_hash_cost_is_encoded_and_pooled_hasher_agrees() -> None:
    from acme.common.security import PasswordHasher

    cheap = hash_password("pw-123456", cost=10)
    assert cheap.split("$")[1] == "1024"
    hasher = PasswordHasher(cost=10, workers=1)
    try:
        assert hasher.verify("pw-123456", cheap)
        assert not hasher.verify("pw-1234567", cheap)
        assert verify_password("secret-pass", hasher.hash("secret-pass"))
    finally:
        hasher.close()
    with pytest.raises(ValueError):
        hash_password("x", cost=4)


def test_token_digest_is_stable_sha256() -> None:
    assert token_digest("abc") == token_digest("abc")
    assert len(token_digest("abc")) == 64
    assert token_digest("abc") != token_digest("abd")


def test_webhook_signature_verification() -> None:
    body = b'{"id":"evt_1"}'
    header = sign_payload("secret", body, timestamp=1_000_000)
    assert verify_signature("secret", body, header, now=1_000_010)
    assert not verify_signature("other", body, header, now=1_000_010)
    assert not verify_signature("secret", body + b" ", header, now=1_000_010)
    assert not verify_signature("secret", body, header, now=1_000_000 + 3600)  # replayed later
    assert not verify_signature("secret", body, None)
    assert not verify_signature("secret", body, "nonsense")


def test_memory_cache_ttl_and_lru() -> None:
    cache = MemoryCache(max_entries=2)
    cache.set("a", "1", ttl_seconds=60)
    cache.set("b", "2", ttl_seconds=60)
    assert cache.get("a") == "1"  # touch a so b is least recently used
    cache.set("c", "3", ttl_seconds=60)
    assert cache.get("b") is None
    assert cache.get("a") == "1" and cache.get("c") == "3"
    cache.set("short", "x", ttl_seconds=1)
    cache._data["short"] = (time.monotonic() - 1, "x")  # force expiry without sleeping
    assert cache.get("short") is None
    assert cache.incr("n") == 1 and cache.incr("n") == 2


def test_sqlite_cache_is_shared_between_instances(tmp_path: Path) -> None:
    path = str(tmp_path / "cache.db")
    first, second = SQLiteCache(path), SQLiteCache(path)
    first.set("k", "v", ttl_seconds=60)
    assert second.get("k") == "v"
    assert second.incr("gen") == 1 and first.incr("gen") == 2
    first.delete("k")
    assert second.get("k") is None


def test_cache_facade_counts_hits_and_misses() -> None:
    metrics = Metrics("test")
    cache = create_cache("memory://", metrics)
    assert cache.get_json("k") is None
    cache.set_json("k", {"a": 1}, 60)
    assert cache.get_json("k") == {"a": 1}
    assert metrics.registry.get_sample_value("acme_cache_requests_total", {"result": "hit"}) == 1
    assert metrics.registry.get_sample_value("acme_cache_requests_total", {"result": "miss"}) == 1


def test_cache_generation_bump_changes_namespace() -> None:
    cache = create_cache("memory://")
    before = cache.generation("catalog")
    cache.bump("catalog")
    assert cache.generation("catalog") == before + 1


class _BrokenBackend:
    def get(self, key: str) -> str | None:
        raise ConnectionError("redis down")

    def set(self, key: str, value: str, ttl_seconds: int) -> None:
        raise ConnectionError("redis down")

    def delete(self, key: str) -> None:
        raise ConnectionError("redis down")

    def incr(self, key: str) -> int:
        raise ConnectionError("redis down")


def test_cache_backend_outage_degrades_to_miss() -> None:
    cache = Cache(_BrokenBackend())
    cache.set_json("k", 1, 60)
    assert cache.get_json("k") is None
    assert cache.generation("catalog") == 0
    cache.bump("catalog")  # must not raise


def test_unknown_cache_scheme_rejected() -> None:
    with pytest.raises(ValueError, match="ACME_CACHE_URL"):
        create_cache("memcached://x")


def test_file_object_store_roundtrip(tmp_path: Path) -> None:
    store = create_object_store(f"file://{tmp_path}/objs")
    assert isinstance(store, FileObjectStore)
    store.put("receipts/1.txt", b"hello")
    store.put("receipts/2.txt", b"world")
    store.put("other/x.bin", b"\x00")
    assert store.get("receipts/1.txt") == b"hello"
    assert store.exists("receipts/2.txt")
    assert store.list("receipts/") == ["receipts/1.txt", "receipts/2.txt"]
    store.delete("receipts/1.txt")
    assert not store.exists("receipts/1.txt")
    with pytest.raises(KeyError):
        store.get("receipts/1.txt")
    with pytest.raises(ValueError):
        store.put("../escape", b"x")


def test_tokens_and_documents() -> None:
    assert tokens("The Café and the Kettle!") == ["cafe", "kettle"]
    doc = build_document("Lumen Desk Lamp", "Office", "A lamp for the desk.", "AC-OFF-00001")
    assert doc.split()[:3] == ["lumen", "desk", "lamp"]
    assert "office" in doc.split()
