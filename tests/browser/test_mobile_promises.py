"""Promises on the engineers' mobile view (375px): an urged order, a rescheduled order at risk,
a proposed window and a second visit, in a real browser."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from models import ServiceOrder, StaffUser
from models.base import utcnow
from service_hub.plumbing.extensions import db
from service_hub.plumbing.timefmt import local_zone
from service_hub.sla.checks import check_promises
from tests import factories as f

pytestmark = pytest.mark.browser

PHONE = {
    "viewport": {"width": 375, "height": 812},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
RESCHEDULE_REASON = "家里临时有事，改到后天上午"


def seed(app) -> dict:
    """One engineer's orders in one community: accepted and urged; accepted, rescheduled by
    the resident and near its arrival deadline; completed."""
    community = f.community(app, name="枫林苑", district="浦东新区", address="枫林路88号")
    service = f.service_type(app, name="净水器滤芯更换")
    engineer = f.engineer(app, communities=(community,), name="王建国")
    resident = f.resident(app, communities=(community,), nickname="张阿姨")
    client, as_resident = app.test_client(), f.resident_auth(app, resident)
    as_engineer = f.engineer_auth(app, engineer)
    tomorrow = (utcnow() + timedelta(days=1)).astimezone(local_zone())
    start = tomorrow.replace(hour=10, minute=0, second=0, microsecond=0)

    def step(order_id: int, action: str, headers: dict, body: dict | None = None) -> dict:
        done = client.post(f"/api/v1/orders/{order_id}/{action}", headers=headers, json=body or {})
        assert done.status_code == 200, (action, done.json)
        return done.json

    def accepted(description: str) -> int:
        created = client.post(
            "/api/v1/orders",
            headers=as_resident,
            json={
                "community_id": community,
                "service_type_id": service,
                "description": description,
                "window_start": start.isoformat(),
                "window_end": (start + timedelta(hours=2)).isoformat(),
            },
        )
        assert created.status_code == 201, created.json
        app.extensions["job_queue"].drain()  # dispatch: offered to the only engineer
        step(created.json["id"], "accept", as_engineer)
        return created.json["id"]

    urged = accepted("净水器漏水，请尽快")
    step(urged, "urge", as_resident)

    rescheduled = accepted("更换滤芯")
    later = start + timedelta(days=1)
    step(
        rescheduled,
        "reschedule",
        as_resident,
        {
            "reason": RESCHEDULE_REASON,
            "window_start": later.isoformat(),
            "window_end": (later + timedelta(hours=2)).isoformat(),
        },
    )
    # The engineer is due in 5 minutes: the periodic check marks the order at risk.
    with app.app_context():
        db.session.execute(
            sa.update(ServiceOrder)
            .where(ServiceOrder.id == rescheduled)
            .values(arrive_due_at=utcnow() + timedelta(minutes=5))
        )
        db.session.commit()
        check_promises(utcnow())
        db.session.commit()
        assert db.session.get(ServiceOrder, rescheduled).sla_state == "at_risk"

    completed = accepted("滤芯更换后仍有异味")
    for action in ("en-route", "start", "complete"):
        step(completed, action, as_engineer)
    app.extensions["job_queue"].drain()
    with app.app_context():
        username = db.session.get(StaffUser, f.staff_id_of(app, engineer)).username
    return {
        "username": username,
        "engineer": engineer,
        "urged": urged,
        "rescheduled": rescheduled,
        "completed": completed,
        "day_after": later.date().isoformat(),
    }


def _sign_in_to_orders(page, live_server):
    page.goto(f"{live_server.url}/m/#orders")
    page.fill("input[name=login]", live_server.data["username"])
    page.fill("input[name=password]", f.PASSWORD)
    page.click("#signin-form button[type=submit]")


def _card(page, order_id: int):
    return page.locator(f".order[data-order-id='{order_id}']")


def test_engineer_sees_an_urge_and_proposes_a_new_window(live_server, open_page, screenshot):
    from playwright.sync_api import expect

    page = open_page(**PHONE)
    _sign_in_to_orders(page, live_server)
    card = _card(page, live_server.data["urged"])
    expect(card.locator(".urged")).to_contain_text("已催单 1 次")
    expect(card.locator(".urged")).to_contain_text("最近")

    card.get_by_role("button", name="提议改约").click()
    day = live_server.data["day_after"]
    card.locator("input[name=start]").fill(f"{day}T14:00")
    card.locator("input[name=end]").fill(f"{day}T16:00")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # no sideways scroll
    card.get_by_role("button", name="发送提议").click()

    month_day = f"{day[5:7]}/{day[8:10]}"
    expect(_card(page, live_server.data["urged"]).locator(".proposal")).to_have_text(
        f"已提议新时间 {month_day} 14:00 – {month_day} 16:00，等待业主确认"
    )
    screenshot(page, "mobile-proposal")
    order = live_server.app.test_client().get(
        f"/api/v1/orders/{live_server.data['urged']}",
        headers=f.engineer_auth(live_server.app, live_server.data["engineer"]),
    )
    assert order.json["proposed_window_start"] == f"{day}T14:00:00+08:00"


def test_a_rescheduled_order_at_risk_shows_its_deadline_and_the_residents_reason(
    live_server, open_page
):
    from playwright.sync_api import expect

    page = open_page(**PHONE)
    _sign_in_to_orders(page, live_server)
    card = _card(page, live_server.data["rescheduled"])
    expect(card.locator(".sla-badge")).to_have_text("即将超时")
    expect(card.locator(".deadline")).to_contain_text("到达截止")
    expect(card.locator(".window")).to_contain_text("已改约 1 次")
    expect(card.locator(".reschedule-reason")).to_have_text(f"改约原因：{RESCHEDULE_REASON}")


def test_engineer_books_a_second_visit_from_a_completed_order(live_server, open_page, screenshot):
    from playwright.sync_api import expect

    page = open_page(**PHONE)
    _sign_in_to_orders(page, live_server)
    first = live_server.data["completed"]
    card = _card(page, first)
    expect(card.locator(".status")).to_have_text("已完成")

    card.get_by_role("button", name="二次上门", exact=True).click()
    card.get_by_role("button", name="安排二次上门").click()
    expect(card.get_by_role("alert")).to_have_text("请填写二次上门的原因")  # nothing sent
    card.get_by_role("textbox", name="原因").fill("滤芯型号不符，配件到货后再来")
    card.get_by_role("button", name="安排二次上门").click()

    visit = page.locator(".order").filter(has_text=f"二次上门 · 原工单 #{first}")
    expect(visit.locator(".status")).to_have_text("已接单")  # back to the same engineer
    expect(visit).to_contain_text("滤芯型号不符，配件到货后再来")
    expect(card).to_contain_text("已安排二次上门")
    screenshot(page, "mobile-second-visit")

    card.get_by_role("button", name="二次上门", exact=True).click()
    card.get_by_role("textbox", name="原因").fill("再约一次")
    card.get_by_role("button", name="安排二次上门").click()
    expect(card.get_by_role("alert")).to_have_text("该工单已有进行中的二次上门")  # message_zh
