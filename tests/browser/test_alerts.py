"""Managers' alerts in a real browser: the unread badge in the top bar, the alerts page, an
alert followed to its order (which marks it read), and the order's promises on its page."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from models import ServiceOrder, StaffUser
from models.base import utcnow
from service_hub.plumbing.extensions import db
from service_hub.sla.checks import check_promises
from tests import factories as f

pytestmark = pytest.mark.browser


def seed(app) -> dict:
    """In 上海市: an urged order nobody accepted in time (breached, alerted to the region's
    manager), and a completed order with a second visit."""
    community = f.community(app, name="枫林苑")
    service = f.service_type(app, name="净水器滤芯更换")
    engineer = f.engineer(app, communities=(community,), name="王建国")
    resident = f.resident(app, communities=(community,), nickname="张阿姨")
    manager = f.staff(app, "manager", region="上海市")
    client = app.test_client()
    as_resident, as_engineer = f.resident_auth(app, resident), f.engineer_auth(app, engineer)

    def order() -> int:
        created = client.post(
            "/api/v1/orders",
            headers=as_resident,
            json={"community_id": community, "service_type_id": service, "description": "漏水"},
        )
        assert created.status_code == 201, created.json
        app.extensions["job_queue"].drain()  # offered to 王建国
        return created.json["id"]

    def step(order_id: int, action: str, headers: dict, body: dict | None = None) -> dict:
        done = client.post(f"/api/v1/orders/{order_id}/{action}", headers=headers, json=body or {})
        assert done.status_code == 200, (action, done.json)
        return done.json

    late = order()
    step(late, "urge", as_resident)
    with app.app_context():  # its acceptance deadline passed a minute ago: the check alerts
        db.session.execute(
            sa.update(ServiceOrder)
            .where(ServiceOrder.id == late)
            .values(accept_due_at=utcnow() - timedelta(minutes=1))
        )
        db.session.commit()
        check_promises(utcnow())
        db.session.commit()
    app.extensions["job_queue"].drain()

    first = order()
    for action in ("accept", "en-route", "start", "complete"):
        step(first, action, as_engineer)
    second = step(first, "second-visit", as_engineer, {"reason": "配件到货后再来更换"})["id"]
    app.extensions["job_queue"].drain()
    with app.app_context():
        username = db.session.get(StaffUser, manager).username
    return {
        "late": late,
        "first": first,
        "second": second,
        "manager": manager,
        "username": username,
    }


def _sign_in(page, live_server, path: str) -> None:
    page.goto(f"{live_server.url}{path}")
    page.fill("input[name=login]", live_server.data["username"])
    page.fill("input[name=password]", f.PASSWORD)
    page.click("#signin-form button[type=submit]")


def _alerts(live_server) -> list[dict]:
    app = live_server.app
    as_manager = f.staff_auth(app, live_server.data["manager"], "manager")
    return app.test_client().get("/api/v1/staff/alerts", headers=as_manager).json["items"]


def test_a_manager_follows_an_unread_alert_to_its_order_and_it_is_read(
    live_server, open_page, screenshot
):
    from playwright.sync_api import expect

    late = live_server.data["late"]
    page = open_page(viewport={"width": 1366, "height": 900})
    _sign_in(page, live_server, "/dashboard/orders")
    expect(page.locator("#alert-count")).to_have_text("1")

    page.get_by_role("link", name="提醒").click()
    alert = page.locator("#alerts li.unread")
    expect(alert).to_have_count(1)
    expect(alert).to_contain_text(f"工单{late}接单超时")
    expect(alert).to_contain_text("枫林苑")
    screenshot(page, "alerts")

    alert.get_by_role("link", name=f"工单{late}接单超时").click()
    page.wait_for_url(f"**/dashboard/orders/{late}")
    facts = page.locator("#facts")
    expect(facts).to_contain_text("已超时")
    expect(facts).to_contain_text("接单截止")
    expect(facts).to_contain_text("1 次，最近")  # 催单
    expect(page.locator("#alert-count")).to_be_hidden()  # no unread alert left
    assert [a["read"] for a in _alerts(live_server)] == [True]
    screenshot(page, "order-detail-promises")


def test_a_second_visit_links_to_its_first_order(live_server, open_page):
    from playwright.sync_api import expect

    data = live_server.data
    page = open_page(viewport={"width": 1366, "height": 900})
    _sign_in(page, live_server, f"/dashboard/orders/{data['second']}")
    expect(page.locator("#facts")).to_contain_text("二次上门，原工单")

    page.locator("#facts").get_by_role("link", name=f"#{data['first']}").click()
    page.wait_for_url(f"**/dashboard/orders/{data['first']}")
    expect(page.locator("#timeline")).to_contain_text("二次上门")
    expect(page.locator("#timeline")).to_contain_text("配件到货后再来更换")
