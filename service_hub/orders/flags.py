"""What the caller may do with an order now, as flags (`can_cancel`, `can_urge`, `can_review`
…) for the mini-program's and the mobile view's buttons. Each flag asks the rule that decides
the action itself: the order lifecycle's `check` (read only: it raises, it never writes) for
every action of POST /orders/{id}/{action}, the review rule for reviews. So a flag and the
route cannot disagree (tests/test_order_representations.py tries every flag both ways)."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from models import OrderStatus, Review, ServiceOrder
from models import order_lifecycle as lifecycle
from service_hub.auth.tokens import Principal
from service_hub.orders.service import actor_of
from service_hub.plumbing.errors import AppError
from service_hub.plumbing.extensions import db
from service_hub.reviews.service import review_refusal

# Flag name → the action it stands for: one per action the route takes, named after it.
ACTION_FLAGS: dict[str, str] = {
    f"can_{name.replace('-', '_')}": name for name in lifecycle.ROUTE_ACTIONS
}
REVIEW_FLAG = "can_review"
FLAGS = (*ACTION_FLAGS, REVIEW_FLAG)

# What a caller brings with an action (a reason, a window, an engineer) is not the state of
# the order: a flag says the action is open, given them.
_GIVEN = object()
_A_REASON = "…"


def may(principal: Principal, order: ServiceOrder, action: str) -> bool:
    """Whether the caller may take `action` on the order now (given what it asks for)."""
    rule = lifecycle.ACTIONS[action].who.get(principal.role)
    if rule is None or order.status not in rule.sources:
        # `check` refuses either way; asking it would only cost its party queries.
        return False
    needs = {fact: _GIVEN for fact in lifecycle.ACTIONS[action].needs}
    try:
        lifecycle.check(order, action, actor_of(principal), _A_REASON, **needs)
    except AppError:
        return False
    return True


def reviewed_order_ids(order_ids: Iterable[int]) -> set[int]:
    """Which of these orders have their review (one query)."""
    ids = list(order_ids)
    if not ids:
        return set()
    return set(db.session.scalars(sa.select(Review.order_id).where(Review.order_id.in_(ids))))


def flags_for(principal: Principal, orders: list[ServiceOrder]) -> dict[int, dict[str, bool]]:
    """Every flag for every order, by order id: no query per order for a resident (one for
    which have their review); an engineer's `can_second_visit` on a completed order and
    `can_accept`/`can_decline` on an offered one ask the lifecycle's guard and party
    queries, one each. `can_accept` can still meet 409 offer_expired in the seconds between
    an offer's deadline and its expiry job."""
    reviewed: set[int] = set()
    if principal.role == "resident":
        reviewed = reviewed_order_ids(o.id for o in orders if o.status == OrderStatus.COMPLETED)
    flags = {}
    for order in orders:
        flags[order.id] = {flag: may(principal, order, a) for flag, a in ACTION_FLAGS.items()}
        flags[order.id][REVIEW_FLAG] = (
            principal.role == "resident"
            and order.id not in reviewed
            and review_refusal(order, principal.id) is None
        )
    return flags
