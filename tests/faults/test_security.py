"""Nothing forged gets in, nothing secret gets out: against gunicorn over real HTTP."""

from __future__ import annotations

import json
import math
import re
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
import stripe
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli import samples
from inbox.table import inbox
from tests.conftest import OLD_SECRET, SECRET
from tests.faults.conftest import seats_event

pytestmark = pytest.mark.slow
CARD = "4242424242424242"


def raw_post(url: str, body: bytes, headers: dict[str, str], method: str = "POST") -> int:
    request = urllib.request.Request(
        url, data=body if method == "POST" else None, headers=headers, method=method
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


@pytest.fixture
def web(stack_factory):
    stack = stack_factory()
    proc = stack.web()
    return stack, proc


def test_forged_tampered_stale_and_malformed_deliveries_are_rejected(web) -> None:
    stack, proc = web
    event = seats_event(seats=4, created=1_700_005_000)
    event["data"]["object"]["metadata"]["card_number"] = CARD
    body, headers = samples.signed(event, SECRET)
    # Each delivery is signed just before it is sent, its timestamp taken then (rounded away
    # from the receiver's clock): a slow earlier request must not carry "301 s ahead" back
    # into the 300 s window.
    cases = {
        "tampered body": lambda: (body.replace(b'"quantity":4', b'"quantity":400'), headers),
        "wrong secret": lambda: samples.signed(event, "whsec_someone_else"),
        "missing header": lambda: (body, {"Content-Type": "application/json"}),
        "301 s old": lambda: samples.signed(event, SECRET, timestamp=int(time.time()) - 301),
        "301 s ahead": lambda: samples.signed(
            event, SECRET, timestamp=math.ceil(time.time()) + 301
        ),
        "garbage header": lambda: (body, {**headers, "Stripe-Signature": "t=x,v1=" + "0" * 64}),
    }
    for name, delivery in cases.items():
        assert raw_post(stack.hook, *delivery()) == 400, name
    assert stack.count(inbox) == 0
    # During a rotation either secret is accepted.
    assert raw_post(stack.hook, *samples.signed(event, OLD_SECRET)) == 200
    assert raw_post(stack.hook, *samples.signed(seats_event(5, 1_700_005_001), SECRET)) == 200
    limit = stack.settings.webhook_max_body
    assert raw_post(stack.hook, b" " * (limit + 1), {"Content-Type": "application/json"}) == 413
    assert raw_post(stack.hook, body, {**headers, "Content-Type": "text/plain"}) == 415
    assert raw_post(stack.hook, b"", {}, method="GET") == 405
    assert stack.count(inbox) == 2
    log = proc.output()
    for secret in (SECRET, OLD_SECRET, "whsec_someone_else", CARD, headers["Stripe-Signature"]):
        assert secret not in log
    assert not re.search(r"v1=[0-9a-f]{64}", log)


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    body=st.one_of(
        st.binary(max_size=2048),
        st.text(max_size=512).map(str.encode),
        st.dictionaries(st.text(max_size=8), st.integers() | st.text(max_size=8), max_size=6).map(
            lambda d: json.dumps(d).encode()
        ),
    ),
    # Any header value HTTP can carry: printable, with t=/v1= shapes mixed in.
    signature=st.one_of(
        st.none(),
        st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=200),
        st.builds(
            lambda t, v: f"t={t},v1={v}", st.integers(), st.text("0123456789abcdef", max_size=64)
        ),
    ),
    content_type=st.sampled_from(
        [
            "application/json",
            "application/json; charset=utf-8",
            "text/plain",
            "",
            "application/x-www-form-urlencoded",
        ]
    ),
)
def test_fuzzed_bodies_and_headers_never_get_in_and_never_500(
    fuzz_target, body, signature, content_type
) -> None:
    _stack, url = fuzz_target
    headers = {"Content-Type": content_type} if content_type else {}
    if signature is not None:
        headers["Stripe-Signature"] = signature
    status = raw_post(url, body, headers)
    assert status in (400, 413, 415), status


@pytest.fixture(scope="module")
def fuzz_target(postgres_url, shared_redis, tmp_path_factory):
    """One gunicorn for all fuzz examples (hypothesis calls the test many times)."""
    from config.database import make_engine
    from config.settings import Settings
    from tests.conftest import clean, env_for
    from tests.support import free_port, start_gunicorn

    settings = Settings(
        mode="test",
        database_url=postgres_url,
        broker_url=shared_redis,
        stripe_webhook_secrets=(SECRET,),
        queue_name="seatflow-fuzz",
        data_dir=tmp_path_factory.mktemp("fuzz"),
    )
    engine = make_engine(settings)
    clean(engine)
    port = free_port()
    proc = start_gunicorn(env_for(settings), port, threads=8)
    yield engine, f"http://127.0.0.1:{port}/webhooks/stripe"
    proc.stop()
    from sqlalchemy import func, select

    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(inbox)) == 0  # no row let in
    assert "Traceback" not in proc.output()
    engine.dispose()


def test_the_signature_is_checked_before_anything_is_parsed(web) -> None:
    stack, _ = web
    payload = "{not json"
    header = stripe.WebhookSignature.generate_signature_header(payload, SECRET)
    assert (
        raw_post(
            stack.hook,
            payload.encode(),
            {"Content-Type": "application/json", "Stripe-Signature": header},
        )
        == 400
    )
    with ThreadPoolExecutor(8) as pool:  # concurrent garbage: still no 500
        codes = list(
            pool.map(
                lambda i: raw_post(
                    stack.hook, bytes([i % 256]) * i, {"Content-Type": "application/json"}
                ),
                range(1, 64),
            )
        )
    assert set(codes) == {400}
