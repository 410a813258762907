"""`seatflow dev` (what `make run` starts) on the embedded default: every URL it prints answers,
its token signs in, a second run reuses the data, and Ctrl-C frees the ports every time."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from tests.support import ROOT, free_port, wait_until

pytestmark = pytest.mark.slow


class Dev:
    """`seatflow dev` in its own session (as a terminal's foreground job), output collected."""

    def __init__(self, data_dir: Path, port: int, api_port: int, *options: str) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "CELERY_"))}
        env.update(
            SEATFLOW_DATA_DIR=str(data_dir),
            PYTHONUNBUFFERED="1",
            WORKER_METRICS_PORT="0",
            BEAT_METRICS_PORT="0",
        )
        self.env = env
        args = ["dev", "--port", str(port), *options]
        if api_port != port + 1:
            args += ["--api-port", str(api_port)]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cli.main", *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.lines: list[str] = []
        self.block_at = -1
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)

    def output(self) -> str:
        return "".join(self.lines)

    def wait_for_line(self, prefix: str, timeout: float = 90) -> str:
        def found() -> str | None:
            if self.proc.poll() is not None and not any(x.startswith(prefix) for x in self.lines):
                raise AssertionError(f"seatflow dev exited:\n{self.output()[-3000:]}")
            return next((x for x in self.lines if x.startswith(prefix)), None)

        try:
            return str(wait_until(found, timeout))
        except AssertionError as exc:
            raise AssertionError(f"{exc}; no {prefix!r} in:\n{self.output()[-3000:]}") from None

    def block(self, timeout: float = 90) -> list[str]:
        """The framed block that ends the start-up output: the lines between its rules."""

        def framed() -> list[str] | None:
            rules = [i for i, x in enumerate(self.lines) if x.strip() and set(x.strip()) == {"="}]
            if len(rules) < 2:
                if self.proc.poll() is not None:
                    raise AssertionError(f"seatflow dev exited:\n{self.output()[-3000:]}")
                return None
            self.block_at = rules[0]
            return [x.strip() for x in self.lines[rules[0] + 1 : rules[1]]]

        try:
            return list(wait_until(framed, timeout))
        except AssertionError as exc:
            raise AssertionError(f"{exc}; no framed block in:\n{self.output()[-3000:]}") from None

    def ctrl_c(self) -> float:
        """What a terminal does on Ctrl-C: SIGINT to the foreground process group. Returns
        the seconds until `seatflow dev` exited (at most 10)."""
        started = time.monotonic()
        try:
            os.killpg(self.proc.pid, signal.SIGINT)
            self.proc.wait(10)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
        seconds = time.monotonic() - started
        self.proc.wait(5)
        assert self.proc.stdout is not None
        self.proc.stdout.close()
        return seconds


def seatflow(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def port_free(port: int) -> bool:
    """Free for the next run: gunicorn binds with SO_REUSEADDR, as this does."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def get(url: str, token: str | None = None) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as r:
        return int(r.status)


def two_ports() -> tuple[int, int]:
    """A free port whose next one is free too, as `seatflow dev` uses them by default."""
    for _ in range(50):
        port = free_port()
        if port < 65535 and port_free(port + 1):
            return port, port + 1
    raise AssertionError("no two free consecutive ports")


def as_typed(command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A command line run by a shell in the checkout, as a person types it after a fresh
    clone: the virtual environment's scripts are not on PATH."""
    bin_dir = str(Path(sys.executable).parent)
    path = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p != bin_dir)
    return subprocess.run(
        command,
        shell=True,
        cwd=ROOT,
        env={**env, "PATH": path},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_first_run_serves_the_pages_and_org_api_and_its_token_signs_in(tmp_path: Path) -> None:
    port, api_port = two_ports()
    dev = Dev(tmp_path, port, api_port, "--demo")
    try:
        ready = dev.wait_for_line("seatflow dev: webhooks on")
        assert f"http://127.0.0.1:{api_port}/signin" in ready
        block = dev.block()
        # The block ends the start-up output: after the demo event was applied.
        assert dev.wait_for_line("demo: event").rstrip().endswith("is applied"), dev.output()
        assert dev.lines.index(dev.wait_for_line("demo: event")) < dev.block_at
        text = "\n".join(block)
        assert f"http://127.0.0.1:{api_port}/signin" in text
        org_id = re.findall(r"demo organization (org_\w+)", text)[0]
        token = re.findall(r"^(sf_\S+)$", text, re.M)[0]
        assert get(f"http://127.0.0.1:{api_port}/signin") == 200
        subs = f"http://127.0.0.1:{api_port}/api/v1/organizations/{org_id}/subscriptions"
        assert get(subs, token) == 200
        prices = subprocess.run(
            [sys.executable, "-m", "cli.main", "catalog", "list"],
            cwd=ROOT,
            env=dev.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert "price_node_locked_month" in prices.stdout, prices.stderr  # the example catalog
        output = dev.output()
        assert output.count("DEVELOPMENT MODE") == 1, output[-5000:]
        # seatflow's lines keep their level and name under Celery's worker and beat.
        assert "INFO    seatflow.workers: event processed" in output, output[-3000:]
        assert "INFO    seatflow.beat:" in output, output[-3000:]
        assert not re.search(r"WARNING/\w+(-\d+)?\] (INFO|WARNING) +seatflow", output), output
    finally:
        dev.ctrl_c()

    again = Dev(tmp_path, port, api_port, "--demo")
    try:
        assert f"demo: organization {org_id} (from an earlier run)" in again.wait_for_line(
            "demo: organization"
        )
        text = "\n".join(again.block())
        [create] = re.findall(r"^(\S*seatflow token create --member mem_\w+)$", text, re.M)
        made = as_typed(create, again.env)
        assert made.returncode == 0, made.stderr
        assert json.loads(made.stdout)["token"].startswith("sf_")
        owner = json.loads(made.stdout)["member_id"]
        listing = re.findall(r"^\S*seatflow (?:org|member|token) list.*$", text, re.M)
        assert len(listing) == 3, text
        for command in listing:
            shown = as_typed(command, again.env)
            assert shown.returncode == 0, (command, shown.stderr)
            assert json.loads(shown.stdout), (command, shown.stdout)  # not empty
        listed = seatflow(again.env, "member", "list", "--org", org_id)
        assert {"id": owner, "role": "owner"}.items() <= json.loads(listed)[0].items()
        assert again.wait_for_line("demo: event").rstrip().endswith("is applied")
    finally:
        again.ctrl_c()


def test_ctrl_c_stops_everything_within_5_seconds_and_frees_both_ports(tmp_path: Path) -> None:
    """Twice after the worker applied an event (as under `make run`), twice once ready."""
    port, api_port = two_ports()
    for attempt in range(4):
        demo = attempt in (0, 2)
        dev = Dev(tmp_path, port, api_port, *(["--demo"] if demo else []))
        dev.wait_for_line("demo: event" if demo else "seatflow dev: webhooks on")
        seconds = dev.ctrl_c()
        assert seconds < 5, f"run {attempt}: exit took {seconds:.1f} s\n{dev.output()[-3000:]}"
        assert dev.proc.returncode == 0, dev.output()[-3000:]
        assert port_free(port), f"run {attempt}: :{port} still held"
        assert port_free(api_port), f"run {attempt}: :{api_port} still held"


def stopped_at_once(dev: Dev) -> float:
    started = time.monotonic()
    dev.proc.wait(60)
    seconds = time.monotonic() - started
    dev.ctrl_c()
    return seconds


@pytest.mark.parametrize("which", ["web", "api"])
def test_a_port_in_use_stops_dev_at_once_naming_the_port(tmp_path: Path, which: str) -> None:
    port, api_port = two_ports()
    held, option = (port, "--port") if which == "web" else (api_port, "--api-port")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", held))
        taken.listen()
        dev = Dev(tmp_path, port, api_port)
        seconds = stopped_at_once(dev)
    assert dev.proc.returncode == 1
    assert seconds < 10, f"{seconds:.0f} s"  # before starting anything, not a readiness wait
    assert dev.lines == [
        f"seatflow dev: port {held} is in use ({which}); stop what holds it, "
        f"or choose another with {option}\n"
    ], dev.output()[-3000:]


def test_a_second_dev_in_the_same_clone_stops_at_once_and_posts_nothing(tmp_path: Path) -> None:
    """`make run` twice: the second names the port the first holds and leaves it alone."""
    port, api_port = two_ports()
    first = Dev(tmp_path, port, api_port, "--demo")
    try:
        first.wait_for_line("demo: event")
        second = Dev(tmp_path, port, api_port, "--demo")
        seconds = stopped_at_once(second)
        assert second.proc.returncode == 1, second.output()
        assert seconds < 10, f"{seconds:.0f} s\n{second.output()}"
        assert second.lines == [
            f"seatflow dev: port {port} is in use (web); stop what holds it, "
            "or choose another with --port\n"
        ], second.output()[-3000:]
        events = subprocess.run(
            [sys.executable, "-m", "cli.main", "events", "list"],
            cwd=ROOT,
            env=first.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert events.stderr.strip() == "1 event(s)", events.stdout + events.stderr
        assert get(f"http://127.0.0.1:{port}/healthz") == 200  # the first still serves
    finally:
        first.ctrl_c()
