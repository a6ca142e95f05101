# The two commands of the README quickstart are `make demo` and `make test`.
VENV ?= .venv
PB := $(VENV)/bin/prodbench
PY := $(VENV)/bin/python

.PHONY: install demo test test-fast test-docker lint bench clean

install:
	@scripts/install.sh

## Install everything, then one oracle trial on one task: up, setup, the oracle, grade, down; prints its score.
demo: install
	@$(PB) doctor
	@$(PB) run --agent oracle --tasks payments-retry-backoff --out results/demo

## Install everything and run the whole test suite.
test: install
	@$(PY) -m pytest -q

test-fast: install
	@$(PY) -m pytest -q tests/unit

## The docker runtime's tests on a real engine: starts one (installing it if missing), builds
## local stand-ins for registry images when there is no registry, then runs tests/docker,
## which fail here (not skip) when no engine answers.
test-docker: install
	@scripts/docker/engine.sh
	@scripts/docker/standins.sh
	@PRODBENCH_REQUIRE_DOCKER=1 $(PY) -m pytest -q tests/docker

lint: install
	@$(VENV)/bin/ruff check prodbench environments mcp_servers tests benchmarks && $(VENV)/bin/ruff format --check prodbench environments mcp_servers tests benchmarks

bench: install
	@$(PY) benchmarks/startup.py

clean:
	rm -rf $(VENV) runs .pytest_cache
