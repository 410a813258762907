"""Services see Stripe only as typed domain values: no method of the ports through which
Stripe comes in answers with Stripe's JSON (a dict), and the services import neither the
gateway nor the door's adapter (import-linter's contract holds the second)."""

from __future__ import annotations

import inspect

import pytest

from domain.ports import BillingGateway, StripeDoor, WebhookEndpoints

# seatflow's own catalog-file form (what `seatflow catalog import FILE` reads), not Stripe's.
OWN_FORMS = {"StripeDoor.catalog_entries"}


def methods(port: type) -> list[tuple[str, str]]:
    return [
        (f"{port.__name__}.{name}", str(inspect.signature(member).return_annotation))
        for name, member in vars(port).items()
        if inspect.isfunction(member) and not name.startswith("_")
    ]


@pytest.mark.parametrize(
    ("method", "answer"),
    methods(BillingGateway) + methods(StripeDoor) + methods(WebhookEndpoints),
    ids=lambda v: str(v),
)
def test_no_port_answers_with_stripes_json(method: str, answer: str) -> None:
    if method in OWN_FORMS:
        return
    assert "dict" not in answer and "Any" not in answer, f"{method} answers {answer}"


def test_the_door_reads_every_kind_of_object_the_services_need() -> None:
    names = {name for name, _ in methods(StripeDoor)}
    assert {
        "StripeDoor.admit",
        "StripeDoor.invoice",
        "StripeDoor.subscription",
        "StripeDoor.schedule",
        "StripeDoor.subscriptions",
        "StripeDoor.events",
    } <= names
