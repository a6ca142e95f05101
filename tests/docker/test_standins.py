"""The stand-in images cover every image the committed compose files and Dockerfiles name.

No engine needed: this guards scripts/docker/standins.sh against compose/ moving on (a new
infrastructure image, a new tag) while the stand-ins stay behind.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.docker.compose_project import COMPOSE_DIR, compose_document

STANDINS = Path(__file__).parent / "standins"


def standin_tags() -> dict[str, str]:
    """tag -> the folder its stand-in is built from, as images.txt lists them."""
    rows = [line.split() for line in (STANDINS / "images.txt").read_text().splitlines()]
    return {row[0]: row[1] for row in rows if row and not row[0].startswith("#")}


def test_every_pulled_image_has_a_stand_in() -> None:
    services = compose_document()["services"].values()
    pulled = {svc["image"] for svc in services if "build" not in svc}
    bases = set()
    for path in (COMPOSE_DIR / "docker").glob("*.Dockerfile"):
        text = path.read_text()
        stages = set(re.findall(r"^FROM\s+\S+\s+AS\s+(\S+)", text, flags=re.MULTILINE))
        bases |= set(re.findall(r"^FROM\s+(\S+)", text, flags=re.MULTILINE)) - stages
    assert bases == {"python:3.11-slim"}
    assert pulled | bases <= set(standin_tags())


def test_every_stand_in_has_its_folder_and_the_base_comes_first() -> None:
    tags = standin_tags()
    assert next(iter(tags)) == "python:3.11-slim"
    for tag, folder in tags.items():
        built_by = "build.sh" if tag == "python:3.11-slim" else "Dockerfile"
        assert (STANDINS / folder / built_by).is_file(), tag
        if built_by == "Dockerfile":
            assert "FROM python:3.11-slim" in (STANDINS / folder / "Dockerfile").read_text()
