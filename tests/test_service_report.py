"""The service report (服务报告): one call with what was done, the checklist with its labels,
photos, note, parts, times, the engineer and the resident's acceptance; for the resident, the
order's engineer and managers of its region; and the managers' printable page."""

from __future__ import annotations

import pytest

from models import DispatchOffer
from service_hub.plumbing.extensions import db
from tests import factories as f
from tests.completion_world import make_world


@pytest.fixture
def world(app, client, run_jobs):
    return make_world(app, client, run_jobs)


def report(world, order_id: int, headers: dict):
    return world.client.get(f"/api/v1/orders/{order_id}/report", headers=headers)


def test_the_resident_reads_the_report_of_accepted_work(world):
    order_id = world.in_service()
    photo, signature = world.uploaded(), world.uploaded()
    answers = world.answers()
    done = world.act(order_id, "complete", answers=answers, photos=[photo], note="更换三支滤芯")
    assert done.status_code == 200, done.json
    world.act(order_id, "confirm", world.auth, signature_url=signature)

    body = report(world, order_id, world.auth).json
    assert (body["service_name"], body["community_name"]) == ("净水器滤芯更换", "翠湖天地")
    assert body["engineer"]["name"] == "王建国"
    assert [(i["label"], i["value"]) for i in body["checklist"]] == [
        ("已更换全部滤芯", True),
        ("出水 TDS 值", 12),
        ("接头无渗漏照片", answers["leak_check"]),
        ("给业主的建议", "半年后检查前置滤芯"),
    ]
    assert (body["completion_note"], body["completion_photos"]) == ("更换三支滤芯", [photo])
    assert body["parts"] == []
    assert all(body["times"][t] for t in ("created_at", "accepted_at", "arrived_at"))
    assert all(body["times"][t] for t in ("completed_at", "confirmed_at"))
    assert (body["acceptance"], body["acceptance_label"]) == ("confirmed", "已验收")
    assert body["signature_url"] == signature


def test_a_disputed_report_carries_the_dispute(world):
    order_id = world.completed()
    world.act(order_id, "dispute", world.auth, reason="还在漏水")
    body = report(world, order_id, world.auth).json
    assert (body["acceptance_label"], body["dispute_reason"]) == ("有异议", "还在漏水")
    assert body["times"]["disputed_at"] is not None


def test_the_order_s_engineer_and_a_manager_of_the_region_read_it(world, app):
    order_id = world.completed()
    regional = f.staff_auth(app, f.staff(app, "manager", region="上海市"), "manager")
    for headers in (world.engineer_auth, regional):
        assert report(world, order_id, headers).status_code == 200


def test_an_engineer_who_only_saw_an_offer_does_not_read_it(world, app):
    order_id = world.completed()
    declined = f.engineer(app, communities=(world.community,))
    with app.app_context():
        db.session.add(
            DispatchOffer(
                order_id=order_id,
                engineer_id=declined,
                status="declined",
                dispatch_breakdown={},
                expires_at=world.order(order_id).created_at,
            )
        )
        db.session.commit()
    as_declined = f.engineer_auth(app, declined)
    assert world.client.get(f"/api/v1/orders/{order_id}", headers=as_declined).status_code == 200
    response = report(world, order_id, as_declined)
    assert (response.status_code, response.json["error"]["code"]) == (404, "order_not_found")


def test_the_managers_report_page_is_a_printable_shell(world, client):
    page = client.get("/dashboard/orders/42/report")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "order_report.js" in html and "report.css" in html
    assert '"order_id": 42' in html
    css = client.get("/web/static/report.css").get_data(as_text=True)
    assert "@media print" in css
