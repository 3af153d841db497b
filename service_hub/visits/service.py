"""Visit rules: an engineer schedules a visit with slots, the community hears of it, and
residents book a slot, which creates an order already assigned to that engineer.

Every change of a visit's bookings first takes the visit's row lock (service_hub/plumbing/sql.py
`lock_row`), then checks capacity by counting the slot's active bookings and sets the slot's
`booked` from them, so capacity holds under any concurrency and the counter always equals the
rows. One *active* booking per resident per visit is a partial unique index: a resident who
cancelled may book the same visit again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from models import (
    Booking,
    BookingStatus,
    Community,
    Engineer,
    EngineerCommunity,
    EngineerSkill,
    ServiceOrder,
    ServiceType,
    Visit,
    VisitSlot,
    VisitStatus,
)
from models.base import utcnow
from models.order_lifecycle import Actor, apply, create
from service_hub.communities.service import get_community, is_bound
from service_hub.plumbing.errors import Conflict, Forbidden, InvalidInput, NotFound
from service_hub.plumbing.extensions import db
from service_hub.plumbing.outbox import commit_and_relay, record
from service_hub.plumbing.sql import lock_row, retry_transient, set_count, winner_of_unique_race
from service_hub.plumbing.timefmt import local_datetime_text
from service_hub.uploads.storage import validate_photo_urls

MAX_SLOTS = 24


def schedule_visit(
    engineer_id: int,
    community_id: int,
    starts_at: datetime,
    ends_at: datetime,
    slots: list[dict],
    *,
    service_type_ids=(),
    note: str = "",
    order_id: int | None = None,
) -> Visit:
    """Add a visit with its slots and announce it to the community (caller commits)."""
    if ends_at <= starts_at:
        raise InvalidInput(
            "The visit ends before it starts.", fields={"ends_at": ["must be after starts_at"]}
        )
    if len(slots) > MAX_SLOTS:
        raise InvalidInput(f"At most {MAX_SLOTS} slots.", fields={"slots": ["too many"]})
    for n, slot in enumerate(slots):
        if not starts_at <= slot["starts_at"] < slot["ends_at"] <= ends_at:
            raise InvalidInput(
                "Each slot lies inside the visit.",
                fields={"slots": [f"slot {n} is outside the visit's window"]},
            )
    visit = Visit(
        engineer_id=engineer_id,
        community_id=community_id,
        order_id=order_id,
        starts_at=starts_at,
        ends_at=ends_at,
        note=note,
        service_type_ids=list(service_type_ids),
    )
    db.session.add(visit)
    db.session.flush()
    db.session.add_all(
        VisitSlot(
            visit_id=visit.id,
            starts_at=s["starts_at"],
            ends_at=s["ends_at"],
            capacity=s.get("capacity", 1),
        )
        for s in slots
    )
    engineer = db.session.get(Engineer, engineer_id)
    community = db.session.get(Community, community_id)
    record(
        "visit_announced",
        f"visit:{visit.id}",
        {
            "kind": "visit_announced",
            "community_id": community_id,
            "visit_id": visit.id,
            "engineer_name": engineer.name,
            "community_name": community.name,
            "local_start": local_datetime_text(starts_at),
        },
    )
    record("community_home_changed", f"visit:{visit.id}", {"community_id": community_id})
    return visit


def follow_on_slots(after: datetime) -> list[dict]:
    """The slots an order's visit offers neighbours, right after the order's own window."""
    minutes = current_app.config["VISIT_SLOT_MINUTES"]
    count = current_app.config["VISIT_FOLLOW_ON_SLOTS"]
    return [
        {
            "starts_at": after + timedelta(minutes=minutes * n),
            "ends_at": after + timedelta(minutes=minutes * (n + 1)),
            "capacity": 1,
        }
        for n in range(count)
    ]


def open_order_visit(order: ServiceOrder) -> Visit:
    """An accepted order is a visit to the community: every bound resident is told and may
    book a follow-on slot right after this order's window (caller commits)."""
    start = order.window_start or utcnow() + timedelta(hours=1)
    end = order.window_end or start + timedelta(hours=2)
    slots = follow_on_slots(end)
    return schedule_visit(
        order.engineer_id,
        order.community_id,
        start,
        slots[-1]["ends_at"] if slots else end,
        slots,
        order_id=order.id,
    )


def announce(
    engineer_id: int,
    community_id: int,
    starts_at: datetime,
    ends_at: datetime,
    slots: list[dict],
    service_type_ids: list[int],
    note: str,
) -> Visit:
    """An engineer announces a visit to a community they serve."""
    get_community(community_id)
    serves = db.session.scalar(
        sa.select(
            sa.exists().where(
                EngineerCommunity.engineer_id == engineer_id,
                EngineerCommunity.community_id == community_id,
            )
        )
    )
    if not serves:
        raise Forbidden(
            "You do not serve this community.",
            code="not_serving_community",
            message_zh="您未负责该小区",
        )
    if starts_at <= utcnow():
        raise InvalidInput(
            "A visit is announced ahead of time.", fields={"starts_at": ["must be in the future"]}
        )
    known = set(
        db.session.scalars(sa.select(ServiceType.id).where(ServiceType.id.in_(service_type_ids)))
    )
    if known != set(service_type_ids):
        raise InvalidInput(
            "Unknown service types.",
            fields={"service_type_ids": [str(sorted(set(service_type_ids) - known))]},
        )
    visit = schedule_visit(
        engineer_id,
        community_id,
        starts_at,
        ends_at,
        slots,
        service_type_ids=service_type_ids,
        note=note,
    )
    commit_and_relay()
    return visit


def upcoming_visits_query(community_id: int) -> sa.Select:
    """Scheduled visits to a community that have not ended, soonest first."""
    get_community(community_id)
    return (
        sa.select(Visit)
        .where(
            Visit.community_id == community_id,
            Visit.status == VisitStatus.SCHEDULED,
            Visit.ends_at > utcnow(),
        )
        .order_by(Visit.starts_at, Visit.id)
    )


def slots_of(visit_ids: list[int]) -> dict[int, list[VisitSlot]]:
    """Slots of several visits in one query, each list in time order."""
    slots: dict[int, list[VisitSlot]] = {visit_id: [] for visit_id in visit_ids}
    for slot in db.session.scalars(
        sa.select(VisitSlot)
        .where(VisitSlot.visit_id.in_(visit_ids))
        .order_by(VisitSlot.starts_at, VisitSlot.id)
    ):
        slots[slot.visit_id].append(slot)
    return slots


def engineers_of(visits: list[Visit]) -> dict[int, dict]:
    """The engineers of several visits as residents see them (name, photo), in one query."""
    ids = {visit.engineer_id for visit in visits}
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(Engineer.id, Engineer.name, Engineer.photo_url).where(Engineer.id.in_(ids))
    )
    return {row.id: {"id": row.id, "name": row.name, "photo_url": row.photo_url} for row in rows}


def _get_visit(visit_id: int) -> Visit:
    visit = db.session.get(Visit, visit_id)
    if visit is None:
        raise NotFound(f"No visit {visit_id}.", code="visit_not_found", message_zh="上门计划不存在")
    return visit


def _check_service(visit: Visit, service_type_id: int) -> ServiceType:
    service_type = db.session.get(ServiceType, service_type_id)
    if service_type is None or not service_type.active:
        raise InvalidInput("Unknown service type.", fields={"service_type_id": ["unknown"]})
    if visit.service_type_ids and service_type_id not in visit.service_type_ids:
        raise InvalidInput(
            "This visit does not offer that service.",
            fields={"service_type_id": ["not offered on this visit"]},
        )
    level = db.session.scalar(
        sa.select(EngineerSkill.level).where(
            EngineerSkill.engineer_id == visit.engineer_id,
            EngineerSkill.skill == service_type.skill,
        )
    )
    if level is None or level < service_type.min_skill_level:
        raise InvalidInput(
            "The visiting engineer does not do that service.",
            fields={"service_type_id": ["outside the engineer's skills"]},
        )
    return service_type


def _active_booking(resident_id: int, visit_id: int) -> Booking | None:
    return db.session.scalar(
        sa.select(Booking)
        .where(
            Booking.visit_id == visit_id,
            Booking.resident_id == resident_id,
            Booking.status == BookingStatus.ACTIVE,
        )
        .execution_options(populate_existing=True)
    )


def _active_bookings(slot_id: int) -> sa.Select:
    """How many of the slot's places are taken (what `booked` counts)."""
    return (
        sa.select(sa.func.count())
        .select_from(Booking)
        .where(Booking.slot_id == slot_id, Booking.status == BookingStatus.ACTIVE)
    )


def _recount_slot(slot_id: int) -> None:
    """Set the slot's counter from its active bookings (caller holds the visit's lock)."""
    set_count(VisitSlot.booked, slot_id, _active_bookings(slot_id))


@retry_transient
def book(
    resident_id: int,
    visit_id: int,
    slot_id: int,
    service_type_id: int,
    *,
    description: str = "",
    photos: list[str] = (),
) -> tuple[Booking, bool]:
    """Book a slot; creates an order assigned to the visiting engineer. A repeat (the same
    resident, the same visit, while the booking is active) returns the first booking; after
    a cancellation the resident may book again. Returns (booking, created).

    The visit's row lock comes first, so bookings and cancellations on one visit run one
    after another; slot counters are set from the active bookings, never moved by ±1."""
    visit = _get_visit(visit_id)
    if not is_bound(resident_id, visit.community_id):
        raise Forbidden(
            "Bind the community before booking its visits.",
            code="not_bound",
            message_zh="请先绑定该小区",
        )
    slot = db.session.get(VisitSlot, slot_id)
    if slot is None or slot.visit_id != visit_id:
        raise NotFound(f"No slot {slot_id} on this visit.", code="slot_not_found")
    lock_row(Visit, visit_id)
    existing = _active_booking(resident_id, visit_id)
    if existing is not None:
        db.session.rollback()
        return existing, False
    if visit.status != VisitStatus.SCHEDULED or slot.starts_at <= utcnow():
        db.session.rollback()
        raise Conflict(
            "This slot can no longer be booked.", code="slot_closed", message_zh="该时段已不可预约"
        )
    _check_service(visit, service_type_id)
    photos = validate_photo_urls(list(photos))
    if db.session.scalar(_active_bookings(slot_id)) >= slot.capacity:
        db.session.rollback()
        raise Conflict("This slot is full.", code="slot_full", message_zh="该时段已约满")
    order = ServiceOrder(
        resident_id=resident_id,
        community_id=visit.community_id,
        service_type_id=service_type_id,
        engineer_id=visit.engineer_id,
        source="visit_booking",
        description=description,
        photos=list(photos),
        window_start=slot.starts_at,
        window_end=slot.ends_at,
        dispatch_breakdown={"booked_on_visit": visit_id, "slot_id": slot_id},
    )
    # The one creation path (no dispatch: the order has its engineer), then booked.
    resident = Actor("resident", resident_id)
    create(order, resident)
    apply(order, "book", resident, f"booked slot {slot_id} on visit {visit_id}")
    booking = Booking(
        visit_id=visit_id, slot_id=slot_id, resident_id=resident_id, order_id=order.id
    )
    db.session.add(booking)
    try:
        db.session.flush()
    except IntegrityError:
        # Only if the lock was bypassed: the database's unique key decides, once.
        winner = winner_of_unique_race(
            lambda: _active_booking(resident_id, visit_id), code="booking_conflict"
        )
        return winner, False
    _recount_slot(slot_id)
    commit_and_relay()
    return booking, True


def release_booking(order: ServiceOrder) -> None:
    """The order behind a booking was cancelled: free its slot (caller commits)."""
    booking = db.session.scalar(
        sa.select(Booking).where(
            Booking.order_id == order.id, Booking.status == BookingStatus.ACTIVE
        )
    )
    if booking is None:
        return
    lock_row(Visit, booking.visit_id)
    booking.status = BookingStatus.CANCELLED
    db.session.flush()
    _recount_slot(booking.slot_id)


def my_booking_order(resident_id: int, visit_id: int) -> int:
    """The order id behind the resident's active booking on the visit, or a 404."""
    _get_visit(visit_id)
    order_id = db.session.scalar(
        sa.select(Booking.order_id).where(
            Booking.visit_id == visit_id,
            Booking.resident_id == resident_id,
            Booking.status == BookingStatus.ACTIVE,
        )
    )
    if order_id is None:
        raise NotFound("You have no booking on this visit.", code="booking_not_found")
    return order_id
