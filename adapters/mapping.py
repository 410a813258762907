"""The imperative mapping of the plain domain dataclasses onto the tables of adapters/orm.py:
the domain never knows it is stored."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import registry, relationship

from adapters.orm import (
    discount_codes,
    estimates,
    members,
    metadata,
    offline_activations,
    organizations,
    scheduled_changes,
    subscriptions,
    upgrade_transitions,
    upgrades,
)
from domain import model
from domain.discounts import Discount
from domain.licenses import OfflineActivation
from domain.renewal import ScheduledChange
from domain.upgrades import Estimate, Upgrade, UpgradeTransition

mapper_registry = registry(metadata=metadata)
_mapped = False


def _fresh_aggregate(organization: model.Organization, _context: Any) -> None:
    organization.ledger = []
    organization.events = []


def start_mappers() -> None:
    """Map the domain classes once per process (idempotent)."""
    global _mapped
    if _mapped:
        return
    mapper_registry.map_imperatively(model.Subscription, subscriptions)
    # model.LedgerEntry is not mapped: its rows are only ever inserted (flush_ledgers, from
    # the plain dataclass's fields) and read back by queries on the table, so an entry costs
    # no instrumentation (one is made for every seat change).
    mapper_registry.map_imperatively(model.Member, members)
    mapper_registry.map_imperatively(
        model.Organization,
        organizations,
        properties={
            "subscriptions": relationship(
                model.Subscription,
                lazy="selectin",
                cascade="all, delete-orphan",
                order_by=subscriptions.c.id,
            ),
        },
    )
    # The seat ledger is append-only and ever growing: an aggregate holds only the entries it
    # added in this unit of work (the repository saves them); history is read with a query.
    # Its events are not stored at all: the unit of work hands them on before it commits.
    event.listen(model.Organization, "load", _fresh_aggregate)
    # License is not mapped either: versions are only ever inserted and marked superseded
    # (SqlLicenseRepository.write) and read with queries on the table, so a new version (one
    # for every seat change) costs no instrumentation.
    mapper_registry.map_imperatively(OfflineActivation, offline_activations)
    mapper_registry.map_imperatively(Discount, discount_codes)
    mapper_registry.map_imperatively(Estimate, estimates)
    mapper_registry.map_imperatively(UpgradeTransition, upgrade_transitions)
    mapper_registry.map_imperatively(ScheduledChange, scheduled_changes)
    mapper_registry.map_imperatively(
        Upgrade,
        upgrades,
        properties={
            "history": relationship(
                UpgradeTransition,
                lazy="selectin",
                cascade="all, delete-orphan",
                order_by=upgrade_transitions.c.id,
            )
        },
    )
    _mapped = True
