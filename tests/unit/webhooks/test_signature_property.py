"""The receiver's header parser against the Stripe SDK's own verification.

Whatever header is generated, the receiver never accepts one the SDK rejects (signature or
timestamp); for a header in Stripe's own format (t once, then signatures of any scheme in
any order) both agree.
"""

from __future__ import annotations

import hashlib
import hmac
from types import SimpleNamespace
from unittest import mock

import stripe
import stripe._webhook
from hypothesis import example, given, settings
from hypothesis import strategies as st

from webhooks.signature import SignatureError, verify

SECRET = "whsec_property"
# A fixed instant for both: ours is given it, and the SDK's clock is stopped at it while it
# checks (so a slow run can never make the two disagree).
NOW = 1_800_000_000
TOLERANCE = 300
BODY = '{"id":"evt_p","object":"event"}'


def _mac(timestamp: int, body: str = BODY, secret: str = SECRET) -> str:
    signed = f"{timestamp}.{body}".encode()
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def _ours(header: str) -> bool:
    try:
        verify(BODY.encode(), header, (SECRET,), TOLERANCE, now=NOW)
    except SignatureError:
        return False
    return True


def _sdk(header: str) -> bool:
    stopped = SimpleNamespace(time=lambda: float(NOW))
    try:
        with mock.patch.object(stripe._webhook, "time", stopped):
            stripe.WebhookSignature.verify_header(BODY, header, SECRET, tolerance=TOLERANCE)
    except stripe.SignatureVerificationError:
        return False
    return True


OLD = NOW - 3600  # a delivery captured an hour ago
timestamps = st.sampled_from([NOW, OLD, OLD, NOW + 1, 0])
# Mostly well-formed pieces, so that whitespace and repeats meet valid signatures often.
blank = st.sampled_from(["", "", "", " ", "\t", "\n"])


KINDS = ["t", "t", "t", "v1", "v1", "v1", "t+", "v1bad", "v0", "junk", "text"]


@st.composite
def items(draw: st.DrawFn) -> str:
    t = draw(timestamps)
    kind = draw(st.sampled_from(KINDS))
    key, value = {
        "t": ("t", str(t)),
        "t+": ("t", draw(st.sampled_from([f"+{t}", f"{t}_0", f" {t}", f"{t}.0", "-1"]))),
        "v1": ("v1", _mac(t)),
        "v1bad": ("v1", draw(st.sampled_from([_mac(t).upper(), _mac(t)[:-1], "", "x"]))),
        "v0": ("v0", _mac(t)),
        "junk": (draw(st.sampled_from(["", "T", "v2", "t1", "v"])), draw(st.text(max_size=3))),
        "text": (draw(st.text(max_size=4)), draw(st.text(max_size=4))),
    }[kind]
    eq = draw(st.sampled_from(["=", "=", "=", "==", ""]))
    return draw(blank) + key + draw(blank) + eq + value + draw(blank)


@settings(max_examples=1000, deadline=None)
@given(st.lists(items(), min_size=0, max_size=6), st.sampled_from([",", ",", ", ", " ,"]))
@example([f" t={NOW}", f"t={OLD}", f"v1={_mac(OLD)}"], ",")  # the replay once accepted
def test_any_header_the_receiver_accepts_the_sdk_accepts(parts: list[str], sep: str) -> None:
    header = sep.join(parts)
    if _ours(header):
        assert _sdk(header), header


@st.composite
def stripe_format(draw: st.DrawFn) -> str:
    t = draw(timestamps)
    signed = draw(st.sampled_from([t, NOW, NOW - 3600]))
    signatures = draw(
        st.lists(
            st.sampled_from(
                [f"v1={_mac(signed)}", f"v1={'0' * 64}", f"v0={_mac(signed)}", f"v1={_mac(t)}"]
            ),
            min_size=1,
            max_size=4,
        )
    )
    return ",".join([f"t={t}", *signatures])


@settings(max_examples=300, deadline=None)
@given(stripe_format())
def test_on_headers_in_stripes_format_the_receiver_and_the_sdk_agree(header: str) -> None:
    assert _ours(header) == _sdk(header), header
