"""The world the authorisation matrix acts on: two communities in 上海市 (one spare) and one
in 北京市, a resident, an engineer and a manager on each side, an admin, and the rows the
TABLE's probes name (orders, a review, a follow-up, questions, answers, an activity, a visit,
campaigns, a reward rule). Built once per backend by test_matrix.py's `world` fixture.

Every setup step checks its own answer (`ok`), so a broken step fails there, by name.
"""

from __future__ import annotations

import sqlalchemy as sa

from models import FollowUp
from service_hub.plumbing.extensions import db
from tests import factories as f
from tests.authz.policy import CAMPAIGN, activity_body, address_body, order_body, visit_body


def run_jobs(app) -> None:
    """Run every queued job (as conftest's run_jobs, which is function-scoped)."""
    from service_hub.worker import build_worker

    queue = app.extensions["job_queue"]
    if hasattr(queue, "drain"):
        queue.drain()
    else:
        build_worker(app, (), simple=True).work(burst=True, logging_level="WARNING")


def ok(response, status: int = 201) -> dict:
    """The JSON of a setup step's answer, after checking it is the one the step expects."""
    request = response.request
    assert response.status_code == status, (
        f"setup step {request.method} {request.path} answered {response.status_code}, "
        f"not {status}: {response.get_data(as_text=True)}"
    )
    return response.json


def _created_id(client, path: str, headers: dict, body: dict) -> int:
    return ok(client.post(path, headers=headers, json=body))["id"]


def build(app, client) -> tuple[dict, dict]:
    """The world's ids and each caller's Authorization header."""
    here = f.community(app)  # 上海市
    there = f.community(
        app, province="北京市", city="北京市", district="朝阳区", lat=39.92, lng=116.44
    )
    spare = f.community(app)  # 上海市
    ids = {
        "community_here": here,
        "community_there": there,
        "spare_community": spare,
        "service_type": f.service_type(app),
        "resident_here": f.resident(app, communities=(here,)),
        "resident_there": f.resident(app, communities=(there,)),
        "engineer": f.engineer(app, communities=(here,)),
        "engineer_there": f.engineer(app, communities=(there,), base=(39.92, 116.44)),
        # Serves the spare community, so is in the region of manager_here, not manager_there.
        "spare_engineer": f.engineer(app, communities=(spare,)),
    }
    manager_here = f.staff(app, "manager", region="上海市", username="matrix_manager")
    auth = {
        "anonymous": {},
        "resident_here": f.resident_auth(app, ids["resident_here"]),
        "resident_there": f.resident_auth(app, ids["resident_there"]),
        "engineer_here": f.engineer_auth(app, ids["engineer"]),
        "engineer_there": f.engineer_auth(app, ids["engineer_there"]),
        "manager_here": f.staff_auth(app, manager_here, "manager"),
        "manager_there": f.staff_auth(app, f.staff(app, "manager", region="北京市"), "manager"),
        "admin": f.staff_auth(app, f.staff(app, "admin"), "admin"),
    }
    resident, engineer, manager = (
        auth["resident_here"],
        auth["engineer_here"],
        auth["manager_here"],
    )

    # The resident here's address book: one address the probes change, one they delete.
    for name in ("address", "spare_address"):
        body = address_body(ids, "resident_here")
        ids[name] = _created_id(client, "/api/v1/me/addresses", resident, body)

    # Two orders of the resident here, both offered to and accepted by the engineer here;
    # one is then worked to completion and reviewed (2★, which opens a follow-up).
    orders = [
        _created_id(client, "/api/v1/orders", resident, order_body(ids, "resident_here"))
        for _ in range(2)
    ]
    run_jobs(app)
    for order_id in orders:
        ok(client.post(f"/api/v1/orders/{order_id}/accept", headers=engineer, json={}), 200)
    ids["order"], ids["done_order"] = orders
    for action in ("en-route", "start", "complete"):
        path = f"/api/v1/orders/{ids['done_order']}/{action}"
        ok(client.post(path, headers=engineer, json={}), 200)
    review = client.post(
        f"/api/v1/orders/{ids['done_order']}/review",
        headers=resident,
        json={"rating": 2, "text": "来得有点晚"},
    )
    ids["review"] = ok(review)["id"]
    run_jobs(app)
    with app.app_context():
        ids["follow_up"] = db.session.scalar(sa.select(FollowUp.id))
    assert ids["follow_up"] is not None

    questions = f"/api/v1/communities/{here}/questions"
    for name in ("question", "spare_question"):
        ids[name] = _created_id(client, questions, resident, {"text": "热水器怎么除垢？"})
    answers = f"/api/v1/questions/{ids['question']}/answers"
    for name in ("answer", "spare_answer"):
        ids[name] = _created_id(client, answers, engineer, {"text": "用柠檬酸"})

    activities = f"/api/v1/communities/{here}/activities"
    ids["activity"] = _created_id(client, activities, manager, activity_body(ids, "admin"))
    body = visit_body(ids, "engineer_here")
    visit = ok(client.post("/api/v1/engineers/me/visits", headers=engineer, json=body))
    ids["visit"], ids["slot"] = visit["id"], visit["slots"][0]["id"]

    campaigns = "/api/v1/coupon-campaigns"
    for name, channel in (("campaign", "claim"), ("reward", "reward")):
        created = ok(client.post(campaigns, headers=manager, json={**CAMPAIGN, "channel": channel}))
        ok(client.post(f"{campaigns}/{created['id']}/activate", headers=manager), 200)
        ids[name] = created["id"]
    rule = client.post(
        "/api/v1/coupon-reward-rules",
        headers=manager,
        json={"event": "review_with_photos", "campaign_id": ids["reward"]},
    )
    ids["reward_rule"] = ok(rule)["id"]
    templates = ok(client.get("/api/v1/me/subscriptions", headers=resident), 200)["templates"]
    ids["template_id"] = next(iter(templates.values()))
    return ids, auth
