"""A durable job queue stored in the application database.

Jobs are enqueued in the same transaction as the business change that caused
them (an order and its confirmation email commit or roll back together), which
is the main reason we keep the queue in the database rather than in Redis.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from acme.common.db import Database
from acme.models import Job, JobStatus, utcnow

MAX_BACKOFF_SECONDS = 300


@dataclass(frozen=True)
class ClaimedJob:
    id: int
    queue: str
    kind: str
    payload: dict[str, Any]
    attempts: int
    max_attempts: int


@dataclass(frozen=True)
class QueueStats:
    depth: dict[str, int]
    lag_seconds: float
    running: int
    failed: int


def enqueue(
    session: Session,
    kind: str,
    payload: dict[str, Any] | None = None,
    *,
    queue: str = "default",
    run_at: dt.datetime | None = None,
    dedupe_key: str | None = None,
    requeue_finished: bool = False,
    max_attempts: int = 5,
) -> Job | None:
    """Add a job inside the caller's transaction.

    ``dedupe_key`` makes the job unique: a duplicate enqueue returns ``None``
    instead of raising. By default the key stays taken after the job finishes
    ("run once", e.g. one confirmation email per order, one cleanup per period);
    with ``requeue_finished`` only a *pending* job blocks a new one ("coalesce",
    e.g. reindex a product once however many edits arrive before it runs).
    """
    job = Job(
        queue=queue,
        kind=kind,
        payload=payload or {},
        status=JobStatus.QUEUED,
        attempts=0,
        max_attempts=max_attempts,
        run_at=run_at or utcnow(),
        dedupe_key=dedupe_key,
        created_at=utcnow(),
    )
    if dedupe_key is None:
        session.add(job)
        session.flush()
        return job
    if requeue_finished:
        session.execute(
            update(Job)
            .where(Job.dedupe_key == dedupe_key, Job.status.in_((JobStatus.DONE, JobStatus.FAILED)))
            .values(dedupe_key=None)
            .execution_options(synchronize_session=False)
        )
    if session.scalar(select(Job.id).where(Job.dedupe_key == dedupe_key)) is not None:
        return None
    try:
        with session.begin_nested():
            session.add(job)
            session.flush()
    except IntegrityError:
        return None
    return job


class JobQueue:
    """Claim/complete/fail operations, each in its own short transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def claim(self, worker_id: str, queues: Iterable[str], limit: int = 10) -> list[ClaimedJob]:
        """Lock up to ``limit`` runnable jobs for ``worker_id``.

        PostgreSQL uses ``FOR UPDATE SKIP LOCKED`` so concurrent workers never
        block on each other; SQLite serialises writers, and the status guard in
        the UPDATE makes a double claim impossible either way.
        """
        now = utcnow()
        queues = list(queues)
        # Cheap lock-free peek first, so idle polling never takes the SQLite write lock.
        with self.db.session(write=False) as s:
            due = s.scalar(
                select(Job.id)
                .where(Job.status == JobStatus.QUEUED, Job.queue.in_(queues), Job.run_at <= now)
                .limit(1)
            )
        if due is None:
            return []
        with self.db.session(write=True) as s:
            stmt = (
                select(Job)
                .where(Job.status == JobStatus.QUEUED, Job.queue.in_(queues), Job.run_at <= now)
                .order_by(Job.run_at, Job.id)
                .limit(limit)
            )
            if self.db.is_postgres:
                stmt = stmt.with_for_update(skip_locked=True)
            candidates = list(s.scalars(stmt))
            claimed: list[ClaimedJob] = []
            for job in candidates:
                result = s.execute(
                    update(Job)
                    .where(Job.id == job.id, Job.status == JobStatus.QUEUED)
                    .values(
                        status=JobStatus.RUNNING,
                        locked_at=now,
                        locked_by=worker_id,
                        attempts=Job.attempts + 1,
                    )
                    .execution_options(synchronize_session=False)
                )
                if result.rowcount == 1:  # type: ignore[attr-defined]
                    claimed.append(
                        ClaimedJob(
                            job.id, job.queue, job.kind, dict(job.payload or {}),
                            job.attempts + 1, job.max_attempts,
                        )
                    )
            return claimed

    def complete(self, job_id: int) -> None:
        with self.db.session(write=True) as s:
            s.execute(
                update(Job)
                .where(Job.id == job_id)
                .values(status=JobStatus.DONE, finished_at=utcnow(), locked_at=None, last_error=None)
            )

    def fail(self, job: ClaimedJob, error: str) -> bool:
        """Record a failure; returns True if the job will be retried (exponential backoff)."""
        retry = job.attempts < job.max_attempts
        now = utcnow()
        values: dict[str, Any] = {"last_error": error[:2000], "locked_at": None, "locked_by": None}
        if retry:
            delay = min(MAX_BACKOFF_SECONDS, 2**job.attempts)
            values.update(status=JobStatus.QUEUED, run_at=now + dt.timedelta(seconds=delay))
        else:
            values.update(status=JobStatus.FAILED, finished_at=now)
        with self.db.session(write=True) as s:
            s.execute(update(Job).where(Job.id == job.id).values(**values))
        return retry

    def requeue_stale(self, visibility_timeout_seconds: int = 300) -> int:
        """Return jobs held by crashed workers to the queue."""
        cutoff = utcnow() - dt.timedelta(seconds=visibility_timeout_seconds)
        with self.db.session(write=True) as s:
            result = s.execute(
                update(Job)
                .where(Job.status == JobStatus.RUNNING, Job.locked_at < cutoff)
                .values(status=JobStatus.QUEUED, locked_at=None, locked_by=None)
            )
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def purge_finished(self, older_than: dt.timedelta) -> int:
        cutoff = utcnow() - older_than
        with self.db.session(write=True) as s:
            result = s.execute(
                delete(Job).where(Job.status == JobStatus.DONE, Job.finished_at < cutoff)
            )
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def stats(self) -> QueueStats:
        now = utcnow()
        with self.db.session(write=False) as s:
            depth = {
                q: int(n)
                for q, n in s.execute(
                    select(Job.queue, func.count())
                    .where(Job.status == JobStatus.QUEUED)
                    .group_by(Job.queue)
                )
            }
            oldest = s.scalar(
                select(func.min(Job.run_at)).where(
                    Job.status == JobStatus.QUEUED, Job.run_at <= now
                )
            )
            running = s.scalar(select(func.count()).where(Job.status == JobStatus.RUNNING)) or 0
            failed = s.scalar(select(func.count()).where(Job.status == JobStatus.FAILED)) or 0
        lag = 0.0
        if oldest is not None:
            if oldest.tzinfo is None:  # func.min bypasses the column type on SQLite
                oldest = dt.datetime.fromisoformat(str(oldest)).replace(tzinfo=dt.UTC)
            lag = max(0.0, (now - oldest).total_seconds())
        return QueueStats(depth=depth, lag_seconds=lag, running=int(running), failed=int(failed))
