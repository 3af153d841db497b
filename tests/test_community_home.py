"""The community home: read in a fixed number of queries whatever the community's size; its
shared part cached per community and changed by the events that change it (through the
outbox); the caller's own part per caller."""

from contextlib import contextmanager
from datetime import timedelta

import sqlalchemy as sa

from models import Activity, ActivityCommunity, Question, Visit
from models.base import utcnow
from service_hub.auth.tokens import Principal
from service_hub.communities.home import community_home
from service_hub.communities.home_cache import HomeCache, MemoryStore
from service_hub.communities.schemas import CommunityHomeSchema
from service_hub.plumbing import outbox
from service_hub.plumbing.extensions import db
from tests import factories as f
from tests.test_coupons_support import age_resident, claim, create_campaign
from tests.test_coupons_support import manager as coupon_manager


@contextmanager
def counted_queries(app):
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)


def populate(app, community_id: int, size: int) -> None:
    engineers = [f.engineer(app, communities=(community_id,)) for _ in range(size)]
    manager = f.staff(app, "manager")
    resident_id = f.resident(app, communities=(community_id,))
    start = utcnow() + timedelta(days=1)
    with app.app_context():
        for engineer_id in engineers:
            db.session.add(
                Visit(
                    engineer_id=engineer_id,
                    community_id=community_id,
                    starts_at=start,
                    ends_at=start + timedelta(hours=2),
                )
            )
            activity = Activity(
                title="活动",
                place="会所",
                starts_at=start,
                ends_at=start + timedelta(hours=1),
                signup_opens_at=utcnow(),
                signup_closes_at=start,
                capacity=10,
                created_by=manager,
            )
            db.session.add(activity)
            db.session.flush()
            db.session.add(ActivityCommunity(activity_id=activity.id, community_id=community_id))
        db.session.add_all(
            Question(community_id=community_id, resident_id=resident_id, text=f"问题{n}")
            for n in range(size)
        )
        db.session.commit()


def home_query_count(app, client, community_id: int) -> int:
    with counted_queries(app) as statements:
        assert client.get(f"/api/v1/communities/{community_id}").status_code == 200
    return len(statements)


def test_a_large_community_home_costs_the_same_queries_as_a_small_one(app, client):
    small, large = f.community(app), f.community(app)
    populate(app, small, 1)
    populate(app, large, 25)
    assert home_query_count(app, client, large) == home_query_count(app, client, small)


def test_the_home_shows_upcoming_visits_and_open_activities(app, client):
    community_id = f.community(app)
    populate(app, community_id, 2)
    home = client.get(f"/api/v1/communities/{community_id}").json
    assert len(home["upcoming_visits"]) == 2
    assert len(home["open_activities"]) == 2
    assert len(home["engineers"]) == 2
    assert len(home["recent_questions"]) == 2


# The shared part is cached per community (service_hub/communities/home_cache.py); the events
# that change it invalidate it through the outbox, whose jobs the tests run with run_jobs.


def home_of(client, community_id: int, headers: dict | None = None) -> dict:
    response = client.get(f"/api/v1/communities/{community_id}", headers=headers or {})
    assert response.status_code == 200, response.json
    return response.json


def announce_visit(app, client, community_id: int, engineer_id: int):
    start = utcnow() + timedelta(days=1)
    body = {
        "community_id": community_id,
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=1)).isoformat(),
        "slots": [
            {"starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=1)).isoformat()}
        ],
    }
    response = client.post(
        "/api/v1/engineers/me/visits", json=body, headers=f.engineer_auth(app, engineer_id)
    )
    assert response.status_code == 201, response.json
    return response.json


def test_a_review_shows_on_the_cached_home_once_its_jobs_have_run(app, client, run_jobs):
    community_id = f.community(app)
    resident_id = f.resident(app, communities=(community_id,))
    engineer_id = f.engineer(app, communities=(community_id,))
    order_id = f.completed_order(app, client, run_jobs, community_id, resident_id, engineer_id)
    [before] = home_of(client, community_id)["engineers"]
    assert before["review_count"] == 0
    response = client.post(
        f"/api/v1/orders/{order_id}/review",
        headers=f.resident_auth(app, resident_id),
        json={"rating": 4},
    )
    assert response.status_code == 201, response.json
    run_jobs()
    [after] = home_of(client, community_id)["engineers"]
    assert (after["review_count"], after["average_rating"]) == (1, 4.0)


def test_an_announced_visit_shows_on_the_cached_home_once_its_jobs_have_run(app, client, run_jobs):
    community_id = f.community(app)
    engineer_id = f.engineer(app, communities=(community_id,))
    assert home_of(client, community_id)["upcoming_visits"] == []
    visit = announce_visit(app, client, community_id, engineer_id)
    run_jobs()
    assert [v["id"] for v in home_of(client, community_id)["upcoming_visits"]] == [visit["id"]]


def test_a_new_campaign_shows_on_the_cached_home_once_its_jobs_have_run(app, client, run_jobs):
    community_id = f.community(app)
    assert home_of(client, community_id)["claimable_coupons"] == []
    campaign = create_campaign(client, coupon_manager(app))
    run_jobs()
    offered = home_of(client, community_id)["claimable_coupons"]
    assert [c["campaign_id"] for c in offered] == [campaign["id"]]


def test_a_lost_invalidation_is_redriven_by_the_outbox(app, client, run_jobs, monkeypatch):
    community_id = f.community(app)
    engineer_id = f.engineer(app, communities=(community_id,))
    assert home_of(client, community_id)["upcoming_visits"] == []
    with monkeypatch.context() as crash:  # committed, then the process died before the relay
        crash.setattr(outbox, "relay", lambda ids: 0)
        announce_visit(app, client, community_id, engineer_id)
    run_jobs()
    assert home_of(client, community_id)["upcoming_visits"] == []  # nothing told the cache
    with app.app_context():
        assert outbox.relay_stale(grace=timedelta(0)) >= 1
    run_jobs()
    assert len(home_of(client, community_id)["upcoming_visits"]) == 1


def test_each_resident_sees_their_own_binding_and_coupons_on_the_shared_page(app, client, run_jobs):
    community_id = f.community(app)
    campaign_id = create_campaign(client, coupon_manager(app), per_resident_limit=1)["id"]
    run_jobs()
    holder = f.resident_auth(app, f.resident(app, communities=(community_id,)))
    neighbour = f.resident_auth(app, f.resident(app, communities=(community_id,)))
    stranger = f.resident_auth(app, f.resident(app))
    assert home_of(client, community_id)["claimable_coupons"][0]["held"] is None  # cached now
    assert claim(client, holder, campaign_id).status_code == 201

    mine = home_of(client, community_id, holder)
    theirs = home_of(client, community_id, neighbour)
    assert (mine["is_bound"], mine["claimable_coupons"]) == (True, [])
    assert theirs["is_bound"] is True
    assert [(c["campaign_id"], c["held"]) for c in theirs["claimable_coupons"]] == [
        (campaign_id, 0)
    ]
    assert home_of(client, community_id, stranger)["is_bound"] is False


def test_a_cached_home_shows_a_manager_the_standing_and_a_resident_none(app, client):
    community_id = f.community(app)
    f.engineer(app, communities=(community_id,), standing=0.6)
    resident = f.resident_auth(app, f.resident(app, communities=(community_id,)))
    manager = f.staff_auth(app, f.staff(app, "manager"), "manager")
    assert home_of(client, community_id, resident)["engineers"][0]["standing"] is None
    assert home_of(client, community_id, manager)["engineers"][0]["standing"] == 0.6
    assert home_of(client, community_id)["engineers"][0]["standing"] is None


def test_a_cached_home_costs_no_query_and_one_select_for_a_resident(app, client):
    community_id = f.community(app)
    populate(app, community_id, 3)
    resident = f.resident_auth(app, f.resident(app, communities=(community_id,)))
    home_of(client, community_id)  # built and cached
    with counted_queries(app) as anyone:
        home_of(client, community_id)
    with counted_queries(app) as residents:
        home_of(client, community_id, resident)
    selects = [s for s in residents if s.lstrip().upper().startswith("SELECT")]
    assert (len(anyone), len(selects)) == (0, 1)


def test_the_cached_page_is_the_page_built_without_the_cache(app, client, run_jobs):
    community_id = f.community(app)
    populate(app, community_id, 2)
    create_campaign(client, coupon_manager(app))
    run_jobs()
    resident_id = f.resident(app, communities=(community_id,))
    cached = home_of(client, community_id, f.resident_auth(app, resident_id))
    with app.test_request_context():
        built = CommunityHomeSchema().dump(
            community_home(
                community_id, Principal(kind="resident", id=resident_id, role="resident")
            )
        )
    assert cached == built


def test_a_residents_coupons_on_the_home_are_what_the_coupons_route_offers_them(
    app, client, run_jobs
):
    community_id = f.community(app)
    boss = coupon_manager(app)
    claimed = create_campaign(client, boss, per_resident_limit=1)["id"]
    create_campaign(client, boss, per_resident_limit=2)
    create_campaign(client, boss, targeting={"new_residents_days": 30})
    run_jobs()
    newcomer = f.resident_auth(app, f.resident(app, communities=(community_id,)))
    old_id = f.resident(app, communities=(community_id,))
    age_resident(app, old_id, 90)
    old = f.resident_auth(app, old_id)
    for resident in (newcomer, old):
        assert claim(client, resident, claimed).status_code == 201
    home_of(client, community_id)  # the shared part cached before what follows

    for resident in (newcomer, old):
        offered = client.get(f"/api/v1/communities/{community_id}/coupons", headers=resident)
        expected = [(c["campaign_id"], c["held"]) for c in offered.json["items"]]
        on_home = home_of(client, community_id, resident)["claimable_coupons"]
        assert [(c["campaign_id"], c["held"]) for c in on_home] == expected
    assert len(expected) == 1  # the old resident: neither the claimed nor the newcomers' one


def test_another_process_sees_an_invalidation_within_its_local_seconds():
    clock = FakeClock()
    store = MemoryStore(clock)
    web = HomeCache(store, local_seconds=2, clock=clock)  # a web process
    worker = HomeCache(store, local_seconds=2, clock=clock)  # the process running the job
    pages = iter([{"n": 1}, {"n": 2}])
    assert web.page(7, lambda: next(pages)) == {"n": 1}
    worker.invalidate(7)
    clock.now += 1.9
    assert web.page(7, lambda: next(pages)) == {"n": 1}  # its own copy, within the bound
    clock.now += 0.2
    assert web.page(7, lambda: next(pages)) == {"n": 2}


def test_a_page_built_from_reads_older_than_an_invalidation_is_not_kept():
    clock = FakeClock()
    store = MemoryStore(clock)
    cache = HomeCache(store, local_seconds=0, clock=clock)

    def build_while_an_event_commits() -> dict:
        cache.invalidate(7)  # lands between the version read and the write
        return {"n": "old"}

    assert cache.page(7, build_while_an_event_commits) == {"n": "old"}
    assert cache.page(7, lambda: {"n": "new"}) == {"n": "new"}


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now
