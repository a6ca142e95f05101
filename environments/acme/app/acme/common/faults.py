"""Runtime faults for game days: a slow database or a stalled worker, without a redeploy.

Ops tooling rehearses incidents by atomically replacing the JSON file at ``ACME_FAULTS_FILE``
(write a temp file, rename it over); every process notices within half a second. The file is
checked with one ``stat`` at most every ``check_interval`` seconds, so a process with no
faults pays next to nothing per query. Like the flags file, a half-written or invalid file
keeps the last good value and logs a warning: a typo must not flap production.

File format (every key optional; no file, or no ``ACME_FAULTS_FILE``, means no faults)::

    {"db_latency_ms": 250, "db_latency_services": ["api"], "worker_stall": true}

``db_latency_ms`` delays every SQL statement of the listed services (all services when
``db_latency_services`` is absent); ``worker_stall`` stops workers claiming jobs.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, event

log = logging.getLogger(__name__)

MAX_DB_LATENCY_MS = 60_000


@dataclass(frozen=True)
class FaultState:
    """The faults in force, as the file last said."""

    db_latency_ms: int = 0
    db_latency_services: frozenset[str] | None = None  # None: every service
    worker_stall: bool = False

    def db_delay_for(self, service: str) -> float:
        """Seconds to sleep before each SQL statement of ``service``."""
        if self.db_latency_ms <= 0:
            return 0.0
        if self.db_latency_services is not None and service not in self.db_latency_services:
            return 0.0
        return self.db_latency_ms / 1000.0


NO_FAULTS = FaultState()


def parse_faults(data: Any) -> FaultState:
    """Validate the file's JSON; raises ValueError naming the bad key."""
    if not isinstance(data, dict):
        raise ValueError("faults file must contain a JSON object")
    latency = data.get("db_latency_ms", 0)
    if isinstance(latency, bool) or not isinstance(latency, int | float):
        raise ValueError("db_latency_ms must be a number of milliseconds")
    if not 0 <= latency <= MAX_DB_LATENCY_MS:
        raise ValueError(f"db_latency_ms must be between 0 and {MAX_DB_LATENCY_MS}")
    services = data.get("db_latency_services")
    if services is not None and (
        not isinstance(services, list) or not all(isinstance(s, str) for s in services)
    ):
        raise ValueError("db_latency_services must be a list of service names")
    stall = data.get("worker_stall", False)
    if not isinstance(stall, bool):
        raise ValueError("worker_stall must be true or false")
    return FaultState(
        db_latency_ms=int(latency),
        db_latency_services=None if services is None else frozenset(services),
        worker_stall=stall,
    )


class RuntimeFaults:
    """This process's view of the faults file, for one service (``api``, ``worker``...)."""

    def __init__(
        self,
        path: str | None,
        service: str,
        *,
        check_interval: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = path
        self.service = service
        self.check_interval = check_interval
        self._clock = clock
        self._lock = threading.Lock()
        self._state = NO_FAULTS
        self._version: tuple[int, int, int] | None = None
        self._next_check = float("-inf")

    def current(self) -> FaultState:
        if not self.path:
            return NO_FAULTS
        now = self._clock()
        if now < self._next_check:  # the common case: one clock read, no lock
            return self._state
        with self._lock:
            if now >= self._next_check:
                self._next_check = now + self.check_interval
                self._reload()
            return self._state

    def db_delay(self) -> float:
        return self.current().db_delay_for(self.service)

    def worker_stalled(self) -> bool:
        return self.current().worker_stall

    def _reload(self) -> None:
        assert self.path is not None
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            if self._state != NO_FAULTS:
                log.debug("runtime faults cleared", extra={"faults_file": self.path})
            self._state, self._version = NO_FAULTS, None
            return
        except OSError as exc:
            log.warning("faults file unreadable", extra={"error": str(exc)})
            return
        # inode + mtime + size: an atomic rename always changes the inode.
        version = (st.st_ino, st.st_mtime_ns, st.st_size)
        if version == self._version:
            return
        self._version = version
        try:
            with open(self.path, encoding="utf-8") as fh:
                state = parse_faults(json.load(fh))
        except (OSError, ValueError) as exc:
            log.warning("faults file unreadable", extra={"error": str(exc)})
            return
        if state != self._state:
            # Debug only: a real slow database does not announce itself in the logs either.
            log.debug(
                "runtime faults changed",
                extra={
                    "db_latency_ms": state.db_latency_ms,
                    "db_latency_services": sorted(state.db_latency_services or []) or None,
                    "worker_stall": state.worker_stall,
                },
            )
        self._state = state


def install_db_latency(engine: Engine, faults: RuntimeFaults) -> None:
    """Delay each statement on ``engine`` while the faults file says so.

    A synchronous sleep is right here: database calls already run in worker threads.
    """

    @event.listens_for(engine, "before_cursor_execute")
    def _slow(*_args: Any) -> None:
        delay = faults.db_delay()
        if delay:
            time.sleep(delay)
