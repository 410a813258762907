"""The Procfile's processes keep their state to themselves: `beat` writes no
`celerybeat-schedule*` into the directory it is started from (its schedule lives in
SEATFLOW_DATA_DIR), and a gunicorn with deploy/gunicorn.conf.py, or one of `seatflow dev`,
opens no control socket, which every gunicorn of the user would otherwise share
(`$XDG_RUNTIME_DIR/gunicorn.ctl` or `~/.gunicorn/gunicorn.ctl`)."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from cli.devserver import process_commands
from config.settings import Settings
from tests.support import ROOT, free_port, http_ok, service_env, wait_until

pytestmark = pytest.mark.slow


def procfile(name: str) -> list[str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    line = next(x for x in lines if x.startswith(f"{name}:"))
    return shlex.split(line.removeprefix(f"{name}:"))


def home_env(tmp_path: Path, **values: str) -> dict[str, str]:
    """A user whose home and runtime directory are `tmp_path`'s, to see what is written."""
    (tmp_path / "home").mkdir()
    (tmp_path / "run").mkdir()
    return service_env(
        HOME=str(tmp_path / "home"),
        XDG_RUNTIME_DIR=str(tmp_path / "run"),
        PYTHONPATH=str(ROOT),
        SEATFLOW_DATA_DIR=str(tmp_path / "var"),
        STRIPE_WEBHOOK_SECRETS="whsec_state_of_the_processes",
        WORKER_METRICS_PORT="0",
        BEAT_METRICS_PORT="0",
        WEB_METRICS_PORT="0",
        **values,
    )


def run_until(
    args: list[str], env: dict[str, str], cwd: Path, ready: object, seen: list[object]
) -> str:
    """Run `args` in `cwd` until `ready()`; what `tmp_path` holds then (its sockets included,
    which a process removes when it stops) is appended to `seen`."""
    log = cwd.parent / f"{cwd.name}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            args, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            wait_until(lambda: ready() or proc.poll() is not None, 60)  # type: ignore[operator]
            assert proc.poll() is None, log.read_text()[-3000:]
            seen.append(sorted(str(p) for p in cwd.parent.rglob("*") if p.is_socket()))
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(30)
    return log.read_text()


@pytest.mark.parametrize("name", ["web", "api"])
def test_the_procfiles_gunicorn_opens_no_control_socket(tmp_path: Path, name: str) -> None:
    words = procfile(name)
    start = words.index("gunicorn")
    port = free_port()
    args = [sys.executable, "-m", *words[start:]]
    args[args.index("--bind") + 1] = f"127.0.0.1:{port}"
    shape = {"${WEB_CONCURRENCY:-2}": "1", "${API_CONCURRENCY:-2}": "1", "${WEB_THREADS:-8}": "2"}
    args = [shape.get(a, a) for a in args]
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    args[args.index("-c") + 1] = str(ROOT / "deploy" / "gunicorn.conf.py")
    env = home_env(tmp_path, PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"))
    seen: list[object] = []
    run_until(args, env, cwd, lambda: http_ok(f"http://127.0.0.1:{port}/healthz"), seen)
    assert seen == [[]]


def test_seatflow_devs_gunicorns_open_no_control_socket(tmp_path: Path) -> None:
    import socket

    sockets = {name: socket.socket() for name in ("web", "api")}
    try:
        commands = process_commands(Settings.from_env({}), sockets)
    finally:
        for sock in sockets.values():
            sock.close()
    for name in ("web", "api"):
        assert "--no-control-socket" in commands[name], commands[name]


def test_the_procfiles_beat_writes_no_schedule_into_its_working_directory(
    tmp_path: Path,
) -> None:
    words = procfile("beat")
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    env = home_env(tmp_path)
    output = run_until(
        [sys.executable, "-m", *words],
        env,
        cwd,
        lambda: "beat lock acquired" in (cwd.parent / "cwd.log").read_text(),
        [],
    )
    assert "beat lock acquired" in output
    assert list(cwd.iterdir()) == [], output[-2000:]
    assert list((tmp_path / "var").glob("celerybeat-schedule*")), output[-2000:]
