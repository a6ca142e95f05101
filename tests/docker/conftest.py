"""Docker tests run only where an engine answers; `make test-docker` makes that a requirement.

Tests marked `docker` are skipped, with the reason, when `docker info` fails or docker-compose is
missing, so a plain `make test` on a machine without an engine stays quick. With
PRODBENCH_REQUIRE_DOCKER=1 (set by `make test-docker`) the same check fails them instead: a
target that exists to exercise Docker must not pass by skipping.
"""

from __future__ import annotations

import functools
import os
import shutil

import pytest

from environments.runtime import docker_engine

REQUIRE_ENV = "PRODBENCH_REQUIRE_DOCKER"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "docker: needs a Docker engine and docker-compose (scripts/docker/engine.sh)"
    )


@functools.cache
def engine_problem() -> str | None:
    """Why the docker tests cannot run here, or None; asked once per session.

    The product's own check (a docker CLI, a compose, an engine that answers), plus
    docker-compose itself: the app-stack test drives the committed file with it, as by hand.
    """
    if shutil.which("docker-compose") is None:
        return "no docker-compose on PATH (scripts/docker/engine.sh installs 1.29)"
    return docker_engine.engine_problem()


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("docker") is None:
        return
    problem = engine_problem()
    if problem is None:
        return
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{REQUIRE_ENV}=1 but {problem}", pytrace=False)
    pytest.skip(problem)
