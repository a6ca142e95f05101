"""The supervisor's background compile of prodbench's own packages (runtime/bytecode.py)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import SimpleNamespace

from environments.runtime import bytecode


def _flags(monkeypatch, dont_write: bool) -> None:
    fake = SimpleNamespace(
        flags=SimpleNamespace(dont_write_bytecode=dont_write), executable=sys.executable
    )
    monkeypatch.setattr(bytecode, "sys", fake)


def test_the_packages_are_found_without_importing_them():
    dirs = [Path(d) for d in bytecode.package_dirs()]
    assert {d.name for d in dirs} >= {"environments", "mcp_servers", "traffic", "prodbench"}


def test_nothing_to_do_when_processes_write_their_own_bytecode(monkeypatch, tmp_path):
    _flags(monkeypatch, dont_write=False)
    assert bytecode.start_compiling([str(tmp_path)]) is None


def test_compiles_in_the_background_and_skips_the_app_template(monkeypatch, tmp_path):
    _flags(monkeypatch, dont_write=True)
    (tmp_path / "pkg").mkdir()
    source = tmp_path / "pkg" / "mod.py"
    source.write_text("X = 1\n")
    template = tmp_path / "environments" / "acme" / "app" / "acme"
    template.mkdir(parents=True)
    (template / "skipped.py").write_text("Y = 2\n")
    proc = bytecode.start_compiling([str(tmp_path)])
    assert proc is not None and proc.wait(timeout=60) == 0
    assert Path(importlib.util.cache_from_source(str(source))).exists()
    assert not (template / "__pycache__").exists()
