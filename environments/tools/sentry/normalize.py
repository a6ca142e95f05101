"""An SDK event payload, made safe and complete: what Sentry's normalization does before storage.

Every field an SDK (or a fuzzer) sends may be missing or of the wrong type; :func:`normalize`
keeps what is well-formed, drops the rest, and derives what the issue stream needs: the grouping
hash, title, culprit, metadata, tags and the user key. The result is plain JSON, stored as is and
rendered into the web API shape on read.

Grouping (a simplification of Sentry's): an explicit ``fingerprint`` wins (``{{ default }}``
expands to the default components); otherwise the raised exception's type plus its top in-app
frame (module or file, and function); without frames, type and value; without an exception,
the message.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

LEVELS = ("fatal", "error", "warning", "info", "debug")
_LEVEL_ALIASES = {"warn": "warning", "critical": "fatal", "err": "error", "log": "info"}
_TAG_KEY = re.compile(r"^[a-zA-Z0-9_.:-]{1,32}$")
_HEX32 = re.compile(r"^[0-9a-f]{32}$")
MAX_TAG_VALUE = 200
MAX_MESSAGE = 8192
MAX_FRAMES = 250
MAX_BREADCRUMBS = 100
MAX_EXCEPTIONS = 25
FUTURE_SLACK = 60.0


@dataclass
class Normalized:
    """A stored event and what grouping derived from it."""

    event_id: str
    timestamp: float
    data: dict[str, Any]
    hash: str
    type: str  # 'error' | 'default'
    title: str
    culprit: str
    metadata: dict[str, Any]
    level: str
    release: str | None
    environment: str | None
    user_tag: str | None
    tags: list[list[str]]
    is_unhandled: bool
    message: str


# -- small coercions ---------------------------------------------------------------------------


def text(value: Any, limit: int = 1024) -> str | None:
    """A string (numbers written out) cut to ``limit``; None for anything else or empty."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        value = str(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            return None
        value = repr(value)
    if not isinstance(value, str) or value == "":
        return None
    return value[:limit]


def number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    return None


def integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and abs(value) < 2**53:
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return None


def mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def parse_time(value: Any) -> float | None:
    """Unix seconds from a number or an ISO 8601 string (naive = UTC)."""
    seconds = number(value)
    if seconds is not None:
        return seconds if 0 <= seconds < 32503680000 else None
    if isinstance(value, str) and 10 <= len(value) <= 40:
        try:
            parsed = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=dt.UTC)
        return parsed.timestamp()
    return None


_EPOCH = dt.datetime(1970, 1, 1)


def iso(seconds: float | None) -> str | None:
    """ISO 8601 with microseconds and Z, as Sentry's API writes times (C-speed formatting:
    issue lists format thousands of these)."""
    if seconds is None:
        return None
    moment = _EPOCH + dt.timedelta(seconds=seconds)
    return moment.isoformat(timespec="microseconds") + "Z"


def tag_value(value: Any) -> str | None:
    """A tag value: a one-line string of at most 200 characters."""
    if isinstance(value, bool):
        value = "True" if value else "False"
    out = text(value, MAX_TAG_VALUE)
    if out is None or "\n" in out or "\r" in out:
        return None
    return out.strip() or None


def clean_json(value: Any, depth: int = 0) -> Any:
    """JSON data with non-finite floats and too-deep nesting removed."""
    if depth > 12:
        return None
    if isinstance(value, dict):
        return {str(k)[:200]: clean_json(v, depth + 1) for k, v in list(value.items())[:200]}
    if isinstance(value, list):
        return [clean_json(v, depth + 1) for v in value[:200]]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, str):
        return value[:MAX_MESSAGE]
    return value


# -- sections ----------------------------------------------------------------------------------


def _frame(raw: Any) -> dict[str, Any] | None:
    if not isinstance(raw, dict):
        return None
    frame: dict[str, Any] = {}
    for key in ("filename", "abs_path", "function", "module", "package", "platform"):
        if (value := text(raw.get(key), 512)) is not None:
            frame[key] = value
    for key in ("lineno", "colno"):
        if (value := integer(raw.get(key))) is not None:
            frame[key] = value
    if (line := text(raw.get("context_line"), 1024)) is not None:
        frame["context_line"] = line
    for key in ("pre_context", "post_context"):
        lines = raw.get(key)
        if isinstance(lines, list):
            frame[key] = [t if (t := text(x, 1024)) is not None else "" for x in lines[:10]]
    in_app = raw.get("in_app")
    if isinstance(in_app, bool):
        frame["in_app"] = in_app
    if isinstance(raw.get("vars"), dict):
        frame["vars"] = clean_json(raw["vars"])
    return frame or None


def _stacktrace(raw: Any) -> dict[str, Any] | None:
    frames_in = mapping(raw).get("frames")
    if not isinstance(frames_in, list):
        return None
    frames = [f for f in map(_frame, frames_in[-MAX_FRAMES:]) if f is not None]
    return {"frames": frames} if frames else None


def _exceptions(raw: Any) -> list[dict[str, Any]]:
    if isinstance(raw, dict):
        raw = raw.get("values", [raw] if "type" in raw or "value" in raw else [])
    if not isinstance(raw, list):
        return []
    out = []
    for item in raw[-MAX_EXCEPTIONS:]:
        if not isinstance(item, dict):
            continue
        exc: dict[str, Any] = {}
        for key in ("type", "module"):
            if (value := text(item.get(key), 256)) is not None:
                exc[key] = value
        if (value := text(item.get("value"), MAX_MESSAGE)) is not None:
            exc["value"] = value
        mechanism = item.get("mechanism")
        if isinstance(mechanism, dict):
            mech = {"type": text(mechanism.get("type"), 64) or "generic"}
            if isinstance(mechanism.get("handled"), bool):
                mech["handled"] = mechanism["handled"]
            exc["mechanism"] = mech
        if (stack := _stacktrace(item.get("stacktrace"))) is not None:
            exc["stacktrace"] = stack
        if exc.get("type") or exc.get("value"):
            out.append(exc)
    return out


def _message(data: dict[str, Any]) -> tuple[str, dict[str, Any] | None]:
    """The formatted message and the logentry it came from (template and params)."""
    entry = data.get("logentry") or data.get("sentry.interfaces.Message")
    raw = data.get("message")
    template = None
    params: list[Any] = []
    formatted = None
    if isinstance(entry, dict):
        template = text(entry.get("message"), MAX_MESSAGE)
        formatted = text(entry.get("formatted"), MAX_MESSAGE)
        if isinstance(entry.get("params"), list):
            params = clean_json(entry["params"])
    if isinstance(raw, dict):
        template = template or text(raw.get("message"), MAX_MESSAGE)
        formatted = formatted or text(raw.get("formatted"), MAX_MESSAGE)
    elif (plain := text(raw, MAX_MESSAGE)) is not None:
        formatted = formatted or plain
    if formatted is None and template is not None:
        formatted = template
        if params:
            try:
                formatted = template % tuple(params)
            except (TypeError, ValueError, OverflowError):
                formatted = template
    if formatted is None:
        return "", None
    logentry: dict[str, Any] = {"formatted": formatted}
    if template is not None and template != formatted:
        logentry["message"] = template
    if params:
        logentry["params"] = params
    return formatted, logentry


def _tags(raw: Any) -> list[list[str]]:
    pairs: list[tuple[Any, Any]] = []
    if isinstance(raw, dict):
        pairs = list(raw.items())
    elif isinstance(raw, list):
        for item in raw:
            if isinstance(item, list | tuple) and len(item) == 2:
                pairs.append((item[0], item[1]))
            elif isinstance(item, dict) and "key" in item:
                pairs.append((item.get("key"), item.get("value")))
    out: dict[str, str] = {}
    for key, value in pairs[:200]:
        key_text = text(key, 64)
        val = tag_value(value)
        if key_text and _TAG_KEY.match(key_text) and val is not None:
            out[key_text] = val
    return [[k, v] for k, v in out.items()]


def _user(raw: Any) -> dict[str, Any] | None:
    if not isinstance(raw, dict):
        return None
    user: dict[str, Any] = {}
    for key in ("id", "email", "username", "ip_address", "name", "segment"):
        if (value := text(raw.get(key), 128)) is not None:
            user[key] = value
    if isinstance(raw.get("geo"), dict):
        user["geo"] = {
            k: v for k, v in ((str(k), text(v, 128)) for k, v in raw["geo"].items()) if v
        }
    if isinstance(raw.get("data"), dict):
        user["data"] = clean_json(raw["data"])
    return user or None


def user_tag(user: dict[str, Any] | None) -> str | None:
    """The ``user`` tag Sentry derives: the first of id, email, username, ip address."""
    if not user:
        return None
    for key, prefix in (("id", "id"), ("email", "email"), ("username", "username")):
        if user.get(key):
            return tag_value(f"{prefix}:{user[key]}")
    if user.get("ip_address"):
        return tag_value(f"ip:{user['ip_address']}")
    return None


def _request(raw: Any) -> dict[str, Any] | None:
    if not isinstance(raw, dict):
        return None
    req: dict[str, Any] = {}
    if (method := text(raw.get("method"), 16)) is not None:
        req["method"] = method.upper()
    url = text(raw.get("url"), 2048)
    if url is not None:
        try:
            parts = urlsplit(url)
            absolute = bool(parts.scheme) and bool(parts.netloc)
        except ValueError:
            absolute = False
        if absolute:
            req["url"] = url
    query = raw.get("query_string")
    if isinstance(query, str):
        req["query"] = [[k, v] for k, v in parse_qsl(query, keep_blank_values=True)[:100]]
    elif isinstance(query, dict):
        req["query"] = [[str(k), text(v, 1024) or ""] for k, v in list(query.items())[:100]]
    elif isinstance(query, list):
        req["query"] = [
            [str(q[0]), text(q[1], 1024) or ""]
            for q in query[:100]
            if isinstance(q, list | tuple) and len(q) == 2
        ]
    headers = raw.get("headers")
    if isinstance(headers, dict):
        headers = list(headers.items())
    if isinstance(headers, list):
        req["headers"] = [
            [str(h[0])[:256], text(h[1], 2048) or ""]
            for h in headers[:100]
            if isinstance(h, list | tuple) and len(h) == 2
        ]
    if "data" in raw:
        req["data"] = clean_json(raw["data"])
    if isinstance(raw.get("env"), dict):
        req["env"] = clean_json(raw["env"])
    if isinstance(raw.get("cookies"), dict | list):
        req["cookies"] = clean_json(raw["cookies"])
    return req or None


def _breadcrumbs(raw: Any) -> list[dict[str, Any]]:
    if isinstance(raw, dict):
        raw = raw.get("values")
    if not isinstance(raw, list):
        return []
    out = []
    for item in raw[-MAX_BREADCRUMBS:]:
        if not isinstance(item, dict):
            continue
        crumb: dict[str, Any] = {
            "type": text(item.get("type"), 64) or "default",
            "timestamp": iso(parse_time(item.get("timestamp"))),
            "level": _level(item.get("level"), "info"),
            "category": text(item.get("category"), 256),
            "message": text(item.get("message"), MAX_MESSAGE),
            "data": clean_json(item["data"]) if isinstance(item.get("data"), dict) else None,
        }
        out.append(crumb)
    return out


def _contexts(raw: Any) -> dict[str, Any]:
    out = {}
    for key, value in list(mapping(raw).items())[:50]:
        if isinstance(value, dict):
            ctx = clean_json(value)
            ctx.setdefault("type", key)
            out[str(key)[:64]] = ctx
    return out


def _level(value: Any, default: str = "error") -> str:
    word = text(value, 16)
    if word is None:
        return default
    word = _LEVEL_ALIASES.get(word.lower(), word.lower())
    return word if word in LEVELS else default


# -- grouping ----------------------------------------------------------------------------------


def top_frame(exc: dict[str, Any] | None) -> dict[str, Any] | None:
    """The crash site: the newest in-app frame, else the newest frame."""
    frames = mapping(mapping(exc).get("stacktrace")).get("frames") or []
    for frame in reversed(frames):
        if frame.get("in_app", True) is not False and not _is_library(frame):
            return frame
    return frames[-1] if frames else None


def _is_library(frame: dict[str, Any]) -> bool:
    if "in_app" in frame:
        return False
    path = frame.get("abs_path") or frame.get("filename") or ""
    return "site-packages" in path or "dist-packages" in path or "/lib/python" in path


def frame_culprit(frame: dict[str, Any] | None) -> str:
    if not frame:
        return ""
    where = frame.get("module") or frame.get("filename") or frame.get("abs_path") or "?"
    function = frame.get("function")
    return f"{where} in {function}" if function else where


def _default_components(
    exc: dict[str, Any] | None, message: str, logentry: dict[str, Any] | None
) -> list[str]:
    if exc is not None:
        frame = top_frame(exc)
        if frame is not None:
            where = frame.get("module") or frame.get("filename") or frame.get("abs_path") or ""
            return ["exception", exc.get("type", ""), where, frame.get("function", "")]
        return ["exception", exc.get("type", ""), exc.get("value", "")]
    template = (logentry or {}).get("message") or message
    return ["message", template]


def _fingerprint(raw: Any, default: list[str], context: dict[str, str]) -> list[str]:
    if not isinstance(raw, list) or not raw:
        return default
    parts: list[str] = []
    for item in raw[:50]:
        value = text(item, 512)
        if value is None:
            continue
        name = value.strip()
        if name.startswith("{{") and name.endswith("}}"):
            name = name[2:-2].strip()
            if name == "default":
                parts.extend(default)
            else:
                parts.append(context.get(name, value))
        else:
            parts.append(value)
    return parts or default


def group_hash(components: list[str]) -> str:
    return hashlib.md5("\x1f".join(components).encode("utf-8")).hexdigest()


def _truncate(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 3] + "..."


# -- the whole event ---------------------------------------------------------------------------


def new_event_id() -> str:
    return uuid.uuid4().hex


def normalize(
    raw: dict[str, Any],
    *,
    received: float,
    event_id: str | None = None,
    platform_default: str = "other",
    clamp_future: bool = True,
) -> Normalized:
    """Everything storage and the API need from one SDK event payload."""
    candidate = text(raw.get("event_id"), 64) or event_id or ""
    candidate = candidate.replace("-", "").lower()
    ev_id = candidate if _HEX32.match(candidate) else new_event_id()

    timestamp = parse_time(raw.get("timestamp"))
    if timestamp is None or (clamp_future and timestamp > received + FUTURE_SLACK):
        timestamp = received

    level = _level(raw.get("level"))
    platform = text(raw.get("platform"), 64) or platform_default
    release = tag_value(raw.get("release"))
    if release in (".", "..", "latest"):
        release = None
    environment = tag_value(raw.get("environment"))
    environment = environment[:64] if environment else None
    transaction = text(raw.get("transaction"), 200)
    server_name = tag_value(raw.get("server_name"))
    logger = text(raw.get("logger"), 64)

    exceptions = _exceptions(raw.get("exception") or raw.get("sentry.interfaces.Exception"))
    message, logentry = _message(raw)
    user = _user(raw.get("user"))
    request = _request(raw.get("request"))
    contexts = _contexts(raw.get("contexts"))
    breadcrumbs = _breadcrumbs(raw.get("breadcrumbs"))
    primary = exceptions[-1] if exceptions else None
    frame = top_frame(primary)

    handled = None
    if primary is not None and "handled" in mapping(primary.get("mechanism")):
        handled = primary["mechanism"]["handled"]

    if primary is not None:
        ty = primary.get("type") or "Error"
        value = (primary.get("value") or "").strip()
        first_line = value.splitlines()[0] if value else ""
        title = f"{ty}: {_truncate(first_line, 100)}" if first_line else ty
        metadata: dict[str, Any] = {"type": ty, "value": value[:1024]}
        if frame is not None:
            if frame.get("filename"):
                metadata["filename"] = frame["filename"]
            if frame.get("function"):
                metadata["function"] = frame["function"]
        metadata["display_title_with_tree_label"] = False
        kind = "error"
    else:
        first_line = message.strip().splitlines()[0] if message.strip() else ""
        title = _truncate(first_line, 100) if first_line else "<unlabeled event>"
        metadata = {"title": title}
        kind = "default"

    culprit = text(raw.get("culprit"), 200) or transaction or frame_culprit(frame)

    default = _default_components(primary, message, logentry)
    grouping_context = {
        "type": (primary or {}).get("type", ""),
        "error.type": (primary or {}).get("type", ""),
        "error.value": (primary or {}).get("value", ""),
        "message": message,
        "transaction": transaction or "",
        "level": level,
        "function": (frame or {}).get("function", ""),
        "module": (frame or {}).get("module", ""),
    }
    components = _fingerprint(raw.get("fingerprint"), default, grouping_context)
    utag = user_tag(user)

    tags = dict(_tags(raw.get("tags")))
    derived = {
        "level": level,
        "environment": environment,
        "release": release,
        "server_name": server_name,
        "transaction": transaction and tag_value(transaction),
        "user": utag,
        "url": tag_value((request or {}).get("url", "").split("?", 1)[0] or None),
        "logger": logger and tag_value(logger),
        "handled": None if handled is None else ("yes" if handled else "no"),
        "mechanism": tag_value(mapping((primary or {}).get("mechanism")).get("type")),
    }
    runtime = contexts.get("runtime", {})
    if runtime.get("name"):
        derived["runtime.name"] = tag_value(runtime.get("name"))
        derived["runtime"] = tag_value(f"{runtime.get('name')} {runtime.get('version', '')}")
    if contexts.get("os", {}).get("name"):
        derived["os.name"] = tag_value(contexts["os"]["name"])
    if contexts.get("browser", {}).get("name"):
        derived["browser.name"] = tag_value(contexts["browser"]["name"])
    for key, value in derived.items():
        if value:
            tags[key] = value
    tag_list = sorted([k, v] for k, v in tags.items())

    data: dict[str, Any] = {
        "event_id": ev_id,
        "timestamp": timestamp,
        "received": received,
        "level": level,
        "platform": platform,
        "type": kind,
        "title": title,
        "culprit": culprit,
        "metadata": metadata,
        "message": message,
        "logentry": logentry,
        "exception": {"values": exceptions} if exceptions else None,
        "release": release,
        "dist": text(raw.get("dist"), 64),
        "environment": environment,
        "transaction": transaction,
        "server_name": server_name,
        "logger": logger,
        "user": user,
        "request": request,
        "contexts": contexts,
        "breadcrumbs": breadcrumbs,
        "tags": tag_list,
        "extra": clean_json(raw["extra"]) if isinstance(raw.get("extra"), dict) else {},
        "sdk": clean_json(raw["sdk"]) if isinstance(raw.get("sdk"), dict) else None,
        "modules": clean_json(raw["modules"]) if isinstance(raw.get("modules"), dict) else {},
        "fingerprint": components,
        "location": (frame or {}).get("filename"),
    }
    return Normalized(
        event_id=ev_id,
        timestamp=timestamp,
        data=data,
        hash=group_hash(components),
        type=kind,
        title=title,
        culprit=culprit,
        metadata=metadata,
        level=level,
        release=release,
        environment=environment,
        user_tag=utag,
        tags=tag_list,
        is_unhandled=handled is False,
        message=message,
    )


def dumps(data: Any) -> str:
    """Compact JSON for storage (keys sorted so equal events store equal bytes)."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
