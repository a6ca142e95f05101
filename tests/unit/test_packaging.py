"""The distribution installs what the Acme app's releases need to run."""

import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _names(lines: list[str]) -> set[str]:
    out = set()
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if line:
            out.add(re.split(r"[\[<>=!~ ;]", line, maxsplit=1)[0].lower().replace("_", "-"))
    return out


def test_every_acme_runtime_requirement_is_a_prodbench_dependency():
    text = (REPO / "environments/acme/app/requirements.txt").read_text()
    runtime = text.split("# Development")[0].splitlines()
    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    missing = _names(runtime) - _names(deps)
    assert not missing, f"add to pyproject dependencies: {sorted(missing)}"
