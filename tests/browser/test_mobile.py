"""The engineers' mobile view in a real browser at phone width (375px)."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from PIL import Image

from models import StaffUser
from models.base import utcnow
from service_hub.plumbing.extensions import db
from service_hub.plumbing.timefmt import local_zone
from tests import factories as f

pytestmark = pytest.mark.browser

PHONE = {
    "viewport": {"width": 375, "height": 812},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}


def seed(app) -> dict:
    """A community served by two engineers; a resident's order is offered to the better one."""
    community = f.community(app, name="枫林苑", household_count=800)
    service = f.service_type(app, name="净水器滤芯更换")
    engineer = f.engineer(app, communities=(community,), standing=0.8, name="王建国")
    f.engineer(app, communities=(community,), standing=0.4, name="李师傅")
    resident = f.resident(app, communities=(community,), nickname="张阿姨")
    client, as_resident = app.test_client(), f.resident_auth(app, resident)
    with app.app_context():
        tomorrow = (utcnow() + timedelta(days=1)).astimezone(local_zone())
        username = db.session.get(StaffUser, f.staff_id_of(app, engineer)).username
    window = tomorrow.replace(hour=10, minute=0, second=0, microsecond=0)
    order = client.post(
        "/api/v1/orders",
        headers=as_resident,
        json={
            "community_id": community,
            "service_type_id": service,
            "description": "厨房净水器出水变慢，麻烦更换滤芯",
            "window_start": window.isoformat(),
            "window_end": (window + timedelta(hours=2)).isoformat(),
        },
    )
    assert order.status_code == 201, order.json
    question = client.post(
        f"/api/v1/communities/{community}/questions",
        headers=as_resident,
        json={"text": "净水器滤芯多久换一次比较好？"},
    )
    assert question.status_code == 201, question.json
    assert question.json["status"] == "visible", "moderation held the question: engineers miss it"
    app.extensions["job_queue"].drain()  # dispatch: the offer goes to 王建国
    return {"engineer": engineer, "username": username, "order": order.json["id"]}


def _png() -> dict:
    out = io.BytesIO()
    Image.new("RGB", (320, 240), (40, 130, 200)).save(out, format="PNG")
    return {"name": "done.png", "mimeType": "image/png", "buffer": out.getvalue()}


def _sign_in(page, live_server) -> None:
    page.goto(f"{live_server.url}/m/")
    page.fill("input[name=login]", live_server.data["username"])
    page.fill("input[name=password]", f.PASSWORD)
    page.click("#signin-form button[type=submit]")


def test_engineer_accepts_an_offer_and_completes_it_with_a_photo(
    live_server, open_page, screenshot
):
    from playwright.sync_api import expect

    page = open_page(**PHONE)
    _sign_in(page, live_server)
    order_id = live_server.data["order"]

    offer = page.locator(f".offer[data-order-id='{order_id}']")
    expect(offer).to_contain_text("净水器滤芯更换")
    expect(offer).to_contain_text("枫林苑")
    countdown = offer.locator(".countdown")
    expect(countdown).to_have_text(re.compile(r"剩余 (0\d|10):\d\d"))
    shown = countdown.text_content()
    page.wait_for_function(
        "shown => document.querySelector('.offer .countdown').textContent !== shown", arg=shown
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # no sideways scroll
    screenshot(page, "mobile-offers")

    offer.get_by_role("button", name="接单").click()
    order = page.locator(f".order[data-order-id='{order_id}']")
    expect(order.locator(".status")).to_have_text("已接单")
    for button, status in (("出发", "在途"), ("开始服务", "服务中")):
        order.get_by_role("button", name=button).click()
        expect(order.locator(".status")).to_have_text(status)

    order.locator("input[type=file]").set_input_files(_png())
    expect(order.locator(".photos img")).to_have_count(1)
    screenshot(page, "mobile-order")
    order.get_by_role("button", name="完成服务").click()
    expect(order.locator(".status")).to_have_text("已完成")

    page.get_by_role("tab", name="我的").click()
    expect(page.locator("#points-balance")).to_have_text("10")
    expect(page.locator("#ranking")).to_contain_text("第 1 / 2 名")
    screenshot(page, "mobile-me")

    # The completion photo is on the order's timeline, for the resident and managers.
    detail = live_server.app.test_client().get(
        f"/api/v1/orders/{order_id}",
        headers=f.engineer_auth(live_server.app, live_server.data["engineer"]),
    )
    assert re.search(r"完工照片 /media/[0-9a-f]{64}\.png", detail.json["timeline"][-1]["reason"])


def test_a_tab_chosen_while_the_view_is_still_loading_shows_its_content(live_server, open_page):
    from playwright.sync_api import expect

    page = open_page(**PHONE)
    held = []  # the view's first call waits here until the engineer has chosen a tab
    page.route("**/api/v1/engineers/me", lambda route: held.append(route), times=1)
    with page.expect_request("**/api/v1/engineers/me"):
        _sign_in(page, live_server)
    page.get_by_role("tab", name="问答").click()
    assert held, "the start-up request was not held"
    held[0].continue_()

    question = page.locator(".question").filter(has_text="净水器滤芯多久换一次")
    expect(question.get_by_role("textbox")).to_be_visible()
    expect(page.get_by_role("tab", name="问答")).to_have_attribute("aria-selected", "true")


def test_engineer_answers_a_question_and_announces_a_visit(live_server, open_page, screenshot):
    from playwright.sync_api import expect

    page = open_page(**PHONE)
    _sign_in(page, live_server)

    page.get_by_role("tab", name="问答").click()
    question = page.locator(".question").filter(has_text="净水器滤芯多久换一次")
    question.get_by_role("textbox").fill("一般 6 到 12 个月，水质差要更早。")
    question.get_by_role("button", name="回答").click()
    expect(question).to_contain_text("我：一般 6 到 12 个月")
    screenshot(page, "mobile-questions")

    page.get_by_role("tab", name="预告").click()
    page.fill("#visit-form input[name=note]", "顺路检修净水器")
    page.click("#visit-form button[type=submit]")
    visit = page.locator(".visit").filter(has_text="顺路检修净水器")
    expect(visit).to_contain_text("已约 0/1")
    assert visit.text_content().count("已约") == 3  # 09:00–12:00 in 60-minute slots
    screenshot(page, "mobile-visits")
