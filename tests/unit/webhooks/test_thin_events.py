"""The receiver stores a signed thin event (Stripe's v2 event naming its object) as it
stores a snapshot event; one without the object it names is refused."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select

from cli import samples
from inbox.table import inbox
from tests.conftest import SECRET
from tests.unit.services.test_event_sources import thin_event
from webhooks import create_app


def test_the_receiver_accepts_and_stores_a_signed_thin_event(sqlite_settings) -> None:
    app = create_app(sqlite_settings)
    client: FlaskClient = app.test_client()
    body, headers = samples.signed(thin_event(), SECRET)
    assert client.post("/webhooks/stripe", data=body, headers=headers).status_code == 200
    with app.extensions["seatflow"].engine.connect() as conn:
        row = conn.execute(select(inbox.c.type, inbox.c.state, inbox.c.created)).one()
    assert tuple(row) == ("v1.customer.subscription.updated", "received", 1641376800)
    bad = thin_event()
    del bad["related_object"]
    body, headers = samples.signed(bad, SECRET)
    assert client.post("/webhooks/stripe", data=body, headers=headers).status_code == 400
