"""JSON shapes of licenses and offline licenses."""

from __future__ import annotations

from typing import Any

from api.serializers import timestamp
from domain.licenses import License, OfflineActivation


def license(item: License) -> dict[str, Any]:
    return {
        "id": item.id,
        "license_type": item.license_type,
        "tier": item.tier,
        "features": list(item.features),
        "seats": item.seats,
        "interval": item.interval,
        "version": item.version,
        "status": item.status,
        "valid_until": timestamp(item.valid_until),
        "issued_at": timestamp(item.issued_at),
        "cause": item.cause,
    }


def activation(item: OfflineActivation) -> dict[str, Any]:
    return {
        "id": item.id,
        "license_type": item.license_type,
        "machine_id": item.machine_id,
        "tier": item.tier,
        "features": list(item.features),
        "status": item.status,
        "version": item.version,
        "expires_at": timestamp(item.expires_at),
    }
