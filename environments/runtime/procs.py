"""Finding a run's processes, standard library only (the guard imports this file directly).

Matching on the PRODBENCH_RUN_ID every service and its children inherit, rather than on
recorded pids, cannot hit an unrelated process that reused a number, and it finds
descendants that left their process group. Zombies count as gone: they wait on a reaper
(in a container, often one that never comes), not on us.
"""

from __future__ import annotations

import os
import signal


def run_processes(run_id: str) -> list[int]:
    """Pids of live processes started for `run_id` (Linux /proc; empty elsewhere)."""
    marker = f"PRODBENCH_RUN_ID={run_id}".encode()
    found = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    me = os.getpid()
    for entry in entries:
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as fh:
                if marker not in fh.read().split(b"\0"):
                    continue
        except OSError:
            continue
        fields = _stat_fields(entry)
        if not fields or fields[0] == "Z":
            continue
        found.append(int(entry))
    return found


def kill_run_processes(run_id: str) -> int:
    pids = run_processes(run_id)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    return len(pids)


def _stat_fields(pid: str) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return None


def group_alive(pgid: int) -> bool:
    """True while a non-zombie process is in the process group."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        entries = os.listdir("/proc")
    except OSError:
        return True  # no /proc (macOS): trust killpg
    for entry in entries:
        if entry.isdigit():
            fields = _stat_fields(entry)
            if fields and fields[0] != "Z" and int(fields[2]) == pgid:
                return True
    return False
