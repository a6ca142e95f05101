"""The ingestion wire format: request bodies (gzip, deflate, brotli), envelopes and SDK auth.

An envelope is newline-delimited: one JSON header line, then items, each an item header line
and a payload. A payload is exactly ``length`` bytes when the header says so (binary
attachments may contain newlines), otherwise it runs to the next newline
(develop.sentry.dev/sdk/foundations/transport/envelopes/). Errors are :class:`IngestError` with
the status and ``detail`` Relay would answer with.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import zlib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

MAX_DECODED_BYTES = 20 * 1024 * 1024
MAX_ITEMS = 1000
_AUTH_PAIR = re.compile(r"([a-zA-Z_]+)\s*=\s*([^,\s]*)")


class IngestError(Exception):
    """A rejected ingestion request: HTTP status and Relay's ``detail`` text."""

    def __init__(self, status: int, detail: str, *causes: str):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.causes = list(causes)

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"detail": self.detail}
        if self.causes:
            body["causes"] = self.causes
        return body


@dataclass
class Item:
    headers: dict[str, Any]
    payload: bytes

    @property
    def type(self) -> str:
        value = self.headers.get("type")
        return value if isinstance(value, str) else ""


@dataclass
class Envelope:
    headers: dict[str, Any]
    items: list[Item] = field(default_factory=list)


# -- bodies ------------------------------------------------------------------------------------


def decode_body(body: bytes, content_encoding: str, limit: int = MAX_DECODED_BYTES) -> bytes:
    """The body with every Content-Encoding undone, refusing to inflate past ``limit``."""
    codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip()]
    for coding in reversed(codings):
        if coding in ("identity", ""):
            continue
        if coding in ("gzip", "x-gzip"):
            body = _inflate(body, zlib.MAX_WBITS | 16, limit)
        elif coding == "deflate":
            try:
                body = _inflate(body, zlib.MAX_WBITS, limit)
            except IngestError:
                body = _inflate(body, -zlib.MAX_WBITS, limit)
        elif coding == "br":
            body = _unbrotli(body, limit)
        else:
            raise IngestError(415, f"unsupported content encoding {coding!r}")
    if len(body) > limit:
        raise IngestError(413, "envelope exceeded size limits")
    return body


def _inflate(body: bytes, wbits: int, limit: int) -> bytes:
    try:
        inflater = zlib.decompressobj(wbits)
        out = inflater.decompress(body, limit + 1)
    except zlib.error:
        raise IngestError(
            400, "invalid body encoding", "the body is not valid gzip/deflate"
        ) from None
    if len(out) > limit or inflater.unconsumed_tail:
        raise IngestError(413, "envelope exceeded size limits")
    if not inflater.eof:
        raise IngestError(400, "invalid body encoding", "truncated compressed stream")
    return out


def _unbrotli(body: bytes, limit: int) -> bytes:
    try:
        import brotli
    except ImportError:  # pragma: no cover - brotli is a dependency of this tool
        raise IngestError(415, "unsupported content encoding 'br'") from None
    try:
        inflater = brotli.Decompressor()
        out = inflater.process(body, output_buffer_limit=limit + 1)
        finished = inflater.is_finished()
    except brotli.error:
        raise IngestError(400, "invalid body encoding", "the body is not valid brotli") from None
    if len(out) > limit:
        raise IngestError(413, "envelope exceeded size limits")
    if not finished:
        raise IngestError(400, "invalid body encoding", "truncated brotli stream")
    return out


def legacy_store_body(body: bytes) -> bytes:
    """Old SDKs (raven) sent base64(zlib(json)) to /store/; anything else is returned as is."""
    stripped = body.strip()
    if not stripped or stripped[:1] in (b"{", b"["):
        return body
    try:
        packed = base64.b64decode(stripped, validate=True)
        return _inflate(packed, zlib.MAX_WBITS, MAX_DECODED_BYTES)
    except (binascii.Error, ValueError, IngestError):
        return body


# -- envelopes ---------------------------------------------------------------------------------


def _json_line(line: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(line)
    except (ValueError, RecursionError):
        raise IngestError(400, "invalid event envelope", f"{what} is not valid JSON") from None
    if not isinstance(value, dict):
        raise IngestError(400, "invalid event envelope", f"{what} is not a JSON object")
    return value


def parse_envelope(data: bytes) -> Envelope:
    """Split an envelope into its header and items (payloads left as bytes)."""
    end = data.find(b"\n")
    head = data if end < 0 else data[:end]
    if not head.strip():
        raise IngestError(400, "invalid event envelope", "missing envelope header")
    envelope = Envelope(_json_line(head, "envelope header"))
    pos = len(data) if end < 0 else end + 1
    while pos < len(data):
        end = data.find(b"\n", pos)
        line = data[pos:] if end < 0 else data[pos:end]
        pos = len(data) if end < 0 else end + 1
        if not line.strip():
            continue
        headers = _json_line(line, "item header")
        if not isinstance(headers.get("type"), str) or not headers["type"]:
            raise IngestError(400, "invalid event envelope", "item header without a type")
        length = headers.get("length")
        if length is not None:
            if isinstance(length, bool) or not isinstance(length, int) or length < 0:
                raise IngestError(400, "invalid event envelope", "invalid item length")
            if pos + length > len(data):
                raise IngestError(400, "invalid event envelope", "item shorter than its length")
            payload = data[pos : pos + length]
            pos += length
            if data[pos : pos + 1] == b"\n":
                pos += 1
        else:
            end = data.find(b"\n", pos)
            payload = data[pos:] if end < 0 else data[pos:end]
            pos = len(data) if end < 0 else end + 1
        envelope.items.append(Item(headers, payload))
        if len(envelope.items) > MAX_ITEMS:
            raise IngestError(400, "invalid event envelope", f"more than {MAX_ITEMS} items")
    return envelope


# -- auth --------------------------------------------------------------------------------------


def auth_pairs(header: str) -> dict[str, str]:
    """``Sentry sentry_key=abc, sentry_version=7`` -> ``{"sentry_key": "abc", ...}``."""
    scheme, _, rest = header.strip().partition(" ")
    if scheme.lower() != "sentry":
        return {}
    return {k.lower(): v for k, v in _AUTH_PAIR.findall(rest)}


def key_from_dsn(dsn: Any) -> str | None:
    if not isinstance(dsn, str):
        return None
    try:
        return urlsplit(dsn).username or None
    except ValueError:
        return None


def public_key(headers: dict[str, str], query: dict[str, str], envelope_dsn: Any = None) -> str:
    """The SDK's public key, from X-Sentry-Auth, Authorization, the query or the envelope DSN."""
    for name in ("x-sentry-auth", "authorization"):
        pairs = auth_pairs(headers.get(name, ""))
        if pairs.get("sentry_key"):
            return pairs["sentry_key"]
    if query.get("sentry_key"):
        return query["sentry_key"]
    from_dsn = key_from_dsn(envelope_dsn)
    if from_dsn:
        return from_dsn
    raise IngestError(401, "missing authorization information")
