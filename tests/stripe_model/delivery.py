"""Sending the fake Stripe's events to a webhook receiver, signed as Stripe signs them.

Events are signed when they are sent, never when they are made, so an event held back for
minutes still carries a fresh `Stripe-Signature: t=…,v1=…` (HMAC-SHA256 of `"{t}.{body}"`
with the endpoint's secret; during a secret roll, one `v1` per secret). Like Stripe, a
`Deliverer` sends at least once: a delivery that fails (non-2xx, or no connection) stays
pending and is sent again by the next `deliver()`; it can also duplicate, hold back and
reorder events on purpose.
"""

from __future__ import annotations

import fnmatch
import hashlib
import hmac
import json
import random
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from tests.stripe_model.base import Json
from tests.stripe_model.state import StripeState

Order = Literal["created", "reverse", "shuffle"]


def signature_header(body: str, secrets: str | Sequence[str], timestamp: int) -> str:
    """Stripe's `Stripe-Signature` value for `body` at `timestamp`."""
    keys = [secrets] if isinstance(secrets, str) else list(secrets)
    signed = f"{timestamp}.{body}".encode()
    parts = [f"t={timestamp}"]
    for secret in keys:
        parts.append("v1=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest())
    return ",".join(parts)


@dataclass
class Delivery:
    event_id: str
    type: str
    status: int | None  # None: no answer (connection refused, timeout)
    signature: str
    body: bytes
    sent_at: float

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class Deliverer:
    def __init__(
        self,
        state: StripeState,
        url: str,
        secret: str | Sequence[str],
        *,
        types: Iterable[str] = ("*",),
        timeout: float = 10.0,
        rng: random.Random | None = None,
    ) -> None:
        self.state, self.url, self.secret = state, url, secret
        self.types = list(types)
        self.timeout = timeout
        self.rng = rng or random.Random(0)
        self.deliveries: list[Delivery] = []
        self._seen = 0  # how many of state.events were looked at
        self._queue: list[Json] = []  # not yet delivered with a 2xx, oldest first
        self._holds: list[Callable[[Json], bool]] = []
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def for_endpoint(
        cls, state: StripeState, endpoint_id: str, *, url: str | None = None
    ) -> Deliverer:
        """A deliverer for a webhook endpoint made through the API: its URL (or `url`, where
        the test serves the receiver), its secret and its `enabled_events`."""
        endpoint = state.get("webhook_endpoint", endpoint_id)
        return cls(
            state, url or endpoint["url"], endpoint["secret"], types=endpoint["enabled_events"]
        )

    # -- what is waiting -------------------------------------------------------------------
    def pending(self) -> list[Json]:
        """Events not yet delivered (held ones included), oldest first."""
        with self._lock, self.state.lock:
            for event in self.state.events[self._seen :]:
                if any(fnmatch.fnmatchcase(event["type"], t) for t in self.types):
                    self._queue.append(event)
            self._seen = len(self.state.events)
            return list(self._queue)

    def hold(self, what: str | Callable[[Json], bool]) -> None:
        """Hold back events of a type pattern (`invoice.*`) or matching a predicate, until
        `release()`: a delivery Stripe makes late."""
        with self._lock:
            self._holds.append(_predicate(what))

    def release(self) -> None:
        with self._lock:
            self._holds.clear()

    def held(self, event: Json) -> bool:
        return any(hold(event) for hold in self._holds)

    # -- sending ---------------------------------------------------------------------------
    def deliver(
        self, *, duplicate: int = 0, order: Order = "created", only: str | None = None
    ) -> list[Delivery]:
        """Send every pending event that is not held (of type pattern `only`, if given),
        each 1 + `duplicate` times, in creation order, reversed, or shuffled (with `rng`)."""
        with self._lock:
            events = [e for e in self.pending() if not self.held(e)]
            if only is not None:
                events = [e for e in events if fnmatch.fnmatchcase(e["type"], only)]
            if order == "reverse":
                events.reverse()
            elif order == "shuffle":
                self.rng.shuffle(events)
            sent = []
            for event in events:
                for _ in range(1 + duplicate):
                    sent.append(self.send(event))
            return sent

    def send(
        self,
        event: Json | str,
        *,
        timestamp: int | None = None,
        secret: str | Sequence[str] | None = None,
    ) -> Delivery:
        """One signed POST of one event now (again, if it was delivered already). A 2xx
        answer takes it off the pending list and marks it delivered in Stripe's records."""
        if isinstance(event, str):
            event = self.state.event(event)
        body = json.dumps(event, indent=2)
        moment = int(time.time()) if timestamp is None else timestamp
        header = signature_header(body, secret if secret is not None else self.secret, moment)
        status = _post(self.url, body.encode(), header, self.timeout)
        delivery = Delivery(event["id"], event["type"], status, header, body.encode(), time.time())
        with self._lock:
            self.deliveries.append(delivery)
            if delivery.ok:
                self._queue = [e for e in self._queue if e["id"] != event["id"]]
                with self.state.lock:
                    self.state.delivered.add(event["id"])
        return delivery

    # -- in the background -----------------------------------------------------------------
    def start(self, interval: float = 0.05) -> Deliverer:
        """Deliver in a thread every `interval` seconds, as Stripe would, until `stop()`."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, args=(interval,), daemon=True)
        self._thread.start()
        return self

    def _run(self, interval: float) -> None:
        while not self._stop.wait(interval):
            self.deliver()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.timeout + 5)


def _predicate(what: str | Callable[[Json], bool]) -> Callable[[Json], bool]:
    if isinstance(what, str):
        return lambda event: fnmatch.fnmatchcase(event["type"], what)
    return what


def _post(url: str, body: bytes, signature: str, timeout: float) -> int | None:
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "Stripe-Signature": signature,
        "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
    }
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except (urllib.error.URLError, OSError):
        return None
