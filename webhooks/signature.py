"""Stripe-Signature verification over the raw body, with secret rotation.

Stripe signs `"{t}.{body}"` with HMAC-SHA256 and sends `t=<unix time>,v1=<hex>[,v1=…][,v0=…]`.
The header is parsed once, strictly (exactly one `t` of digits, every item `key=value`
without whitespace, at least one `v1`), and the tolerance and the HMAC are checked on that
one parse: a header read one way for the clock and another way for the signature would let
an old signed delivery through with a fresh `t` beside it. Every configured secret is tried
(several while a secret is rolled) and the one that matched is reported. A timestamp too far
in the future is rejected as well as one too old (a replay prepared in advance).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass

SCHEME = "v1"
_ITEM = re.compile(r"([A-Za-z0-9_]+)=([A-Za-z0-9_]*)")
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_V1 = re.compile(r"[0-9a-f]{64}")


class SignatureError(Exception):
    """The request is not a genuine, fresh Stripe delivery; the message says why and
    `code` names the reason for metrics (missing, malformed, encoding, timestamp, mismatch)."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class SignatureHeader:
    timestamp: int
    signatures: tuple[str, ...]  # the v1 ones, lowercase hex


def _malformed(why: str) -> SignatureError:
    return SignatureError(f"malformed Stripe-Signature header: {why}", "malformed")


def parse_header(header: str) -> SignatureHeader:
    """The one reading of a Stripe-Signature header; SignatureError if it is not exact."""
    timestamps: list[str] = []
    signatures: list[str] = []
    for item in header.split(","):
        match = _ITEM.fullmatch(item)
        if match is None:
            raise _malformed("every item must be key=value without spaces")
        key, value = match.groups()
        if key == "t":
            timestamps.append(value)
        elif key == SCHEME:
            if not _V1.fullmatch(value):
                raise _malformed("a v1 signature must be 64 lowercase hex digits")
            signatures.append(value)
    if len(timestamps) != 1 or not _TIMESTAMP.fullmatch(timestamps[0]):
        raise _malformed("exactly one t of digits is required")
    if not signatures:
        raise _malformed("no v1 signature")
    return SignatureHeader(int(timestamps[0]), tuple(signatures))


def _expected(timestamp: int, body: bytes, secret: str) -> str:
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()


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
        payload.decode("utf-8")
    except UnicodeDecodeError:
        raise SignatureError("body is not UTF-8", "encoding") from None
    parsed = parse_header(header)
    current = time.time() if now is None else now
    if abs(current - parsed.timestamp) > tolerance:
        raise SignatureError("timestamp outside the tolerance window", "timestamp")
    for index, secret in enumerate(secrets):
        expected = _expected(parsed.timestamp, payload, secret)
        # Every candidate is compared, in constant time, whatever matched before.
        if sum(hmac.compare_digest(expected, s) for s in parsed.signatures):
            return index
    raise SignatureError("no signature matches a configured secret", "mismatch")
