# The two commands of the README quickstart are `make demo` and `make test`.
VENV ?= .venv
PB := $(VENV)/bin/prodbench
PY := $(VENV)/bin/python

.PHONY: install demo test test-fast lint bench clean

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

lint: install
	@$(VENV)/bin/ruff check prodbench environments mcp_servers tests benchmarks && $(VENV)/bin/ruff format --check prodbench environments mcp_servers tests benchmarks

bench: install
	@$(PY) benchmarks/startup.py

clean:
	rm -rf $(VENV) runs .pytest_cache
