"""The OpenAPI document matches the routes, and schemathesis finds no 500 and no answer
that breaks the document."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from adapters.unit_of_work import SqlUnitOfWork
from api import create_app
from config.database import make_engine
from services import stripe_events
from tests.builders import build_world, store_event, subscription_event
from tests.fakes import FakeGateway, FixedClock, fake_deps


@pytest.fixture(scope="module")
def app_and_world(tmp_path_factory):
    from adapters import migrations
    from config.settings import Settings

    folder = tmp_path_factory.mktemp("openapi")
    settings = Settings(
        mode="test",
        database_url=f"sqlite:///{folder / 'db.sqlite'}",
        broker_url="memory://",
        data_dir=folder,
    )
    migrations.upgrade(settings.database_url)
    app = create_app(settings)
    deps = fake_deps(FixedClock(datetime.now(UTC)), FakeGateway())
    app.extensions["seatflow"].deps = deps
    app.extensions["seatflow"].enqueue = lambda name, args: None
    engine = make_engine(settings)
    world = build_world(engine, with_subscription=False)
    event = subscription_event(
        "cus_acme", seats=3, interval="year", start=datetime.now(UTC).replace(microsecond=0)
    )
    stripe_events.process_stripe_event(store_event(engine, event), SqlUnitOfWork(engine), deps)
    return app, world


def _routes(app) -> set[tuple[str, str]]:
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/organizations"):
            path = re.sub(r"<(\w+)>", r"{\1}", rule.rule)
            found |= {(path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"}}
    return found


def test_the_document_describes_exactly_the_routes(app_and_world) -> None:
    app, _ = app_and_world
    document = app.test_client().get("/api/v1/openapi.json").json
    assert document["openapi"] == "3.1.0"
    described = {(path, method) for path, ops in document["paths"].items() for method in ops}
    assert described == _routes(app)


CASES: list[str] = []


def _schema():
    from api.openapi import document

    return schemathesis.openapi.from_dict(document())


schema = _schema()


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_500_and_no_schema_violation(case, app_and_world) -> None:
    app, world = app_and_world
    if "org_id" in (case.path_parameters or {}):
        case.path_parameters["org_id"] = world.org_id  # reach the handlers, not just 404
    CASES.append(case.operation.label)
    case.call_and_validate(
        app=app,
        headers={"Authorization": f"Bearer {world.tokens['owner']}"},
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )


def test_report_case_count() -> None:
    # Printed with -s; the suite's summary also lists each operation's run.
    print(f"schemathesis cases: {len(CASES)}")
