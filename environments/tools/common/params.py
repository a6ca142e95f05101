"""Request parameters: query string + form + JSON body merged, read with bounded typed getters.

Official clients disagree on where arguments go (slack_sdk's sync client POSTs forms or JSON, its
async client puts the same arguments in the query string), so a tool reads them all::

    params = await gather_params(request, max_body_bytes=settings.max_body_bytes)
    limit = params.integer("limit", default=100, lo=1, hi=1000)
    inclusive = params.flag("inclusive")

Every getter either returns a value of the promised type within its bounds or raises
:class:`ParamError`, which a tool turns into its own error shape. Nothing here raises anything
else on bad input.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from email import policy
from email.parser import BytesParser
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import ClientDisconnect, Request

MAX_FIELDS = 1000
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})
_FORM = "application/x-www-form-urlencoded"
_MULTIPART = "multipart/form-data"


class ParamError(ValueError):
    """A request argument was missing or malformed.

    ``code`` is a short machine-readable reason (``invalid_arguments``, ``invalid_json``,
    ``invalid_form_data``, ``request_too_large``...); ``name`` the argument, if one is to blame.
    """

    def __init__(self, name: str | None, problem: str, code: str = "invalid_arguments"):
        self.name = name
        self.problem = problem
        self.code = code
        super().__init__(f"{name}: {problem}" if name else problem)


def clean_text(value: str) -> str:
    """A string safe to store and echo: no NULs, no lone surrogates (invalid in UTF-8)."""
    if "\x00" in value:
        value = value.replace("\x00", "")
    if not value.isascii():
        value = value.encode("utf-8", "replace").decode("utf-8")
    return value


class Params(Mapping[str, Any]):
    """Merged request arguments with typed, bounded getters."""

    def __init__(self, values: Mapping[str, Any] | None = None):
        self._values: dict[str, Any] = dict(values or {})

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Params({self._values!r})"

    def present(self, name: str) -> bool:
        """True when the argument was sent with a non-empty value."""
        value = self._values.get(name)
        return value is not None and value != ""

    def text(
        self,
        name: str,
        default: str | None = None,
        *,
        required: bool = False,
        max_len: int = 10_000,
        strip: bool = True,
    ) -> str | None:
        """A string argument; numbers are accepted and written as JSON would write them."""
        value = self._values.get(name)
        if value is None or value == "":
            if required:
                raise ParamError(name, "is required")
            return default
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, int):
            value = str(value)
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise ParamError(name, "must be a finite number or a string")
            value = repr(value)
        elif not isinstance(value, str):
            raise ParamError(name, f"must be a string, not {type(value).__name__}")
        value = clean_text(value.strip() if strip else value)
        if len(value) > max_len:
            raise ParamError(name, f"must be at most {max_len} characters")
        if value == "":
            if required:
                raise ParamError(name, "is required")
            return default
        return value

    def integer(
        self, name: str, default: int, *, lo: int | None = None, hi: int | None = None
    ) -> int:
        """An integer argument, clamped into [lo, hi]; ``default`` when absent or empty."""
        value = self._values.get(name)
        if value is None or value == "":
            number = default
        elif isinstance(value, bool):
            raise ParamError(name, "must be a number")
        elif isinstance(value, int):
            number = value
        elif isinstance(value, float) and math.isfinite(value) and value.is_integer():
            number = int(value)
        elif isinstance(value, str) and _is_int_literal(value):
            number = int(value.strip())
        else:
            raise ParamError(name, "must be a number")
        if lo is not None:
            number = max(lo, number)
        if hi is not None:
            number = min(hi, number)
        return number

    def flag(self, name: str, default: bool = False) -> bool:
        """A boolean argument: true/false, 1/0, yes/no, on/off (any case) or a JSON bool."""
        value = self._values.get(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str):
            word = value.strip().lower()
            if word in _TRUE:
                return True
            if word in _FALSE:
                return default if word == "" else False
        raise ParamError(name, "must be a boolean (true/false or 1/0)")

    def structured(self, name: str, default: Any = None) -> Any:
        """An argument that may be a JSON document in a string (form) or already decoded (JSON)."""
        value = self._values.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, str):
            try:
                return json.loads(value)
            except (ValueError, RecursionError):
                raise ParamError(name, "must be valid JSON") from None
        return value

    def names(self, name: str, *, max_items: int = 1000) -> list[str]:
        """A list of strings: a JSON array or a comma-separated string."""
        value = self._values.get(name)
        if value is None or value == "":
            return []
        if isinstance(value, str):
            items = [part.strip() for part in value.split(",")]
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            items = [v.strip() for v in value]
        else:
            raise ParamError(name, "must be a comma-separated string or a list of strings")
        items = [clean_text(v) for v in items if v]
        if len(items) > max_items:
            raise ParamError(name, f"must have at most {max_items} items")
        return items


def _is_int_literal(text: str) -> bool:
    text = text.strip()
    if text[:1] in "+-":
        text = text[1:]
    return text.isascii() and text.isdigit() and len(text) <= 18


# -- gathering -------------------------------------------------------------------------------


async def read_body(request: Request, max_bytes: int) -> bytes:
    """The request body, refusing (ParamError ``request_too_large``) past ``max_bytes``."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise ParamError(None, f"body larger than {max_bytes} bytes", "request_too_large")
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_bytes:
                raise ParamError(None, f"body larger than {max_bytes} bytes", "request_too_large")
            chunks.append(chunk)
    except ClientDisconnect:
        raise ParamError(None, "the client went away mid-body", "request_timeout") from None
    return b"".join(chunks)


def parse_query(raw: bytes | str) -> dict[str, str]:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    try:
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except ValueError:
        raise ParamError(None, f"more than {MAX_FIELDS} fields", "invalid_form_data") from None
    return {clean_text(k): clean_text(v) for k, v in pairs}


def clean_json(value: Any) -> Any:
    """A decoded JSON document with every string (keys too) passed through clean_text."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list):
        return [clean_json(v) for v in value]
    if isinstance(value, dict):
        return {clean_text(k): clean_json(v) for k, v in value.items()}
    return value


def parse_json_object(body: bytes) -> dict[str, Any]:
    try:
        doc = clean_json(json.loads(body))
    except (ValueError, RecursionError):
        raise ParamError(None, "the body is not valid JSON", "invalid_json") from None
    if not isinstance(doc, dict):
        raise ParamError(None, "the JSON body must be an object", "json_not_object")
    return doc


def parse_multipart(content_type: str, body: bytes) -> dict[str, Any]:
    try:
        head = f"Content-Type: {content_type}\r\n\r\n".encode("latin-1", "replace")
        message = BytesParser(policy=policy.HTTP).parsebytes(head + body)
        if not message.is_multipart():
            raise ParamError(None, "multipart body without parts", "invalid_form_data")
        values: dict[str, Any] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if not isinstance(name, str) or not name:
                continue
            payload = part.get_payload(decode=True) or b""
            filename = part.get_filename()
            if filename is None:
                values[clean_text(name)] = clean_text(payload.decode("utf-8", "replace"))
            else:
                values[clean_text(name)] = {"filename": clean_text(filename), "size": len(payload)}
            if len(values) > MAX_FIELDS:
                raise ParamError(None, f"more than {MAX_FIELDS} fields", "invalid_form_data")
        return values
    except ParamError:
        raise
    except Exception:  # noqa: BLE001 - the email package has many ways to dislike a body
        raise ParamError(None, "malformed multipart body", "invalid_form_data") from None


def parse_body(content_type: str, body: bytes) -> dict[str, Any]:
    """Arguments from a body: JSON object, urlencoded form or multipart, by Content-Type."""
    if not body.strip():
        return {}
    media = content_type.split(";", 1)[0].strip().lower()
    if media == "application/json" or media.endswith("+json"):
        return parse_json_object(body)
    if media == _MULTIPART:
        return parse_multipart(content_type, body)
    if media == _FORM:
        return parse_query(body)
    # No or another Content-Type: go by the look of the body, as lenient servers do.
    if body.lstrip()[:1] == b"{":
        return parse_json_object(body)
    return parse_query(body)


async def gather_params(request: Request, *, max_body_bytes: int) -> Params:
    """Query string, then form or JSON body (later sources win on a clash)."""
    values: dict[str, Any] = parse_query(request.scope.get("query_string", b""))
    body = await read_body(request, max_body_bytes)  # some clients send bodies with GET
    values.update(parse_body(request.headers.get("content-type", ""), body))
    return Params(values)
