"""A deploy stops the receiver with SIGTERM: the task messages its publisher still holds reach
the broker before the process exits, instead of waiting for the sweeper."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest
import redis

from cli import samples
from config.settings import Settings
from tests.conftest import SECRET, env_for
from tests.support import ROOT, free_port, queued_event_ids, start_gunicorn, wait_until

pytestmark = pytest.mark.slow


def _event(n: int) -> dict[str, object]:
    obj = samples.subscription_object(customer="cus_stop", seats=n)
    return samples.event("customer.subscription.updated", obj, created=1_700_000_000 + n)


# SIGTERM to the whole process group (a process manager stopping the service) or to the
# master alone, which passes it on to its workers.
@pytest.mark.parametrize(("workers", "to_group"), [(1, True), (2, True), (2, False)])
def test_ids_held_by_the_publisher_reach_the_broker_when_gunicorn_is_stopped(
    pg_settings: Settings, tmp_path: Path, workers: int, to_group: bool
) -> None:
    # A minute between messages: what is committed after the first message is held, and
    # only the shutdown can send it before the sweeper would.
    env = env_for(
        pg_settings.with_overrides(data_dir=tmp_path), WEBHOOK_PUBLISH_INTERVAL_MS="60000"
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}/webhooks/stripe"
    client = redis.Redis.from_url(pg_settings.broker_url)
    web = start_gunicorn(env, port, workers=workers, config=ROOT / "deploy" / "gunicorn.conf.py")
    try:
        events = [_event(n) for n in range(1, 9)]
        first = events[0]
        assert samples.post(url, *samples.signed(first, SECRET))[0] == 200
        wait_until(lambda: queued_event_ids(client, pg_settings.queue_name), 10, 0.05)
        for event in events[1:]:
            assert samples.post(url, *samples.signed(event, SECRET))[0] == 200
        time.sleep(0.5)
        held = {str(e["id"]) for e in events} - set(
            queued_event_ids(client, pg_settings.queue_name)
        )
        assert held, "the publisher sent everything before the stop: nothing is tested"
        started = time.monotonic()
        if to_group:
            web.signal(signal.SIGTERM)
        else:
            web.popen.send_signal(signal.SIGTERM)
        web.reap(timeout=30)
        assert web.popen.returncode == 0, web.output()
        assert time.monotonic() - started < 20
        queued = queued_event_ids(client, pg_settings.queue_name)
        assert set(queued) == {str(e["id"]) for e in events}, web.output()
    finally:
        web.stop()
        client.delete(pg_settings.queue_name)
