"""The Stripe read budget is shared by every process on every host, through Redis."""

from __future__ import annotations

import secrets
import threading
import time

import redis

from adapters.read_budget import SharedRateLimiter
from config.settings import Settings


def _spend(limiters: list, reads: int) -> float:
    """Seconds for `reads` reads split over the limiters, each in its own thread."""

    def reader(limiter, count: int) -> None:
        for _ in range(count):
            limiter.acquire()

    threads = [
        threading.Thread(target=reader, args=(lim, reads // len(limiters))) for lim in limiters
    ]
    start = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.monotonic() - start


def test_two_hosts_share_one_budget(shared_redis: str) -> None:
    key = f"seatflow-test:reads:{secrets.token_hex(4)}"
    # Two processes (as on two hosts): 20 reads/s with bursts of 2 between them, so 24 reads
    # take at least (24 - 2) / 20 = 1.1 s; two budgets of their own would take half that.
    hosts = [SharedRateLimiter(shared_redis, rate=20, burst=2, key=key) for _ in range(2)]
    assert _spend(hosts, 24) >= 1.05  # a lower bound: a busy machine only makes it slower
    assert redis.Redis.from_url(shared_redis).exists(key)  # the budget's state is in Redis


def test_the_budget_lives_in_the_brokers_redis_unless_told_otherwise() -> None:
    redis_broker = Settings(broker_url="redis://127.0.0.1:6379/0")
    assert redis_broker.read_budget_url == "redis://127.0.0.1:6379/0"
    told = redis_broker.with_overrides(stripe_read_budget_url="redis://budget:6379/1")
    assert told.read_budget_url == "redis://budget:6379/1"
    assert Settings(broker_url="amqp://guest:guest@127.0.0.1:5672//").read_budget_url is None
