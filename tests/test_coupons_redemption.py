"""Coupons on orders: checked and reserved at creation, released on cancel, spent once the work is
accepted."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from models import Coupon, ServiceOrder
from models.base import utcnow
from service_hub.coupons.redemption import discount_cents
from service_hub.plumbing.extensions import db
from tests import factories as f
from tests.test_coupons_support import claim, create_campaign, manager


@pytest.fixture
def world(app, client):
    """A community with an engineer, a ¥99 service, a resident and a ¥10-off coupon of theirs."""
    community_id = f.community(app)
    service_id = f.service_type(app, base_price_cents=9900)
    engineer_id = f.engineer(app, communities=(community_id,))
    resident_id = f.resident(app, communities=(community_id,))
    auth = f.resident_auth(app, resident_id)
    boss = manager(app)
    campaign_id = create_campaign(client, boss, per_resident_limit=5)["id"]
    claimed = claim(client, auth, campaign_id)
    assert claimed.status_code == 201, ("claim the coupon", claimed.json)
    coupon_id = claimed.json["id"]
    return SimpleNamespace(
        community=community_id,
        service=service_id,
        engineer=engineer_id,
        resident=resident_id,
        auth=auth,
        boss=boss,
        campaign=campaign_id,
        coupon=coupon_id,
    )


def order(client, world, coupon_id=None, **extra):
    body = {"community_id": world.community, "service_type_id": world.service, **extra}
    if coupon_id is not None:
        body["coupon_id"] = coupon_id
    return client.post("/api/v1/orders", headers=world.auth, json=body)


def coupon_row(app, coupon_id: int) -> Coupon:
    with app.app_context():
        return db.session.get(Coupon, coupon_id)


def order_count(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(ServiceOrder))


def test_an_order_reserves_the_coupon_and_shows_the_discount(app, client, world):
    response = order(client, world, world.coupon)
    assert response.status_code == 201
    assert response.json["coupon"] == {
        "id": world.coupon,
        "campaign_id": world.campaign,
        "title": "净水器清洗立减10元",
        "discount_cents": 1000,
        "status": "reserved",
    }
    mine = client.get("/api/v1/me/coupons", headers=world.auth).json["items"]
    assert (mine[0]["state"], mine[0]["order_id"]) == ("reserved", response.json["id"])


def test_an_order_without_a_coupon_shows_none(client, world):
    assert order(client, world).json["coupon"] is None


def test_someone_elses_coupon_is_refused_and_no_order_is_made(app, client, world):
    neighbour = f.resident_auth(app, f.resident(app, communities=(world.community,)))
    body = {"community_id": world.community, "service_type_id": world.service}
    response = client.post(
        "/api/v1/orders", headers=neighbour, json={**body, "coupon_id": world.coupon}
    )
    assert (response.status_code, response.json["error"]["code"]) == (422, "coupon_not_found")
    assert order_count(app) == 0


def test_a_coupon_for_other_services_is_refused(app, client, world):
    other_service = f.service_type(app)
    campaign_id = create_campaign(client, world.boss, service_type_ids=[other_service])["id"]
    coupon_id = claim(client, world.auth, campaign_id).json["id"]
    response = order(client, world, coupon_id)
    assert (response.status_code, response.json["error"]["code"]) == (422, "coupon_not_applicable")


def test_a_spend_threshold_above_the_price_is_refused(app, client, world):
    campaign_id = create_campaign(client, world.boss, min_spend_cents=10000)["id"]
    coupon_id = claim(client, world.auth, campaign_id).json["id"]
    response = order(client, world, coupon_id)
    assert (response.status_code, response.json["error"]["code"]) == (
        422,
        "coupon_below_threshold",
    )
    assert order_count(app) == 0


def test_an_expired_coupon_is_refused(app, client, world):
    with app.app_context():
        db.session.get(Coupon, world.coupon).valid_until = utcnow() - timedelta(minutes=1)
        db.session.commit()
    response = order(client, world, world.coupon)
    assert (response.status_code, response.json["error"]["code"]) == (422, "coupon_expired")


def test_a_coupon_valid_only_later_is_refused(app, client, world):
    start = utcnow() + timedelta(days=2)
    campaign_id = create_campaign(
        client,
        world.boss,
        valid_days=None,
        valid_from=start.isoformat(),
        valid_until=(start + timedelta(days=5)).isoformat(),
    )["id"]
    coupon_id = claim(client, world.auth, campaign_id).json["id"]
    response = order(client, world, coupon_id)
    assert response.json["error"]["code"] == "coupon_not_yet_valid"


def test_a_reserved_coupon_cannot_be_used_on_a_second_order(client, world):
    assert order(client, world, world.coupon).status_code == 201
    response = order(client, world, world.coupon)
    assert (response.status_code, response.json["error"]["code"]) == (409, "coupon_in_use")


def test_cancelling_releases_the_coupon_for_another_order(app, client, world):
    order_id = order(client, world, world.coupon).json["id"]
    cancel = client.post(f"/api/v1/orders/{order_id}/cancel", headers=world.auth, json={})
    assert cancel.status_code == 200
    row = coupon_row(app, world.coupon)
    assert (row.status, row.order_id) == ("available", None)
    assert order(client, world, world.coupon).status_code == 201


def test_accepting_the_work_spends_the_coupon(app, client, world, run_jobs):
    order_id = order(client, world, world.coupon).json["id"]
    run_jobs()
    engineer = f.engineer_auth(app, world.engineer)
    for action in ("accept", "en-route", "start", "complete"):
        response = client.post(f"/api/v1/orders/{order_id}/{action}", headers=engineer, json={})
        assert response.status_code == 200, (action, response.json)
    # Completed work counts once the resident accepts it (docs/ranking.md).
    confirm = client.post(f"/api/v1/orders/{order_id}/confirm", headers=world.auth, json={})
    assert confirm.status_code == 200, confirm.json
    row = coupon_row(app, world.coupon)
    assert (row.status, row.order_id, row.discount_cents) == ("spent", order_id, 1000)
    detail = client.get(f"/api/v1/orders/{order_id}", headers=world.auth).json
    assert detail["coupon"]["status"] == "spent"
    assert client.get("/api/v1/me/coupons?state=spent", headers=world.auth).json["total"] == 1


def test_a_repeated_order_request_does_not_reserve_twice(app, client, world):
    headers = {**world.auth, "Idempotency-Key": "order-once"}
    body = {"community_id": world.community, "service_type_id": world.service}
    first = client.post("/api/v1/orders", headers=headers, json={**body, "coupon_id": world.coupon})
    again = client.post("/api/v1/orders", headers=headers, json={**body, "coupon_id": world.coupon})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json["coupon"]["id"] == world.coupon


def test_two_orders_racing_for_one_coupon_reserve_it_once(app, client, world):
    def place(_):
        return order(app.test_client(), world, world.coupon).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(place, range(8)))
    assert (statuses.count(201), statuses.count(409)) == (1, 7)
    assert order_count(app) == 1


def _campaign(**fields):
    return SimpleNamespace(
        **{
            "discount_kind": "fixed",
            "amount_off_cents": None,
            "percent_off": None,
            "max_discount_cents": None,
            **fields,
        }
    )


@pytest.mark.parametrize(
    ("fields", "price", "expected"),
    [
        ({"amount_off_cents": 1000}, 9900, 1000),
        ({"amount_off_cents": 1000}, 600, 600),  # never more than the price
        ({"discount_kind": "percent", "percent_off": 15, "max_discount_cents": 5000}, 9999, 1499),
        ({"discount_kind": "percent", "percent_off": 50, "max_discount_cents": 3000}, 9900, 3000),
    ],
    ids=["fixed", "fixed-above-price", "percent-rounds-down", "percent-capped"],
)
def test_the_discount_in_cents(fields, price, expected):
    assert discount_cents(_campaign(**fields), price) == expected
