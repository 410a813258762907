"""The Stripe read budget shared by every process on every host, kept in Redis.

Stripe limits requests per account, not per process: web, api, worker and beat on several
hosts must share one budget. A generic cell rate algorithm in one Lua script, on Redis's own
clock (hosts' clocks may disagree): each read is allowed at `rate` per second on average, with
bursts of `burst`, across all callers of the same key.
"""

from __future__ import annotations

import time

import redis

_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local allowed_at = tat - (burst - 1) * interval
if now < allowed_at then return allowed_at - now end
redis.call('SET', KEYS[1], tat + interval, 'PX', math.ceil((burst * interval) / 1000) + 1000)
return 0
"""


class SharedRateLimiter:
    """At most `rate` reads per second on average across all processes using `key`."""

    def __init__(self, url: str, rate: float, burst: int = 5, key: str = "seatflow:stripe-reads"):
        self._client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        self._script = self._client.register_script(_SCRIPT)
        self._interval_us = max(1, int(1_000_000 / rate))
        self._burst, self._key = burst, key

    def acquire(self) -> None:
        while True:
            wait_us = int(self._script(keys=[self._key], args=[self._interval_us, self._burst]))
            if wait_us <= 0:
                return
            time.sleep(wait_us / 1_000_000)
