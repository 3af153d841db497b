"""The order's life in one place: every action as data, applied by one checked function.

`ACTIONS` says, for each thing that can happen to an order, who may do it (per role: which
party they must be, from which states, whether they must give a reason), the state it leads
to, and what follows: the timeline event (every step writes one, and `EVENT_HOOKS` count it,
e.g. the KPI rollup), the order's own columns it sets, offers it withdraws, the outbox
messages it records, and the consequences that the rules above register in `AFTER`.

`apply` is the only way an order changes state (`create` is the only way one is born); the
orders domain (HTTP actions), dispatch (offers, answers, expiries, assignment by hand) and
visit bookings all go through it, under the order's row lock (`lock_order`).

This module sits at the model layer, on purpose: it is the order aggregate's own rule, and
both the dispatch engine and the domain rules must reach it without an import climbing
(docs/architecture.md, "Order lifecycle"). It imports only models and plumbing; whatever it
needs from above (the KPI count, a manager's region, a visit opening on acceptance, a coupon
released on cancellation) is registered by the composition layer (`service_hub/wiring.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa

from models import (
    Acceptance,
    DispatchOffer,
    Engineer,
    OfferStatus,
    OrderEvent,
    OrderStatus,
    ServiceOrder,
    ServiceType,
)
from models.base import utcnow
from service_hub.plumbing.errors import AppError, Conflict, Forbidden, InvalidInput, NotFound
from service_hub.plumbing.extensions import db
from service_hub.plumbing.outbox import record
from service_hub.plumbing.timefmt import local_datetime_text

S = OrderStatus


@dataclass(frozen=True)
class Actor:
    """Who caused a change: a role and an id, or the system itself. `principal` is the
    authenticated caller behind an HTTP action (for the region check), else None."""

    kind: str  # resident, engineer, manager, admin, system
    id: int | None = None
    principal: object = field(default=None, compare=False, repr=False)


SYSTEM = Actor("system")

# Parties an actor may have to be, beyond their role.
OWNER = "owner"  # the resident who owns the order
ASSIGNED = "assigned"  # the engineer the order is assigned to
OFFERED = "offered"  # the engineer holding the order's pending offer
REGION = "region"  # a manager whose region includes the order's community


@dataclass(frozen=True)
class Rule:
    """What one role needs to take an action: being a party, the order in one of `sources`,
    and a reason when `reason_required` (its text is the 422's message)."""

    party: str | None
    sources: frozenset[str | None]
    reason_required: str | None = None


@dataclass(frozen=True)
class Action:
    """One thing that can happen to an order."""

    name: str  # as the API and callers say it
    event: str  # the timeline's word (and what KPI rollup counts)
    who: dict[str, Rule]  # role → rule; a role not listed may not
    forbidden: str  # the 403's message for a role not listed
    target: str | None  # the status it leads to (None: the status stays)
    needs: dict[str, str] = field(default_factory=dict)  # fact → 422 message when missing
    facts: frozenset[str] = frozenset()  # order columns a caller may set with it
    stamps: tuple[str, ...] = ()  # order columns set to now
    reason_kept_as: str | None = None  # order column the reason is kept in
    # where a window given with it (facts window_start, window_end) is kept: "<it>_start/_end"
    window_kept_as: str = "window"
    counted_in: str | None = None  # order column set to the number of its events on the order
    effects: tuple[str, ...] = ()  # changes of the order's own columns, in EFFECTS
    withdraws_offers: bool = False  # pending offers are withdrawn
    guards: tuple[str, ...] = ()  # further checks, in GUARDS
    messages: tuple[str, ...] = ()  # outbox messages, in MESSAGES
    # how it is reached: "action" (POST /orders/<id>/<action>), "create" (POST /orders, and
    # a visit booking), "booking" (POST /visits/<id>/book), "job" (the dispatch jobs),
    # "follow" (taken by what another action sets off: a second visit's new order)
    via: str = "action"


def _rules(sources, *, reason=None, **parties) -> dict[str, Rule]:
    return {role: Rule(party, frozenset(sources), reason) for role, party in parties.items()}


WAITING = (S.CREATED, S.DISPATCHING, S.OFFERED, S.UNASSIGNED)
# Who may cancel, from which states: the one place that says it.
RESIDENT_CANCELLABLE = frozenset({*WAITING, S.ACCEPTED, S.EN_ROUTE})
MANAGER_CANCELLABLE = RESIDENT_CANCELLABLE | {S.IN_SERVICE}
MANAGER_CANCEL_REASON = "Managers give a reason to cancel."
# A resident may urge (催单) an order still to be done: at most URGE_MAX times, URGE_INTERVAL
# apart. They may move its window before the engineer sets off, at most RESCHEDULE_MAX times
# (an engineer's proposal they accept does not count).
URGEABLE = frozenset({*WAITING, S.ACCEPTED, S.EN_ROUTE, S.IN_SERVICE})
URGE_MAX = 5
URGE_INTERVAL = timedelta(minutes=10)
RESCHEDULABLE = frozenset({*WAITING, S.ACCEPTED})
RESCHEDULE_MAX = 2
RESCHEDULE_REASON = "Say why the window changes."
# The resident's acceptance (验收) of completed work: they confirm it (also after a dispute is
# settled) or dispute it while it waits; the system confirms it when nobody answers in time.
CONFIRMABLE = frozenset({Acceptance.PENDING, Acceptance.DISPUTED})
AWAITING_RESIDENT = frozenset({Acceptance.PENDING})
NEW_WINDOW = {"window_start": "Give the new window's start.", "window_end": "Give its end."}
WINDOW = frozenset(NEW_WINDOW)

ACTIONS: dict[str, Action] = {
    a.name: a
    for a in (
        Action(
            "create",
            "create",
            # the system: a second visit's new order (the first order's second-visit asks)
            {"resident": Rule(OWNER, frozenset({None})), "system": Rule(None, frozenset({None}))},
            "Orders are created for a resident.",
            S.CREATED,
            messages=("dispatch_first",),
            via="create",
        ),
        Action(
            "book",
            "book",
            {"resident": Rule(OWNER, frozenset({S.CREATED}))},
            "Only the resident books a visit's slot.",
            S.ACCEPTED,
            stamps=("accepted_at",),
            via="booking",
        ),
        Action(
            "dispatch",
            "dispatch",
            {"system": Rule(None, frozenset({S.CREATED}))},
            "Dispatch is the system's.",
            S.DISPATCHING,
            via="job",
        ),
        Action(
            "offer",
            "offer",
            {"system": Rule(None, frozenset({S.DISPATCHING}))},
            "Dispatch is the system's.",
            S.OFFERED,
            facts=frozenset({"dispatch_breakdown"}),
            via="job",
        ),
        Action(
            "unassign",
            "unassign",
            {"system": Rule(None, frozenset({S.DISPATCHING}))},
            "Dispatch is the system's.",
            S.UNASSIGNED,
            facts=frozenset({"dispatch_breakdown", "unassigned_reason"}),
            via="job",
        ),
        Action(
            "expire",
            "expire",
            {"system": Rule(None, frozenset({S.OFFERED}))},
            "Offers expire by themselves.",
            S.DISPATCHING,
            messages=("dispatch_again",),
            via="job",
        ),
        Action(
            "accept",
            "accept",
            _rules({S.OFFERED}, engineer=OFFERED),
            "Only the offered engineer can answer an offer.",
            S.ACCEPTED,
            facts=frozenset({"engineer_id"}),
            stamps=("accepted_at",),
            messages=("order_accepted",),
        ),
        Action(
            "decline",
            "decline",
            _rules({S.OFFERED}, engineer=OFFERED),
            "Only the offered engineer can answer an offer.",
            S.DISPATCHING,
            messages=("dispatch_again",),
        ),
        Action(
            "en-route",
            "en_route",
            _rules({S.ACCEPTED}, engineer=ASSIGNED, admin=None),
            "en-route is for: engineer.",
            S.EN_ROUTE,
            messages=("engineer_en_route",),
        ),
        Action(
            "start",
            "start",
            _rules({S.EN_ROUTE}, engineer=ASSIGNED, admin=None),
            "start is for: engineer.",
            S.IN_SERVICE,
            stamps=("started_at",),
        ),
        Action(
            "complete",
            "complete",
            _rules({S.IN_SERVICE}, engineer=ASSIGNED, admin=None),
            "complete is for: engineer.",
            S.COMPLETED,
            # what the engineer shows for it (orders.service checks the checklist first)
            facts=frozenset({"completion_photos", "checklist_answers", "completion_note"}),
            stamps=("completed_at",),
            effects=("await_acceptance",),
            messages=("order_completed",),
        ),
        # The resident's acceptance (验收): the status stays completed; `acceptance` moves.
        # What makes the work count (points, standing, the coupon spent, the butler's
        # reward) follows confirm and auto-confirm, registered in AFTER.
        Action(
            "confirm",
            "confirm",
            _rules({S.COMPLETED}, resident=OWNER, admin=None),
            "confirm is for: resident.",
            None,
            facts=frozenset({"signature_url"}),
            stamps=("confirmed_at",),
            effects=("confirm_work",),
            guards=("may_confirm",),
        ),
        Action(
            "dispute",
            "dispute",
            _rules({S.COMPLETED}, resident=OWNER, admin=None),
            "dispute is for: resident.",
            None,
            facts=frozenset({"dispute_photos"}),
            stamps=("disputed_at",),
            reason_kept_as="dispute_reason",
            effects=("dispute_work",),
            guards=("awaits_resident", "says_what_is_wrong"),
        ),
        Action(
            "auto-confirm",
            "auto_confirm",
            {"system": Rule(None, frozenset({S.COMPLETED}))},
            "Work is confirmed by itself only when nobody answers in time.",
            None,
            stamps=("confirmed_at",),
            effects=("auto_confirm_work",),
            guards=("awaits_resident",),  # only work still waiting: never a disputed one
            via="job",
        ),
        Action(
            "complain",
            "complain",
            _rules({S.COMPLETED}, resident=OWNER, admin=None),
            "complain is for: resident.",
            S.COMPLETED,
            reason_kept_as="complaint",
            guards=("says_what_went_wrong", "no_complaint_yet"),
        ),
        Action(
            "cancel",
            "cancel",
            {
                "resident": Rule(OWNER, RESIDENT_CANCELLABLE),
                "manager": Rule(REGION, MANAGER_CANCELLABLE, MANAGER_CANCEL_REASON),
                "admin": Rule(None, MANAGER_CANCELLABLE, MANAGER_CANCEL_REASON),
            },
            "Engineers decline offers rather than cancel.",
            S.CANCELLED,
            withdraws_offers=True,
        ),
        Action(
            "assign",
            "assign",
            _rules(WAITING, manager=REGION, admin=None),
            "assign is for managers.",
            S.ACCEPTED,
            needs={"engineer_id": "Name the engineer."},
            facts=frozenset({"engineer_id", "dispatch_breakdown", "unassigned_reason"}),
            stamps=("accepted_at",),
            withdraws_offers=True,
            messages=("order_accepted",),
        ),
        Action(
            "redispatch",
            "redispatch",
            _rules({S.UNASSIGNED}, manager=REGION, admin=None),
            "redispatch is for managers.",
            S.DISPATCHING,
            facts=frozenset({"unassigned_reason"}),
            messages=("dispatch_again",),
        ),
        # Promises kept (docs/sla.md): urges, window changes and second visits. The status
        # stays; the SLA deadlines follow (service_hub/sla, registered in EVENT_HOOKS).
        Action(
            "urge",
            "urge",
            _rules(URGEABLE, resident=OWNER),
            "Only the resident urges their order.",
            None,
            stamps=("last_urged_at",),
            counted_in="urge_count",
            guards=("may_urge",),
        ),
        Action(
            "reschedule",
            "reschedule",
            _rules(
                RESCHEDULABLE, reason=RESCHEDULE_REASON, resident=OWNER, manager=REGION, admin=None
            ),
            "The resident (or staff for them) moves the window; engineers propose one.",
            None,
            needs=NEW_WINDOW,
            facts=WINDOW,
            counted_in="reschedule_count",
            guards=("may_reschedule",),
            effects=("drop_proposal",),
        ),
        Action(
            "propose-window",
            "propose_window",
            _rules({S.ACCEPTED}, engineer=ASSIGNED),
            "Only the order's engineer proposes a window.",
            None,
            needs=NEW_WINDOW,
            facts=WINDOW,
            window_kept_as="proposed_window",
            messages=("window_proposed",),
        ),
        Action(
            "accept-window",
            "accept_window",
            _rules({S.ACCEPTED}, resident=OWNER),
            "Only the resident answers a proposed window.",
            None,
            guards=("has_proposal",),
            effects=("take_proposal",),
        ),
        Action(
            "decline-window",
            "decline_window",
            _rules({S.ACCEPTED}, resident=OWNER),
            "Only the resident answers a proposed window.",
            None,
            guards=("has_proposal",),
            effects=("drop_proposal",),
        ),
        Action(
            "second-visit",
            "second_visit",
            _rules(
                {S.COMPLETED},
                reason="Say why a second visit is needed.",
                engineer=ASSIGNED,
                manager=REGION,
                admin=None,
            ),
            "second-visit is for the order's engineer and managers.",
            None,
            guards=("no_open_second_visit",),
        ),
        Action(
            "revisit",
            "revisit",
            {"system": Rule(None, frozenset({S.CREATED}))},
            "A second visit goes to the first visit's engineer by itself.",
            S.ACCEPTED,
            stamps=("accepted_at",),
            messages=("order_accepted",),
            via="follow",
        ),
    )
}
# The actions a caller names in POST /orders/<id>/<action>.
ROUTE_ACTIONS = tuple(name for name, a in ACTIONS.items() if a.via == "action")

# Registered by the composition layer (service_hub/wiring.py):
# every timeline event, in its transaction (the KPI rollup counts it)
EVENT_HOOKS: list[Callable[[OrderEvent, ServiceOrder], None]] = []
# after an action, in its transaction: the consequences the rules above keep
AFTER: dict[str, list[Callable[[ServiceOrder], None]]] = {name: [] for name in ACTIONS}
# whether a manager's region includes the order's community (all must agree; none: no)
REGION_CHECKS: list[Callable[[Actor, ServiceOrder], bool]] = []


def lock_order(order_id: int) -> ServiceOrder:
    """Load an order with a row lock held to the end of the transaction (PostgreSQL)."""
    order = db.session.scalars(
        sa.select(ServiceOrder)
        .where(ServiceOrder.id == order_id)
        .with_for_update()
        # Re-read under the lock: an earlier plain read may have cached a stale state.
        .execution_options(populate_existing=True)
    ).first()
    if order is None:
        raise NotFound(f"No order {order_id}.", code="order_not_found", message_zh="工单不存在")
    return order


def illegal_transition(order: ServiceOrder, action: str) -> AppError:
    """The 409 for an action the order's current state does not allow."""
    return AppError(
        f"Cannot {action} an order that is {order.status}.",
        status=409,
        code="illegal_transition",
        message_zh="当前工单状态不允许此操作",
        details={"current_status": order.status, "action": action},
    )


def _holds_offer(actor: Actor, order: ServiceOrder) -> bool:
    return db.session.scalar(
        sa.select(
            sa.exists().where(
                DispatchOffer.order_id == order.id,
                DispatchOffer.engineer_id == actor.id,
                DispatchOffer.status == OfferStatus.PENDING,
            )
        )
    )


def _check_party(party: str | None, actor: Actor, order: ServiceOrder, action: str) -> None:
    if party == OWNER and order.resident_id != actor.id:
        raise Forbidden("This is not your order.", code="not_owner")
    if party == ASSIGNED and order.engineer_id != actor.id:
        raise Forbidden("This order is assigned to another engineer.", code="not_assigned")
    if party == OFFERED and not _holds_offer(actor, order):
        raise illegal_transition(order, action)
    if party == REGION and not (REGION_CHECKS and all(c(actor, order) for c in REGION_CHECKS)):
        raise NotFound(f"No order {order.id}.", code="order_not_found", message_zh="工单不存在")


def _says_what_went_wrong(order: ServiceOrder, reason: str | None) -> None:
    if not reason:
        raise InvalidInput("Say what went wrong.", fields={"reason": ["required"]})


def _no_complaint_yet(order: ServiceOrder, reason: str | None) -> None:
    if order.complaint is not None:
        raise Conflict(
            "This order has a complaint already.",
            code="already_complained",
            message_zh="该工单已投诉",
        )


def _may_urge(order: ServiceOrder, reason: str | None) -> None:
    if order.urge_count >= URGE_MAX:
        raise Conflict(
            f"An order may be urged {URGE_MAX} times.",
            code="urge_limit",
            message_zh=f"每个工单最多催单{URGE_MAX}次，我们已在加紧处理",
        )
    if order.last_urged_at is not None:
        wait = int((order.last_urged_at + URGE_INTERVAL - utcnow()).total_seconds()) + 1
        if wait > 0:
            raise AppError(
                "This order was urged a moment ago.",
                status=429,
                code="urge_too_soon",
                message_zh=f"刚刚已催过单，请{-(-wait // 60)}分钟后再试",
                details={"retry_after": wait},
                headers={"Retry-After": str(wait)},
            )


def _may_reschedule(order: ServiceOrder, reason: str | None) -> None:
    if order.reschedule_count >= RESCHEDULE_MAX:
        raise Conflict(
            f"A window may be changed {RESCHEDULE_MAX} times.",
            code="reschedule_limit",
            message_zh=f"上门时间最多修改{RESCHEDULE_MAX}次，如需再改请联系客服",
        )


def _has_proposal(order: ServiceOrder, reason: str | None) -> None:
    if order.proposed_window_start is None:
        raise Conflict(
            "The engineer has proposed no window.",
            code="no_proposal",
            message_zh="工程师没有提出新的上门时间",
        )


def _no_open_second_visit(order: ServiceOrder, reason: str | None) -> None:
    open_visit = db.session.scalar(
        sa.select(ServiceOrder.id).where(
            ServiceOrder.parent_order_id == order.id,
            ServiceOrder.status.not_in((S.COMPLETED, S.CANCELLED)),
        )
    )
    if open_visit is not None:
        raise Conflict(
            "A second visit of this order is open already.",
            code="second_visit_open",
            message_zh="该工单已有进行中的二次上门",
            details={"order_id": open_visit},
        )


def _acceptance_in(allowed: frozenset[str]) -> Callable[[ServiceOrder, str | None], None]:
    """A guard: the resident's acceptance of the work is in one of `allowed` states."""

    def guard(order: ServiceOrder, reason: str | None) -> None:
        if order.acceptance in allowed:
            return
        if order.acceptance == Acceptance.DISPUTED:
            raise Conflict(
                "The resident disputes this work already.",
                code="already_disputed",
                message_zh="该工单已提出验收异议，客服会尽快联系您",
            )
        if order.acceptance in (Acceptance.CONFIRMED, Acceptance.AUTO_CONFIRMED):
            raise Conflict(
                "This work is accepted already.",
                code="already_confirmed",
                message_zh="该工单已验收",
            )
        raise Conflict(
            "This order's work is not waiting for acceptance.",
            code="illegal_transition",
            message_zh="当前工单状态不允许此操作",
        )

    return guard


def _says_what_is_wrong(order: ServiceOrder, reason: str | None) -> None:
    if not (reason or "").strip():
        raise InvalidInput(
            "Say what is wrong with the work.",
            message_zh="请说明对服务的异议",
            fields={"reason": ["请填写异议原因"]},
        )


# Checks after the state's (order, reason), named by the actions that need them.
GUARDS: dict[str, Callable[[ServiceOrder, str | None], None]] = {
    "says_what_went_wrong": _says_what_went_wrong,
    "no_complaint_yet": _no_complaint_yet,
    "may_urge": _may_urge,
    "may_reschedule": _may_reschedule,
    "has_proposal": _has_proposal,
    "no_open_second_visit": _no_open_second_visit,
    "may_confirm": _acceptance_in(CONFIRMABLE),
    "awaits_resident": _acceptance_in(AWAITING_RESIDENT),
    "says_what_is_wrong": _says_what_is_wrong,
}


def _take_proposal(order: ServiceOrder) -> None:
    order.window_start, order.window_end = order.proposed_window_start, order.proposed_window_end
    _drop_proposal(order)


def _drop_proposal(order: ServiceOrder) -> None:
    order.proposed_window_start = order.proposed_window_end = None


def _acceptance(state: Acceptance) -> Callable[[ServiceOrder], None]:
    def effect(order: ServiceOrder) -> None:
        order.acceptance = state

    return effect


# Changes of the order's own columns beyond facts and stamps, named by the actions.
EFFECTS: dict[str, Callable[[ServiceOrder], None]] = {
    "take_proposal": _take_proposal,
    "drop_proposal": _drop_proposal,
    "await_acceptance": _acceptance(Acceptance.PENDING),
    "confirm_work": _acceptance(Acceptance.CONFIRMED),
    "auto_confirm_work": _acceptance(Acceptance.AUTO_CONFIRMED),
    "dispute_work": _acceptance(Acceptance.DISPUTED),
}


def check(
    order: ServiceOrder,
    name: str,
    actor: Actor,
    reason: str | None = None,
    *,
    expected_version: int | None = None,
    **facts,
) -> Action:
    """Whether `actor` may take action `name` on the (locked) order now; raises the error a
    caller sees otherwise, in this order: version (412), role (403), party (403/404/409),
    a reason the role must give and needed facts (422), state (409), the action's guards."""
    action = ACTIONS[name]
    if expected_version is not None and expected_version != order.version:
        raise AppError(
            "The order changed since you read it.",
            status=412,
            code="version_mismatch",
            details={"current_version": order.version},
        )
    rule = action.who.get(actor.kind)
    if rule is None:
        raise Forbidden(action.forbidden, code="role_forbidden")
    _check_party(rule.party, actor, order, name)
    if rule.reason_required and not reason:
        raise InvalidInput(rule.reason_required, fields={"reason": ["required"]})
    for fact, message in action.needs.items():
        if facts.get(fact) is None:
            raise InvalidInput(message, fields={fact: ["required"]})
    if order.status not in rule.sources:
        raise illegal_transition(order, name)
    for guard in action.guards:
        GUARDS[guard](order, reason)
    return action


def apply(
    order: ServiceOrder | int,
    name: str,
    actor: Actor,
    reason: str | None = None,
    *,
    expected_version: int | None = None,
    **facts,
) -> ServiceOrder:
    """Take action `name` on the order (an id is locked first; an order must be locked
    already): check it, set its facts, move it, write the timeline event, and let what
    follows follow. The caller commits."""
    if isinstance(order, int):
        order = lock_order(order)
    action = check(order, name, actor, reason, expected_version=expected_version, **facts)
    unknown = set(facts) - action.facts
    if unknown:
        raise TypeError(f"{name} does not set {sorted(unknown)}")
    _step(order, action, actor, reason, facts)
    return order


def create(order: ServiceOrder, actor: Actor) -> ServiceOrder:
    """The one way an order is born: added and flushed in state created (an IntegrityError
    of the flush reaches the caller before anything is recorded), its first event written,
    and, unless it already has its engineer, its dispatch queued."""
    check(order, "create", actor)
    db.session.add(order)
    db.session.flush()
    _step(order, ACTIONS["create"], actor, None, {})
    return order


def _step(
    order: ServiceOrder, action: Action, actor: Actor, reason: str | None, facts: dict
) -> None:
    now = utcnow()
    for fact, value in facts.items():
        setattr(order, _column(action, fact), value)
    for column in action.stamps:
        setattr(order, column, now)
    if action.reason_kept_as:
        setattr(order, action.reason_kept_as, reason)
    for effect in action.effects:
        EFFECTS[effect](order)
    if action.withdraws_offers:
        db.session.execute(
            sa.update(DispatchOffer)
            .where(DispatchOffer.order_id == order.id, DispatchOffer.status == OfferStatus.PENDING)
            .values(status=OfferStatus.WITHDRAWN, responded_at=now)
        )
    from_status = order.status if action.name != "create" else None
    order.status = action.target or order.status
    event = OrderEvent(
        order_id=order.id,
        community_id=order.community_id,
        action=action.event,
        actor_kind=actor.kind,
        actor_id=actor.id,
        from_status=from_status,
        to_status=order.status,
        reason=reason,
        at=now,
    )
    db.session.add(event)
    if action.counted_in:  # set from the rows it counts (autoflush includes this event)
        setattr(order, action.counted_in, _events_of(order, action.event))
    for hook in EVENT_HOOKS:
        hook(event, order)
    for hook in AFTER[action.name]:
        hook(order)
    for message in action.messages:
        MESSAGES[message](order)


def _column(action: Action, fact: str) -> str:
    """The order column a fact lands in: a window goes where the action keeps it."""
    if fact in WINDOW:
        return fact.replace("window", action.window_kept_as, 1)
    return fact


def _events_of(order: ServiceOrder, event: str) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).where(
            OrderEvent.order_id == order.id, OrderEvent.action == event
        )
    )


def _dispatch_first(order: ServiceOrder) -> None:
    if order.engineer_id is None:  # a booked order has its engineer already
        record("order_dispatch", f"order:{order.id}:round:0", {"order_id": order.id})


def _dispatch_again(order: ServiceOrder) -> None:
    # Keyed by the timeline's length, which only grows: each round gets its own key.
    step = db.session.scalar(sa.select(sa.func.count()).where(OrderEvent.order_id == order.id))
    record("order_dispatch", f"order:{order.id}:step:{step}", {"order_id": order.id})


def _notify(kind: str, key: str, *names: str) -> Callable[[ServiceOrder], None]:
    """A resident_notify message of `kind`, naming the engineer, the service and/or the
    proposed window (`proposal`: its start in local time; keyed by the order's version too,
    since an engineer may propose again)."""

    def send(order: ServiceOrder) -> None:
        payload = {"kind": kind, "resident_id": order.resident_id, "order_id": order.id}
        event_key = f"order:{order.id}:{key}"
        if "engineer" in names:
            payload["engineer_name"] = db.session.get(Engineer, order.engineer_id).name
        if "service" in names:
            payload["service_name"] = db.session.get(ServiceType, order.service_type_id).name
        if "proposal" in names:
            payload["local_start"] = local_datetime_text(order.proposed_window_start)
            event_key += f":{_events_of(order, ACTIONS['propose-window'].event)}"
        record("resident_notify", event_key, payload)

    return send


MESSAGES: dict[str, Callable[[ServiceOrder], None]] = {
    "dispatch_first": _dispatch_first,
    "dispatch_again": _dispatch_again,
    "order_accepted": _notify("order_accepted", "accepted", "engineer", "service"),
    "engineer_en_route": _notify("engineer_en_route", "en_route", "engineer"),
    "order_completed": _notify("order_completed", "completed", "service"),
    "window_proposed": _notify("window_proposed", "window_proposed", "engineer", "proposal"),
}
