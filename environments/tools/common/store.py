"""Per-run state of a tool: one SQLite database (WAL) behind one lock-guarded connection.

A tool app owns exactly one :class:`Store`. Handlers run on uvicorn's event loop and do their
(sub-millisecond) SQLite work inline; the re-entrant lock makes the single connection safe
should anything call in from another thread (Starlette's threadpool, a test).

Every mutation writes a row to the append-only ``events`` table inside the same transaction,
so graders can read what happened, by whom and when, from ``/_admin/events``.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

COMMON_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    time      REAL NOT NULL,
    actor     TEXT NOT NULL,
    kind      TEXT NOT NULL,
    object_id TEXT NOT NULL,
    payload   TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_time ON events(time, id);
"""

MAX_EVENTS_PAGE = 10_000


def _current_task() -> object:
    try:
        return asyncio.current_task()
    except RuntimeError:  # no running event loop: a plain thread
        return None


def dumps(value: Any) -> str:
    """Canonical JSON (sorted keys, no spaces): the same value always gives the same bytes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class Store:
    """A tool's SQLite database: schema on open, transactions, events, metadata."""

    def __init__(self, path: str | Path, schema: str = ""):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._depth = 0
        self._owner: object = None
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=5000")
        conn.executescript(COMMON_SCHEMA + schema)
        self._conn = conn

    # -- access ----------------------------------------------------------------------------

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            yield self._conn

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One transaction (nested calls join the outer one); rolled back on any exception.

        The lock is re-entrant per thread, and every request of an event loop shares its
        thread: a handler that awaited inside a transaction would let another request join
        it. That is refused here, loudly, rather than allowed to mix two requests' writes.
        """
        with self._lock:
            outer = self._depth == 0
            task = _current_task()
            if outer:
                self._owner = task
            elif task is not self._owner:
                raise RuntimeError(
                    "a tool store transaction was entered by another request on the same event "
                    "loop: handlers must not await while holding the store"
                )
            if outer:
                self._conn.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield self._conn
            except BaseException:
                self._depth -= 1
                if outer:
                    self._conn.execute("ROLLBACK")
                raise
            self._depth -= 1
            if outer:
                self._conn.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # -- metadata --------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        with self.read() as db:
            row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    def set_meta(self, key: str, value: str) -> None:
        with self.write() as db:
            db.execute(
                "INSERT INTO meta(key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    # -- events ----------------------------------------------------------------------------

    def record_event(
        self, *, time: float, actor: str, kind: str, object_id: str, payload: Mapping[str, Any]
    ) -> int:
        """Append one event (inside the caller's transaction when there is one)."""
        with self.write() as db:
            cur = db.execute(
                "INSERT INTO events(time, actor, kind, object_id, payload) VALUES (?, ?, ?, ?, ?)",
                (time, actor, kind, object_id, dumps(dict(payload))),
            )
            return int(cur.lastrowid)

    def events(
        self,
        *,
        since: float = 0.0,
        after_id: int = 0,
        kind: str | None = None,
        limit: int = 1000,
    ) -> list[dict[str, Any]]:
        """Events with ``time >= since`` and ``id > after_id``, oldest first."""
        sql = "SELECT id, time, actor, kind, object_id, payload FROM events WHERE time >= ? AND id > ?"
        args: list[Any] = [since, after_id]
        if kind:
            sql += " AND (kind = ? OR kind LIKE ?)"
            args += [kind, kind.rstrip(".") + ".%"]
        sql += " ORDER BY id LIMIT ?"
        args.append(max(1, min(limit, MAX_EVENTS_PAGE)))
        with self.read() as db:
            rows = db.execute(sql, args).fetchall()
        return [{**dict(r), "payload": json.loads(r["payload"])} for r in rows]

    # -- export ----------------------------------------------------------------------------

    def dump_table(
        self, table: str, order_by: str, json_columns: Sequence[str] = ()
    ) -> list[dict[str, Any]]:
        """Every row of a table as dicts in a fixed order, JSON columns decoded."""
        with self.read() as db:
            rows = db.execute(f"SELECT * FROM {table} ORDER BY {order_by}").fetchall()
        out = []
        for row in rows:
            item = dict(row)
            for col in json_columns:
                if item.get(col) is not None:
                    item[col] = json.loads(item[col])
            out.append(item)
        return out
