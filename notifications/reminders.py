"""Reminders that come from the calendar rather than from an event: activities soon."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from models import Activity, ActivitySignup, ActivityStatus, OutboxMessage, SignupStatus
from models.base import utcnow
from service_hub.plumbing.extensions import db
from service_hub.plumbing.outbox import commit_and_relay, record
from service_hub.plumbing.timefmt import local_datetime_text

HORIZON = timedelta(hours=24)


def remind_upcoming_activities() -> int:
    """Periodic: tell everyone signed up for an activity starting within a day, once each."""
    now = utcnow()
    rows = db.session.execute(
        sa.select(Activity, ActivitySignup.resident_id)
        .join(ActivitySignup, ActivitySignup.activity_id == Activity.id)
        .where(
            Activity.status == ActivityStatus.OPEN,
            Activity.starts_at > now,
            Activity.starts_at <= now + HORIZON,
            ActivitySignup.status == SignupStatus.ACTIVE,
        )
    ).all()
    wanted = {f"activity:{a.id}:reminder:{rid}": (a, rid) for a, rid in rows}
    if not wanted:
        return 0
    done = set(
        db.session.scalars(
            sa.select(OutboxMessage.event_key).where(
                OutboxMessage.kind == "resident_notify", OutboxMessage.event_key.in_(wanted)
            )
        )
    )
    for key, (activity, resident_id) in wanted.items():
        if key in done:
            continue
        record(
            "resident_notify",
            key,
            {
                "kind": "activity_reminder",
                "resident_id": resident_id,
                "activity_id": activity.id,
                "title": activity.title,
                "place": activity.place,
                "local_start": local_datetime_text(activity.starts_at),
            },
        )
    commit_and_relay()
    return len(wanted) - len(done)
