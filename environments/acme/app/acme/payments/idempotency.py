"""Idempotency keys: the same key and body always yield the same stored response.

A key is claimed *before* the operation runs (status NULL = in flight), so two
concurrent retries cannot both charge the card. 5xx outcomes release the key
so the client's retry gets a fresh attempt, matching what processors document.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from acme.common.db import Database
from acme.models.base import utcnow
from acme.payments.models import IdempotencyRecord


@dataclass(frozen=True)
class Claim:
    outcome: Literal["new", "replay", "mismatch", "in_flight"]
    status_code: int | None = None
    response: dict[str, Any] | None = None


def request_hash(endpoint: str, payload: dict[str, Any]) -> str:
    canonical = json.dumps({"endpoint": endpoint, "payload": payload}, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


class IdempotencyStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def claim(self, key: str, endpoint: str, digest: str) -> Claim:
        try:
            with self.db.session() as s:
                s.add(IdempotencyRecord(key=key, endpoint=endpoint, request_hash=digest,
                                        status_code=None, response=None, created_at=utcnow()))
            return Claim("new")
        except IntegrityError:
            pass
        with self.db.session(write=False) as s:
            rec = s.scalar(select(IdempotencyRecord).where(
                IdempotencyRecord.key == key, IdempotencyRecord.endpoint == endpoint))
        if rec is None:  # released between our insert and read; let the client retry
            return Claim("in_flight")
        if rec.request_hash != digest:
            return Claim("mismatch")
        if rec.status_code is None:
            return Claim("in_flight")
        return Claim("replay", rec.status_code, rec.response)

    def finish(self, key: str, endpoint: str, status_code: int, response: dict[str, Any]) -> None:
        with self.db.session() as s:
            s.execute(update(IdempotencyRecord)
                      .where(IdempotencyRecord.key == key, IdempotencyRecord.endpoint == endpoint)
                      .values(status_code=status_code, response=response))

    def release(self, key: str, endpoint: str) -> None:
        with self.db.session() as s:
            s.execute(delete(IdempotencyRecord).where(
                IdempotencyRecord.key == key, IdempotencyRecord.endpoint == endpoint))
