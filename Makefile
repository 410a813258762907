# Two commands: `make run` (the service, with a demo event) and `make test` (checks + tests).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: run test lint install services soak bench-reconcile

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

test: $(STAMP) services lint
	$(BIN)/pytest

soak: $(STAMP) services
	$(BIN)/pytest tests/soak -m soak -s -p no:randomly

bench-reconcile: $(STAMP) services
	$(BIN)/python -m bench.reconcile --count $${COUNT:-100000}
