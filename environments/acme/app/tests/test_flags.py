"""Feature flags: file-backed provider reloads on change and supports per-instance overrides."""

from __future__ import annotations

import json
import os
from pathlib import Path

from acme.common.flags import Flags


def write_flags(path: Path, data: object) -> None:
    """Atomic replace, the way the deploy tool does it."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)


def test_defaults_without_file(tmp_path: Path) -> None:
    flags = Flags(str(tmp_path / "missing.json"), "api-1")
    assert flags.enabled("checkout_enabled") is True
    assert flags.string("search_ranking") == "relevance"
    assert flags.enabled("unknown_flag") is False


def test_reload_after_atomic_replace(tmp_path: Path) -> None:
    path = tmp_path / "flags.json"
    write_flags(path, {"checkout_enabled": False})
    flags = Flags(str(path), "api-1")
    assert flags.enabled("checkout_enabled") is False
    write_flags(path, {"checkout_enabled": True, "search_ranking": "legacy"})
    assert flags.enabled("checkout_enabled") is True
    assert flags.string("search_ranking") == "legacy"


def test_instance_override_targets_canary(tmp_path: Path) -> None:
    path = tmp_path / "flags.json"
    write_flags(path, {"payments_retry": {"value": False, "instances": {"api-canary": True}}})
    assert Flags(str(path), "api-canary").enabled("payments_retry") is True
    assert Flags(str(path), "api-1").enabled("payments_retry") is False


def test_percentage_rollout_is_stable_per_user(tmp_path: Path) -> None:
    path = tmp_path / "flags.json"
    write_flags(path, {"recommendations": {"value": False, "rollout_percent": 50}})
    flags = Flags(str(path), "api-1")
    results = [flags.enabled("recommendations", user_id=uid) for uid in range(200)]
    assert 60 < sum(results) < 140  # roughly half
    assert results == [flags.enabled("recommendations", user_id=uid) for uid in range(200)]


def test_type_mismatch_falls_back_to_default(tmp_path: Path) -> None:
    path = tmp_path / "flags.json"
    write_flags(path, {"checkout_enabled": "nope"})
    assert Flags(str(path), "api-1").enabled("checkout_enabled") is True


def test_corrupt_file_keeps_last_good_values(tmp_path: Path) -> None:
    path = tmp_path / "flags.json"
    write_flags(path, {"reviews_enabled": False})
    flags = Flags(str(path), "api-1")
    assert flags.enabled("reviews_enabled") is False
    tmp = path.with_suffix(".tmp")
    tmp.write_text("{not json")
    os.replace(tmp, path)
    assert flags.enabled("reviews_enabled") is False
