"""Acme's alert rules, rendered for a run's time scale.

`alerts.yml` is a Prometheus rule file in which every duration that stands for production
time is written `${30s}` (a PromQL/`for:` duration) or `${30s:s}` (that many seconds as a
number, for thresholds such as queue lag). Production time is compressed so a trial takes
minutes: at `time_scale=1` (the default) the marks render as written (`for:` <= 10 s, rate
windows of 10 s to 6 m, with the 2 s scrape and evaluation intervals); `time_scale=60`
multiplies them into realistic production windows (`[1m]` -> `[1h]`, `for: 10s` ->
`for: 10m`). Latency thresholds are real seconds and never scale. The rendered text is a
plain rule file for `promtool check rules` and Prometheus.
"""

from __future__ import annotations

import re
from pathlib import Path

OPS_DIR = Path(__file__).parent
ALERTS_TEMPLATE = OPS_DIR / "alerts.yml"
ALERTS_TESTS = OPS_DIR / "alerts_test.yml"

_MARK = re.compile(r"\$\{([^}]*)\}")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h|d)(?::(s))?$")
_UNIT_MS = {"d": 86_400_000, "h": 3_600_000, "m": 60_000, "s": 1_000, "ms": 1}


def format_duration(ms: int) -> str:
    """A Prometheus duration in the largest unit that divides `ms` exactly (`90000` -> `90s`)."""
    if ms == 0:
        return "0s"
    for unit, size in _UNIT_MS.items():
        if ms % size == 0:
            return f"{ms // size}{unit}"
    raise AssertionError("unreachable: every integer is a whole number of ms")


def render_rules(time_scale: float = 1.0, template: str | None = None) -> str:
    """The rule file with every `${...}` duration multiplied by `time_scale`."""
    if not time_scale > 0:
        raise ValueError(f"time_scale must be positive, got {time_scale!r}")
    text = ALERTS_TEMPLATE.read_text() if template is None else template

    def sub(match: re.Match[str]) -> str:
        parsed = _DURATION.match(match.group(1).strip())
        if parsed is None:
            raise ValueError(
                f"bad duration mark {match.group(0)!r}: write ${{30s}} or ${{30s:s}} (ms|s|m|h|d)"
            )
        value, unit, as_seconds = parsed.groups()
        ms = round(float(value) * _UNIT_MS[unit] * time_scale)
        if as_seconds:
            seconds = ms / 1000
            return str(int(seconds)) if seconds.is_integer() else repr(seconds)
        if ms == 0 and float(value) > 0:
            raise ValueError(f"{match.group(0)} at time_scale {time_scale} is below 1 ms")
        return format_duration(ms)

    return _MARK.sub(sub, text)
