"""Periodic work, declared as data in one place: what runs, on which queue, how often.

Production: `flask cron` runs RQ's cron scheduler with these jobs (one such process).
Embedded default: the in-process queue re-arms each job after it runs.
"""

from __future__ import annotations

from dispatch.assignment import sweep
from dispatch.standing import refresh_all
from notifications.fanout import reconcile
from notifications.outbox import redeliver_overdue, relay_stale
from notifications.reminders import remind_upcoming_activities
from service_hub.coupons.notices import remind_expiring_coupons

# (function, queue, every N seconds)
PERIODIC_JOBS = (
    # Outbox rows never relayed or whose job the queue lost: re-driven within seconds of an
    # outage's end (docs/operations.md, "Outages").
    (relay_stale, "default", 5),
    (redeliver_overdue, "default", 60),
    (sweep, "dispatch", 60),
    (reconcile, "notifications", 60),
    (remind_upcoming_activities, "notifications", 15 * 60),
    (remind_expiring_coupons, "notifications", 15 * 60),
    (refresh_all, "default", 24 * 3600),
)
