"""Every datetime input has a business range, checked once in the schema layer: a refused
moment leaves nothing behind, and nothing stored can stop a shared page from rendering."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from models import Activity, ActivityCommunity, CouponCampaign, ServiceOrder, Visit
from models.base import utcnow
from service_hub.plumbing.extensions import db
from tests import factories as f
from tests.test_coupons_support import campaign_body

END_OF_TIME = "9999-12-31T23:59:59Z"
FAR_LOCAL = "9999-12-31T20:00:00+08:00"
YEAR_ONE = "0001-01-01T00:00:00-12:00"


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.fixture
def world(app):
    community_id = f.community(app)
    return {
        "community": community_id,
        "resident": f.resident(app, communities=(community_id,)),
        "engineer": f.engineer(app, communities=(community_id,), skills={"purifier": 3}),
        "service": f.service_type(app, skill="purifier"),
        "manager": f.staff_auth(app, f.staff(app, "manager"), "manager"),
    }


def post_order(app, client, world, **window):
    body = {"community_id": world["community"], "service_type_id": world["service"], **window}
    return client.post("/api/v1/orders", headers=f.resident_auth(app, world["resident"]), json=body)


@pytest.mark.parametrize(
    "window",
    [
        {"window_start": END_OF_TIME},
        {"window_start": FAR_LOCAL, "window_end": FAR_LOCAL},
        {"window_start": YEAR_ONE},
        {"window_end": "2001-01-01T00:00:00+08:00"},
    ],
    ids=["end-of-time", "year-9999-local", "year-one-minus-12", "long-past"],
)
def test_an_order_window_outside_its_range_is_422_and_stores_nothing(app, client, world, window):
    response = post_order(app, client, world, **window)
    assert (response.status_code, count(app, ServiceOrder)) == (422, 0)


def test_an_order_window_beyond_the_configured_horizon_is_refused(app, client, world):
    days = app.config["ORDER_WINDOW_MAX_DAYS_AHEAD"]
    start = utcnow() + timedelta(days=days + 1)
    response = post_order(
        app,
        client,
        world,
        window_start=start.isoformat(),
        window_end=(start + timedelta(hours=2)).isoformat(),
    )
    assert "window_start" in response.json["error"]["fields"]


def test_an_order_window_within_the_horizon_is_taken(app, client, world):
    start = utcnow() + timedelta(days=app.config["ORDER_WINDOW_MAX_DAYS_AHEAD"] - 1)
    response = post_order(
        app,
        client,
        world,
        window_start=start.isoformat(),
        window_end=(start + timedelta(hours=2)).isoformat(),
    )
    assert response.status_code == 201


def test_an_activity_ending_at_the_end_of_time_is_422_and_stores_nothing(app, client, world):
    start = utcnow() + timedelta(days=2)
    response = client.post(
        f"/api/v1/communities/{world['community']}/activities",
        headers=world["manager"],
        json={
            "title": "净水知识讲座",
            "place": "小区会所",
            "capacity": 5,
            "starts_at": start.isoformat(),
            "ends_at": END_OF_TIME,
        },
    )
    assert (response.status_code, count(app, Activity)) == (422, 0)


def test_a_visit_ending_at_the_end_of_time_is_422_and_stores_nothing(app, client, world):
    start = utcnow() + timedelta(days=1)
    response = client.post(
        "/api/v1/engineers/me/visits",
        headers=f.engineer_auth(app, world["engineer"]),
        json={
            "community_id": world["community"],
            "starts_at": start.isoformat(),
            "ends_at": END_OF_TIME,
            "slots": [],
        },
    )
    assert (response.status_code, count(app, Visit)) == (422, 0)


def test_a_campaign_ending_at_the_end_of_time_is_422_and_stores_nothing(app, client, world):
    response = client.post(
        "/api/v1/coupon-campaigns",
        headers=world["manager"],
        json=campaign_body(ends_at=END_OF_TIME),
    )
    assert (response.status_code, count(app, CouponCampaign)) == (422, 0)


def test_a_moment_stored_beyond_local_time_still_renders_on_the_community_page(app, client, world):
    with app.app_context():
        activity = Activity(
            title="旧数据",
            place="会所",
            starts_at=utcnow() + timedelta(days=1),
            ends_at=datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC),
            signup_opens_at=utcnow(),
            signup_closes_at=utcnow() + timedelta(hours=1),
            capacity=5,
            created_by=f.staff(app, "admin"),
        )
        db.session.add(activity)
        db.session.flush()
        db.session.add(ActivityCommunity(activity_id=activity.id, community_id=world["community"]))
        db.session.commit()
    response = client.get(f"/api/v1/communities/{world['community']}/activities")
    assert response.json["items"][0]["ends_at"].startswith("9999-12-31T23:59:59")
