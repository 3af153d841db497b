"""The service catalogue: what residents can ask for and the skill it needs."""

from __future__ import annotations

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
