"""Rules about communities and who is bound to them."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from models import (
    Community,
    CommunityBinding,
    Resident,
    ServiceType,
)
from service_hub.plumbing.errors import Conflict, NotFound
from service_hub.plumbing.extensions import db
from service_hub.plumbing.outbox import commit_and_relay
from service_hub.plumbing.sql import lock_row, retry_transient, winner_of_unique_race


def get_community(community_id: int) -> Community:
    """The community, or a 404."""
    community = db.session.get(Community, community_id)
    if community is None:
        raise NotFound(
            f"No community {community_id}.", code="community_not_found", message_zh="小区不存在"
        )
    return community


def is_bound(resident_id: int, community_id: int) -> bool:
    """Whether the resident belongs to the community."""
    return db.session.scalar(
        sa.select(
            sa.exists().where(
                CommunityBinding.resident_id == resident_id,
                CommunityBinding.community_id == community_id,
            )
        )
    )


# Consequences of a resident's first binding, in its transaction: (resident_id, community_id).
# Registered at start-up (service_hub/wiring.py), so this rule needs no domain above it.
FIRST_BINDING_HOOKS: list[Callable[[int, int], None]] = []


def _binding(resident_id: int, community_id: int) -> CommunityBinding | None:
    return db.session.scalar(
        sa.select(CommunityBinding)
        .where(
            CommunityBinding.resident_id == resident_id,
            CommunityBinding.community_id == community_id,
        )
        .execution_options(populate_existing=True)
    )


@retry_transient
def bind(resident_id: int, community_id: int) -> tuple[CommunityBinding, bool]:
    """Bind a resident to a community; a repeat is harmless. Returns (binding, created).

    The resident's row lock comes first, so parallel binds of one resident run one after
    another and the limit on bindings holds."""
    get_community(community_id)
    lock_row(Resident, resident_id)
    existing = _binding(resident_id, community_id)
    if existing:
        db.session.rollback()
        return existing, False
    limit = current_app.config["MAX_COMMUNITIES_PER_RESIDENT"]
    count = db.session.scalar(
        sa.select(sa.func.count()).where(CommunityBinding.resident_id == resident_id)
    )
    if count >= limit:
        db.session.rollback()
        raise Conflict(
            f"A resident may bind at most {limit} communities.",
            code="too_many_communities",
            message_zh=f"最多绑定{limit}个小区",
        )
    binding = CommunityBinding(resident_id=resident_id, community_id=community_id)
    db.session.add(binding)
    try:
        if count == 0:  # e.g. coupons: a first community may earn a participation reward
            for hook in FIRST_BINDING_HOOKS:
                hook(resident_id, community_id)
        commit_and_relay()  # relays the reward's notice, if any
    except IntegrityError:
        # Only if the lock was bypassed: the database's unique key decides, once.
        winner = winner_of_unique_race(
            lambda: _binding(resident_id, community_id), code="bind_conflict"
        )
        return winner, False
    return binding, True


def unbind(resident_id: int, community_id: int) -> None:
    """Remove a binding; unbinding something not bound is harmless."""
    db.session.execute(
        sa.delete(CommunityBinding).where(
            CommunityBinding.resident_id == resident_id,
            CommunityBinding.community_id == community_id,
        )
    )
    db.session.commit()


def my_communities_query(resident_id: int) -> sa.Select:
    """The communities a resident is bound to, newest binding first."""
    return (
        sa.select(Community)
        .join(CommunityBinding, CommunityBinding.community_id == Community.id)
        .where(CommunityBinding.resident_id == resident_id)
        .order_by(CommunityBinding.created_at.desc(), Community.id)
    )


def services_query() -> sa.Select:
    """The active service catalogue."""
    return sa.select(ServiceType).where(ServiceType.active.is_(True)).order_by(ServiceType.id)


def create_service_type(fields: dict) -> ServiceType:
    """Add a service type; its code is unique."""
    service_type = ServiceType(**fields)
    db.session.add(service_type)
    try:
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        raise Conflict("That service code is taken.", code="service_code_taken") from exc
    return service_type


def update_service_type(service_type_id: int, changes: dict) -> ServiceType:
    """Change a service type's fields."""
    service_type = db.session.get(ServiceType, service_type_id)
    if service_type is None:
        raise NotFound(f"No service type {service_type_id}.", code="service_type_not_found")
    for name, value in changes.items():
        setattr(service_type, name, value)
    try:
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        raise Conflict("That service code is taken.", code="service_code_taken") from exc
    return service_type
