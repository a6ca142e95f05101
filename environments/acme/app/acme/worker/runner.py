"""The polling loop: schedule periodic work, claim jobs, run handlers, export queue gauges."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import traceback
from dataclasses import replace
from typing import Any

from acme.common.faults import RuntimeFaults
from acme.common.metrics import Metrics
from acme.common.queue import ClaimedJob, enqueue
from acme.models import utcnow
from acme.worker.handlers import HANDLERS, QUEUES, PermanentJobError, WorkerContext

log = logging.getLogger(__name__)

# (kind, payload, interval attribute on Settings or fixed seconds, queue)
PERIODIC: list[tuple[str, dict[str, Any], str | int, str]] = [
    ("cleanup", {}, "cleanup_interval_seconds", "default"),
    ("search_reindex", {}, 3600, "search"),
]


class WorkerRunner:
    """Polls the queue. While ``faults`` says the worker is stalled it claims nothing, but keeps
    polling (heartbeat, periodic jobs, queue gauges), so the backlog shows in the metrics."""

    def __init__(self, ctx: WorkerContext, metrics: Metrics, *, worker_id: str | None = None,
                 faults: RuntimeFaults | None = None) -> None:
        self.ctx = ctx
        self.metrics = metrics
        self.faults = faults or RuntimeFaults(None, "worker")
        self.stalled = False
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}"
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.last_poll: float | None = None
        self._scheduled: dict[str, int] = {}
        self.processed = 0
        self._lock = threading.Lock()

    # -- lifecycle ------------------------------------------------------------------
    def start(self) -> None:
        for n in range(max(1, self.ctx.settings.worker_concurrency)):
            t = threading.Thread(target=self._loop, name=f"worker-{n}", args=(f"{self.worker_id}/{n}",),
                                 daemon=True)
            t.start()
            self._threads.append(t)

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout)

    @property
    def alive(self) -> bool:
        return bool(self._threads) and all(t.is_alive() for t in self._threads)

    def _loop(self, worker_id: str) -> None:
        log.info("worker loop started", extra={"worker_id": worker_id})
        interval = self.ctx.settings.worker_poll_interval_seconds
        while not self._stop.is_set():
            try:
                did_work = self.run_once(worker_id)
            except Exception:  # database hiccup: log, back off, keep going
                log.exception("worker iteration failed")
                did_work = 0
            if not did_work:
                self._stop.wait(interval)

    # -- one iteration ------------------------------------------------------------
    def run_once(self, worker_id: str | None = None, *, batch: int = 10) -> int:
        """Schedule periodic jobs, refresh gauges, then run one batch. Returns jobs run."""
        worker_id = worker_id or self.worker_id
        self.schedule_periodic()
        self.refresh_gauges()
        self.last_poll = time.monotonic()
        if self._stalled():
            return 0
        jobs = self.ctx.queue.claim(worker_id, QUEUES, limit=batch)
        for job in jobs:
            self.execute(job)
        return len(jobs)

    def _stalled(self) -> bool:
        stalled = self.faults.worker_stalled()
        with self._lock:
            changed, self.stalled = stalled != self.stalled, stalled
        if changed:  # debug only: a stuck worker does not say so
            log.debug("job claiming %s", "paused" if stalled else "resumed",
                      extra={"worker_id": self.worker_id})
        return stalled

    def drain(self, max_rounds: int = 50) -> int:
        """Run until the queue has no due jobs (used by tests and one-off maintenance)."""
        total = 0
        for _ in range(max_rounds):
            ran = self.run_once()
            total += ran
            if ran == 0:
                break
        return total

    def execute(self, job: ClaimedJob) -> None:
        handler = HANDLERS.get(job.kind)
        started = time.perf_counter()
        if handler is None:
            self._give_up(job, f"unknown job kind {job.kind!r}")
            return
        try:
            result = handler(self.ctx, job.payload)
        except PermanentJobError as exc:
            self._give_up(job, str(exc))
            return
        except Exception as exc:
            retry = self.ctx.queue.fail(job, "".join(traceback.format_exception_only(exc)).strip())
            self.metrics.jobs_processed.labels(job.kind, "retry" if retry else "failed").inc()
            log.warning("job failed", extra={"job_id": job.id, "kind": job.kind, "retry": retry,
                                             "error": str(exc)})
            return
        self.ctx.queue.complete(job.id)
        with self._lock:
            self.processed += 1
        self.metrics.jobs_processed.labels(job.kind, "ok").inc()
        log.info("job done", extra={"job_id": job.id, "kind": job.kind, "result": result,
                                    "duration_ms": round((time.perf_counter() - started) * 1000, 1)})

    def _give_up(self, job: ClaimedJob, error: str) -> None:
        self.ctx.queue.fail(replace(job, attempts=job.max_attempts), error)
        self.metrics.jobs_processed.labels(job.kind, "failed").inc()
        log.error("job failed permanently", extra={"job_id": job.id, "kind": job.kind, "error": error})

    def schedule_periodic(self) -> None:
        now = utcnow().timestamp()
        for kind, payload, interval_spec, queue in PERIODIC:
            interval = (getattr(self.ctx.settings, interval_spec) if isinstance(interval_spec, str)
                        else interval_spec)
            bucket = int(now // max(1, int(interval)))
            if self._scheduled.get(kind) == bucket:
                continue  # already enqueued (by us or, via the dedupe key, by a peer)
            with self.ctx.db.session() as s:
                enqueue(s, kind, payload, queue=queue, dedupe_key=f"periodic:{kind}:{bucket}")
            self._scheduled[kind] = bucket

    def refresh_gauges(self) -> None:
        stats = self.ctx.queue.stats()
        for queue in QUEUES:
            self.metrics.queue_depth.labels(queue).set(stats.depth.get(queue, 0))
        self.metrics.queue_lag.set(stats.lag_seconds)
