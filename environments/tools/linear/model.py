"""Small pieces of Linear's behaviour shared by fixtures, resolvers and mutations.

Errors, time format, priority names, the URL / branch-name shapes Linear produces, and id
checks. Kept free of SQL and GraphQL so each rule is stated once.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
import uuid
from typing import Any

PRIORITY_LABELS = {0: "No priority", 1: "Urgent", 2: "High", 3: "Medium", 4: "Low"}
STATE_TYPES = ("triage", "backlog", "unstarted", "started", "completed", "canceled", "duplicate")
PROJECT_STATES = ("backlog", "planned", "started", "paused", "completed", "canceled")
AVATAR_COLORS = (
    "#4EA7FC",
    "#F2994A",
    "#5E6AD2",
    "#26B5CE",
    "#BB87FC",
    "#F7C8C1",
    "#0F783C",
    "#EB5757",
)
_IDENTIFIER = re.compile(r"^([A-Za-z][A-Za-z0-9]{0,6})-(\d{1,9})$")
_SLUG_DROP = re.compile(r"[^a-z0-9]+")


class LinearError(Exception):
    """An error Linear reports inside ``errors[]``: message plus the extensions clients read.

    ``kind`` is Linear's ``extensions.type`` (the strings @linear/sdk maps to its error
    classes: "invalid input", "authentication error", "forbidden", "graphql error"...).
    """

    def __init__(
        self,
        message: str,
        *,
        kind: str = "invalid input",
        code: str = "INPUT_ERROR",
        user_message: str | None = None,
        status: int = 400,
        **extra: Any,
    ):
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.code = code
        self.user_message = user_message or message
        self.status = status
        self.extra = extra

    def extensions(self) -> dict[str, Any]:
        ext: dict[str, Any] = {
            "type": self.kind,
            "code": self.code,
            "statusCode": self.status,
            "userError": self.status < 500,
            "userPresentableMessage": self.user_message,
        }
        ext.update(self.extra)
        return ext


def not_found(entity: str) -> LinearError:
    """What Linear answers for an id that matches nothing (seen on the wire)."""
    return LinearError(
        f"Entity not found: {entity}",
        user_message=f"Could not find referenced {entity}.",
    )


def invalid(field: str, problem: str) -> LinearError:
    """An argument that fails Linear's input validation."""
    return LinearError(
        "Argument Validation Error",
        user_message=f"{field} {problem}.",
        validationErrors=[{"property": field, "message": f"{field} {problem}"}],
    )


def authentication_error(detail: str) -> LinearError:
    return LinearError(
        "Authentication required, not authenticated",
        kind="authentication error",
        code="AUTHENTICATION_ERROR",
        user_message=detail,
        status=401,
    )


# -- time ------------------------------------------------------------------------------------


def iso(epoch: float) -> str:
    """Linear's DateTime text: UTC, milliseconds, ``Z``."""
    moment = dt.datetime.fromtimestamp(epoch, tz=dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_datetime(text: str) -> str:
    """An ISO 8601 date or date-time (any offset) as Linear's DateTime text; ValueError if not."""
    text = text.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        text += "T00:00:00+00:00"
    moment = dt.datetime.fromisoformat(text.replace("z", "Z"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return iso(moment.timestamp())


def parse_date(text: str) -> str:
    """A calendar date ``YYYY-MM-DD`` (Linear's TimelessDate); ValueError if not one."""
    return dt.date.fromisoformat(text.strip()[:10] if "T" in text else text.strip()).isoformat()


_DURATION = re.compile(
    r"^(?P<sign>[-+])?P(?:(?P<y>\d+)Y)?(?:(?P<mo>\d+)M)?(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?"
    r"(?:T(?:(?P<h>\d+)H)?(?:(?P<mi>\d+)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)


def parse_duration(text: str) -> float | None:
    """Signed seconds in an ISO 8601 duration (``-P2W``, ``P1DT12H``); None if not one."""
    match = _DURATION.match(text.strip().upper())
    if not match or text.strip().upper().rstrip("T") in ("P", "-P", "+P"):
        return None
    parts = match.groupdict()
    if not any(parts[k] for k in ("y", "mo", "w", "d", "h", "mi", "s")):
        return None
    days = (
        int(parts["y"] or 0) * 365
        + int(parts["mo"] or 0) * 30
        + int(parts["w"] or 0) * 7
        + int(parts["d"] or 0)
    )
    seconds = days * 86400 + int(parts["h"] or 0) * 3600 + int(parts["mi"] or 0) * 60
    seconds += float(parts["s"] or 0)
    return -seconds if parts["sign"] == "-" else seconds


def datetime_or_duration(text: str, now: float) -> str:
    """Linear's DateTimeOrDuration: an ISO time, or a duration relative to now (``-P2W``)."""
    if not isinstance(text, str):
        raise TypeError("expected an ISO 8601 date-time or duration string")
    offset = parse_duration(text)
    if offset is not None:
        if abs(offset) > 200 * 365 * 86400:
            raise ValueError("duration out of range")
        return iso(now + offset)
    return parse_datetime(text)


def date_or_duration(text: str, now: float) -> str:
    """TimelessDateOrDuration: a date, or a duration relative to today."""
    if not isinstance(text, str):
        raise TypeError("expected a date or duration string")
    offset = parse_duration(text)
    if offset is not None:
        if abs(offset) > 200 * 365 * 86400:
            raise ValueError("duration out of range")
        return iso(now + offset)[:10]
    return parse_date(text)


# -- names and links -------------------------------------------------------------------------


@functools.lru_cache(maxsize=8192)
def slugify(text: str, limit: int = 60) -> str:
    """Lower-case ASCII words joined by '-', cut at a word boundary (Linear's URL slugs)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = _SLUG_DROP.sub("-", ascii_text.lower()).strip("-")
    if len(slug) > limit:
        slug = slug[:limit].rsplit("-", 1)[0] if "-" in slug[:limit] else slug[:limit]
    return slug


def issue_url(url_key: str, identifier: str, title: str) -> str:
    slug = slugify(title)
    base = f"https://linear.app/{url_key}/issue/{identifier}"
    return f"{base}/{slug}" if slug else base


def branch_name(identifier: str, title: str, assignee_display: str | None) -> str:
    """Linear's default git branch format: ``{username}/{identifier}-{title}``, lower case."""
    name = f"{identifier.lower()}-{slugify(title, 40)}".rstrip("-")
    if assignee_display:
        user = slugify(assignee_display, 30) or "user"
        return f"{user}/{name}"
    return name


def initials(name: str) -> str:
    words = [w for w in re.split(r"\s+", name.strip()) if w]
    if not words:
        return "?"
    if len(words) == 1:
        return words[0][:2].upper()
    return (words[0][0] + words[-1][0]).upper()


def fold(text: str) -> str:
    """Lower case without accents (containsIgnoreCaseAndAccent)."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def is_uuid(value: Any) -> bool:
    if not isinstance(value, str) or len(value) != 36:
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def split_identifier(value: Any) -> tuple[str, int] | None:
    """``("ENG", 123)`` for ``"ENG-123"`` (any case), None for anything else."""
    if not isinstance(value, str):
        return None
    match = _IDENTIFIER.match(value.strip())
    if not match:
        return None
    return match[1].upper(), int(match[2])


__all__ = [
    "PRIORITY_LABELS",
    "STATE_TYPES",
    "LinearError",
    "authentication_error",
    "branch_name",
    "datetime_or_duration",
    "fold",
    "invalid",
    "is_uuid",
    "iso",
    "issue_url",
    "not_found",
    "parse_date",
    "parse_datetime",
    "slugify",
    "split_identifier",
]
