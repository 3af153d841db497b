"""The community home is read in a fixed number of queries, whatever the community's size."""

from contextlib import contextmanager
from datetime import timedelta

import sqlalchemy as sa

from models import Activity, ActivityCommunity, Question, Visit
from models.base import utcnow
from service_hub.plumbing.extensions import db
from tests import factories as f


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
