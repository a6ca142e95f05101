"""Every object store backend honours the same contract; S3 over HTTP with the real boto3.

The S3 endpoint is moto's server: a local server speaking the S3 protocol (S3 itself is not
reachable from here). Skipped when boto3 or moto are not installed.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from acme.common.objectstore import ObjectStore, S3ObjectStore, create_object_store


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    pytest.importorskip("boto3", reason="boto3 is not installed (only s3:// stores need it)")
    server_mod = pytest.importorskip("moto.server", reason="moto[server] is not installed")
    port = _free_port()
    server = server_mod.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture(params=["file", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ObjectStore:
    if request.param == "file":
        return create_object_store(f"file://{tmp_path}/objects")
    endpoint: str = request.getfixturevalue("s3_endpoint")
    for name, value in {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    bucket = f"acme-{tmp_path.name.lower().replace('_', '-')[-40:]}"
    import boto3

    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=bucket)
    made = create_object_store(f"s3://{bucket}/receipts", s3_endpoint_url=endpoint)
    assert isinstance(made, S3ObjectStore)
    return made


def test_put_get_exists_delete(store: ObjectStore) -> None:
    location = store.put("orders/17/receipt.txt", b"Order 17: 2 items", content_type="text/plain")
    assert "orders/17/receipt.txt" in location
    assert store.exists("orders/17/receipt.txt")
    assert store.get("orders/17/receipt.txt") == b"Order 17: 2 items"
    store.delete("orders/17/receipt.txt")
    assert not store.exists("orders/17/receipt.txt")
    with pytest.raises(KeyError):
        store.get("orders/17/receipt.txt")


def test_list_by_prefix_is_sorted(store: ObjectStore) -> None:
    for key in ("orders/2/r.txt", "orders/1/r.txt", "exports/x.csv"):
        store.put(key, b"x")
    assert store.list("orders/") == ["orders/1/r.txt", "orders/2/r.txt"]
    assert store.list() == ["exports/x.csv", "orders/1/r.txt", "orders/2/r.txt"]


def test_keys_cannot_escape_the_store(store: ObjectStore) -> None:
    for bad in ("../etc/passwd", "/abs/key", ""):
        with pytest.raises(ValueError):
            store.put(bad, b"x")
