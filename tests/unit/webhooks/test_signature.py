import time
from collections.abc import Callable

import pytest
import stripe

from webhooks.signature import SignatureError, verify

SECRETS = ("whsec_new", "whsec_old")
BODY = b'{"id":"evt_1","object":"event"}'


def header(body: bytes = BODY, secret: str = "whsec_new", timestamp: int | None = None) -> str:
    return stripe.WebhookSignature.generate_signature_header(
        body.decode(), secret, timestamp=timestamp
    )


def test_a_body_signed_with_the_current_secret_verifies_as_index_0() -> None:
    assert verify(BODY, header(), SECRETS, 300) == 0


def test_during_rotation_the_previous_secret_still_verifies_and_is_reported() -> None:
    assert verify(BODY, header(secret="whsec_old"), SECRETS, 300) == 1


# Signatures are made inside the test: one made at collection may be older than the tolerance
# by the time it is checked.
@pytest.mark.parametrize(
    "sig, body, reason",
    [
        (lambda: None, BODY, "missing"),
        (lambda: "", BODY, "missing"),
        (lambda: "v1=abc", BODY, "malformed"),
        (lambda: "t=notanumber,v1=abc", BODY, "malformed"),
        (lambda: header(secret="whsec_wrong"), BODY, "no signature matches"),
        (header, BODY + b" ", "no signature matches"),
        (header, b'{"id":"evt_2","object":"event"}', "no signature matches"),
    ],
)
def test_bad_signatures_are_rejected_with_a_reason(
    sig: Callable[[], str | None], body: bytes, reason: str
) -> None:
    with pytest.raises(SignatureError, match=reason):
        verify(body, sig(), SECRETS, 300)


@pytest.mark.parametrize("offset", [-301, 301])
def test_timestamps_outside_the_tolerance_in_either_direction_are_rejected(offset: int) -> None:
    now = time.time()
    sig = header(timestamp=int(now) + offset)
    with pytest.raises(SignatureError, match="tolerance"):
        verify(BODY, sig, SECRETS, 300, now=now)


@pytest.mark.parametrize("offset", [-299, 299])
def test_timestamps_inside_the_tolerance_verify(offset: int) -> None:
    now = time.time()
    assert verify(BODY, header(timestamp=int(now) + offset), SECRETS, 300, now=now) == 0


def test_a_body_that_is_not_utf8_is_rejected() -> None:
    with pytest.raises(SignatureError, match="UTF-8"):
        verify(b"\xff\xfe", "t=1,v1=00", SECRETS, 300)


def _sig(body: bytes, secret: str, timestamp: int) -> str:
    return header(body, secret, timestamp).split("v1=")[1]


def test_an_old_delivery_with_a_fresh_timestamp_slipped_into_the_header_is_rejected() -> None:
    now = time.time()
    old = int(now) - 3600  # captured an hour ago, long out of the tolerance
    replay = f" t={int(now)},t={old},v1={_sig(BODY, 'whsec_new', old)}"
    with pytest.raises(SignatureError) as caught:
        verify(BODY, replay, SECRETS, 300, now=now)
    assert caught.value.code == "malformed"


@pytest.mark.parametrize(
    "template",
    [
        "t={t},t={t},v1={s}",  # t twice, even with the same value
        " t={t},v1={s}",
        "t={t} ,v1={s}",
        "t= {t},v1={s}",
        "t={t},v1={s} ",
        "t={t},\tv1={s}",
        "t=+{t},v1={s}",
        "t={t},v1",
        "t={t},,v1={s}",
        "t={t}",
        "t={t},v1={s}=",
    ],
)
def test_headers_that_are_not_exactly_stripes_format_are_malformed(template: str) -> None:
    now = int(time.time())
    sig = template.format(t=now, s=_sig(BODY, "whsec_new", now))
    with pytest.raises(SignatureError) as caught:
        verify(BODY, sig, SECRETS, 300, now=now)
    assert caught.value.code == "malformed"


def test_other_schemes_beside_v1_are_allowed_as_stripe_sends_them() -> None:
    now = int(time.time())
    sig = f"t={now},v1={'0' * 64},v1={_sig(BODY, 'whsec_old', now)},v0={'a' * 64}"
    assert verify(BODY, sig, SECRETS, 300, now=now) == 1
