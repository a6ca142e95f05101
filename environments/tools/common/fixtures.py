"""Fixture documents: YAML (or JSON) files describing a tool's state, and the time values in them.

A tool is seeded from its fixture files on first start; tasks add more on top through
``POST /_admin/fixtures``. What a document may contain is each tool's business (and each tool
validates it with a pydantic model); reading files and times is shared here.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_OFFSET = re.compile(r"^\+\s*(?:(\d+)d)?\s*(?:(\d+)h)?\s*(?:(\d+)m)?\s*(?:(\d+)s)?$")


class FixtureError(ValueError):
    """A fixture document is unreadable or inconsistent; the message says where and why."""


def load_fixture_file(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise FixtureError(f"{path}: cannot read fixture file ({exc.strerror or exc})") from None
    return parse_fixture_text(text, source=str(path))


def parse_fixture_text(text: str | bytes, *, source: str = "request body") -> dict[str, Any]:
    """A fixture document from JSON or YAML text; it must be a mapping."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    try:
        doc = json.loads(text) if text.lstrip().startswith("{") else None
    except ValueError:
        doc = None
    if doc is None:
        try:
            doc = yaml.load(text, Loader=YAML_LOADER)
        except yaml.YAMLError as exc:
            raise FixtureError(f"{source}: not valid YAML or JSON: {exc}") from None
        except RecursionError:
            raise FixtureError(f"{source}: document nested too deeply") from None
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise FixtureError(f"{source}: a fixture document must be a mapping at the top level")
    return doc


def describe_validation_error(exc: ValidationError, source: str) -> FixtureError:
    """A FixtureError listing every problem as ``where: what`` lines."""
    lines = [f"{source}: invalid fixtures"]
    for err in exc.errors()[:20]:
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        lines.append(f"  {where}: {err['msg']}")
    return FixtureError("\n".join(lines))


def to_epoch(value: Any, *, what: str = "time") -> float:
    """Unix seconds from a datetime (naive = UTC), a date, an ISO 8601 string or a number."""
    if isinstance(value, bool):
        raise FixtureError(f"{what}: expected a time, got {value!r}")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise FixtureError(f"{what}: {value!r} is not an ISO 8601 time") from None
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.timestamp()
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC).timestamp()
    raise FixtureError(f"{what}: expected a time, got {value!r}")


def parse_offset(text: str) -> float | None:
    """Seconds in a relative time like ``+90s``, ``+5m``, ``+1h30m``, ``+2d``; None if not one."""
    match = _OFFSET.match(text.strip()) if isinstance(text, str) else None
    if not match or not any(match.groups()):
        return None
    days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return float(((days * 24 + hours) * 60 + minutes) * 60 + seconds)


def resolve_time(value: Any, previous: float | None, *, what: str = "at") -> float:
    """An absolute time, or ``+offset`` after ``previous``."""
    if isinstance(value, str) and value.strip().startswith("+"):
        offset = parse_offset(value)
        if offset is None:
            raise FixtureError(f"{what}: {value!r} is not an offset like +5m or +1h30m")
        if previous is None:
            raise FixtureError(f"{what}: {value!r} is relative but nothing comes before it")
        return previous + offset
    return to_epoch(value, what=what)
