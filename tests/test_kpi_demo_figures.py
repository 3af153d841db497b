"""KPI figures from the demo data equal figures computed independently from raw orders."""

from collections import Counter, defaultdict
from datetime import UTC, datetime

import sqlalchemy as sa

from demo.seed import seed_demo
from models import Review, ServiceOrder
from service_hub.plumbing.extensions import db
from tests import factories as f

NOW = datetime(2026, 11, 22, 4, 0, tzinfo=UTC)


def local_month(moment) -> str:
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")


def test_demo_kpis_match_the_raw_orders(app, client):
    with app.app_context():
        seed_demo(communities=10, seed=3, progress=lambda _m: None, now=NOW)
        orders = db.session.scalars(sa.select(ServiceOrder)).all()
        reviews = db.session.scalars(sa.select(Review)).all()
    month = "2026-09"
    created = Counter(o.community_id for o in orders if local_month(o.created_at) == month)
    completed = Counter(
        o.community_id for o in orders if o.completed_at and local_month(o.completed_at) == month
    )
    ratings = defaultdict(list)
    for review in reviews:
        if local_month(review.created_at) == month:
            ratings[review.community_id].append(review.rating)
    manager = f.staff_auth(app, f.staff(app, "manager", username="kpi-check"), "manager")
    items = client.get(
        f"/api/v1/kpis/communities?month={month}&page_size=100", headers=manager
    ).json["items"]
    assert items, "the demo has orders in that month"
    for row in items:
        community_id = row["community_id"]
        assert row["orders"] == created[community_id]
        assert row["completed"] == completed[community_id]
        expected = ratings[community_id]
        assert row["average_rating"] == (
            round(sum(expected) / len(expected), 3) if expected else None
        )
