# Two commands: `make run` (the service, with a demo event) and `make test` (checks + tests);
# `make check` (checks + the unit tests that start no process) is the inner loop's.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | cksum | cut -d' ' -f1)

.PHONY: run test check lint install services soak bench bench-reconcile lock audit

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
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

# The suite on pytest-xdist workers (TEST_WORKERS: how many; by default one per core and one
# more, since about a third of the suite's time is spent waiting on the processes it starts),
# each with a database, a Redis database, queues and a block of ports of its own
# (tests/conftest.py, tests/support.py). `--dist load` hands a worker its next tests as it
# finishes, two at a time, in the order tests/conftest.py sets: the longest first.
TEST_WORKERS ?= $(shell $(PYTHON) -c 'import os; print(len(os.sched_getaffinity(0)) + 1)')
PYTEST_PARALLEL = $(BIN)/pytest -n $(TEST_WORKERS) --dist load --maxschedchunk 2

test: $(STAMP) services lint
	$(PYTEST_PARALLEL)

# The inner loop: the checks and the unit tests that start no process (those are `slow`).
check: $(STAMP) lint
	scripts/ensure-services
	$(PYTEST_PARALLEL) tests/unit -m 'not slow and not soak' --durations=5

# The locked versions: a fresh venv of '.[dev]', frozen (run after changing dependencies).
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet -e '.[dev]'
	{ sed -n '1,3p' constraints.txt; .lock-venv/bin/python -m pip freeze --exclude-editable; } > constraints.new
	mv constraints.new constraints.txt && rm -rf .lock-venv

# Known vulnerabilities in the locked versions (PyPI's advisory data); --strict fails when a
# version could not be checked, so an unreachable advisory source never passes silently.
audit: $(STAMP)
	$(BIN)/pip-audit --requirement constraints.txt --no-deps --disable-pip --strict --progress-spinner off

soak: $(STAMP) services
	SOAK_SECONDS=$${SOAK_SECONDS:-300} $(BIN)/pytest tests/soak -m chaos -s -p no:randomly

bench-reconcile: $(STAMP) services
	$(BIN)/python -m bench.reconcile --count $${COUNT:-100000}

# Benchmarks (not tests): the documented parameters (bench/suite.py), each run's figures
# written to bench/results/ as JSON, bench/RESULTS.md's tables generated from them
# (`python -m bench.report`). BENCH_ARGS: e.g. --only burst --label smoke.
bench: $(STAMP) services
	command -v wrk >/dev/null || (apt-get update -q && apt-get install -y -q wrk)
	$(BIN)/python -m bench.suite $(BENCH_ARGS)
