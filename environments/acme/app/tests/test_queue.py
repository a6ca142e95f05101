"""The database-backed job queue."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from acme.common.db import Database
from acme.common.queue import JobQueue, enqueue
from acme.common.settings import Settings
from acme.models import Job, JobStatus, utcnow


def make_queue(settings: Settings) -> tuple[Database, JobQueue]:
    db = Database(settings.database_url)
    return db, JobQueue(db)


def test_enqueue_claim_complete(settings: Settings) -> None:
    db, queue = make_queue(settings)
    with db.session() as s:
        enqueue(s, "order_confirmation", {"order_id": 1}, queue="email")
        enqueue(s, "search_reindex", {}, queue="search")
    claimed = queue.claim("w1", ["email"], limit=10)
    assert [(j.kind, j.payload, j.attempts) for j in claimed] == [("order_confirmation", {"order_id": 1}, 1)]
    assert queue.claim("w2", ["email"]) == []  # already running, nothing left
    queue.complete(claimed[0].id)
    with db.session(write=False) as s:
        job = s.get(Job, claimed[0].id)
        assert job is not None and job.status == JobStatus.DONE and job.finished_at is not None
    assert queue.stats().depth == {"search": 1}


def test_future_jobs_are_not_claimed(settings: Settings) -> None:
    db, queue = make_queue(settings)
    with db.session() as s:
        enqueue(s, "cleanup", {}, run_at=utcnow() + dt.timedelta(hours=1))
    assert queue.claim("w1", ["default"]) == []
    assert queue.stats().lag_seconds == 0.0


def test_failure_retries_with_backoff_then_gives_up(settings: Settings) -> None:
    db, queue = make_queue(settings)
    with db.session() as s:
        enqueue(s, "flaky", {}, max_attempts=2)
    first = queue.claim("w1", ["default"])[0]
    assert queue.fail(first, "boom") is True
    with db.session(write=False) as s:
        job = s.get(Job, first.id)
        assert job is not None and job.status == JobStatus.QUEUED and job.run_at > utcnow()
        assert job.last_error == "boom"
    with db.session() as s:  # make it due now
        s.execute(update(Job).where(Job.id == first.id).values(run_at=utcnow()))
    second = queue.claim("w1", ["default"])[0]
    assert second.attempts == 2
    assert queue.fail(second, "boom again") is False
    with db.session(write=False) as s:
        assert s.scalar(select(Job.status).where(Job.id == first.id)) == JobStatus.FAILED
    assert queue.stats().failed == 1


def test_dedupe_key_runs_once_unless_requeue_finished(settings: Settings) -> None:
    db, queue = make_queue(settings)
    with db.session() as s:
        assert enqueue(s, "search_reindex", {}, dedupe_key="reindex:1", requeue_finished=True) is not None
        assert enqueue(s, "search_reindex", {}, dedupe_key="reindex:1", requeue_finished=True) is None
        assert enqueue(s, "cleanup", {}, dedupe_key="periodic:cleanup:7") is not None
    for job in queue.claim("w1", ["default"]):
        queue.complete(job.id)
    with db.session() as s:
        # Coalescing keys free up once the job finished; run-once keys never do.
        assert enqueue(s, "search_reindex", {}, dedupe_key="reindex:1", requeue_finished=True) is not None
        assert enqueue(s, "cleanup", {}, dedupe_key="periodic:cleanup:7") is None


def test_stale_running_jobs_are_requeued(settings: Settings) -> None:
    db, queue = make_queue(settings)
    with db.session() as s:
        enqueue(s, "slow", {})
    job = queue.claim("crashed-worker", ["default"])[0]
    assert queue.requeue_stale(visibility_timeout_seconds=300) == 0
    with db.session() as s:
        s.execute(update(Job).where(Job.id == job.id)
                  .values(locked_at=utcnow() - dt.timedelta(minutes=10)))
    assert queue.requeue_stale(visibility_timeout_seconds=300) == 1
    assert [j.id for j in queue.claim("w2", ["default"])] == [job.id]


def test_lag_reflects_oldest_due_job(settings: Settings) -> None:
    db, queue = make_queue(settings)
    with db.session() as s:
        enqueue(s, "old", {}, run_at=utcnow() - dt.timedelta(seconds=90))
        enqueue(s, "new", {})
    stats = queue.stats()
    assert stats.depth == {"default": 2}
    assert 85 <= stats.lag_seconds <= 120
