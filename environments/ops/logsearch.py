"""Log search over a run's service logs, newest first: what the agent's `search_logs` calls.

    GET /api/v1/logs?service=&level=&text=&since=<seconds>&limit=
    -> {"lines": [{"time", "service", "instance", "level", "msg", ...other fields}],
        "truncated": bool}

The logs are `runs/<id>/logs/<instance>.log` (`api.log`, `api-canary.log`): JSON lines from
the services (the app writes `ts`, the tools `time`, Prometheus `ts`...), the supervisor's
`--- prodbench: ...` lines, and plain text such as tracebacks. Files grow to many MB, so each
is read backwards in blocks and the search stops as soon as it has `limit` matches, or when a
file's lines get older than `since`. A line without a timestamp of its own (plain text, or
JSON without one) gets the time of the next newer line, or the file's modification time,
marked `time_inferred`; a traceback is one entry at level `error`.

The logs of the benchmark's own machinery (traffic simulation, fault injection, the MCP
gateway, the tools' simulators) are not the company's logs and are left out by default: the
agent must not read "hostile traffic started" in a log.
"""

from __future__ import annotations

import hmac
import json
import re
import time
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from heapq import merge
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

LEVELS = ("debug", "info", "warning", "error", "critical")
LEVEL_ALIASES = {
    "trace": "debug",
    "notice": "info",
    "warn": "warning",
    "err": "error",
    "crit": "critical",
    "fatal": "critical",
    "panic": "critical",
    "alert": "critical",
    "emerg": "critical",
}
HIDDEN_SERVICES = frozenset({"traffic", "ops", "mcp", "tools"})
TIME_KEYS = ("ts", "time", "timestamp", "@timestamp", "iso")
LEVEL_KEYS = ("level", "severity", "levelname")
MSG_KEYS = ("msg", "message", "event")
CONSUMED = frozenset({*TIME_KEYS, *LEVEL_KEYS, "service", "instance"})
MAX_LIMIT = 500
MAX_SINCE = 90 * 86400
BLOCK = 64 * 1024
MAX_SCAN_BYTES = 256 * 1024 * 1024  # per search, over all files
MAX_RAW_BLOCK = 500  # plain lines grouped at most (a traceback is far shorter)
SINCE_SLACK = 5.0  # lines of one file are only roughly in time order (threads)
SERVICE = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
ERROR_LINE = re.compile(r"^[\w.]*(Error|Exception|Exit|Interrupt)\b(:|$)|^panic: ")
CHAIN = (
    "During handling of the above exception, another exception occurred:",
    "The above exception was the direct cause of the following exception:",
)


class SearchError(ValueError):
    """A bad search parameter; the message names it."""


@dataclass
class Entry:
    time: float  # the line's own timestamp, or the inferred one
    key: float  # for merging files newest first: `time`, never above a newer line's
    level: str
    text: str  # the raw line, or the plain block (a traceback)
    service: str
    instance: str
    obj: dict[str, Any] | None = None  # the parsed JSON line
    time_inferred: bool = False

    def msg(self) -> str:
        if self.obj is None:
            return self.text
        return next((v for k in MSG_KEYS if isinstance(v := self.obj.get(k), str)), "")

    def fields(self) -> dict[str, Any]:
        """The line as the API returns it (only built for lines returned)."""
        obj = self.obj or {}
        msg_key = next((k for k in MSG_KEYS if isinstance(obj.get(k), str)), None)
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(self.time, UTC).isoformat(timespec="milliseconds"),
            "service": obj["service"] if isinstance(obj.get("service"), str) else self.service,
            "instance": obj["instance"] if isinstance(obj.get("instance"), str) else self.instance,
            "level": self.level,
            "msg": self.msg(),
        }
        out.update((k, v) for k, v in obj.items() if k not in CONSUMED and k != msg_key)
        if self.time_inferred:
            out["time_inferred"] = True
        return out


class _Budget:
    def __init__(self, limit: int) -> None:
        self.left = limit
        self.exhausted = False

    def spend(self, n: int) -> bool:
        self.left -= n
        self.exhausted = self.exhausted or self.left < 0
        return not self.exhausted


# ---- parsing ------------------------------------------------------------------------------


def _level(value: Any) -> str:
    name = str(value).strip().lower() if isinstance(value, str) else "info"
    name = LEVEL_ALIASES.get(name, name)
    return name if name in LEVELS else "info"


def _timestamp(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value / 1000 if value > 1e12 else float(value)  # milliseconds or seconds
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()
    return None


def _parse_json(line: str) -> tuple[float | None, str, dict[str, Any]] | None:
    """(timestamp, level, object) of a JSON line; None when the line is not a JSON object."""
    if not line.startswith("{"):
        return None
    try:
        obj = json.loads(line)
    except ValueError:
        return None
    if not isinstance(obj, dict):
        return None
    ts = None
    for key in TIME_KEYS:
        if key in obj and (ts := _timestamp(obj[key])) is not None:
            break
    level = next((obj[k] for k in LEVEL_KEYS if k in obj), "info")
    return ts, _level(level), obj


def _plain_entries(block: list[str]) -> list[tuple[str, str]]:
    """(level, text) for consecutive plain lines in file order; tracebacks grouped as one."""
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(block):
        if not block[i].startswith("Traceback (most recent call last):"):
            if block[i].strip():
                out.append(("error" if ERROR_LINE.match(block[i]) else "info", block[i]))
            i += 1
            continue
        j = i + 1
        while True:
            while j < len(block) and block[j][:1] in (" ", "\t"):
                j += 1  # frames
            if j < len(block) and not block[j].startswith("Traceback"):
                j += 1  # the exception line
            k = j
            while k < len(block) and (not block[k].strip() or block[k] in CHAIN):
                k += 1
            chained = any(line in CHAIN for line in block[j:k])
            if chained and k < len(block) and block[k].startswith("Traceback"):
                j = k + 1
                continue
            break
        out.append(("error", "\n".join(block[i:j])))
        i = j
    return out


def _reverse_lines(path: Path, budget: _Budget) -> Iterator[str]:
    with open(path, "rb") as fh:
        pos = fh.seek(0, 2)
        tail = b""
        while pos > 0:
            step = min(BLOCK, pos)
            pos -= step
            if not budget.spend(step):
                return
            fh.seek(pos)
            lines = (fh.read(step) + tail).split(b"\n")
            tail = lines[0]
            for raw in reversed(lines[1:]):
                yield raw.decode("utf-8", "replace").rstrip("\r")
        yield tail.decode("utf-8", "replace").rstrip("\r")


def _file_entries(
    path: Path, service: str, instance: str, cutoff: float | None, budget: _Budget
) -> Iterator[Entry]:
    """A file's entries, newest first, until they are older than `cutoff`."""
    try:
        bound = path.stat().st_mtime  # no line of the file is newer than this
    except OSError:
        return
    plain: list[str] = []  # consecutive plain lines, newest first

    def flush() -> Iterator[Entry]:
        block = list(reversed(plain))
        plain.clear()
        for level, text in reversed(_plain_entries(block)):
            yield Entry(bound, bound, level, text, service, instance, time_inferred=True)

    for line in _reverse_lines(path, budget):
        parsed = _parse_json(line)
        if parsed is None:
            plain.append(line)
            if len(plain) >= MAX_RAW_BLOCK:
                yield from flush()
            continue
        if plain:
            yield from flush()
        ts, level, obj = parsed
        if ts is None:
            yield Entry(bound, bound, level, line, service, instance, obj, time_inferred=True)
            continue
        if cutoff is not None and ts < cutoff - SINCE_SLACK:
            return
        bound = min(ts, bound)
        yield Entry(ts, bound, level, line, service, instance, obj)
    yield from flush()


# ---- search -------------------------------------------------------------------------------


class LogSearch:
    """Searches the `*.log` files of one logs directory (files starting with `_` excluded)."""

    def __init__(self, logs_dir: Path, hidden: Collection[str] = HIDDEN_SERVICES) -> None:
        self.logs_dir = Path(logs_dir)
        self.hidden = frozenset(hidden)

    def files(self) -> dict[str, tuple[str, str]]:
        """Log file stem -> (service, instance): `api-canary` is an instance of `api`."""
        stems = sorted(
            p.stem for p in self.logs_dir.glob("*.log") if not p.name.startswith(("_", "."))
        )
        out = {}
        for stem in stems:
            parent = next((s for s in stems if stem.startswith(s + "-")), None)
            service = parent or stem
            if service not in self.hidden:
                out[stem] = (service, stem)
        return out

    def search(
        self,
        *,
        service: str | None = None,
        level: str | None = None,
        text: str | None = None,
        since: float | None = None,
        limit: int = 100,
        now: float | None = None,
    ) -> dict[str, Any]:
        if level is not None and level not in LEVELS:
            raise SearchError(f"level must be one of {', '.join(LEVELS)}, got {level!r}")
        if not 1 <= limit <= MAX_LIMIT:
            raise SearchError(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
        if since is not None and not 0 < since <= MAX_SINCE:
            raise SearchError(
                f"since must be above 0 and at most {MAX_SINCE} seconds, got {since:g}"
            )
        files = self.files()
        if service is not None:
            files = {k: v for k, v in files.items() if v[0] == service or k == service}
            if not files:
                known = sorted({s for s, _ in self.files().values()})
                raise SearchError(
                    f"no logs for service {service!r}; services with logs: {', '.join(known)}"
                )
        cutoff = (now or time.time()) - since if since is not None else None
        min_level = LEVELS.index(level) if level else 0
        needle = text.lower() if text else None
        budget = _Budget(MAX_SCAN_BYTES)
        streams = [
            _file_entries(self.logs_dir / f"{stem}.log", svc, inst, cutoff, budget)
            for stem, (svc, inst) in sorted(files.items())
        ]
        lines: list[dict[str, Any]] = []
        truncated = False
        for entry in merge(*streams, key=lambda e: -e.key):
            if cutoff is not None and entry.time < cutoff:
                continue
            if LEVELS.index(entry.level) < min_level:
                continue
            if needle and needle not in entry.text.lower() and needle not in entry.msg().lower():
                continue
            if len(lines) == limit:
                truncated = True
                break
            lines.append(entry.fields())
        return {"lines": lines, "truncated": truncated or budget.exhausted}


# ---- HTTP ---------------------------------------------------------------------------------


def _params(request: Request) -> dict[str, Any]:
    q = request.query_params
    unknown = sorted(set(q) - {"service", "level", "text", "since", "limit"})
    if unknown:
        raise SearchError(f"unknown parameter(s) {', '.join(unknown)}")
    out: dict[str, Any] = {}
    if q.get("service"):
        if not SERVICE.match(q["service"]):
            raise SearchError(f"service must be a service name like api, got {q['service']!r}")
        out["service"] = q["service"]
    if q.get("level"):
        level = q["level"].strip().lower()
        out["level"] = LEVEL_ALIASES.get(level, level)
    if q.get("text"):
        if len(q["text"]) > 500:
            raise SearchError("text must be at most 500 characters")
        out["text"] = q["text"]
    for name, kind in (("since", float), ("limit", int)):
        if q.get(name):
            try:
                out[name] = kind(q[name])
            except ValueError:
                what = "a number of seconds" if kind is float else "a whole number"
                raise SearchError(f"{name} must be {what}, got {q[name]!r}") from None
    return out


def log_routes(
    logs_dir: Path, token: str | Collection[str], *, hidden: Collection[str] = HIDDEN_SERVICES
) -> list[Route]:
    """`GET /api/v1/logs` over `logs_dir`, for a bearer token among `token`."""
    tokens = [token] if isinstance(token, str) else list(token)
    if not tokens or not all(tokens):
        raise ValueError("log_routes needs at least one non-empty token")
    accepted = [f"Bearer {t}".encode() for t in tokens]
    search = LogSearch(logs_dir, hidden)

    async def logs(request: Request) -> JSONResponse:
        given = request.headers.get("authorization", "").encode()
        if not any(hmac.compare_digest(given, a) for a in accepted):
            return JSONResponse({"error": "missing or wrong bearer token"}, 401)
        try:
            params = _params(request)
            result = await run_in_threadpool(lambda: search.search(**params))
        except SearchError as exc:
            return JSONResponse({"error": str(exc)}, 400)
        return JSONResponse(result)

    return [Route("/api/v1/logs", logs, methods=["GET"])]
