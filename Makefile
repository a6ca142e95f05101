# The two commands of the README quickstart are `make demo` and `make test`.
VENV ?= .venv
PB := $(VENV)/bin/prodbench
PY := $(VENV)/bin/python

.PHONY: install demo test test-fast lint bench clean

install:
	@scripts/install.sh

## Install everything, bring a seeded run up on the embedded runtime, show it healthy, stop it.
demo: install
	@$(PB) doctor
	@$(PB) up --run-id demo-$$(date +%Y%m%d-%H%M%S) && $(PB) status && $(PB) down

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
