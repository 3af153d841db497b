"""Completion evidence in a real browser: the engineer fills the service type's checklist on the
phone and completes; the manager opens the order's service report and prints it."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from models import ServiceOrder, StaffUser
from service_hub.plumbing.extensions import db
from tests import factories as f
from tests.browser.test_mobile import PHONE
from tests.completion_world import CHECKLIST

pytestmark = pytest.mark.browser


def _png(colour=(40, 130, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 240), colour).save(out, format="PNG")
    return out.getvalue()


def _upload(client, headers: dict, colour) -> str:
    response = client.post(
        "/api/v1/uploads",
        headers=headers,
        data={"file": (io.BytesIO(_png(colour)), "photo.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.json
    return response.json["url"]


def seed(app) -> dict:
    """A purifier service with a checklist; one order of the resident's in service with the
    engineer, and one completed with every answer, a photo and a note, and accepted by the
    resident with a signature; a manager of 上海市."""
    community = f.community(app, name="枫林苑", household_count=800)
    service = f.service_type(app, name="净水器滤芯更换")
    engineer = f.engineer(app, communities=(community,), name="王建国")
    resident = f.resident(app, communities=(community,), nickname="张阿姨")
    manager = f.staff(app, "manager", region="上海市")
    client = app.test_client()
    admin = f.staff_auth(app, f.staff(app, "admin"), "admin")
    as_resident, as_engineer = f.resident_auth(app, resident), f.engineer_auth(app, engineer)
    put = client.put(
        f"/api/v1/services/{service}/checklist", headers=admin, json={"items": CHECKLIST}
    )
    assert put.status_code == 200, put.json

    def in_service() -> int:
        created = client.post(
            "/api/v1/orders",
            headers=as_resident,
            json={"community_id": community, "service_type_id": service, "description": "出水慢"},
        )
        assert created.status_code == 201, created.json
        app.extensions["job_queue"].drain()
        for action in ("accept", "en-route", "start"):
            step = client.post(f"/api/v1/orders/{created.json['id']}/{action}", headers=as_engineer)
            assert step.status_code == 200, (action, step.json)
        return created.json["id"]

    working, done = in_service(), in_service()
    leak, finished = (
        _upload(client, as_engineer, (10, 160, 90)),
        _upload(client, as_engineer, "teal"),
    )
    signature = _upload(client, as_resident, (250, 250, 250))
    answers = {"filter_replaced": True, "tds_after": 18, "leak_check": leak, "advice": "半年后复查"}
    body = {"answers": answers, "photos": [finished], "note": "更换三支滤芯，冲洗后出水正常"}
    completed = client.post(f"/api/v1/orders/{done}/complete", headers=as_engineer, json=body)
    assert completed.status_code == 200, completed.json
    confirmed = client.post(
        f"/api/v1/orders/{done}/confirm", headers=as_resident, json={"signature_url": signature}
    )
    assert confirmed.status_code == 200, confirmed.json
    with app.app_context():
        usernames = {
            name: db.session.get(StaffUser, staff_id).username
            for name, staff_id in (("engineer", f.staff_id_of(app, engineer)), ("manager", manager))
        }
    return {
        "working": working,
        "done": done,
        "usernames": usernames,
        "photos": {"leak": leak, "finished": finished, "signature": signature},
    }


def _sign_in(page, url: str, username: str) -> None:
    page.goto(url)
    page.fill("input[name=login]", username)
    page.fill("input[name=password]", f.PASSWORD)
    page.click("#signin-form button[type=submit]")


def test_the_engineer_fills_the_checklist_and_completes(live_server, open_page, screenshot):
    from playwright.sync_api import expect

    data = live_server.data
    page = open_page(**PHONE)
    _sign_in(page, f"{live_server.url}/m/#orders", data["usernames"]["engineer"])
    order = page.locator(f".order[data-order-id='{data['working']}']")
    checklist = order.locator(".checklist")
    expect(checklist.locator(".check-item")).to_have_count(len(CHECKLIST))
    expect(checklist).to_contain_text("出水 TDS 值")

    # Required items are enforced in the form: nothing is sent while one is empty.
    order.get_by_role("button", name="完成服务").click()
    expect(checklist.locator(".check-item[data-key='filter_replaced'] .error")).to_have_text(
        "此项必填"
    )
    expect(order.locator(".status")).to_have_text("服务中")

    checklist.get_by_role("radio", name="是").check()
    tds = checklist.get_by_role("spinbutton", name="出水 TDS 值")
    tds.fill("80")  # out of range: refused in the form, in the server's words
    order.get_by_role("button", name="完成服务").click()
    expect(checklist.locator(".check-item[data-key='tds_after'] .error")).to_have_text(
        "应在 0–50 ppm 之间"
    )
    tds.fill("12")
    photo_item = checklist.locator(".check-item[data-key='leak_check']")
    photo_item.locator("input[type=file]").set_input_files(
        {"name": "leak.png", "mimeType": "image/png", "buffer": _png()}
    )
    expect(photo_item.locator("img")).to_have_count(1)
    checklist.get_by_role("textbox", name="给业主的建议").fill("半年后复查前置滤芯")
    checklist.get_by_role("textbox", name="完工说明").fill("更换 PP 棉和活性炭滤芯")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # no sideways scroll
    screenshot(page, "mobile-checklist")

    order.get_by_role("button", name="完成服务").click()
    expect(order.locator(".status")).to_have_text("已完成")
    expect(order.locator(".acceptance")).to_have_text("待业主验收")
    screenshot(page, "mobile-checklist-completed")
    with live_server.app.app_context():
        kept = db.session.get(ServiceOrder, data["working"])
        answers = {a["key"]: a["value"] for a in kept.checklist_answers}
        note = kept.completion_note
    assert (answers["filter_replaced"], answers["tds_after"]) == (True, 12)
    assert re.fullmatch(r"/media/[0-9a-f]{64}\.png", answers["leak_check"])
    assert (answers["advice"], note) == ("半年后复查前置滤芯", "更换 PP 棉和活性炭滤芯")


def test_the_manager_opens_the_service_report_and_prints_it(live_server, open_page, screenshot):
    from playwright.sync_api import expect

    data = live_server.data
    page = open_page(viewport={"width": 1280, "height": 900})
    _sign_in(
        page, f"{live_server.url}/dashboard/orders/{data['done']}", data["usernames"]["manager"]
    )
    expect(page.locator("#facts")).to_contain_text("已验收")
    page.get_by_role("link", name="查看 / 打印服务报告").click()

    expect(page.locator("#report-order")).to_have_text(f"#{data['done']}")
    checklist = page.locator("#report-checklist")
    expect(checklist.locator("tbody tr")).to_have_count(len(CHECKLIST))
    expect(checklist.locator("tbody tr").nth(0)).to_contain_text("已更换全部滤芯")
    expect(checklist.locator("tbody tr").nth(0)).to_contain_text("是")
    expect(checklist.locator("tbody tr").nth(1)).to_contain_text("18 ppm")
    photos = data["photos"]
    expect(checklist.locator(f"img[src='{photos['leak']}']")).to_have_count(1)
    expect(page.locator(f"#report-photos img[src='{photos['finished']}']")).to_have_count(1)
    expect(page.locator("#report-note")).to_have_text("更换三支滤芯，冲洗后出水正常")
    expect(page.locator("#report-parts")).to_have_text("未使用配件")
    expect(page.locator("#report-facts")).to_contain_text("王建国")
    expect(page.locator("#report-acceptance")).to_contain_text("已验收")
    expect(page.locator(f"#report-signature img[src='{photos['signature']}']")).to_have_count(1)
    # Every image on the sheet loaded (they are ours, served from /media).
    page.wait_for_function(
        "[...document.querySelectorAll('#report img')].every(i => i.complete && i.naturalWidth)"
    )
    screenshot(page, "service-report")

    page.emulate_media(media="print")
    expect(page.locator(".topbar")).to_be_hidden()
    expect(page.locator("#report-checklist")).to_be_visible()
    screenshot(page, "service-report-print")
