"""Real gunicorn with deploy/gunicorn.conf.py, as the Procfile runs it: each worker keeps to
one CPU, one per CPU while there are enough, and a replacement takes the CPU its predecessor
left; `auto` pins only a group with a worker for every CPU; WEB_PIN_CPUS=false leaves the
workers where the master is."""

from __future__ import annotations

import os
import signal
import subprocess

from tests.support import ROOT, free_port, service_env, start_gunicorn, wait_until

CONF = ROOT / "deploy" / "gunicorn.conf.py"


def _workers(master: int) -> dict[int, set[int]]:
    """The master's live workers and the CPUs each may use."""
    out = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout
    found = {}
    for pid in map(int, out.split()):
        try:
            found[pid] = os.sched_getaffinity(pid)
        except ProcessLookupError:  # a killed worker on its way out
            continue
    return found


def _start(tmp_path, workers: int = 2, **env: str):
    env = service_env(SEATFLOW_DATA_DIR=str(tmp_path), STRIPE_WEBHOOK_SECRETS="whsec_cpu", **env)
    web = start_gunicorn(env, free_port(), threads=2, config=CONF, workers=workers)
    wait_until(lambda: len(_workers(web.pid)) == workers, 30)
    return web


def test_each_worker_keeps_to_its_own_cpu_and_a_replacement_takes_the_freed_one(
    tmp_path,
) -> None:
    cpus = sorted(os.sched_getaffinity(0))
    web = _start(tmp_path, workers=len(cpus), WEB_PIN_CPUS="auto")
    try:
        workers = _workers(web.pid)
        assert all(len(mask) == 1 for mask in workers.values()), workers
        assert sorted(cpu for mask in workers.values() for cpu in mask) == cpus
        victim, [freed] = next(iter(workers.items()))
        os.kill(victim, signal.SIGKILL)
        wait_until(
            lambda: victim not in _workers(web.pid) and len(_workers(web.pid)) == len(cpus), 30
        )
        replacement = next(pid for pid in _workers(web.pid) if pid not in workers)
        assert _workers(web.pid)[replacement] == {freed}
    finally:
        web.stop()


def test_web_pin_cpus_false_leaves_the_workers_on_every_cpu_of_the_master(tmp_path) -> None:
    web = _start(tmp_path, WEB_PIN_CPUS="false")
    try:
        master = os.sched_getaffinity(web.pid)
        assert list(_workers(web.pid).values()) == [master, master]
    finally:
        web.stop()


def test_auto_leaves_a_group_with_fewer_workers_than_cpus_unpinned(tmp_path) -> None:
    cpus = os.sched_getaffinity(0)
    assert len(cpus) >= 2, "this machine has one CPU: nothing to leave idle"
    web = _start(tmp_path, workers=len(cpus) - 1)
    try:
        assert all(mask == cpus for mask in _workers(web.pid).values())
    finally:
        web.stop()


def test_web_pin_cpus_true_pins_even_a_single_worker(tmp_path) -> None:
    web = _start(tmp_path, workers=1, WEB_PIN_CPUS="true")
    try:
        assert list(_workers(web.pid).values()) == [{min(os.sched_getaffinity(0))}]
    finally:
        web.stop()
