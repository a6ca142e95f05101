"""A stand-in CLI agent for the adapter tests; what it does is chosen by --mode.

complete: write a file in the workspace, print JSON lines about what it saw, exit 0.
text: print plain text.  fail: print to stderr and exit 3.  crash: print, then SIGKILL itself.
hang: start a child in its own process group, record both pids, ignore SIGTERM and sleep.
linger: start a background child, record its pid, exit 0 at once.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

parser = argparse.ArgumentParser()
parser.add_argument("--mode", default="complete")
parser.add_argument("--workspace")
parser.add_argument("--prompt")
parser.add_argument("--prompt-file")
parser.add_argument("--mcp-config")
parser.add_argument("--out")
parser.add_argument("rest", nargs="*")
args = parser.parse_args()


def emit(**record) -> None:
    print(json.dumps(record), flush=True)


if args.mode == "complete":
    Path("agent-was-here.txt").write_text(args.prompt)
    emit(type="start", cwd=os.getcwd(), argv=sys.argv[1:])
    emit(
        type="env",
        model=os.environ.get("FAKE_MODEL"),
        admin=os.environ.get("OPS_ADMIN_TOKEN"),
        nonblocking=os.environ.get("MCP_CONNECTION_NONBLOCKING"),
        python=shutil.which("python3"),
    )
    emit(type="prompt_file", text=Path(args.prompt_file).read_text())
    print("thinking...", file=sys.stderr, flush=True)
    emit(type="result", ok=True)
elif args.mode == "text":
    print("step 1: read the code\nstep 2: done", flush=True)
elif args.mode == "fail":
    emit(type="start")
    print("fatal: no API key", file=sys.stderr, flush=True)
    sys.exit(3)
elif args.mode == "crash":
    emit(type="step", n=1)
    emit(type="step", n=2)
    os.kill(os.getpid(), signal.SIGKILL)
elif args.mode == "hang":
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    Path(args.out, "pids.json").write_text(json.dumps([os.getpid(), child.pid]))
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    emit(type="step", n=1)
    time.sleep(120)
elif args.mode == "linger":
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    Path(args.out, "pids.json").write_text(json.dumps([child.pid]))
    emit(type="done")
