"""Object storage for generated documents (receipts, exports).

``file:///path`` is the default; ``s3://bucket/prefix`` uses boto3, imported only
when an S3 store is actually configured so the dependency stays optional.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from typing import Any, Protocol
from urllib.parse import urlparse


class ObjectStore(Protocol):
    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> str: ...
    def get(self, key: str) -> bytes: ...
    def exists(self, key: str) -> bool: ...
    def delete(self, key: str) -> None: ...
    def list(self, prefix: str = "") -> list[str]: ...


def _check_key(key: str) -> str:
    if not key or key.startswith("/") or ".." in key.split("/"):
        raise ValueError(f"invalid object key: {key!r}")
    return key


class FileObjectStore:
    """Objects as files under a root directory; writes are atomic renames."""

    def __init__(self, root: str) -> None:
        self.root = os.path.abspath(root)
        os.makedirs(self.root, exist_ok=True)

    def _path(self, key: str) -> str:
        return os.path.join(self.root, *_check_key(key).split("/"))

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> str:
        path = self._path(key)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        return f"file://{path}"

    def get(self, key: str) -> bytes:
        try:
            with open(self._path(key), "rb") as fh:
                return fh.read()
        except FileNotFoundError as exc:
            raise KeyError(key) from exc

    def exists(self, key: str) -> bool:
        return os.path.isfile(self._path(key))

    def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._path(key))

    def list(self, prefix: str = "") -> list[str]:
        keys: list[str] = []
        for dirpath, _dirs, files in os.walk(self.root):
            for name in files:
                if name.startswith(".tmp-"):
                    continue
                rel = os.path.relpath(os.path.join(dirpath, name), self.root).replace(os.sep, "/")
                if rel.startswith(prefix):
                    keys.append(rel)
        return sorted(keys)


class S3ObjectStore:
    """S3 (or any S3-compatible endpoint via ``ACME_S3_ENDPOINT_URL``)."""

    def __init__(self, bucket: str, prefix: str = "", endpoint_url: str | None = None) -> None:
        import boto3  # optional dependency, only needed for s3:// stores

        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.client: Any = boto3.client("s3", endpoint_url=endpoint_url)

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> str:
        full = self.prefix + _check_key(key)
        self.client.put_object(Bucket=self.bucket, Key=full, Body=data, ContentType=content_type)
        return f"s3://{self.bucket}/{full}"

    def get(self, key: str) -> bytes:
        try:
            obj = self.client.get_object(Bucket=self.bucket, Key=self.prefix + _check_key(key))
        except self.client.exceptions.NoSuchKey as exc:
            raise KeyError(key) from exc
        return bytes(obj["Body"].read())

    def exists(self, key: str) -> bool:
        resp = self.client.list_objects_v2(
            Bucket=self.bucket, Prefix=self.prefix + _check_key(key), MaxKeys=1
        )
        return any(o["Key"] == self.prefix + key for o in resp.get("Contents", []))

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.prefix + _check_key(key))

    def list(self, prefix: str = "") -> list[str]:
        keys: list[str] = []
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + prefix):
            keys.extend(o["Key"][len(self.prefix) :] for o in page.get("Contents", []))
        return sorted(keys)


def create_object_store(url: str, s3_endpoint_url: str | None = None) -> ObjectStore:
    """Build a store from ``ACME_OBJECT_STORE`` (``file://`` path, bare path, or ``s3://``)."""
    parsed = urlparse(url)
    if parsed.scheme == "s3":
        return S3ObjectStore(parsed.netloc, parsed.path, endpoint_url=s3_endpoint_url)
    if parsed.scheme == "file":
        # file:///abs/path and file://./relative/path are both accepted.
        return FileObjectStore((parsed.netloc + parsed.path) or ".")
    if parsed.scheme == "":
        return FileObjectStore(url)
    raise ValueError(f"unsupported ACME_OBJECT_STORE scheme: {parsed.scheme!r}")
