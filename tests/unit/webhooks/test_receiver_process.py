"""The receiver's process loads no business code: it is built by the composition root
(`bootstrap`), which imports the gateway, the handlers' dependencies and units of work only
when a process asks for them, and the receiver never asks."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from cli import samples
from tests.conftest import SECRET, env_for
from tests.support import ROOT

pytestmark = pytest.mark.slow  # every test here starts a process

CHILD = """
import json, sys
from webhooks import create_app

body, headers = json.loads(sys.stdin.read())
client = create_app().test_client()
stored = client.post("/webhooks/stripe", data=body.encode(), headers=headers).status_code
ready = client.get("/readyz").status_code
business = ("services", "adapters", "domain")
loaded = sorted(m for m in sys.modules if m.split(".")[0] in business)
print(json.dumps({"stored": stored, "ready": ready, "loaded": loaded}))
"""


def test_the_receiver_stores_and_answers_without_loading_services_adapters_or_domain(
    sqlite_settings,
) -> None:
    event = samples.event(
        "customer.subscription.updated", samples.subscription_object(customer="cus_p")
    )
    body, headers = samples.signed(event, SECRET)
    done = subprocess.run(
        [sys.executable, "-c", CHILD],
        input=json.dumps([body.decode(), headers]),
        env=env_for(sqlite_settings),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.splitlines()[-1])
    assert (found["stored"], found["ready"]) == (200, 200)
    assert found["loaded"] == []
