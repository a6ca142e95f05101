"""Load shapes on the compressed clock: how many simulated users run at each second.

`users_at` is the pure curve (no locust import, so it can be checked anywhere); `make_shape`
wraps it in a locust `LoadTestShape` for the runner, which asks it once a second.
"""

from __future__ import annotations

import math
from typing import Any

SHAPES = ("steady", "diurnal", "spike")
DAY_SECONDS = 120.0  # one compressed "day" of the diurnal curve
SPIKE_EVERY = 60.0  # a spike starts every minute, 30 s in ...
SPIKE_LENGTH = 15.0  # ... and lasts this long ...
SPIKE_FACTOR = 3  # ... at this many times the base load


def users_at(shape: str, t: float, users: int) -> int:
    """Users the shape wants `t` seconds into the run, for a base load of `users`."""
    if shape == "steady":
        return users
    if shape == "diurnal":
        # From 20% at night to 100% at midday; the run starts mid-morning (60%).
        level = 0.6 + 0.4 * math.sin(2 * math.pi * t / DAY_SECONDS)
        return max(1, round(users * level))
    if shape == "spike":
        in_spike = (t % SPIKE_EVERY) >= SPIKE_EVERY / 2 and (
            t % SPIKE_EVERY
        ) < SPIKE_EVERY / 2 + SPIKE_LENGTH
        return users * SPIKE_FACTOR if in_spike else users
    raise ValueError(f"unknown shape {shape!r}: use one of {', '.join(SHAPES)}")


def make_shape(shape: str, users: int) -> Any:
    from locust import LoadTestShape

    if shape not in SHAPES:
        raise ValueError(f"unknown shape {shape!r}: use one of {', '.join(SHAPES)}")

    class Shape(LoadTestShape):
        def tick(self) -> tuple[int, float]:
            count = users_at(shape, self.get_run_time(), users)
            return count, float(max(1, count))

    Shape.__name__ = f"{shape.capitalize()}Shape"
    return Shape()
