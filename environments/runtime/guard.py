"""Parent-death guard: kills a run's process groups if its supervisor dies without doing so.

Run as its own process (`python -I -S guard.py`) in its own session. The supervisor writes
`+PGID` / `-PGID` lines to our stdin as it starts and reaps services; EOF without `quit` means
the supervisor is gone (even by SIGKILL), so every group still listed is terminated.
Standard library only, so it starts in a few milliseconds.
"""

import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from procs import group_alive


def main() -> int:
    for sig in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    groups: set[int] = set()
    while True:
        line = sys.stdin.readline()
        if not line:
            break
        cmd = line.strip()
        if cmd == "quit":
            return 0
        if cmd[:1] in "+-" and cmd[1:].isdigit():
            (groups.add if cmd[0] == "+" else groups.discard)(int(cmd[1:]))
    for pgid in groups:
        try:
            os.killpg(pgid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 3.0
    while time.monotonic() < deadline and any(group_alive(g) for g in groups):
        time.sleep(0.05)
    for pgid in groups:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
