"""Feature flags via OpenFeature, backed by a JSON file that can change at run time.

The deploy tool flips flags by atomically replacing ``ACME_FLAGS_FILE``; the
provider notices the new mtime on the next evaluation, so no restart is needed.

File format (each value is either a literal or a rule object)::

    {
      "reviews_enabled": true,
      "search_ranking": "relevance",
      "checkout_enabled": {"value": true, "instances": {"api-canary": false}},
      "payments_retry": {"value": false, "rollout_percent": 25}
    }

``instances`` overrides by ``ACME_SERVICE_INSTANCE``; ``rollout_percent`` turns the
flag on for a stable slice of users (hash of the targeting key).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import os
import threading
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar, cast

from openfeature import api as openfeature_api
from openfeature.evaluation_context import EvaluationContext
from openfeature.exception import ErrorCode
from openfeature.flag_evaluation import FlagResolutionDetails, Reason
from openfeature.provider import AbstractProvider, Metadata

log = logging.getLogger(__name__)
T = TypeVar("T")

# Known flags and their defaults; documented in README.md.
DEFAULT_FLAGS: dict[str, Any] = {
    "checkout_enabled": True,
    "reviews_enabled": True,
    "search_ranking": "relevance",
    "payments_retry": True,
    "catalog_cache": True,
    "recommendations": True,
    "maintenance_banner": "",
}

_domains = itertools.count(1)


class FileFlagProvider(AbstractProvider):
    """Resolves flags from a JSON file, re-reading it whenever its mtime changes."""

    def __init__(self, path: str | None, instance: str) -> None:
        super().__init__()
        self.path = path
        self.instance = instance
        self._lock = threading.Lock()
        self._mtime: tuple[int, int, int] | None = None
        self._flags: dict[str, Any] = {}
        self._error: str | None = None

    def get_metadata(self) -> Metadata:
        return Metadata(name="acme-file-flags")

    def _current(self) -> dict[str, Any]:
        if not self.path:
            return {}
        try:
            st = os.stat(self.path)
            # inode + mtime + size: an atomic rename always changes the inode.
            mtime = (st.st_ino, st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            with self._lock:
                self._flags, self._mtime, self._error = {}, None, None
            return {}
        with self._lock:
            if mtime != self._mtime:
                try:
                    with open(self.path, encoding="utf-8") as fh:
                        data = json.load(fh)
                    if not isinstance(data, dict):
                        raise ValueError("flags file must contain a JSON object")
                    self._flags = data["flags"] if isinstance(data.get("flags"), dict) else data
                    self._error = None
                    log.info("flags reloaded", extra={"flags": sorted(self._flags)})
                except (OSError, ValueError) as exc:
                    # Keep serving the last good flags; a half-written file must not flap prod.
                    self._error = str(exc)
                    log.warning("flags file unreadable", extra={"error": str(exc)})
                self._mtime = mtime
            return self._flags

    def _resolve(
        self, key: str, default: T, ctx: EvaluationContext | None, kind: type | tuple[type, ...]
    ) -> FlagResolutionDetails[T]:
        flags = self._current()
        if key not in flags:
            return FlagResolutionDetails(value=default, reason=Reason.DEFAULT)
        raw = flags[key]
        reason: str = Reason.STATIC
        value = raw
        if isinstance(raw, dict) and "value" in raw:
            value = raw["value"]
            attrs = ctx.attributes if ctx else {}
            instance = str(attrs.get("instance") or self.instance)
            overrides = raw.get("instances") or {}
            if instance in overrides:
                value, reason = overrides[instance], Reason.TARGETING_MATCH
            elif "rollout_percent" in raw:
                target = (ctx.targeting_key if ctx else None) or ""
                bucket = int(hashlib.sha256(f"{key}:{target}".encode()).hexdigest()[:8], 16) % 100
                value = bucket < float(raw["rollout_percent"])
                reason = Reason.SPLIT
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind in (int, float) and isinstance(value, bool)):
            return FlagResolutionDetails(
                value=default,
                reason=Reason.ERROR,
                error_code=ErrorCode.TYPE_MISMATCH,
                error_message=f"flag {key} is {type(value).__name__}",
            )
        return FlagResolutionDetails(value=cast(T, value), reason=reason)

    def resolve_boolean_details(
        self, flag_key: str, default_value: bool, evaluation_context: EvaluationContext | None = None
    ) -> FlagResolutionDetails[bool]:
        return self._resolve(flag_key, default_value, evaluation_context, bool)

    def resolve_string_details(
        self, flag_key: str, default_value: str, evaluation_context: EvaluationContext | None = None
    ) -> FlagResolutionDetails[str]:
        return self._resolve(flag_key, default_value, evaluation_context, str)

    def resolve_integer_details(
        self, flag_key: str, default_value: int, evaluation_context: EvaluationContext | None = None
    ) -> FlagResolutionDetails[int]:
        return self._resolve(flag_key, default_value, evaluation_context, int)

    def resolve_float_details(
        self, flag_key: str, default_value: float, evaluation_context: EvaluationContext | None = None
    ) -> FlagResolutionDetails[float]:
        return self._resolve(flag_key, default_value, evaluation_context, float)

    def resolve_object_details(
        self,
        flag_key: str,
        default_value: Sequence[Any] | Mapping[str, Any],
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[Sequence[Any] | Mapping[str, Any]]:
        return self._resolve(flag_key, default_value, evaluation_context, (list, dict))


class Flags:
    """Thin typed facade over an OpenFeature client bound to this app's provider."""

    def __init__(self, path: str | None, instance: str) -> None:
        self.provider = FileFlagProvider(path, instance)
        self.instance = instance
        # A unique domain per app keeps providers of co-hosted apps (tests) apart.
        self.domain = f"acme-{instance}-{next(_domains)}"
        openfeature_api.set_provider(self.provider, domain=self.domain)
        self.client = openfeature_api.get_client(domain=self.domain)

    def _ctx(self, user_id: int | str | None) -> EvaluationContext:
        return EvaluationContext(
            targeting_key=str(user_id) if user_id is not None else None,
            attributes={"instance": self.instance},
        )

    def enabled(self, key: str, user_id: int | str | None = None) -> bool:
        default = bool(DEFAULT_FLAGS.get(key, False))
        return self.client.get_boolean_value(key, default, self._ctx(user_id))

    def string(self, key: str, user_id: int | str | None = None) -> str:
        default = str(DEFAULT_FLAGS.get(key, ""))
        return self.client.get_string_value(key, default, self._ctx(user_id))

    def snapshot(self) -> dict[str, Any]:
        """Effective values of all known flags for this instance (for /healthz and admin)."""
        out: dict[str, Any] = {}
        for key, default in DEFAULT_FLAGS.items():
            out[key] = self.enabled(key) if isinstance(default, bool) else self.string(key)
        return out
