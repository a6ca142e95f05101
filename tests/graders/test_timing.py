"""timed_into: grading's parts report their seconds, also when a part fails."""

from __future__ import annotations

import time

import pytest

from graders.timing import timed_into


def test_a_call_records_its_seconds_under_its_name():
    seconds: dict[str, float] = {}
    nap = timed_into(seconds, "grade.nap", lambda s: time.sleep(s) or "woke")
    assert nap(0.05) == "woke"
    assert 0.05 <= seconds["grade.nap"] < 1.0


def test_a_failing_call_still_records_its_seconds():
    seconds: dict[str, float] = {}

    def broken() -> None:
        raise ValueError("no")

    with pytest.raises(ValueError):
        timed_into(seconds, "grade.broken", broken)()
    assert list(seconds) == ["grade.broken"]
