"""Every `celery worker` the tests (and benchmarks) start has a node name of its own
(`-n test-<random>@%h`): a worker on the default name `celery@<host>` shares its mailbox
(`celery@<host>.celery.pidbox`, exclusive on RabbitMQ) with every other worker of that name
on the broker, another developer's or another test run's included. One helper,
`tests.support.launch_worker`, builds the command; nothing else starts a worker."""

from __future__ import annotations

import re
from pathlib import Path

from tests.support import worker_args

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
