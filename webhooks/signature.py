"""Stripe-Signature verification over the raw body, with secret rotation.

Stripe signs `"{t}.{body}"` with HMAC-SHA256. We try every configured secret (several are
configured while a secret is rolled) and report which one matched. The SDK's
`verify_header` only rejects timestamps that are too old; a timestamp too far in the future is
as suspicious (a replay prepared in advance), so it is rejected here too.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import stripe


class SignatureError(Exception):
    """The request is not a genuine, fresh Stripe delivery; the message says why and
    `code` names the reason for metrics (missing, malformed, encoding, timestamp, mismatch)."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


def _timestamp(header: str) -> int:
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            try:
                return int(value)
            except ValueError:
                break
    raise SignatureError("malformed Stripe-Signature header", "malformed")


def verify(
    payload: bytes,
    header: str | None,
    secrets: Sequence[str],
    tolerance: int,
    now: float | None = None,
) -> int:
    """Return the index of the secret that signed `payload`, or raise SignatureError."""
    if not header:
        raise SignatureError("missing Stripe-Signature header", "missing")
    try:
        body = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise SignatureError("body is not UTF-8", "encoding") from None
    timestamp = _timestamp(header)
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise SignatureError("timestamp outside the tolerance window", "timestamp")
    for index, secret in enumerate(secrets):
        try:
            # Tolerance is enforced above in both directions; the SDK only checks the HMAC.
            stripe.WebhookSignature.verify_header(body, header, secret, tolerance=None)
        except stripe.SignatureVerificationError:
            continue
        return index
    raise SignatureError("no signature matches a configured secret", "mismatch")
