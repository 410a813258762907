"""Ed25519 license files: sign, and verify with nothing but the public key.

A license file is JSON: `{"license": {...claims}, "signature": base64, "algorithm":
"Ed25519", "key_id": ...}`. The signature covers the claims serialized canonically (sorted
keys, no spaces), so editing any field breaks it.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from config.settings import ConfigError, Settings
from domain.licenses import LicenseKind


def canonical(claims: dict[str, Any]) -> bytes:
    return json.dumps(claims, sort_keys=True, separators=(",", ":")).encode()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class LicenseSigner:
    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key
        raw = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.public_key = _b64(raw)
        self.key_id = hashlib.sha256(raw).hexdigest()[:16]

    @classmethod
    def from_base64(cls, value: str) -> LicenseSigner:
        try:
            raw = base64.b64decode(value.strip(), validate=True)
            return cls(Ed25519PrivateKey.from_private_bytes(raw))
        except ValueError:
            raise ConfigError(
                "LICENSE_SIGNING_KEY must be a base64 raw 32-byte Ed25519 private key"
            ) from None

    def sign(self, claims: dict[str, Any]) -> str:
        return _b64(self._key.sign(canonical(claims)))

    def file(self, claims: dict[str, Any], signature: str) -> str:
        return (
            json.dumps(
                {
                    "license": claims,
                    "signature": signature,
                    "algorithm": "Ed25519",
                    "key_id": self.key_id,
                },
                indent=2,
                sort_keys=True,
            )
            + "\n"
        )


def new_private_key_b64() -> str:
    from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat

    key = Ed25519PrivateKey.generate()
    return _b64(key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()))


def load_signer(settings: Settings) -> LicenseSigner:
    """The configured key; in development one generated on first run, kept outside the repo."""
    if settings.license_signing_key:
        return LicenseSigner.from_base64(settings.license_signing_key)
    if settings.production:
        raise ConfigError("LICENSE_SIGNING_KEY is required when SEATFLOW_ENV=production")
    path: Path = settings.license_key_file
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(new_private_key_b64() + "\n")
    return LicenseSigner.from_base64(path.read_text())


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str
    claims: dict[str, Any]


def verify_file(
    text: str,
    public_key_b64: str | Sequence[str],
    machine_id: str | None = None,
    now: datetime | None = None,
    *,
    kind: str | None = None,
) -> Verdict:
    """Check a license file offline: signature, kind, revocation, expiry, machine binding.

    The file must be the kind the caller verifies: `kind`, or offline when a machine id is
    given (a subscription license is bound to no machine, so it never passes as one).
    Several public keys: the signature of any one of them will do (while the signing key is
    rotated, files of the old and of the new key are both in use)."""
    keys = [public_key_b64] if isinstance(public_key_b64, str) else list(public_key_b64)
    try:
        document = json.loads(text)
        claims, signature = document["license"], base64.b64decode(document["signature"])
        publics = [Ed25519PublicKey.from_public_bytes(base64.b64decode(k)) for k in keys]
    except (ValueError, KeyError, TypeError):
        return Verdict(False, "not a seatflow license file, or not a valid public key", {})
    if not any(_signed_by(public, signature, claims) for public in publics):
        return Verdict(
            False, "signature does not match: the file was edited or signed by another key", claims
        )
    problem = _kind_problem(claims, machine_id, kind) or _validity_problem(claims, now)
    if problem is None and claims.get("kind") == LicenseKind.OFFLINE:
        problem = _binding_problem(claims, machine_id)
    return Verdict(problem is None, problem or "valid", claims)


def _signed_by(public: Ed25519PublicKey, signature: bytes, claims: dict[str, Any]) -> bool:
    try:
        public.verify(signature, canonical(claims))
    except InvalidSignature:
        return False
    return True


def _kind_problem(claims: dict[str, Any], machine_id: str | None, kind: str | None) -> str | None:
    if kind == LicenseKind.SUBSCRIPTION and machine_id is not None:
        return "a subscription license is bound to no machine: verify it without --machine-id"
    expected = kind or (LicenseKind.OFFLINE.value if machine_id is not None else None)
    found = claims.get("kind")
    if expected is None or found == expected:
        return None
    return f"this is {_a(found)} license, not {_a(expected)} license"


def _a(kind: object) -> str:
    return "an offline" if kind == LicenseKind.OFFLINE else f"a {kind}"


def _validity_problem(claims: dict[str, Any], now: datetime | None) -> str | None:
    if claims.get("revoked"):
        return "license was revoked"
    expiry = claims.get("expires_at") or claims.get("valid_until")
    current = now or datetime.now(UTC)
    if not expiry or datetime.fromisoformat(expiry.replace("Z", "+00:00")) <= current:
        return f"license expired at {expiry}"
    return None


def _binding_problem(claims: dict[str, Any], machine_id: str | None) -> str | None:
    if machine_id is None:
        return "offline license: give --machine-id to check the binding"
    if machine_id != claims.get("machine_id"):
        return f"license is bound to machine {claims.get('machine_id')!r}, not {machine_id!r}"
    return None
