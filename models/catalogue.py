"""The service catalogue: what residents can ask for, the skill it needs, and the checklist an
engineer fills before the work counts as complete."""

from __future__ import annotations

from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from service_hub.plumbing.extensions import db


class ServiceType(db.Model):
    """A kind of service (install a purifier, clean an air conditioner …)."""

    __tablename__ = "service_type"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(64))
    skill: Mapped[str] = mapped_column(sa.String(32))
    min_skill_level: Mapped[int] = mapped_column(default=1)
    duration_minutes: Mapped[int] = mapped_column(default=60)
    base_price_cents: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    # Service level targets (SLA), in minutes; None = no promise on that step.
    # accept: from creation to an engineer's acceptance;
    # arrive: after the window starts (or, without a window, after acceptance);
    # complete: after arrival (service started).
    sla_accept_minutes: Mapped[int | None] = mapped_column(default=30)
    sla_arrive_minutes: Mapped[int | None] = mapped_column(default=30)
    sla_complete_minutes: Mapped[int | None] = mapped_column(default=240)


class ChecklistKind(StrEnum):
    """What a checklist item asks for."""

    YES_NO = "yes_no"  # a yes or a no
    NUMBER = "number"  # a number, with its unit, within [min_value, max_value] when given
    TEXT = "text"  # a short text
    PHOTO = "photo"  # a photo uploaded here (POST /uploads)


class ChecklistItem(db.Model):
    """One item of a service type's completion checklist (完工检查单), in its place.

    Admins define the list (PUT /services/{id}/checklist replaces it whole); an order keeps
    the answers with each item's label as it was when filled (service_order.checklist_answers),
    so a later edit of the list never rewrites a finished order's report.
    """

    __tablename__ = "checklist_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    service_type_id: Mapped[int] = mapped_column(sa.ForeignKey("service_type.id"), index=True)
    position: Mapped[int]
    # Stable within the service type: answers name items by key.
    key: Mapped[str] = mapped_column(sa.String(32))
    label: Mapped[str] = mapped_column(sa.String(64))
    kind: Mapped[str] = mapped_column(sa.String(16))
    unit: Mapped[str | None] = mapped_column(sa.String(16))
    min_value: Mapped[float | None] = mapped_column(sa.Float)
    max_value: Mapped[float | None] = mapped_column(sa.Float)
    required: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (
        sa.UniqueConstraint("service_type_id", "key"),
        sa.UniqueConstraint("service_type_id", "position"),
        sa.CheckConstraint(
            "kind IN ('yes_no', 'number', 'text', 'photo')", name="checklist_item_kind"
        ),
        sa.CheckConstraint(
            "min_value IS NULL OR max_value IS NULL OR min_value <= max_value",
            name="checklist_item_range",
        ),
    )
