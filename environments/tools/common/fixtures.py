"""Fixture documents: YAML (or JSON) files describing a tool's state, and the time values in them.

A tool is seeded from its fixture files on first start; tasks add more on top through
``POST /_admin/fixtures``. What a document may contain is each tool's business (and each tool
validates it with a pydantic model); shared here is what every tool does the same way: reading
files and times, validating a document against its model, errors that name the document and
suggest the name that was meant, and the files a document refers to (``company:``).
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

if TYPE_CHECKING:
    from environments.acme.company import Company

YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_OFFSET = re.compile(r"^\+\s*(?:(\d+)d)?\s*(?:(\d+)h)?\s*(?:(\d+)m)?\s*(?:(\d+)s)?$")


class FixtureError(ValueError):
    """A fixture document is unreadable or inconsistent; the message says where and why."""


class FixtureModel(BaseModel):
    """Base of every tool's fixture models: an unknown key is an error, not silently ignored
    (a misspelt ``asignee:`` would otherwise seed a state the task author did not mean)."""

    model_config = ConfigDict(extra="forbid")


Model = TypeVar("Model", bound=BaseModel)


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


def fixture_source(origin: Path | None) -> str:
    """How messages name a document: its file, or ``fixtures`` for one posted to the admin API."""
    return str(origin) if origin else "fixtures"


def validate_document(model: type[Model], doc: Any, origin: Path | None) -> Model:
    """``doc`` as ``model``; a FixtureError naming the document and every problem if it is not."""
    try:
        return model.model_validate(doc)
    except ValidationError as exc:
        raise describe_validation_error(exc, fixture_source(origin)) from None


@contextmanager
def errors_name_source(source: str) -> Iterator[None]:
    """While applying a document: prefix FixtureErrors with ``source``, and turn a constraint
    the document breaks (sqlite3.IntegrityError) into a FixtureError rather than a crash."""
    try:
        yield
    except FixtureError as exc:
        raise FixtureError(f"{source}: {exc}") from None
    except sqlite3.IntegrityError as exc:
        raise FixtureError(f"{source}: conflicts with the current state ({exc})") from None


def suggest(word: str, known: list[str], n: int = 1) -> str:
    """`` (did you mean 'x'?)`` with up to ``n`` close matches from ``known``, or ``""``: the
    tail of an "unknown user/team/…" message, so a typo in a fixture is one glance to fix."""
    close = difflib.get_close_matches(word, known, n=n)
    return f" (did you mean {', '.join(map(repr, close))}?)" if close else ""


def fixture_path(ref: str, origin: Path | None, *, what: str, strict: bool = True) -> Path:
    """A file a document refers to; a relative one is relative to the document's own file.

    A document posted to the admin API has no file (``origin`` is None): a relative path is
    then a FixtureError when ``strict``, else left relative (to the service's cwd).
    """
    path = Path(ref)
    if path.is_absolute() or (origin is None and not strict):
        return path
    if origin is None:
        raise FixtureError(f"{what}: {ref!r} is relative; use an absolute path here")
    return origin.parent / path


def load_company_ref(ref: str, origin: Path | None, *, strict: bool = True) -> Company:
    """The company file a document's ``company:`` names (see :func:`fixture_path`), loaded."""
    from environments.acme.company import CompanyError, load_company

    path = fixture_path(ref, origin, what="company", strict=strict)
    try:
        return load_company(path)
    except CompanyError as exc:
        raise FixtureError(f"company: {exc}") from None


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
