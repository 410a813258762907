# Two commands: `make run` (the service, with a demo event) and `make test` (checks + tests).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: run test lint install services soak bench bench-reconcile

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/seatflow dev --demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

services:
	scripts/ensure-services
	scripts/ensure-browser
	scripts/ensure-nginx
	scripts/ensure-promtool

test: $(STAMP) services lint
	$(BIN)/pytest

soak: $(STAMP) services
	SOAK_SECONDS=$${SOAK_SECONDS:-300} $(BIN)/pytest tests/soak -m chaos -s -p no:randomly

bench-reconcile: $(STAMP) services
	$(BIN)/python -m bench.reconcile --count $${COUNT:-100000}

# Benchmarks (not tests): each prints its table; figures are kept in bench/RESULTS.md.
bench: $(STAMP) services
	command -v wrk >/dev/null || (apt-get update -q && apt-get install -y -q wrk)
	$(BIN)/python -m bench.receiver
	$(BIN)/python -m bench.writer
	$(BIN)/python -m bench.pipeline throughput
	$(BIN)/python -m bench.pipeline latency
	$(BIN)/python -m bench.pipeline memory
	$(BIN)/python -m bench.reconcile
