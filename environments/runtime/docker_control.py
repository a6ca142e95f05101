"""The runtime control API of a compose project, as far as the docker runtime has it: not yet.

The deployer (`ops`) is given a runtime control API to start, replace and stop app instances
(environments/runtime/control.py; the local supervisor serves it). Under docker, compose starts
the run's initial release itself, and replacing containers (a deploy, a canary) is the docker
runtime's next step. Until then this stand-in answers on the same URL and routes: `/healthz`
for compose, the token checked as the real API does, and every call a clear 501 instead of a
connection error, so a deploy on a docker run fails saying why.

    python -m environments.runtime.docker_control --host 0.0.0.0 --port 8000

Standard library only: one small process per run, started in well under a second.
"""

from __future__ import annotations

import argparse
import hmac
import json
import os
import sys
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOKEN_ENV = "PRODBENCH_RUNTIME_TOKEN"
NOT_SUPPORTED = (
    "the docker runtime cannot start, replace, list or stop service instances yet: compose "
    "started the run's initial release, and deploys, restarts and canaries on docker are not "
    "implemented; use the local runtime (`prodbench up` without --runtime docker) for them"
)


class Handler(BaseHTTPRequestHandler):
    server_version = "prodbench-docker-runtime"
    sys_version = ""
    protocol_version = "HTTP/1.1"  # keep-alive, as the real API; every answer has a length
    token = ""

    def _send(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if 0 < length <= 1 << 20:
            self.rfile.read(length)  # the request body is not needed, only consumed
        if self.path == "/healthz" and self.command == "GET":
            self._send(200, {"status": "ok", "service": "runtime", "implemented": False})
            return
        given = self.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not self.token or not hmac.compare_digest(given.encode(), self.token.encode()):
            self._send(401, {"error": "missing or wrong bearer token for the runtime API"})
            return
        if not self.path.startswith("/v1/"):
            self._send(404, {"error": f"no endpoint {self.path}"})
            return
        self._send(501, {"error": NOT_SUPPORTED})

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, format: str, *args: object) -> None:
        line = {"service": "runtime", "message": format % args}
        sys.stderr.write(json.dumps(line) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m environments.runtime.docker_control")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    args = ap.parse_args(argv)
    Handler.token = os.environ.get(TOKEN_ENV, "")
    if not Handler.token:
        print(f"runtime: {TOKEN_ENV} is not set", file=sys.stderr)
        return 2
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
