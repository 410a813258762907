"""The composition root: one `bootstrap(settings)` builds what a seatflow process is made of.

Every edge starts here: the receiver and the API (`create_app`, which keep the `Runtime` as
`app.extensions["seatflow"]`), the Celery worker and beat (`workers.tasks`), and the CLI
(`runtime()`, this process's one, from the environment). Each part is built the first time it
is asked for: the receiver never asks for the gateway nor the handlers' dependencies, so it
loads no business code (the contracts allow `bootstrap` exactly these lazy imports, and a
test holds the receiver to it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache, cached_property
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import Engine

from config.database import make_engine
from config.logging import configure_logging
from config.settings import Settings
from inbox.origin import Origin

if TYPE_CHECKING:
    from celery import Celery

    from adapters.stripe_door import StripeReads
    from adapters.stripe_gateway import StripeGateway
    from adapters.unit_of_work import SqlUnitOfWork
    from services.deps import Deps


class InboxStore(Protocol):
    """The receiver's writer of inbox rows (`webhooks.writer.InboxWriter`): stores one
    verified delivery, True if its event is new."""

    def store(self, delivery: Any) -> bool: ...


@dataclass(eq=False)
class Runtime:
    """A process's settings and what is built from them, each part once, when first asked."""

    settings: Settings
    engine_options: Mapping[str, Any] = field(default_factory=dict)  # make_engine's overrides
    writer: InboxStore | None = None  # the receiver's; no other process stores deliveries

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings, **self.engine_options)

    @cached_property
    def celery(self) -> Celery:
        from config.celery import make_celery  # Celery is loaded by the processes that send

        return make_celery(self.settings)

    @cached_property
    def origin(self) -> Origin:
        """The Stripe mode and account whose events this process applies."""
        return Origin.of(self.settings)

    @cached_property
    def gateway(self) -> StripeGateway:
        """The one Stripe gateway; reads share the budget of every process, if there is one."""
        from adapters.read_budget import SharedRateLimiter
        from adapters.stripe_gateway import StripeGateway

        shared, rate = self.settings.read_budget_url, self.settings.stripe_read_rate
        return StripeGateway(
            self.settings.stripe_api_key,
            self.settings.stripe_api_base,
            read_rate=rate,
            reads=SharedRateLimiter(shared, rate) if shared else None,
        )

    @cached_property
    def door(self) -> StripeReads:
        """Stripe's events and objects, typed: every read goes through the one gateway."""
        from adapters.stripe_door import StripeReads

        return StripeReads(self.gateway, self.origin, self.settings.stripe_verify_by_fetch)

    @cached_property
    def deps(self) -> Deps:
        """What the handlers need besides the unit of work."""
        from adapters.errors import explain
        from adapters.license_signer import load_signer
        from services.deps import Deps, SystemClock

        settings = self.settings
        return Deps(
            gateway=self.gateway,
            door=self.door,
            clock=SystemClock(),
            estimate_ttl=timedelta(seconds=settings.estimate_ttl_seconds),
            unpaid_after=timedelta(hours=settings.unpaid_upgrade_hours),
            signer=load_signer(settings),
            license_grace=timedelta(days=settings.license_grace_days),
            tie_break_by_fetch=bool(settings.stripe_api_base) or settings.stripe_verify_by_fetch,
            origin=self.origin,
            explain=explain,
        )

    def enqueue(self, name: str, args: list[Any]) -> None:
        """Send a task by name; the unit of work calls it after its commit."""
        self.celery.send_task(name, args=args, retry=False)

    def unit_of_work(self) -> SqlUnitOfWork:
        from adapters.unit_of_work import SqlUnitOfWork

        return SqlUnitOfWork(self.engine, enqueue=self.enqueue)


def bootstrap(settings: Settings | None = None, **engine_options: Any) -> Runtime:
    """The runtime of `settings` (read from the environment if None), its logging set up."""
    settings = settings or Settings.from_env()
    configure_logging(settings)
    return Runtime(settings, engine_options)


@cache
def runtime() -> Runtime:
    """This process's runtime, from the environment: the worker's, the beat's, the CLI's."""
    return bootstrap()
