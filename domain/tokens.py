"""Bearer tokens: random, shown once, stored as SHA-256 hashes, one member each."""

from __future__ import annotations

import hashlib
import secrets


def new_token() -> str:
    return f"sf_{secrets.token_urlsafe(32)}"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
