"""The managers' order console: GET /orders (region, filters, sort, pages, CSV) and
POST /orders/bulk (assign or redispatch many orders, answered per order)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from models import DispatchOffer, OfferStatus, ServiceOrder
from models.base import utcnow
from service_hub.orders import console
from service_hub.plumbing.extensions import db
from tests import factories as f

ORDERS = "/api/v1/orders"
BULK = "/api/v1/orders/bulk"
BEIJING = {"province": "北京市", "city": "北京市", "district": "朝阳区", "lat": 39.9, "lng": 116.4}


@pytest.fixture
def world(app) -> dict:
    """Two communities in 上海市 and one in 北京市, an engineer serving the first, a resident
    bound to all three, and a manager of each region and an admin."""
    here = f.community(app, name="枫林苑")
    here_too = f.community(app, name="梅陇苑")
    there = f.community(app, name="望京花园", **BEIJING)
    return {
        "here": here,
        "here_too": here_too,
        "there": there,
        "service": f.service_type(app, name="净水器滤芯更换"),
        "resident": f.resident(app, communities=(here, here_too, there)),
        "engineer": f.engineer(app, communities=(here,), name="王建国"),
        "engineer_there": f.engineer(app, communities=(there,), base=(39.9, 116.4)),
        "manager": f.staff_auth(app, f.staff(app, "manager", region="上海市"), "manager"),
        "manager_there": f.staff_auth(app, f.staff(app, "manager", region="北京市"), "manager"),
        "admin": f.staff_auth(app, f.staff(app, "admin"), "admin"),
    }


def order(app, world, community: str = "here", age_minutes: int = 0, **fields) -> int:
    """An order row in a chosen state, `age_minutes` old (no timeline: the list reads rows)."""
    created = utcnow() - timedelta(minutes=age_minutes)
    with app.app_context():
        row = ServiceOrder(
            resident_id=world["resident"],
            community_id=world[community],
            service_type_id=world["service"],
            created_at=created,
            updated_at=created,
            **{"status": "unassigned", **fields},
        )
        db.session.add(row)
        db.session.commit()
        return row.id


def offer(app, world, order_id: int, expires_in_minutes: float) -> None:
    with app.app_context():
        db.session.add(
            DispatchOffer(
                order_id=order_id,
                engineer_id=world["engineer"],
                dispatch_breakdown={},
                expires_at=utcnow() + timedelta(minutes=expires_in_minutes),
                status=OfferStatus.PENDING,
            )
        )
        db.session.commit()


def listed(client, headers: dict, **query) -> list[int]:
    response = client.get(ORDERS, headers=headers, query_string=query)
    assert response.status_code == 200, response.json
    return [item["id"] for item in response.json["items"]]


def status_of(app, order_id: int) -> str:
    with app.app_context():
        return db.session.get(ServiceOrder, order_id).status


# --- who sees what ----------------------------------------------------------------------------


def test_a_manager_lists_only_the_orders_of_their_region(app, client, world):
    mine = [order(app, world, "here"), order(app, world, "here_too")]
    order(app, world, "there")
    assert sorted(listed(client, world["manager"])) == mine


def test_a_manager_of_another_region_sees_none_of_these(app, client, world):
    order(app, world, "here")
    assert listed(client, world["manager_there"]) == []


def test_an_admin_lists_every_region(app, client, world):
    ids = [order(app, world, c) for c in ("here", "there")]
    assert sorted(listed(client, world["admin"])) == ids


@pytest.mark.parametrize("role", ["resident", "engineer"])
def test_residents_and_engineers_cannot_list_orders(app, client, world, role):
    headers = (
        f.resident_auth(app, world["resident"])
        if role == "resident"
        else f.engineer_auth(app, world["engineer"])
    )
    response = client.get(ORDERS, headers=headers)
    assert response.status_code == 403
    assert response.json["error"]["code"] == "role_forbidden"


# --- filters ----------------------------------------------------------------------------------


def test_the_list_filters_by_one_status(app, client, world):
    waiting = order(app, world, status="unassigned")
    order(app, world, status="completed")
    assert listed(client, world["manager"], status="unassigned") == [waiting]


def test_the_list_filters_by_several_statuses(app, client, world):
    wanted = [
        order(app, world, age_minutes=2, status="unassigned"),
        order(app, world, age_minutes=1, status="offered"),
    ]
    order(app, world, status="completed")
    assert listed(client, world["manager"], status="unassigned,offered") == wanted


def test_the_list_filters_by_community(app, client, world):
    order(app, world, "here")
    other = order(app, world, "here_too")
    assert listed(client, world["manager"], community_id=world["here_too"]) == [other]


def test_the_list_filters_by_engineer(app, client, world):
    theirs = order(app, world, status="accepted", engineer_id=world["engineer"])
    order(app, world)
    assert listed(client, world["manager"], engineer_id=world["engineer"]) == [theirs]


def test_the_list_filters_by_source(app, client, world):
    by_phone = order(app, world, source="phone")
    order(app, world, source="mini_program")
    assert listed(client, world["manager"], source="phone") == [by_phone]


def test_the_list_filters_by_creation_time(app, client, world):
    order(app, world, age_minutes=3 * 24 * 60)
    yesterday = order(app, world, age_minutes=24 * 60)
    order(app, world, age_minutes=10)
    now = utcnow()
    query = {
        "created_from": (now - timedelta(days=2)).isoformat(),
        "created_to": (now - timedelta(hours=1)).isoformat(),
    }
    assert listed(client, world["manager"], **query) == [yesterday]


def test_the_list_filters_by_sla_state(app, client, world):
    late = order(app, world, sla_state="breached")
    order(app, world, sla_state="on_track")
    assert listed(client, world["manager"], sla_state="breached") == [late]


def test_the_list_filters_urged_orders(app, client, world):
    urged = order(app, world, urge_count=2)
    order(app, world, urge_count=0)
    assert listed(client, world["manager"], urged="true") == [urged]


def test_the_list_filters_orders_no_engineer_holds(app, client, world):
    waiting = order(app, world, status="dispatching")
    order(app, world, status="accepted", engineer_id=world["engineer"])
    order(app, world, status="cancelled")
    assert listed(client, world["manager"], unassigned="true") == [waiting]


def test_the_list_finds_offers_about_to_expire(app, client, world):
    soon, later = order(app, world, status="offered"), order(app, world, status="offered")
    offer(app, world, soon, expires_in_minutes=2)
    offer(app, world, later, expires_in_minutes=30)
    response = client.get(
        ORDERS, headers=world["manager"], query_string={"offer_expiring_within": 5}
    )
    assert [item["id"] for item in response.json["items"]] == [soon]
    assert response.json["items"][0]["offer_expires_at"] is not None


# --- sort and pages ---------------------------------------------------------------------------


@pytest.mark.parametrize(("direction", "expected"), [("asc", [0, 1, 2]), ("desc", [2, 1, 0])])
def test_the_list_sorts_by_age(app, client, world, direction, expected):
    ids = [order(app, world, age_minutes=minutes) for minutes in (30, 20, 10)]
    assert listed(client, world["manager"], sort="created_at", order=direction) == [
        ids[n] for n in expected
    ]


def test_orders_without_a_window_sort_last_by_window(app, client, world):
    start = utcnow() + timedelta(days=1)
    unplanned = order(app, world)
    later = order(app, world, window_start=start + timedelta(hours=2))
    sooner = order(app, world, window_start=start)
    for direction, expected in (("asc", [sooner, later]), ("desc", [later, sooner])):
        got = listed(client, world["manager"], sort="window_start", order=direction)
        assert got == [*expected, unplanned]


def test_the_list_sorts_by_last_change(app, client, world):
    first, second = order(app, world, age_minutes=10), order(app, world, age_minutes=20)
    assert listed(client, world["manager"], sort="updated_at", order="desc") == [first, second]


def test_the_list_pages_with_a_total(app, client, world):
    ids = [order(app, world, age_minutes=m) for m in (50, 40, 30, 20, 10)]
    page = client.get(ORDERS, headers=world["manager"], query_string={"page": 2, "page_size": 2})
    assert [i["id"] for i in page.json["items"]] == ids[2:4]
    assert (page.json["total"], page.json["total_exact"]) == (5, True)


def test_the_count_stops_at_its_cap(app, client, world, monkeypatch):
    monkeypatch.setattr(console, "COUNT_CAP", 3)
    for _ in range(5):
        order(app, world)
    page = client.get(ORDERS, headers=world["manager"])
    assert (len(page.json["items"]), page.json["total"], page.json["total_exact"]) == (5, 3, False)


# --- rows and CSV -----------------------------------------------------------------------------


def test_a_row_carries_names_age_and_a_masked_mobile(app, client, world):
    order(
        app,
        world,
        age_minutes=90,
        status="accepted",
        engineer_id=world["engineer"],
        contact_name="张阿姨",
        contact_mobile="13812348000",
        urge_count=1,
    )
    (row,) = client.get(ORDERS, headers=world["manager"]).json["items"]
    assert row["service_name"] == "净水器滤芯更换"
    assert row["community_name"] == "枫林苑"
    assert row["engineer_name"] == "王建国"
    assert row["contact_mobile"] == "138****8000"
    assert row["age_minutes"] == 90
    assert row["urge_count"] == 1


def test_the_csv_export_has_every_match_masked_and_neutralised(app, client, world):
    order(app, world, contact_mobile="13812348000", contact_name="=HYPERLINK(1)")
    order(app, world, "there")
    response = client.get(ORDERS, headers=world["manager"], query_string={"format": "csv"})
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows) == 1
    assert rows[0]["contact_mobile"] == "138****8000"
    assert rows[0]["contact_name"] == "'=HYPERLINK(1)"
    assert rows[0]["community_name"] == "枫林苑"


# --- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"status": "lost"}, "status"),
        ({"sort": "resident_id"}, "sort"),
        ({"page_size": 101}, "page_size"),
        ({"page": 600, "page_size": 20}, "page"),
        ({"created_to": "9999-01-01T00:00:00+08:00"}, "created_to"),
        ({"created_from": "2026-05-02T00:00:00+08:00", "created_to": "2026-05-01T00:00:00+08:00"},
         "created_to"),
        ({"created_from": "2026-05-01T00:00:00"}, "created_from"),
        ({"offer_expiring_within": 0}, "offer_expiring_within"),
        ({"sla_state": "late"}, "sla_state"),
        ({"community_id": 2**31}, "community_id"),
    ],
)  # fmt: skip
def test_bad_filters_are_a_422_in_chinese(client, world, query, field):
    response = client.get(ORDERS, headers=world["manager"], query_string=query)
    assert response.status_code == 422
    assert field in response.json["error"]["fields"]
    assert response.json["error"]["message_zh"]


# --- bulk actions -----------------------------------------------------------------------------


def bulk(client, headers, **body):
    return client.post(BULK, headers=headers, json=body)


def test_a_bulk_assign_answers_per_order_and_keeps_each_success(app, client, world):
    waiting = order(app, world, status="unassigned")
    done = order(app, world, status="completed", engineer_id=world["engineer"])
    elsewhere = order(app, world, "there", status="unassigned")
    response = bulk(
        client,
        world["manager"],
        action="assign",
        engineer_id=world["engineer"],
        order_ids=[waiting, done, 999_999, elsewhere],
    )
    assert response.status_code == 200
    codes = [
        (r["order_id"], r["ok"], r["error"] and r["error"]["code"])
        for r in response.json["results"]
    ]
    assert codes == [
        (waiting, True, None),
        (done, False, "illegal_transition"),
        (999_999, False, "order_not_found"),
        (elsewhere, False, "order_not_found"),
    ]
    assert (response.json["succeeded"], response.json["failed"]) == (1, 3)
    assert status_of(app, waiting) == "accepted"
    assert status_of(app, elsewhere) == "unassigned"


def test_a_bulk_assign_refuses_an_order_of_a_community_the_engineer_does_not_serve(
    app, client, world
):
    other = order(app, world, "here_too")
    response = bulk(
        client, world["manager"], action="assign", engineer_id=world["engineer"], order_ids=[other]
    )
    assert response.json["results"][0]["error"]["code"] == "not_serving_community"
    assert status_of(app, other) == "unassigned"


def test_a_bulk_assign_to_an_engineer_of_another_region_is_refused_whole(app, client, world):
    waiting = order(app, world)
    response = bulk(
        client,
        world["manager"],
        action="assign",
        engineer_id=world["engineer_there"],
        order_ids=[waiting],
    )
    assert response.status_code == 403
    assert response.json["error"]["code"] == "outside_region"
    assert status_of(app, waiting) == "unassigned"


def test_a_bulk_redispatch_sends_unassigned_orders_back_to_dispatch(app, client, world):
    ids = [order(app, world), order(app, world, "here_too")]
    response = bulk(client, world["manager"], action="redispatch", order_ids=ids)
    assert [r["status"] for r in response.json["results"]] == ["dispatching", "dispatching"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"action": "assign", "order_ids": list(range(1, 102)), "engineer_id": 1}, "order_ids"),
        ({"action": "assign", "order_ids": []}, "order_ids"),
        ({"action": "assign", "order_ids": [1, 1], "engineer_id": 1}, "order_ids"),
        ({"action": "cancel", "order_ids": [1]}, "action"),
        ({"action": "assign", "order_ids": [1]}, "engineer_id"),
        ({"action": "redispatch", "order_ids": [1], "engineer_id": 1}, "engineer_id"),
        ({"action": "assign", "order_ids": [1], "engineer_id": 999_999}, "engineer_id"),
        ({"action": "redispatch", "order_ids": [1, 2**31]}, "order_ids"),
    ],
)
def test_a_bad_bulk_request_is_a_422_that_changes_nothing(app, client, world, body, field):
    waiting = order(app, world)
    body = {**body, "order_ids": [waiting if i == 1 else i for i in body["order_ids"]]}
    response = bulk(client, world["manager"], **body)
    assert response.status_code == 422
    assert field in response.json["error"]["fields"]
    assert response.json["error"]["message_zh"]
    assert status_of(app, waiting) == "unassigned"


def test_engineers_cannot_act_in_bulk(app, client, world):
    waiting = order(app, world)
    response = bulk(
        client, f.engineer_auth(app, world["engineer"]), action="redispatch", order_ids=[waiting]
    )
    assert response.status_code == 403
    assert status_of(app, waiting) == "unassigned"


# --- the dashboard's pages --------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/dashboard/orders", "/dashboard/orders/12"])
def test_the_order_pages_are_shells_of_our_own_files(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert "/web/static/orders.js" in response.text or "/web/static/order_detail.js" in (
        response.text
    )
