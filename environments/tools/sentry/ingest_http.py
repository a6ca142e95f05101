"""The ingestion endpoints SDKs post to: ``/api/<project_id>/envelope/`` and the legacy
``/api/<project_id>/store/``.

Events (error and message events) are stored and grouped; attachments are kept with their
event; every other item type (transactions, sessions, client reports, check-ins, logs, spans,
profiles, replays, feedback...) is accepted and counted in ``outcomes`` without being stored,
as a Relay that drops them would. Answers are Relay's: ``200 {"id": event_id}`` or
``{"detail": ...}`` with 400/401/403/413/415.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections import Counter
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from environments.tools.common.params import ParamError, clean_json, read_body
from environments.tools.sentry.envelope import (
    Envelope,
    IngestError,
    decode_body,
    legacy_store_body,
    parse_envelope,
    public_key,
)
from environments.tools.sentry.ingest import store_event
from environments.tools.sentry.normalize import normalize
from environments.tools.sentry.web import json_response

if TYPE_CHECKING:
    from environments.tools.sentry.service import SentryService

MAX_COMPRESSED_BYTES = 20 * 1024 * 1024
MAX_EVENT_BYTES = 1024 * 1024
MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024
CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "x-sentry-error, x-sentry-rate-limits, retry-after",
}
EVENT_TYPES = ("event",)


def _project_id(request: Request) -> int:
    raw = request.path_params.get("project_id", "")
    if not raw.isdecimal() or len(raw) > 18:
        raise IngestError(400, "invalid project path parameter")
    return int(raw)


def _project_for_key(db: sqlite3.Connection, key: str, project_id: int) -> sqlite3.Row:
    row = db.execute(
        "SELECT p.*, k.is_active FROM keys k JOIN projects p ON p.id = k.project_id "
        "WHERE k.public_key = ?",
        (key.strip().lower(),),
    ).fetchone()
    if row is None or row["id"] != project_id or not row["is_active"]:
        raise IngestError(403, "event submission rejected with_reason: ProjectId")
    return row


def _count(db: sqlite3.Connection, project_id: int, counts: Counter[str]) -> None:
    db.executemany(
        "INSERT INTO outcomes(project_id, category, quantity) VALUES (?, ?, ?) "
        "ON CONFLICT(project_id, category) DO UPDATE SET quantity = quantity + excluded.quantity",
        [(project_id, category, n) for category, n in sorted(counts.items())],
    )


def _event_payload(raw: bytes) -> dict[str, Any] | None:
    if len(raw) > MAX_EVENT_BYTES:
        return None
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    if not isinstance(value, dict):
        return None
    return clean_json(value)


def _store_one(
    service: SentryService,
    db: sqlite3.Connection,
    project: sqlite3.Row,
    payload: dict[str, Any],
    *,
    event_id: str | None,
    received: float,
    size: int,
) -> str:
    ev = normalize(
        payload,
        received=received,
        event_id=event_id,
        platform_default=project["platform"] or "other",
    )
    stored = store_event(db, ev, project, received=received, size=size)
    for kind, object_id, body in stored.mutations:
        service.record(f"ingest:{project['slug']}", kind, object_id, body)
    return stored.event_id


def ingest_envelope(
    service: SentryService, db: sqlite3.Connection, project: sqlite3.Row, envelope: Envelope
) -> str | None:
    """Store an envelope's events and attachments; count everything else."""
    received = service.now()
    header_id = envelope.headers.get("event_id")
    header_id = header_id if isinstance(header_id, str) else None
    counts: Counter[str] = Counter()
    event_id: str | None = None
    attachments = []
    for item in envelope.items:
        kind = item.type
        if kind in EVENT_TYPES:
            payload = _event_payload(item.payload)
            if payload is None:
                counts["dropped:invalid_event"] += 1
                continue
            event_id = _store_one(
                service,
                db,
                project,
                payload,
                event_id=header_id,
                received=received,
                size=len(item.payload),
            )
            counts[kind] += 1
        elif kind == "attachment":
            attachments.append(item)
        else:
            counts[kind[:64]] += 1
    target = event_id or header_id
    for item in attachments:
        if not target or len(item.payload) > MAX_ATTACHMENT_BYTES:
            counts["dropped:attachment"] += 1
            continue
        name = item.headers.get("filename")
        ctype = item.headers.get("content_type")
        kind = item.headers.get("attachment_type")
        db.execute(
            "INSERT INTO attachments(event_id, project_id, name, content_type, attachment_type, size, "
            "sha1, data, date_created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                target.replace("-", "").lower()[:32],
                project["id"],
                name[:256] if isinstance(name, str) and name else "attachment",
                ctype[:128] if isinstance(ctype, str) and ctype else "application/octet-stream",
                kind[:64] if isinstance(kind, str) and kind else "event.attachment",
                len(item.payload),
                hashlib.sha1(item.payload).hexdigest(),
                item.payload,
                received,
            ),
        )
        counts["attachment"] += 1
    if counts:
        _count(db, project["id"], counts)
    return event_id or header_id


async def envelope_endpoint(service: SentryService, request: Request) -> Response:
    try:
        project_id = _project_id(request)
        raw = await read_body(request, MAX_COMPRESSED_BYTES)
        body = decode_body(raw, request.headers.get("content-encoding", ""))
        envelope = parse_envelope(body)
        key = public_key(
            dict(request.headers), dict(request.query_params), envelope.headers.get("dsn")
        )
        with service.store.write() as db:
            project = _project_for_key(db, key, project_id)
            event_id = ingest_envelope(service, db, project, envelope)
    except IngestError as exc:
        return json_response(exc.body(), exc.status, CORS)
    except ParamError as exc:
        status = 413 if exc.code == "request_too_large" else 400
        return json_response({"detail": str(exc)}, status, CORS)
    return json_response({"id": event_id} if event_id else {}, 200, CORS)


async def store_endpoint(service: SentryService, request: Request) -> Response:
    try:
        project_id = _project_id(request)
        raw = await read_body(request, MAX_COMPRESSED_BYTES)
        body = legacy_store_body(decode_body(raw, request.headers.get("content-encoding", "")))
        key = public_key(dict(request.headers), dict(request.query_params))
        payload = _event_payload(body)
        if payload is None:
            raise IngestError(400, "invalid event payload", "the body is not a JSON event object")
        with service.store.write() as db:
            project = _project_for_key(db, key, project_id)
            event_id = _store_one(
                service, db, project, payload, event_id=None, received=service.now(), size=len(body)
            )
            _count(db, project["id"], Counter({"event": 1}))
    except IngestError as exc:
        return json_response(exc.body(), exc.status, CORS)
    except ParamError as exc:
        status = 413 if exc.code == "request_too_large" else 400
        return json_response({"detail": str(exc)}, status, CORS)
    return json_response({"id": event_id}, 200, CORS)


async def preflight(request: Request) -> Response:
    return Response(
        status_code=200,
        headers={
            **CORS,
            "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
            "Access-Control-Allow-Headers": "*",
            "Access-Control-Max-Age": "3600",
        },
    )
