"""The whole core loop, end to end, through the HTTP API and the job queue."""

from models.base import utcnow
from service_hub.plumbing.timefmt import month_of
from tests import factories as f


def test_core_loop_from_login_to_kpi(app, client, run_jobs, fake_wechat):
    community_id = f.community(app, household_count=800)
    other_community = f.community(app)
    service_id = f.service_type(app, skill="purifier")
    neighbours = [f.resident(app, communities=(community_id,)) for _ in range(5)]
    outsider = f.resident(app, communities=(other_community,))
    strong = f.engineer(app, communities=(community_id,), standing=0.9)
    f.engineer(app, communities=(community_id,), standing=0.4)
    manager = f.staff(app, "manager", username="boss")

    # A resident logs in through (fake) WeChat and binds the community.
    login = client.post("/api/v1/auth/wechat-login", json={"code": "alice:1"})
    assert login.status_code == 200
    alice = {"Authorization": f"Bearer {login.json['token']}"}
    assert client.put(f"/api/v1/me/communities/{community_id}", headers=alice).status_code == 200

    # She requests a service; the dispatch job ranks the engineers and offers the best one.
    created = client.post(
        "/api/v1/orders",
        headers=alice,
        json={
            "community_id": community_id,
            "service_type_id": service_id,
            "description": "滤芯更换",
        },
    )
    assert created.status_code == 201
    order_id = created.json["id"]
    run_jobs()
    order = client.get(f"/api/v1/orders/{order_id}", headers=alice).json
    assert order["status"] == "offered"
    # Why dispatch chose whom is for managers (docs/privacy.md).
    as_manager = f.staff_auth(app, manager, "manager")
    seen = client.get(f"/api/v1/orders/{order_id}", headers=as_manager).json
    assert seen["dispatch_breakdown"]["engineer_id"] == strong

    # The engineer signs in, sees the offer, accepts, travels, works and completes.
    staff_login = client.post(
        "/api/v1/auth/staff-login", json={"login": _username(app, strong), "password": f.PASSWORD}
    )
    engineer = {"Authorization": f"Bearer {staff_login.json['token']}"}
    offers = client.get("/api/v1/engineers/me/offers", headers=engineer).json
    assert [o["order_id"] for o in offers["items"]] == [order_id]
    for action in ("accept", "en-route", "start", "complete"):
        response = client.post(f"/api/v1/orders/{order_id}/{action}", headers=engineer, json={})
        assert response.status_code == 200, (action, response.json)
    run_jobs()

    # She reviews it.
    review = client.post(
        f"/api/v1/orders/{order_id}/review", headers=alice, json={"rating": 5, "text": "师傅很专业"}
    )
    assert review.status_code == 201

    # Every resident bound to the community heard of the engineer's visit; nobody else did.
    for resident_id in neighbours:
        inbox = client.get("/api/v1/me/inbox", headers=f.resident_auth(app, resident_id)).json
        assert [item["kind"] for item in inbox["items"]] == ["visit_announced"]
    outsider_inbox = client.get("/api/v1/me/inbox", headers=f.resident_auth(app, outsider)).json
    assert outsider_inbox["total"] == 0
    alice_kinds = {i["kind"] for i in client.get("/api/v1/me/inbox", headers=alice).json["items"]}
    assert alice_kinds == {
        "visit_announced",
        "order_accepted",
        "engineer_en_route",
        "order_completed",
    }

    # The community's KPI for the month counts the order.
    boss = f.staff_auth(app, manager, "manager")
    kpis = client.get(f"/api/v1/kpis/communities?month={_this_month(app)}", headers=boss).json
    row = next(r for r in kpis["items"] if r["community_id"] == community_id)
    assert (row["orders"], row["completed"], row["average_rating"]) == (1, 1, 5.0)
    assert row["orders_per_1000"] == 1.25


def _username(app, engineer_id: int) -> str:
    from models import StaffUser
    from service_hub.plumbing.extensions import db

    with app.app_context():
        return db.session.get(StaffUser, f.staff_id_of(app, engineer_id)).username


def _this_month(app) -> str:
    with app.app_context():
        return month_of(utcnow())
