"""`seatflow license`: check license files offline; print the public key."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import bootstrap
from cli.common import Subparsers, command, group
from domain.licenses import LicenseKind


def verify(args: argparse.Namespace) -> int:
    from adapters.license_signer import verify_file

    keys = [
        line.strip()
        for given in args.public_key
        for line in (Path(given).read_text() if Path(given).is_file() else given).splitlines()
        if line.strip()
    ]
    verdict = verify_file(Path(args.file).read_text(), keys, args.machine_id, kind=args.kind)
    if not verdict.ok:
        print(f"invalid: {verdict.reason}", file=sys.stderr)
        return 1
    c = verdict.claims
    until = c.get("expires_at") or c.get("valid_until")
    bound = f", machine {c['machine_id']}" if c.get("kind") == "offline" else ""
    seats = f", {c['seats']} seat(s), {c['interval']}ly" if "seats" in c else ""
    print(
        f"valid: {c['kind']} license {c['license_id']} v{c['version']} for "
        f"{c['organization_id']}, {c['license_type']}{seats}{bound}, until {until}"
    )
    return 0


def public_key(args: argparse.Namespace) -> int:
    from adapters.license_signer import load_signer

    print(load_signer(bootstrap.runtime().settings).public_key)
    return 0


def register(sub: Subparsers) -> None:
    lic = group(sub, "license", "license files")
    check = command(
        lic,
        "verify",
        "check a license file offline (no network, no database)",
        "seatflow license verify off_123.json --public-key key.pub --machine-id build-agent-7",
        verify,
    )
    check.add_argument("file")
    check.add_argument(
        "--public-key",
        required=True,
        action="append",
        help="base64 key, or a file holding keys one a line; again for another key (while the "
        "signing key is rotated, trust the old and the new one)",
    )
    check.add_argument(
        "--machine-id",
        help="the machine an offline license must be bound to (implies --kind offline)",
    )
    check.add_argument(
        "--kind",
        choices=[k.value for k in LicenseKind],
        help="the kind the file must be (a subscription license never passes as offline)",
    )
    command(
        lic,
        "public-key",
        "print the public key to ship with clients",
        "seatflow license public-key > seatflow.pub",
        public_key,
    )
    register_keygen(lic)


# -- keygen --------------------------------------------------------------------------------


def keygen(args: argparse.Namespace) -> int:
    from adapters.license_signer import LicenseSigner, new_private_key_b64

    key = new_private_key_b64()
    print(key)
    print(f"public key: {LicenseSigner.from_base64(key).public_key}", file=sys.stderr)
    print("set LICENSE_SIGNING_KEY to the line above; keep it secret", file=sys.stderr)
    return 0


def register_keygen(lic: Subparsers) -> None:
    command(
        lic,
        "keygen",
        "print a new license signing key (base64 Ed25519) for LICENSE_SIGNING_KEY",
        "seatflow license keygen > signing.key",
        keygen,
    )
