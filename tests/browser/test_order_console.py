"""The managers' order queue in a real browser: find an unassigned order and assign it."""

from __future__ import annotations

import pytest

from models import StaffUser
from service_hub.plumbing.extensions import db
from tests import factories as f

pytestmark = pytest.mark.browser

BEIJING = {"province": "北京市", "city": "北京市", "district": "朝阳区", "lat": 39.9, "lng": 116.4}


def seed(app) -> dict:
    """A community whose only engineer lacks the service's skill, so a resident's order falls
    to unassigned; a manager of 上海市 and an order elsewhere that they must not see."""
    community = f.community(app, name="枫林苑")
    beijing = f.community(app, name="望京花园", **BEIJING)
    service = f.service_type(app, name="净水器滤芯更换", skill="purifier")
    engineer = f.engineer(app, communities=(community,), skills={"boiler": 3}, name="王建国")
    resident = f.resident(app, communities=(community, beijing), nickname="张阿姨")
    manager = f.staff(app, "manager", region="上海市")
    client, as_resident = app.test_client(), f.resident_auth(app, resident)
    orders = {}
    for name, where in (("order", community), ("elsewhere", beijing)):
        created = client.post(
            "/api/v1/orders",
            headers=as_resident,
            json={"community_id": where, "service_type_id": service, "description": "出水变慢"},
        )
        assert created.status_code == 201, created.json
        orders[name] = created.json["id"]
    app.extensions["job_queue"].drain()  # dispatch finds nobody: both orders are unassigned
    with app.app_context():
        username = db.session.get(StaffUser, manager).username
    return {**orders, "engineer": engineer, "username": username}


def test_a_manager_finds_an_unassigned_order_in_the_queue_and_assigns_it(
    live_server, open_page, screenshot
):
    from playwright.sync_api import expect

    data = live_server.data
    page = open_page(viewport={"width": 1366, "height": 900})
    page.goto(f"{live_server.url}/dashboard")
    page.fill("input[name=login]", data["username"])
    page.fill("input[name=password]", f.PASSWORD)
    page.click("#signin-form button[type=submit]")

    page.get_by_role("link", name="工单队列").click()
    unassigned = page.get_by_role("tab", name="未派单")
    expect(unassigned).to_have_attribute("aria-selected", "true")
    expect(unassigned.locator(".count")).to_have_text("1")  # not the order in 北京市
    row = page.locator(f"#order-table tr[data-order-id='{data['order']}']")
    expect(row).to_contain_text("净水器滤芯更换")
    expect(row).to_contain_text("枫林苑")
    expect(page.locator(f"#order-table tr[data-order-id='{data['elsewhere']}']")).to_have_count(0)
    screenshot(page, "order-queue")

    row.get_by_role("link", name=f"#{data['order']}").click()
    expect(page.locator("#order-status")).to_have_text("未派出")
    expect(page.locator("#timeline tbody tr")).to_have_count(3)  # 创建, 开始派单, 无人可派
    expect(page.locator("#breakdown")).to_contain_text("王建国：不具备该技能")
    # Dispatch's reason is stored in English; the manager reads it in Chinese.
    expect(page.locator("#facts")).to_contain_text("无合格师傅：不具备该技能")
    picker = page.locator("#assign-engineer")
    expect(picker.locator("option")).to_have_count(1)
    picker.select_option(str(data["engineer"]))
    page.get_by_role("button", name="指派", exact=True).click()

    expect(page.locator("#order-status")).to_have_text("已接单")
    expect(page.locator("#facts")).to_contain_text("王建国")
    expect(page.locator("#timeline tbody tr").last).to_contain_text("手动指派")
    expect(page.get_by_role("button", name="指派", exact=True)).to_be_disabled()
    screenshot(page, "order-detail")

    page.get_by_role("link", name="工单队列").click()
    expect(page.locator("#order-table")).to_contain_text("此队列暂无工单")
