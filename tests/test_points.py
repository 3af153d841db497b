"""Points: an append-only ledger that never credits an event twice, and who earns what."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from models import ButlerBinding, OrderStatus, PointsEntry, ServiceOrder
from models.base import utcnow
from service_hub.plumbing.extensions import db
from service_hub.points import ledger
from tests import factories as f

ENGINEER_POINTS = "/api/v1/engineers/me/points"
RESIDENT_POINTS = "/api/v1/me/points"


def _award(app, owner_id: int, points: int, event: str, kind: str = "engineer") -> bool:
    with app.app_context():
        credited = ledger.award(kind, owner_id, points, "test", event)
        db.session.commit()
        return credited


def _balance(app, owner_id: int, kind: str = "engineer") -> int:
    with app.app_context():
        return ledger.balance(kind, owner_id)


def _completed_order(app, resident_id: int, engineer_id: int, created_at=None) -> int:
    """A completed order of the resident's, served by the engineer."""
    community_id = f.community(app)
    service_type_id = f.service_type(app)
    with app.app_context():
        order = ServiceOrder(
            resident_id=resident_id,
            community_id=community_id,
            service_type_id=service_type_id,
            engineer_id=engineer_id,
            status=OrderStatus.COMPLETED,
            created_at=created_at or utcnow(),
            completed_at=utcnow(),
        )
        db.session.add(order)
        db.session.commit()
        return order.id


def _butler(app, resident_id: int, engineer_id: int, bound_at) -> None:
    with app.app_context():
        db.session.add(
            ButlerBinding(resident_id=resident_id, engineer_id=engineer_id, created_at=bound_at)
        )
        db.session.commit()


def _credit_completion(app, order_id: int) -> None:
    with app.app_context():
        ledger.award_for_completed_order(db.session.get(ServiceOrder, order_id))
        db.session.commit()


def test_an_event_credits_once(app):
    engineer_id = f.engineer(app)
    assert _award(app, engineer_id, 10, "order:1:completed") is True
    assert _award(app, engineer_id, 10, "order:1:completed") is False
    assert _balance(app, engineer_id) == 10


def test_the_balance_is_the_sum_of_the_lines(app):
    engineer_id = f.engineer(app)
    for event, points in (("a", 10), ("b", 5), ("c", -3)):
        _award(app, engineer_id, points, event)
    assert _balance(app, engineer_id) == 12


def test_ledgers_of_engineers_and_residents_are_apart(app):
    _award(app, 1, 7, "same-event", kind="resident")
    assert _balance(app, 1, kind="engineer") == 0
    assert _balance(app, 1, kind="resident") == 7


def test_a_completed_order_credits_the_serving_engineer(app):
    engineer_id = f.engineer(app)
    _credit_completion(app, _completed_order(app, f.resident(app), engineer_id))
    assert _balance(app, engineer_id) == app.config["POINTS_ORDER_COMPLETED"]


def test_a_butler_bound_before_the_order_earns_on_it(app):
    butler, server, resident_id = f.engineer(app), f.engineer(app), f.resident(app)
    _butler(app, resident_id, butler, bound_at=utcnow() - timedelta(days=1))
    order_id = _completed_order(app, resident_id, server)
    _credit_completion(app, order_id)
    assert _balance(app, butler) == app.config["POINTS_BUTLER_ORDER"]
    with app.app_context():
        events = db.session.scalars(
            sa.select(PointsEntry.source_event).where(PointsEntry.owner_id == butler)
        ).all()
    assert events == [f"order:{order_id}:butler"]


def test_a_butler_bound_after_the_order_earns_nothing_on_it(app):
    butler, server, resident_id = f.engineer(app), f.engineer(app), f.resident(app)
    order_id = _completed_order(app, resident_id, server, created_at=utcnow() - timedelta(hours=2))
    _butler(app, resident_id, butler, bound_at=utcnow() - timedelta(hours=1))
    _credit_completion(app, order_id)
    assert _balance(app, butler) == 0
    assert _balance(app, server) == app.config["POINTS_ORDER_COMPLETED"]


def test_a_butler_serving_the_order_earns_both_credits(app):
    butler, resident_id = f.engineer(app), f.resident(app)
    _butler(app, resident_id, butler, bound_at=utcnow() - timedelta(days=1))
    _credit_completion(app, _completed_order(app, resident_id, butler))
    expected = app.config["POINTS_ORDER_COMPLETED"] + app.config["POINTS_BUTLER_ORDER"]
    assert _balance(app, butler) == expected


def test_crediting_one_completion_twice_credits_once(app):
    butler, server, resident_id = f.engineer(app), f.engineer(app), f.resident(app)
    _butler(app, resident_id, butler, bound_at=utcnow() - timedelta(days=1))
    order_id = _completed_order(app, resident_id, server)
    _credit_completion(app, order_id)
    _credit_completion(app, order_id)
    assert _balance(app, server) == app.config["POINTS_ORDER_COMPLETED"]
    assert _balance(app, butler) == app.config["POINTS_BUTLER_ORDER"]


def test_an_engineer_sees_balance_and_history_newest_first(client, app):
    engineer_id = f.engineer(app)
    _award(app, engineer_id, 10, "order:1:completed")
    _award(app, engineer_id, 5, "order:2:butler")
    response = client.get(ENGINEER_POINTS, headers=f.engineer_auth(app, engineer_id))
    assert response.status_code == 200
    assert (response.json["balance"], response.json["total"]) == (15, 2)
    assert [e["source_event"] for e in response.json["items"]] == [
        "order:2:butler",
        "order:1:completed",
    ]
    assert set(response.json["items"][0]) == {"points", "reason", "source_event", "created_at"}


def test_the_history_is_paginated_and_the_balance_covers_every_page(client, app):
    engineer_id = f.engineer(app)
    for n in range(3):
        _award(app, engineer_id, 1, f"event:{n}")
    response = client.get(
        ENGINEER_POINTS,
        query_string={"page": 2, "page_size": 2},
        headers=f.engineer_auth(app, engineer_id),
    )
    assert (len(response.json["items"]), response.json["total"]) == (1, 3)
    assert response.json["balance"] == 3


def test_a_resident_cannot_read_engineer_points(client, app):
    response = client.get(ENGINEER_POINTS, headers=f.resident_auth(app, f.resident(app)))
    assert response.status_code == 403


def test_points_need_a_token(client):
    assert client.get(ENGINEER_POINTS).status_code == 401


def test_a_resident_sees_their_own_ledger(client, app):
    resident_id = f.resident(app)
    _award(app, resident_id, 3, "activity:1:signup", kind="resident")
    response = client.get(RESIDENT_POINTS, headers=f.resident_auth(app, resident_id))
    assert response.status_code == 200
    assert (response.json["balance"], response.json["total"]) == (3, 1)


def test_an_engineer_cannot_read_a_residents_ledger(client, app):
    response = client.get(RESIDENT_POINTS, headers=f.engineer_auth(app, f.engineer(app)))
    assert response.status_code == 403
