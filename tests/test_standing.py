"""The standing of each engineer in each community: kept by jobs, equal to a rebuild, used by
dispatch and shown with its breakdown."""

import sqlalchemy as sa

from dispatch import standing
from models import EngineerCommunity
from service_hub.plumbing.extensions import db
from tests import factories as f


def standings(app) -> list[tuple]:
    with app.app_context():
        return sorted(
            (
                link.engineer_id,
                link.community_id,
                link.standing,
                link.completed_orders,
                repr(sorted(link.standing_breakdown.items())),
            )
            for link in db.session.scalars(sa.select(EngineerCommunity))
        )


def busy_history(app, client, run_jobs):
    first, second = f.community(app), f.community(app)
    service_id = f.service_type(app)
    good = f.engineer(app, communities=(first, second))
    poor = f.engineer(app, communities=(first,))
    residents = [f.resident(app, communities=(first, second)) for _ in range(3)]

    def step(name: str, path: str, auth: dict, body: dict | None, status: int) -> None:
        response = client.post(path, headers=auth, json=body)
        assert response.status_code == status, (name, response.json)

    for n, resident_id in enumerate(residents):
        auth = f.resident_auth(app, resident_id)
        order_id = f.accepted_order(app, client, run_jobs, first, resident_id, good, service_id)
        step("review", f"/api/v1/orders/{order_id}/review", auth, {"rating": 5}, 201)
        step("like", f"/api/v1/engineers/{good}/like", auth, None, 201)
        order_id = f.accepted_order(app, client, run_jobs, first, resident_id, poor, service_id)
        step("review", f"/api/v1/orders/{order_id}/review", auth, {"rating": 2}, 201)
        if n == 0:
            complaint = {"reason": "态度差"}
            step("complain", f"/api/v1/orders/{order_id}/complain", auth, complaint, 200)
    f.accepted_order(app, client, run_jobs, second, residents[0], good, service_id)
    run_jobs()
    return first, good, poor


def test_rebuilt_standings_equal_the_incremental_ones(app, client, run_jobs):
    busy_history(app, client, run_jobs)
    incremental = standings(app)
    with app.app_context():
        standing.rebuild()
    assert standings(app) == incremental
    assert len(incremental) == 3


def test_the_better_engineer_ranks_first_with_a_breakdown(app, client, run_jobs):
    community_id, good, poor = busy_history(app, client, run_jobs)
    manager = f.staff_auth(app, f.staff(app, "manager"), "manager")  # breakdowns are staff's
    path = f"/api/v1/communities/{community_id}/engineers"
    ranked = client.get(path, headers=manager).json["items"]
    assert [r["engineer"]["id"] for r in ranked] == [good, poor]
    top = ranked[0]["standing_breakdown"]
    assert (top["reviews"], top["likes"], top["completed_orders"]) == (3, 3, 3)
    assert ranked[1]["standing_breakdown"]["complaints"] == 1


def test_dispatch_prefers_the_engineer_with_the_better_standing(app, client, run_jobs):
    community_id, good, _poor = busy_history(app, client, run_jobs)
    resident_id = f.resident(app, communities=(community_id,))
    order_id = client.post(
        "/api/v1/orders",
        headers=f.resident_auth(app, resident_id),
        json={"community_id": community_id, "service_type_id": f.service_type(app)},
    ).json["id"]
    run_jobs()
    manager = f.staff_auth(app, f.staff(app, "manager"), "manager")
    order = client.get(f"/api/v1/orders/{order_id}", headers=manager).json
    assert order["dispatch_breakdown"]["engineer_id"] == good


def test_a_hidden_review_leaves_the_standing(app, client, run_jobs):
    community_id = f.community(app)
    resident_id = f.resident(app, communities=(community_id,))
    engineer_id = f.engineer(app, communities=(community_id,))
    order_id = f.completed_order(
        app, client, run_jobs, community_id, resident_id, engineer_id, f.service_type(app)
    )
    review_id = client.post(
        f"/api/v1/orders/{order_id}/review",
        headers=f.resident_auth(app, resident_id),
        json={"rating": 1},
    ).json["id"]
    run_jobs()
    manager = f.staff_auth(app, f.staff(app, "manager"), "manager")
    client.post(f"/api/v1/reviews/{review_id}/hide", headers=manager, json={"reason": "误评"})
    run_jobs()
    path = f"/api/v1/communities/{community_id}/engineers"
    [ranked] = client.get(path, headers=manager).json["items"]
    assert ranked["standing_breakdown"]["reviews"] == 0
