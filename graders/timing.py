"""Wall-clock seconds of grading's parts, kept for result.json: what a slow grading waited on."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


def timed_into(seconds: dict[str, float], name: str, fn: Callable[P, T]) -> Callable[P, T]:
    """`fn`, recording how long each call took under `name` (also when it raises)."""

    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        started = time.monotonic()
        try:
            return fn(*args, **kwargs)
        finally:
            seconds[name] = round(time.monotonic() - started, 3)

    return run
