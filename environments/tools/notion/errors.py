"""Notion's error shape: ``{"object": "error", "status", "code", "message", "request_id"}``.

Only codes notion-client knows (``APIErrorCode``) are used, plus ``missing_version``, which is
what Notion itself answers without a ``Notion-Version`` header. Nothing here is ever a 5xx:
notion-client retries those, so a mock answering 500 to bad input makes clients hang.
"""

from __future__ import annotations

import json
from typing import Any

KNOWN_CODES = frozenset(
    {
        "unauthorized",
        "restricted_resource",
        "object_not_found",
        "rate_limited",
        "invalid_json",
        "invalid_request_url",
        "invalid_request",
        "validation_error",
        "conflict_error",
        "internal_server_error",
        "service_unavailable",
        "gateway_timeout",
        "missing_version",
    }
)


class NotionError(Exception):
    """A request Notion would refuse; carries the HTTP status, code and message."""

    def __init__(self, status: int, code: str, message: str):
        assert code in KNOWN_CODES, code
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def body(self, request_id: str) -> dict[str, Any]:
        return {
            "object": "error",
            "status": self.status,
            "code": self.code,
            "message": self.message,
            "request_id": request_id,
        }


def show(value: Any) -> str:
    """A value as Notion quotes it in messages: JSON, shortened."""
    if value is _UNDEFINED:
        return "undefined"
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


class _Undefined:
    def __repr__(self) -> str:
        return "undefined"


_UNDEFINED: Any = _Undefined()
UNDEFINED: Any = _UNDEFINED


def validation(message: str) -> NotionError:
    return NotionError(400, "validation_error", message)


def body_invalid(path: str, expected: str, value: Any = UNDEFINED) -> NotionError:
    """``body failed validation: body.x should be ..., instead was `...`.`` like Notion says."""
    return validation(
        f"body failed validation: body.{path} should be {expected}, instead was `{show(value)}`."
    )


def not_found(kind: str, object_id: str) -> NotionError:
    return NotionError(
        404,
        "object_not_found",
        f"Could not find {kind} with ID: {object_id}. "
        "Make sure the relevant pages and databases are shared with your integration.",
    )


def archived(what: str = "block") -> NotionError:
    return validation(
        f"Can't edit {what} that is archived. You must unarchive the {what} before editing."
    )


def invalid_url() -> NotionError:
    return NotionError(400, "invalid_request_url", "Invalid request URL.")


def unsupported(name: str) -> NotionError:
    return NotionError(400, "invalid_request", f"Unsupported request: {name}.")
