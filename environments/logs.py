"""Reading service logs: the tail for error messages and `prodbench logs`."""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime
from pathlib import Path


def tail_lines(path: Path, n: int = 20, max_bytes: int = 64 * 1024) -> list[str]:
    """The last `n` lines of a file without reading all of it."""
    try:
        with open(path, "rb") as fh:
            size = fh.seek(0, os.SEEK_END)
            fh.seek(max(0, size - max_bytes))
            data = fh.read()
    except OSError:
        return []
    lines = data.decode("utf-8", "replace").splitlines()
    if size > max_bytes and lines:
        lines = lines[1:]  # the first line is probably cut
    return [line for line in lines if line.strip()][-n:] if n > 0 else []


class JsonLineFormatter(logging.Formatter):
    """One JSON object per line, with the fields the app's services write (ts, level, msg)."""

    def __init__(self, service: str):
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


def log_to_stderr_as_json(service: str, level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLineFormatter(service))
    logging.basicConfig(level=level, handlers=[handler], force=True)
