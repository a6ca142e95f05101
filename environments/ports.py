"""Loopback port allocation that keeps side-by-side runs apart.

The kernel hands out a free ephemeral port for a bind to port 0; we record each port in a
machine-wide reservation file under a lock so two runs planning at the same moment never get
the same one, and we re-check a port just before a service binds it.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import socket
import time
from collections.abc import Iterable
from pathlib import Path

HOST = "127.0.0.1"
RESERVATION_TTL = 24 * 3600.0


class PortInUse(RuntimeError):
    pass


def port_is_free(port: int, host: str = HOST) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # SO_REUSEADDR like every server we run: TIME_WAIT left by health probes is no owner,
        # while a live listener still makes the bind fail.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def _kernel_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class PortAllocator:
    """Hands out free loopback ports, never one another live run holds."""

    def __init__(self, registry_dir: Path, host: str = HOST):
        self.host = host
        self.registry_dir = registry_dir
        self.path = registry_dir / "ports.json"

    def allocate(self, owner: str, count: int, avoid: Iterable[int] = ()) -> list[int]:
        with self._locked() as reserved:
            taken = set(avoid) | {p for o, e in reserved.items() if o != owner for p in e["ports"]}
            got: list[int] = []
            for _ in range(count):
                got.append(self._one(taken))
                taken.add(got[-1])
            entry = reserved.setdefault(owner, {"ports": [], "pid": os.getpid(), "at": time.time()})
            entry["ports"] = sorted(set(entry["ports"]) | set(got))
            entry["at"] = time.time()
            return got

    def claim(self, owner: str, ports: Iterable[int]) -> None:
        """Record fixed ports so nobody else is handed them."""
        with self._locked() as reserved:
            entry = reserved.setdefault(owner, {"ports": [], "pid": os.getpid(), "at": time.time()})
            entry["ports"] = sorted(set(entry["ports"]) | set(ports))

    def release(self, owner: str) -> None:
        with self._locked() as reserved:
            reserved.pop(owner, None)

    def _one(self, taken: set[int]) -> int:
        for _ in range(200):
            port = _kernel_port(self.host)
            if port not in taken:
                return port
        raise PortInUse("could not find a free loopback port after 200 tries")

    def _locked(self):
        return _Reservations(self.path)


class _Reservations:
    """The reservation file, read and rewritten under an exclusive lock."""

    def __init__(self, path: Path):
        self.path = path

    def __enter__(self) -> dict[str, dict]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = open(self.path.with_suffix(".lock"), "a+")
        fcntl.flock(self._lock, fcntl.LOCK_EX)
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            data = {}
        now = time.time()
        # Forget reservations of owners that are gone or ancient, so the file cannot grow forever.
        self.data = {
            owner: entry
            for owner, entry in data.items()
            if now - entry.get("at", 0) < RESERVATION_TTL and _alive(entry.get("pid"))
        }
        return self.data

    def __exit__(self, *exc: object) -> None:
        try:
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(self.data, sort_keys=True))
            os.replace(tmp, self.path)
        finally:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()


def _alive(pid: object) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
