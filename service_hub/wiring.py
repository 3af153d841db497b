"""Composition: what the app wires together at start-up, declared as data in one place.

- Outbox handlers: which function runs each kind of outbox row, on which queue. The outbox is
  plumbing and knows no domain; consequences travel upward only through these registrations.
- Periodic jobs: what runs, on which queue, how often. Production: `flask cron` runs RQ's
  cron scheduler with them (one such process). Embedded default: the in-process queue re-arms
  each job after it runs.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from flask import Flask, current_app

from dispatch.assignment import sweep
from dispatch.jobs import handle_dispatch_message
from dispatch.standing import handle_recompute_message, refresh_all
from models import order_lifecycle as lifecycle
from notifications.fanout import handle_community_broadcast, reconcile
from notifications.inbox import handle_resident_notice
from notifications.reminders import remind_upcoming_activities
from notifications.templates import DEFAULT_TEMPLATE_IDS
from service_hub.communities import home_cache
from service_hub.communities.service import FIRST_BINDING_HOOKS
from service_hub.completion.service import confirm_overdue, on_disputed
from service_hub.coupons.notices import remind_expiring_coupons
from service_hub.coupons.rewards import reward_first_binding
from service_hub.kpis.rollup import count_event
from service_hub.orders.service import manages_region, on_accepted, on_cancelled, on_complained
from service_hub.plumbing import outbox
from service_hub.plumbing.extensions import db
from service_hub.plumbing.jobqueue import InProcessJobQueue
from service_hub.plumbing.outbox import OutboxMessage, redeliver_overdue, relay_stale
from service_hub.sla.checks import check_promises
from service_hub.sla.tracking import track
from service_hub.visits.service import open_order_visit

# kind → (queue, handler of the OutboxMessage)
OUTBOX_HANDLERS = {
    "order_dispatch": ("dispatch", handle_dispatch_message),
    "visit_announced": ("notifications", handle_community_broadcast),
    "resident_notify": ("notifications", handle_resident_notice),
    "standing_recompute": ("default", handle_recompute_message),
    # A community's cached home changed (a visit, a standing, a campaign): docs/performance.md.
    home_cache.KIND: ("default", home_cache.handle_changed_message),
}

# Consequences that travel up from a lower rule: (the rule's hook list, what runs).
# The order lifecycle (models/order_lifecycle.py) sits below every rule that reacts to it.
HOOKS = (
    (lifecycle.EVENT_HOOKS, count_event),  # KPI rollup counts every timeline event
    (lifecycle.EVENT_HOOKS, track),  # deadlines, SLA state and breaches follow every step
    (lifecycle.REGION_CHECKS, manages_region),  # "a manager of the order's region"
    (lifecycle.AFTER["accept"], open_order_visit),  # an accepted order is a visit
    (lifecycle.AFTER["assign"], open_order_visit),
    (lifecycle.AFTER["revisit"], open_order_visit),  # a second visit by the same engineer
    (lifecycle.AFTER["cancel"], on_cancelled),
    # Only accepted work counts as done (points, standing, coupon spent, butler's reward):
    # the resident's confirmation, or the system's when nobody answered in time.
    (lifecycle.AFTER["confirm"], on_accepted),
    (lifecycle.AFTER["auto-confirm"], on_accepted),
    (lifecycle.AFTER["dispute"], on_disputed),  # a follow-up for the region's managers
    (lifecycle.AFTER["complain"], on_complained),
    (FIRST_BINDING_HOOKS, reward_first_binding),
)

# (function, queue, every N seconds)
PERIODIC_JOBS = (
    # Outbox rows never relayed or whose job the queue lost: re-driven within seconds of an
    # outage's end (docs/operations.md, "Outages").
    (relay_stale, "default", 5),
    (redeliver_overdue, "default", 60),
    (sweep, "dispatch", 60),
    # Orders at risk and breached: marked, counted, alerted; unanswered offers passed on.
    (check_promises, "default", 60),
    # Completed work nobody answered for in ACCEPTANCE_AUTO_HOURS is accepted by itself.
    (confirm_overdue, "default", 5 * 60),
    (reconcile, "notifications", 60),
    (remind_upcoming_activities, "notifications", 15 * 60),
    (remind_expiring_coupons, "notifications", 15 * 60),
    (refresh_all, "default", 24 * 3600),
)


def wire(app: Flask) -> None:
    """Give WeChat template kinds left unconfigured their demo ids, register the outbox
    handlers, and arm the periodic jobs on an in-process queue that
    runs timers (production runs them with `flask cron`)."""
    app.config["WECHAT_TEMPLATES"] = {**DEFAULT_TEMPLATE_IDS, **app.config["WECHAT_TEMPLATES"]}
    for kind, (queue_name, handler) in OUTBOX_HANDLERS.items():
        outbox.register(kind, queue_name, handler)
    for hooks, hook in HOOKS:
        if hook not in hooks:
            hooks.append(hook)
    queue = app.extensions["job_queue"]
    if isinstance(queue, InProcessJobQueue) and app.config["INPROCESS_TIMERS"]:
        for func, queue_name, seconds in PERIODIC_JOBS:
            queue.every(queue_name, seconds, func)


def metrics_state() -> dict:
    """Figures /metrics reads when scraped (service_hub/plumbing/observability.py): jobs
    waiting per queue, and outbox rows not yet handed to the queue with the oldest's age."""
    depths = current_app.extensions["job_queue"].depths()
    waiting, oldest = db.session.execute(
        sa.select(sa.func.count(), sa.func.min(OutboxMessage.created_at)).where(
            OutboxMessage.relayed_at.is_(None)
        )
    ).one()
    db.session.rollback()
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    age = (datetime.now(UTC) - oldest).total_seconds() if oldest is not None else 0.0
    return {
        "service_hub_queue_jobs_waiting": ("Jobs waiting in each queue", depths, "queue"),
        "service_hub_outbox_unrelayed": ("Outbox rows not yet handed to the queue", waiting, ""),
        "service_hub_outbox_oldest_unrelayed_seconds": (
            "Age of the oldest outbox row not yet handed to the queue",
            age,
            "",
        ),
    }
