"""Every `celery worker` the tests (and benchmarks) start has a node name of its own
(`-n test-<random>@%h`): a worker on the default name `celery@<host>` shares its mailbox
(`celery@<host>.celery.pidbox`, exclusive on RabbitMQ) with every other worker of that name
on the broker, another developer's or another test run's included. One helper,
`tests.support.launch_worker`, builds the command; nothing else starts a worker.

The suite's own workers (pytest-xdist) each have ports, a PostgreSQL database and a Redis
database of their own."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.conftest import REDIS_URL
from tests.support import (
    DEFAULT_TEST_PORTS,
    free_port,
    worker_args,
    worker_count,
    worker_index,
    worker_ports,
)

ROOT = Path(__file__).resolve().parents[2]
NAME = re.compile(r"^test-[0-9a-f]{12}@%h$")


def node_name(args: list[str]) -> str:
    assert args.count("-n") == 1, args
    return args[args.index("-n") + 1]


def test_a_test_worker_has_a_unique_node_name_on_its_host() -> None:
    names = {node_name(worker_args(1, "prefork")) for _ in range(50)}
    assert len(names) == 50
    assert all(NAME.match(name) for name in names), names


def test_the_worker_command_keeps_its_options_around_the_name() -> None:
    args = worker_args(2, "solo")
    assert args[args.index("--concurrency") + 1] == "2"
    assert args[args.index("--pool") + 1] == "solo"
    assert "worker" in args and "--without-heartbeat" in args


def test_no_test_or_benchmark_starts_a_worker_but_through_the_helper() -> None:
    """`worker_command` (the bare command) or an argv of `workers.app`, `worker` appear only in
    the helper."""
    offenders = []
    for folder in ("tests", "bench"):
        for path in (ROOT / folder).rglob("*.py"):
            if path == ROOT / "tests" / "support.py" or path == Path(__file__):
                continue
            text = path.read_text()
            if re.search(r"\bworker_command\b|workers\.app[\"']\s*,\s*[\"']worker[\"']", text):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_each_pytest_worker_has_a_block_of_ports_no_other_worker_hands_out() -> None:
    blocks = [worker_ports("9200-9399", index, 4) for index in range(4)]
    assert [(b.start, b.stop) for b in blocks] == [
        (9200, 9250),
        (9250, 9300),
        (9300, 9350),
        (9350, 9400),
    ]
    # By default below the kernel's ephemeral ports (32768 on): no outgoing connection takes one.
    assert int(DEFAULT_TEST_PORTS.split("-")[1]) < 32768
    alone = worker_ports("20000-29999", 0, 1)
    assert (alone.start, alone.stop) == (20000, 30000)
    with pytest.raises(ValueError, match="too small"):
        worker_ports("9200-9201", 0, 3)


def test_free_ports_come_from_this_workers_block_each_once_in_turn() -> None:
    ports = [free_port() for _ in range(20)]
    assert len(set(ports)) == 20
    assert set(ports) <= set(worker_ports())


def test_each_pytest_worker_has_its_redis_database_and_its_postgresql_database(
    postgres_url: str,
) -> None:
    expected = (worker_index() + 1) % 16 if worker_count() > 1 else 0
    assert REDIS_URL.endswith(f"/{expected}")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    assert postgres_url.rsplit("/", 1)[1].startswith(f"seatflow_t_{worker}_")
