"""The demo city: follows the live order rules, is reproducible, seeds only an empty database,
and shows a newcomer something on every page of a first look (issue 14).

The tests that only read the city share one per backend (`city`, seeded at a fixed "now"), so
this module replaces the conftest's per-test cleanup; the tests that seed themselves start
from an empty database (`empty`).
"""

from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from demo.extras import seed_extras
from demo.seed import DEMO_PASSWORD, seed_demo
from models import (
    Acceptance,
    Answer,
    Broadcast,
    ChecklistItem,
    Community,
    CommunityBinding,
    CommunityMonthKpi,
    Coupon,
    CouponCampaign,
    Delivery,
    DeliveryStatus,
    DispatchOffer,
    Engineer,
    EngineerCommunity,
    EngineerMonthKpi,
    EngineerSkill,
    FollowUp,
    ModerationStatus,
    OfferStatus,
    OrderEvent,
    PointsEntry,
    Question,
    ResidentAddress,
    Review,
    ReviewStatus,
    ServiceOrder,
    ServiceType,
    SlaBreach,
    StaffAlert,
    StaffUser,
    SubscriptionCredit,
    Upload,
)
from models.order import ACCEPTED_WORK
from models.order_lifecycle import RESCHEDULE_MAX, URGE_INTERVAL, URGE_MAX
from service_hub.addresses.service import address_text
from service_hub.kpis import rollup
from service_hub.plumbing.extensions import db
from service_hub.plumbing.ratelimit import EXTENSION_KEY
from service_hub.plumbing.timefmt import month_of
from service_hub.sla.deadlines import deadlines, order_state
from tests.conftest import reset_backend

NOW = datetime(2026, 11, 22, 4, 0, tzinfo=UTC)
CITY = "demo_city"  # app.extensions key of the shared city's summary
OPEN = ("created", "dispatching", "offered", "unassigned", "accepted", "en_route", "in_service")


@pytest.fixture(autouse=True)
def _clean(request):
    """Replaces the conftest's per-test cleanup (the city is shared); rate limits still reset."""
    yield
    if "app" in request.fixturenames:
        request.getfixturevalue("app").extensions[EXTENSION_KEY].reset()


@pytest.fixture(scope="module", autouse=True)
def _emptied_after(app):
    yield
    app.extensions.pop(CITY, None)
    reset_backend(app)


@pytest.fixture
def empty(app):
    """An empty database (the shared city, if any, is gone)."""
    app.extensions.pop(CITY, None)
    reset_backend(app)


@pytest.fixture
def city(app):
    """The demo city with its extras (12 communities, seed 7, at NOW), once per backend."""
    if CITY not in app.extensions:
        reset_backend(app)
        with app.app_context():
            summary = seed_demo(communities=12, seed=7, progress=lambda _m: None, now=NOW)
            summary.update(seed_extras(7, NOW))
        app.extensions[CITY] = summary
    with app.app_context():
        yield app.extensions[CITY]


def seed(app, seed_value: int = 7) -> tuple[dict, list[str]]:
    messages: list[str] = []
    with app.app_context():
        summary = seed_demo(communities=12, seed=seed_value, progress=messages.append, now=NOW)
    return summary, messages


def kpi_snapshot() -> list[tuple]:
    rows = db.session.scalars(sa.select(CommunityMonthKpi)).all()
    engineers = db.session.scalars(sa.select(EngineerMonthKpi)).all()
    return sorted(
        (r.community_id, r.month, *(getattr(r, c) for c in rollup.COUNTERS)) for r in rows
    ) + sorted(
        (-r.engineer_id, r.month, *(getattr(r, c) for c in rollup.ENGINEER_COUNTERS))
        for r in engineers
    )


def test_seeded_history_follows_the_live_rules(app, client, empty):
    summary, messages = seed(app)
    assert summary["communities"] == 12 and summary["orders"] > 100
    assert any(m.startswith("orders: ") for m in messages)
    with app.app_context():
        orders = db.session.scalars(sa.select(ServiceOrder)).all()
        assert len(orders) == summary["orders"]
        assert (
            db.session.scalar(sa.select(sa.func.count()).select_from(Review)) == summary["reviews"]
        )
        bound = set(
            db.session.execute(
                sa.select(CommunityBinding.resident_id, CommunityBinding.community_id)
            )
        )
        links = {
            (link.engineer_id, link.community_id): link
            for link in db.session.scalars(sa.select(EngineerCommunity))
        }
        levels = {
            (s.engineer_id, s.skill): s.level for s in db.session.scalars(sa.select(EngineerSkill))
        }
        services = {s.id: s for s in db.session.scalars(sa.select(ServiceType))}
        timelines = defaultdict(list)
        for event in db.session.scalars(sa.select(OrderEvent).order_by(OrderEvent.id)):
            timelines[event.order_id].append(event)
        completed = Counter()
        for order in orders:
            assert (order.resident_id, order.community_id) in bound
            if order.engineer_id is not None:
                service = services[order.service_type_id]
                assert (order.engineer_id, order.community_id) in links
                assert levels.get((order.engineer_id, service.skill), 0) >= service.min_skill_level
            timeline = timelines[order.id]
            assert timeline[0].action == "create" and timeline[0].from_status is None
            assert timeline[-1].to_status == order.status and order.updated_at == timeline[-1].at
            for before, after in zip(timeline, timeline[1:], strict=False):
                assert after.from_status == before.to_status and after.at >= before.at
                assert after.community_id == order.community_id
            assert all(event.at <= NOW for event in timeline)
            # the links count accepted work only (dispatch/standing.py)
            completed[(order.engineer_id, order.community_id)] += order.acceptance in ACCEPTED_WORK
        assert all(link.completed_orders == completed[key] for key, link in links.items())
        # the rollups are exactly what a rebuild from the raw events gives
        seeded = kpi_snapshot()
        rollup.rebuild()
        assert kpi_snapshot() == seeded
        assert sum(row[2] for row in seeded if row[0] > 0) == summary["orders"]
    for login in ("manager", "manager-sh", "admin", "engineer1"):
        response = client.post(
            "/api/v1/auth/staff-login", json={"login": login, "password": DEMO_PASSWORD}
        )
        assert response.status_code == 200, response.json
    assert response.json["engineer_id"] is not None


def test_same_seed_same_city_and_only_into_an_empty_database(app, empty):
    def fingerprint() -> tuple:
        with app.app_context():
            communities = db.session.execute(
                sa.select(
                    Community.external_code, Community.name, Community.household_count
                ).order_by(Community.external_code)
            ).all()
            columns = (ServiceOrder.created_at, ServiceOrder.status, ServiceOrder.source,
                       ServiceOrder.sla_state, ServiceOrder.urge_count, ServiceOrder.address_text,
                       ServiceOrder.contact_name, ServiceOrder.contact_mobile)  # fmt: skip
            orders = db.session.execute(sa.select(*columns).order_by(*columns)).all()
            return communities, orders

    first, _ = seed(app)
    seeded = fingerprint()
    with app.app_context():
        with pytest.raises(RuntimeError, match="empty database"):
            seed_demo(communities=3, progress=lambda _message: None)
        db.session.rollback()
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(table.delete())
        db.session.commit()
    second, _ = seed(app)
    assert second == first and fingerprint() == seeded
    with app.app_context():
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(table.delete())
        db.session.commit()
    assert seed(app, seed_value=8)[0] != first


# -- the newcomer's first look (issue 14): every queue and list has something in it ----------


def _orders(**where) -> list[ServiceOrder]:
    return db.session.scalars(sa.select(ServiceOrder).filter_by(**where)).all()


def _open_orders() -> list[ServiceOrder]:
    return db.session.scalars(sa.select(ServiceOrder).where(ServiceOrder.status.in_(OPEN))).all()


def _timelines() -> dict[int, list[OrderEvent]]:
    timelines = defaultdict(list)
    for event in db.session.scalars(sa.select(OrderEvent).order_by(OrderEvent.id)):
        timelines[event.order_id].append(event)
    return timelines


def _engineer1() -> Engineer:
    return db.session.scalar(
        sa.select(Engineer).join(StaffUser).where(StaffUser.username == "engineer1")
    )


def test_residents_with_orders_have_one_or_two_doors_in_their_communities(city):
    addresses = db.session.scalars(sa.select(ResidentAddress)).all()
    bound = set(
        db.session.execute(sa.select(CommunityBinding.resident_id, CommunityBinding.community_id))
    )
    ordered = {(o.resident_id, o.community_id) for o in _orders()}
    doors = Counter(a.resident_id for a in addresses)
    assert {(a.resident_id, a.community_id) for a in addresses} == ordered
    assert all((a.resident_id, a.community_id) in bound for a in addresses)
    assert set(doors.values()) <= {1, 2, 3} and 2 in doors.values()
    assert Counter(a.resident_id for a in addresses if a.is_default) == Counter(set(doors))
    for a in addresses:
        assert a.building and a.room and a.contact_name
        assert len(a.mobile) == 11 and a.mobile[:3] in ("170", "171") and a.mobile.isdigit()


def test_every_order_keeps_the_door_and_contact_it_was_placed_for(city):
    addresses = {a.id: a for a in db.session.scalars(sa.select(ResidentAddress))}
    communities = {c.id: c for c in db.session.scalars(sa.select(Community))}
    for order in _orders():
        door = addresses[order.address_id]
        assert (door.resident_id, door.community_id) == (order.resident_id, order.community_id)
        assert order.address_text == address_text(communities[order.community_id], door)
        assert (order.contact_name, order.contact_mobile) == (door.contact_name, door.mobile)
    assert "号楼" in order.address_text and order.address_text.endswith("室")


def test_deadlines_follow_the_service_types_targets(city):
    services = {s.id: s for s in db.session.scalars(sa.select(ServiceType))}
    assert {s.sla_complete_minutes for s in services.values()} != {240}  # set per service
    for order in _orders():
        expected = deadlines(order, services[order.service_type_id])
        assert {k: getattr(order, k) for k in expected} == expected


def test_open_orders_are_on_track_at_risk_and_breached_by_the_sla_rule(city):
    services = {s.id: s for s in db.session.scalars(sa.select(ServiceType))}
    states = Counter()
    for order in _open_orders():
        assert order.sla_state == order_state(order, services[order.service_type_id], NOW)
        states[order.sla_state] += 1
    assert states["on_track"] and states["at_risk"] >= 2 and states["breached"] >= 3


def test_each_missed_step_is_recorded_once_with_its_deadline(city):
    breaches = defaultdict(list)
    for breach in db.session.scalars(sa.select(SlaBreach)):
        breaches[breach.order_id].append(breach)
    done = {"accept": "accepted_at", "arrive": "started_at", "complete": "completed_at"}
    for order in _orders():
        mine = breaches[order.id]
        assert len({b.step for b in mine}) == len(mine)
        assert order.sla_breached_at == min((b.breached_at for b in mine), default=None)
        assert (order.sla_state == "breached") == bool(mine)
        for b in mine:
            assert b.due_at == getattr(order, f"{b.step}_due_at") < b.breached_at <= NOW
            assert (getattr(order, done[b.step]) or NOW) > b.due_at
            assert b.engineer_id == (None if b.step == "accept" else order.engineer_id)
    assert {b.step for bs in breaches.values() for b in bs} == {"accept", "arrive", "complete"}


def test_recent_breaches_and_unassigned_orders_at_risk_alert_the_managers(city):
    alerts = db.session.scalars(sa.select(StaffAlert)).all()
    kinds = Counter(a.kind for a in alerts)
    assert kinds["sla_breached"] and kinds["unassigned_at_risk"]
    keys = {(b.order_id, b.step) for b in db.session.scalars(sa.select(SlaBreach))}
    for alert in alerts:
        assert alert.created_at <= NOW and "工单" in alert.text
        if alert.kind == "sla_breached":
            assert (alert.order_id, alert.dedupe_key.rsplit(":", 1)[1]) in keys


def test_unassigned_orders_say_why_after_every_engineer_had_the_offer(city):
    unassigned = _orders(status="unassigned")
    assert len(unassigned) >= 2
    for order in unassigned:
        assert order.engineer_id is None and order.unassigned_reason.startswith("no eligible")
        offers = db.session.scalars(sa.select(DispatchOffer).filter_by(order_id=order.id)).all()
        assert offers and all(o.status in ("declined", "expired") for o in offers)
        rejected = order.dispatch_breakdown["rejected"]
        assert {str(o.engineer_id) for o in offers} <= {
            k for k, v in rejected.items() if v == "already_offered"
        }


def test_offers_about_to_expire_wait_for_an_answer(city):
    offered = _orders(status="offered")
    pending = db.session.scalars(
        sa.select(DispatchOffer).where(DispatchOffer.status == OfferStatus.PENDING)
    ).all()
    timeout = timedelta(seconds=600)
    assert sorted(o.order_id for o in pending) == sorted(o.id for o in offered)
    assert all(o.expires_at == o.offered_at + timeout > NOW for o in pending)
    assert sum(o.expires_at <= NOW + timedelta(minutes=3) for o in pending) >= 2


def test_urges_are_timeline_events_within_the_live_limits(city):
    timelines = _timelines()
    urged_open = [o for o in _open_orders() if o.urge_count]
    assert len(urged_open) >= 3
    for order in _orders():
        urges = [e.at for e in timelines[order.id] if e.action == "urge"]
        assert order.urge_count == len(urges) <= URGE_MAX
        assert order.last_urged_at == (urges[-1] if urges else None)
        assert all(b - a >= URGE_INTERVAL for a, b in zip(urges, urges[1:], strict=False))


def test_rescheduled_and_proposed_windows_are_on_open_orders(city):
    timelines = _timelines()
    for order in _orders():
        moves = [e for e in timelines[order.id] if e.action == "reschedule"]
        assert order.reschedule_count == len(moves) <= RESCHEDULE_MAX
        assert all(e.reason for e in moves)
    rescheduled = [o for o in _open_orders() if o.reschedule_count]
    proposed = [o for o in _open_orders() if o.proposed_window_start]
    assert len(rescheduled) >= 2 and proposed
    for order in proposed:
        assert (
            order.status == "accepted" and order.proposed_window_end > order.proposed_window_start
        )
        assert timelines[order.id][-1].action == "propose_window"


def test_second_visits_return_to_the_first_orders_door_with_its_engineer(city):
    timelines = _timelines()
    visits = db.session.scalars(
        sa.select(ServiceOrder).where(ServiceOrder.parent_order_id.is_not(None))
    ).all()
    assert len(visits) >= 3 and any(v.status in OPEN for v in visits)
    for visit in visits:
        first = db.session.get(ServiceOrder, visit.parent_order_id)
        same = ("resident_id", "community_id", "service_type_id", "address_id", "engineer_id")
        assert [getattr(visit, c) for c in same] == [getattr(first, c) for c in same]
        assert first.status == "completed" and first.created_at < visit.created_at
        asked = [e for e in timelines[first.id] if e.action == "second_visit"]
        assert len(asked) == 1 and asked[0].at < visit.created_at
        assert [e.action for e in timelines[visit.id][:2]] == ["create", "revisit"]


def test_community_counters_equal_the_rows_they_count(city):
    breaches, urges, repeats = Counter(), Counter(), Counter()
    for b in db.session.scalars(sa.select(SlaBreach)):
        breaches[(b.community_id, month_of(b.breached_at))] += 1
    for e in db.session.scalars(
        sa.select(OrderEvent).where(OrderEvent.action.in_(("urge", "second_visit")))
    ):
        (urges if e.action == "urge" else repeats)[(e.community_id, month_of(e.at))] += 1
    kpis = db.session.scalars(sa.select(CommunityMonthKpi)).all()
    assert sum(urges.values()) and sum(repeats.values()) and sum(breaches.values())
    for name, counted in (("sla_breaches", breaches), ("urges", urges), ("repeat_visits", repeats)):
        assert {
            (k.community_id, k.month): getattr(k, name) for k in kpis if getattr(k, name)
        } == counted


def test_engineer_counters_equal_the_rows_they_count(city):
    counted = defaultdict(Counter)
    orders = {o.id: o for o in _orders()}
    for order in orders.values():
        if order.completed_at:
            counted["orders_completed"][(order.engineer_id, month_of(order.completed_at))] += 1
    for b in db.session.scalars(sa.select(SlaBreach).where(SlaBreach.engineer_id.is_not(None))):
        counted["sla_breaches"][(b.engineer_id, month_of(b.breached_at))] += 1
    for e in db.session.scalars(
        sa.select(OrderEvent).where(OrderEvent.action.in_(("urge", "second_visit", "dispute")))
    ):
        order = orders[e.order_id]
        if order.accepted_at and order.accepted_at <= e.at:
            name = {"urge": "urges", "second_visit": "repeat_visits"}.get(e.action, "disputes")
            counted[name][(order.engineer_id, month_of(e.at))] += 1
    kpis = db.session.scalars(sa.select(EngineerMonthKpi)).all()
    for name in rollup.ENGINEER_COUNTERS:
        assert {(k.engineer_id, k.month): getattr(k, name) for k in kpis if getattr(k, name)} == (
            +counted[name]
        )


def test_engineer1_sees_an_offer_an_accepted_order_and_an_urged_one(city):
    engineer = _engineer1()
    offer = db.session.scalar(
        sa.select(DispatchOffer).filter_by(engineer_id=engineer.id, status=OfferStatus.PENDING)
    )
    offered = db.session.get(ServiceOrder, offer.order_id)
    assert offered.address_text and offer.expires_at > NOW
    mine = _orders(engineer_id=engineer.id)
    accepted = [o for o in mine if o.status == "accepted" and o.window_start > NOW]
    assert accepted and all(
        o.contact_name and o.contact_mobile and o.address_text for o in accepted
    )
    assert any(o.status in OPEN and o.urge_count for o in mine)
    load = sum(o.status in ("accepted", "en_route", "in_service") for o in mine) + 1
    assert load <= 5  # MAX_OPEN_ORDERS: dispatch would have offered it


def test_manager_finds_unassigned_expiring_late_and_urged_orders(city, client):
    token = client.post(
        "/api/v1/auth/staff-login", json={"login": "manager", "password": DEMO_PASSWORD}
    ).json["token"]
    headers = {"Authorization": f"Bearer {token}"}
    for query in ("unassigned=true", "offer_expiring_within=5", "sla_state=breached",
                  "sla_state=at_risk", "urged=true&status=en_route"):  # fmt: skip
        response = client.get(f"/api/v1/orders?{query}", headers=headers)
        assert response.status_code == 200 and response.json["items"], query


def test_follow_ups_hold_every_complaint_and_low_rating_some_still_open(city):
    follow_ups = db.session.scalars(sa.select(FollowUp)).all()
    complaints = {o.id: o.complaint for o in _orders() if o.complaint}
    low = {r.order_id for r in db.session.scalars(sa.select(Review).where(Review.rating <= 2))}
    assert {f.order_id for f in follow_ups if f.kind == "complaint"} == set(complaints)
    assert {f.order_id for f in follow_ups if f.kind == "low_rating"} == low
    assert Counter(f.kind for f in follow_ups if f.status == "open").keys() == {
        "complaint",
        "dispute",
        "low_rating",
    }
    for f in follow_ups:
        assert f.summary and (f.status == "open") == (f.closed_at is None) == (f.note is None)
        if f.kind == "complaint":
            assert f.summary == complaints[f.order_id]


def test_held_questions_answers_and_reviews_wait_for_moderation(city):
    held = ModerationStatus.HELD
    assert db.session.scalar(sa.select(sa.func.count()).where(Question.status == held))
    assert db.session.scalar(sa.select(sa.func.count()).where(Answer.status == held))
    assert db.session.scalar(sa.select(sa.func.count()).where(Review.status == ReviewStatus.HELD))
    for question in db.session.scalars(sa.select(Question)):
        visible = db.session.scalar(
            sa.select(sa.func.count()).where(
                Answer.question_id == question.id, Answer.status == ModerationStatus.VISIBLE
            )
        )
        assert question.answer_count == visible


def test_broadcasts_reached_every_bound_resident_once(city):
    broadcasts = db.session.scalars(sa.select(Broadcast)).all()
    assert broadcasts
    statuses = Counter()
    for broadcast in broadcasts:
        deliveries = db.session.scalars(
            sa.select(Delivery).filter_by(broadcast_id=broadcast.id)
        ).all()
        bound = db.session.scalars(
            sa.select(CommunityBinding.resident_id).filter_by(community_id=broadcast.community_id)
        ).all()
        assert sorted(d.resident_id for d in deliveries) == sorted(bound)
        assert broadcast.recipients == len(bound) and broadcast.finished_at
        statuses.update(d.status for d in deliveries)
    assert {DeliveryStatus.SENT, DeliveryStatus.SKIPPED_NO_CREDIT} <= set(statuses)
    spent = db.session.scalars(sa.select(SubscriptionCredit.spent_by)).all()
    tried = db.session.scalars(sa.select(Delivery.id).where(Delivery.attempts > 0)).all()
    assert sorted(spent) == sorted(tried)


def test_coupon_campaigns_in_every_state_issued_as_many_as_their_coupons(city):
    campaigns = db.session.scalars(sa.select(CouponCampaign)).all()
    assert {c.status for c in campaigns} == {"draft", "active", "paused", "ended"}
    issued = Counter(db.session.scalars(sa.select(Coupon.campaign_id)))
    assert {c.id: c.issued for c in campaigns if c.issued} == issued
    assert sum(c.issued for c in campaigns) > 0


def test_community_1_home_has_something_in_every_section(city, monkeypatch):
    from service_hub.communities import home
    from service_hub.coupons import service as coupons

    monkeypatch.setattr(home, "utcnow", lambda: NOW)
    monkeypatch.setattr(coupons, "utcnow", lambda: NOW)
    first = db.session.scalar(sa.select(sa.func.min(Community.id)))
    page = home.community_home(first)
    for section in ("claimable_coupons", "open_activities", "recent_questions", "engineers",
                    "upcoming_visits", "services"):  # fmt: skip
        assert page[section], section


def test_engineer1_first_community_has_questions_to_answer(city, client):
    engineer = _engineer1()
    first = db.session.scalar(
        sa.select(EngineerCommunity.community_id)
        .filter_by(engineer_id=engineer.id)
        .order_by(EngineerCommunity.standing.desc(), EngineerCommunity.community_id)
    )
    items = client.get(f"/api/v1/communities/{first}/questions").json["items"]
    assert items and any(item["answer_count"] == 0 for item in items)
    assert any(item["answers"] for item in items)


# -- completion evidence and the resident's acceptance (issue 15) -------------------------------


def _completed() -> list[ServiceOrder]:
    return _orders(status="completed")


def _login(client, login: str) -> dict:
    token = client.post(
        "/api/v1/auth/staff-login", json={"login": login, "password": DEMO_PASSWORD}
    ).json["token"]
    return {"Authorization": f"Bearer {token}"}


def test_every_service_type_has_a_chinese_checklist_with_a_required_photo(city):
    items = defaultdict(list)
    for item in db.session.scalars(sa.select(ChecklistItem).order_by(ChecklistItem.position)):
        items[item.service_type_id].append(item)
    services = db.session.scalars(sa.select(ServiceType.id)).all()
    assert set(items) == set(services)
    for checklist in items.values():
        assert any(i.kind == "photo" and i.required for i in checklist)
        assert all(any("\u4e00" <= ch <= "\u9fff" for ch in i.label) for i in checklist)
        assert all(i.unit for i in checklist if i.kind == "number")
    kinds = {i.kind for checklist in items.values() for i in checklist}
    assert kinds == {"yes_no", "number", "text", "photo"}


def test_completed_orders_carry_checklist_answers_photos_and_a_note(city):
    keys = defaultdict(list)
    for item in db.session.scalars(sa.select(ChecklistItem).order_by(ChecklistItem.position)):
        keys[item.service_type_id].append(item.key)
    completed = _completed()
    for order in completed:
        assert [a["key"] for a in order.checklist_answers] == keys[order.service_type_id]
        assert all(a["value"] is not None for a in order.checklist_answers if a["required"])
        assert 1 <= len(order.completion_photos) <= 3
    assert sum(bool(o.completion_note) for o in completed) > len(completed) / 2
    assert all(not o.completion_photos and not o.checklist_answers for o in _open_orders())


def test_demo_photos_are_uploads_that_render(city, client):
    urls = {url for o in _completed() for url in o.completion_photos}
    urls |= {o.signature_url for o in _completed() if o.signature_url}
    urls |= {url for o in _completed() for url in o.dispute_photos}
    stored = {f"/media/{u.sha256}.{u.extension}" for u in db.session.scalars(sa.select(Upload))}
    assert urls and urls <= stored
    for url in sorted(urls):
        response = client.get(url)
        assert response.status_code == 200 and response.mimetype == "image/png", url


def test_acceptance_states_follow_the_lifecycle_across_history(city, app):
    window = timedelta(hours=app.config["ACCEPTANCE_AUTO_HOURS"])
    timelines = _timelines()
    states = Counter()
    for order in _completed():
        states[order.acceptance] += 1
        answers = [e.action for e in timelines[order.id] if e.action in
                   ("confirm", "auto_confirm", "dispute")]  # fmt: skip
        if order.acceptance == Acceptance.PENDING:
            assert answers == [] and order.completed_at > NOW - window
        elif order.acceptance == Acceptance.AUTO_CONFIRMED:
            assert answers == ["auto_confirm"] and order.confirmed_at >= order.completed_at + window
        elif order.acceptance == Acceptance.CONFIRMED:
            assert answers[-1] == "confirm" and order.confirmed_at <= NOW
        else:
            assert answers == ["dispute"] and order.dispute_reason and order.dispute_photos
    assert set(states) == set(Acceptance)
    assert states["confirmed"] + states["auto_confirmed"] > 0.9 * sum(states.values())
    assert any(o.signature_url for o in _completed() if o.acceptance == Acceptance.CONFIRMED)
    assert all(o.acceptance is None for o in _orders() if o.status != "completed")


def test_engineer1_fills_a_checklist_now_and_has_work_awaiting_acceptance(city, client):
    engineer = _engineer1()
    headers = _login(client, "engineer1")
    working = _orders(engineer_id=engineer.id, status="in_service")
    assert working
    form = client.get(f"/api/v1/orders/{working[0].id}/checklist", headers=headers)
    assert form.status_code == 200 and form.json["items"], form.json
    waiting = [o for o in _orders(engineer_id=engineer.id, acceptance=Acceptance.PENDING)]
    assert waiting and all(o.completion_photos for o in waiting)


def test_disputes_open_follow_ups_the_recent_ones_still_open(city):
    follow_ups = {f.order_id: f for f in db.session.scalars(sa.select(FollowUp).filter_by(
        kind="dispute"))}  # fmt: skip
    disputed = {o.id: o for o in _completed() if o.disputed_at}
    assert set(follow_ups) == set(disputed)
    open_now = {o.id for o in disputed.values() if o.acceptance == Acceptance.DISPUTED}
    assert open_now and open_now == {k for k, f in follow_ups.items() if f.status == "open"}
    assert all(f.summary == disputed[k].dispute_reason for k, f in follow_ups.items())


def test_dispute_counters_equal_the_dispute_events(city):
    events = db.session.scalars(sa.select(OrderEvent).filter_by(action="dispute")).all()
    orders = {o.id: o for o in _completed()}
    by_community = Counter((e.community_id, month_of(e.at)) for e in events)
    by_engineer = Counter((orders[e.order_id].engineer_id, month_of(e.at)) for e in events)
    communities = db.session.scalars(sa.select(CommunityMonthKpi)).all()
    engineers = db.session.scalars(sa.select(EngineerMonthKpi)).all()
    assert events
    assert {(k.community_id, k.month): k.disputes for k in communities if k.disputes} == (
        by_community
    )
    assert {(k.engineer_id, k.month): k.disputes for k in engineers if k.disputes} == by_engineer


def test_points_are_earned_at_acceptance_only(city):
    entries = db.session.scalars(sa.select(PointsEntry).filter_by(reason="order_completed")).all()
    accepted = {o.id: o for o in _completed() if o.acceptance in ACCEPTED_WORK}
    assert entries
    for entry in entries:
        order = accepted[int(entry.source_event.split(":")[1])]
        assert entry.owner_id == order.engineer_id and entry.created_at == order.confirmed_at
    since = min(entry.created_at for entry in entries)
    assert len(entries) == sum(o.confirmed_at >= since for o in accepted.values())


def test_coupons_are_spent_at_acceptance_and_stay_reserved_before(city):
    coupons = db.session.scalars(sa.select(Coupon).where(Coupon.order_id.is_not(None))).all()
    orders = {o.id: o for o in _completed()}
    assert coupons
    for coupon in coupons:
        order = orders[coupon.order_id]
        if order.acceptance in ACCEPTED_WORK:
            assert coupon.status == "spent" and coupon.spent_at == order.confirmed_at
        else:
            assert coupon.status == "reserved" and coupon.spent_at is None


def test_a_demo_orders_service_report_renders_with_its_signature(city, client):
    signed = db.session.scalar(
        sa.select(ServiceOrder)
        .where(ServiceOrder.signature_url.is_not(None))
        .order_by(ServiceOrder.completed_at.desc())
    )
    response = client.get(f"/api/v1/orders/{signed.id}/report", headers=_login(client, "manager"))
    assert response.status_code == 200, response.json
    report = response.json
    assert report["acceptance"] == "confirmed" and report["signature_url"] == signed.signature_url
    assert report["checklist"] and report["completion_photos"] == signed.completion_photos
