"""The engineers' mobile view in a real browser at phone width (375px)."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from PIL import Image

from models import PointsEntry, StaffUser
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


MOBILE = "13800138000"
# The community's gate in GCJ-02, as Chinese maps give it.
LAT, LNG = 31.2235, 121.5443


def seed(app) -> dict:
    """A community served by two engineers; a resident with an address in it orders, and the
    order is offered to the better engineer. The other engineer has a points history."""
    community = f.community(
        app,
        name="枫林苑",
        household_count=800,
        district="浦东新区",
        address="枫林路88号",
        lat=LAT,
        lng=LNG,
    )
    service = f.service_type(app, name="净水器滤芯更换")
    engineer = f.engineer(app, communities=(community,), standing=0.8, name="王建国")
    other = f.engineer(app, communities=(community,), standing=0.4, name="李师傅")
    resident = f.resident(app, communities=(community,), nickname="张阿姨")
    client, as_resident = app.test_client(), f.resident_auth(app, resident)
    staff_ids = f.staff_id_of(app, engineer), f.staff_id_of(app, other)
    with app.app_context():
        tomorrow = (utcnow() + timedelta(days=1)).astimezone(local_zone())
        username, other_username = (db.session.get(StaffUser, i).username for i in staff_ids)
        db.session.add_all(
            PointsEntry(
                owner_kind="engineer",
                owner_id=other,
                points=points,
                reason="order_completed",
                source_event=f"seed:{n}",
            )
            for n, points in enumerate((10, 10, -5))
        )
        db.session.commit()
    address = client.post(
        "/api/v1/me/addresses",
        headers=as_resident,
        json={
            "community_id": community,
            "building": "12",
            "unit": "2",
            "room": "301",
            "contact_name": "张阿姨",
            "mobile": MOBILE,
        },
    )
    assert address.status_code == 201, address.json
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
    return {
        "engineer": engineer,
        "username": username,
        "other_username": other_username,
        "order": order.json["id"],
        "resident": resident,
    }


def _png() -> dict:
    out = io.BytesIO()
    Image.new("RGB", (320, 240), (40, 130, 200)).save(out, format="PNG")
    return {"name": "done.png", "mimeType": "image/png", "buffer": out.getvalue()}


def _sign_in(page, live_server, username: str | None = None) -> None:
    page.goto(f"{live_server.url}/m/")
    page.fill("input[name=login]", username or live_server.data["username"])
    page.fill("input[name=password]", f.PASSWORD)
    page.click("#signin-form button[type=submit]")


def _amap_position(href: str) -> tuple[str, str]:
    """(position, coordinate) of an Amap marker link."""
    parts = urlsplit(href)
    assert (parts.netloc, parts.path) == ("uri.amap.com", "/marker"), href
    query = parse_qs(parts.query)
    return query["position"][0], query["coordinate"][0]


def test_engineer_accepts_an_offer_and_completes_it_with_a_photo(
    live_server, open_page, screenshot
):
    from playwright.sync_api import expect

    page = open_page(**PHONE)
    offers_asked = []
    page.on("request", lambda r: offers_asked.append(r.url) if "/api/v1/orders/" in r.url else 0)
    _sign_in(page, live_server)
    order_id = live_server.data["order"]

    offer = page.locator(f".offer[data-order-id='{order_id}']")
    expect(offer).to_contain_text("净水器滤芯更换")
    expect(offer).to_contain_text("枫林苑 浦东新区枫林路88号 12号楼2单元301室")
    expect(offer).to_contain_text("距离约")
    assert not offers_asked, f"the offer list fetched orders one by one: {offers_asked}"
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
    # Where and who: the door, a call button with the full number, a map link in GCJ-02.
    expect(order).to_contain_text("枫林苑 浦东新区枫林路88号 12号楼2单元301室")
    expect(order).to_contain_text("联系人：张阿姨")
    call = order.get_by_role("link", name=re.compile("拨打"))
    expect(call).to_have_attribute("href", f"tel:{MOBILE}")
    navigate = order.get_by_role("link", name="导航")
    assert _amap_position(navigate.get_attribute("href")) == (f"{LNG},{LAT}", "gaode")
    screenshot(page, "mobile-accepted")
    for button, status in (("出发", "在途"), ("开始服务", "服务中")):
        order.get_by_role("button", name=button).click()
        expect(order.locator(".status")).to_have_text(status)

    order.locator("input[type=file]").set_input_files(_png())
    expect(order.locator(".photos img")).to_have_count(1)
    screenshot(page, "mobile-order")
    order.get_by_role("button", name="完成服务").click()
    expect(order.locator(".status")).to_have_text("已完成")
    # The finished card keeps the photo; the number is masked now and there is no call button.
    expect(order.locator(".finished img")).to_have_count(1)
    expect(order.get_by_role("link", name=re.compile("拨打"))).to_have_count(0)
    expect(order).to_contain_text("138****8000")
    screenshot(page, "mobile-finished")

    # Completed work counts (points) once the resident accepts it in the mini-program.
    app = live_server.app
    confirm = app.test_client().post(
        f"/api/v1/orders/{order_id}/confirm",
        headers=f.resident_auth(app, live_server.data["resident"]),
        json={},
    )
    assert confirm.status_code == 200, confirm.json
    live_server.drain_jobs()
    page.get_by_role("tab", name="我的").click()
    expect(page.locator("#points-balance")).to_have_text("10")
    expect(page.locator("#ranking")).to_contain_text("第 1 / 2 名")
    screenshot(page, "mobile-me")

    # The completion photo is the order's, for the resident and managers too.
    detail = live_server.app.test_client().get(
        f"/api/v1/orders/{order_id}",
        headers=f.engineer_auth(live_server.app, live_server.data["engineer"]),
    )
    photos = detail.json["completion_photos"]
    assert len(photos) == 1 and re.fullmatch(r"/media/[0-9a-f]{64}\.png", photos[0]), photos


def test_the_points_history_lists_each_entry(live_server, open_page):
    from playwright.sync_api import expect

    page = open_page(**PHONE)
    _sign_in(page, live_server, live_server.data["other_username"])
    page.get_by_role("tab", name="我的").click()
    expect(page.locator("#points-balance")).to_have_text("15")
    expect(page.locator("#points .point")).to_have_count(3)
    expect(page.locator("#points .point").first).to_contain_text("完成工单")
    assert "[object" not in page.locator("#points").inner_text()


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
