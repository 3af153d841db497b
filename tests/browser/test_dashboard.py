"""The managers' console in a real browser: sign in, sort the KPI table, open a community, go
from the worst community to a complaint and close its follow-up, moderate held content, read
broadcasts."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from demo.extras import seed_extras
from demo.seed import DEMO_PASSWORD, seed_demo
from dispatch.standing import rebuild as rebuild_standings
from models import (
    Answer,
    Broadcast,
    Delivery,
    Engineer,
    EngineerCommunity,
    FollowUp,
    FollowUpStatus,
    ModerationStatus,
    Question,
    Review,
    ReviewStatus,
    ServiceOrder,
)
from service_hub.kpis.queries import shift_month
from service_hub.plumbing.extensions import db
from service_hub.reviews.follow_ups import open_follow_up
from tests import factories as f

pytestmark = pytest.mark.browser

SEED = 20261122
NOW = datetime(2026, 6, 20, 4, 0, tzinfo=UTC)  # the same city whatever the day of the run
MONTH = "2026-05"  # the last full month of its history
# The texts of one KPI column, found by its sort key.
COLUMN_JS = """key => {
  const heads = [...document.querySelectorAll('#kpi-table thead th')];
  const i = heads.findIndex(th => th.querySelector(`[data-sort="${key}"]`));
  const rows = [...document.querySelectorAll('#kpi-table tbody tr')];
  return rows.map(tr => tr.children[i].textContent);
}"""
# How many pixels of a canvas are painted.
PAINTED_JS = """id => {
  const canvas = document.getElementById(id);
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i]) painted++;
  return painted;
}"""


def seed(app) -> dict:
    """The demo city with 30 communities, a year of orders up to NOW, computed standings; a
    follow-up for every complaint and low rating, held content and one broadcast."""
    with app.app_context():
        seed_demo(communities=30, seed=SEED, progress=lambda _message: None, now=NOW)
        seed_extras(SEED)
        rebuild_standings()
        # As the complain action and a low review open them (the demo writes raw history).
        for order in db.session.scalars(
            sa.select(ServiceOrder).where(ServiceOrder.complaint.is_not(None))
        ):
            open_follow_up("complaint", order, order.complaint)
        for review, order in db.session.execute(
            sa.select(Review, ServiceOrder)
            .join(ServiceOrder, ServiceOrder.id == Review.order_id)
            .where(Review.rating <= 2)
        ):
            open_follow_up("low_rating", order, f"{review.rating}★ {review.text}")
        _hold_content()
        db.session.commit()
        link = db.session.scalars(
            sa.select(EngineerCommunity).order_by(EngineerCommunity.id)
        ).first()
    # A visit announced through the API: every bound resident hears of it (one broadcast).
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
    client = app.test_client()
    response = client.post(
        "/api/v1/engineers/me/visits",
        headers=f.engineer_auth(app, link.engineer_id),
        json={
            "community_id": link.community_id,
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=2)).isoformat(),
            "slots": [
                {
                    "starts_at": start.isoformat(),
                    "ends_at": (start + timedelta(hours=1)).isoformat(),
                    "capacity": 2,
                }
            ],
        },
    )
    assert response.status_code == 201, response.json
    app.extensions["job_queue"].drain()
    return {"worst_by_complaints": _reopen_a_complaint_of_the_worst_community(app)}


def _reopen_a_complaint_of_the_worst_community(app) -> str:
    """The demo closed follow-ups older than a week; the newest complaint of MONTH's worst
    community by complaints per 1,000 households still awaits the manager. Its name."""
    admin = f.staff_auth(app, f.staff(app, "admin", username="browser-admin"), "admin")
    query = {"month": MONTH, "sort": "complaints_per_1000", "order": "desc", "page_size": 1}
    [worst] = (
        app.test_client()
        .get("/api/v1/kpis/communities", headers=admin, query_string=query)
        .json["items"]
    )
    with app.app_context():
        follow_up = db.session.scalars(
            sa.select(FollowUp)
            .where(FollowUp.community_id == worst["community_id"], FollowUp.kind == "complaint")
            .order_by(FollowUp.created_at.desc())
        ).first()
        follow_up.status, follow_up.note, follow_up.closed_at = FollowUpStatus.OPEN, None, None
        db.session.commit()
    return worst["community_name"]


def _hold_content() -> None:
    """A question, an answer and a review WeChat doubted, waiting for a manager."""
    question = db.session.scalars(sa.select(Question).order_by(Question.id)).first()
    db.session.add(
        Question(
            community_id=question.community_id,
            resident_id=question.resident_id,
            text="谁能便宜点帮我修？加微信私聊",
            status=ModerationStatus.HELD,
        )
    )
    engineer = db.session.scalars(
        sa.select(Engineer)
        .join(EngineerCommunity, EngineerCommunity.engineer_id == Engineer.id)
        .where(EngineerCommunity.community_id == question.community_id)
    ).first()
    db.session.add(
        Answer(
            question_id=question.id,
            staff_user_id=engineer.staff_user_id,
            engineer_id=engineer.id,
            text="这个我私下可以帮您弄，加我微信更便宜",
            status=ModerationStatus.HELD,
        )
    )
    review = db.session.scalars(
        sa.select(Review).where(Review.status == ReviewStatus.VISIBLE).order_by(Review.id)
    ).first()
    review.status, review.text = ReviewStatus.HELD, "师傅态度差，另外推荐大家去某某店"


def _numbers(texts: list[str]) -> list[float | None]:
    return [None if t == "—" else float(t.replace(",", "")) for t in texts]


def _sorted_with_nulls_last(values: list[float | None], descending: bool) -> bool:
    present = [v for v in values if v is not None]
    nulls_last = values[len(present) :] == [None] * (len(values) - len(present))
    return nulls_last and present == sorted(present, reverse=descending)


def test_manager_signs_in_sorts_the_kpi_table_and_opens_a_community(
    live_server, open_page, screenshot
):
    from playwright.sync_api import expect

    month = MONTH
    page = open_page(viewport={"width": 1366, "height": 900})
    page.goto(f"{live_server.url}/dashboard?month={month}")

    page.fill("input[name=login]", "manager")
    page.fill("input[name=password]", "not-the-password")
    page.click("#signin-form button[type=submit]")
    expect(page.locator("#signin-error")).to_have_text("用户名或密码错误")

    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("#signin-form button[type=submit]")
    expect(page.locator("#kpi-table tbody tr")).to_have_count(20)
    expect(page.locator("#kpi-total")).to_have_text(re.compile(r"共 \d+ 个小区"))
    expect(page.locator("#best li")).to_have_count(5)
    expect(page.locator("#worst li")).to_have_count(5)
    expect(page.locator("input[name=month]")).to_have_value(month)

    # Clicking a header sorts by it, highest first; clicking again, lowest first.
    header = page.locator("button.sort[data-sort=complaints_per_1000]")
    for order in ("desc", "asc"):
        with page.expect_response(
            lambda r, order=order: "sort=complaints_per_1000" in r.url and f"order={order}" in r.url
        ):
            header.click()
        # This column's header, not whichever is sorted: the old table stays until the new renders.
        column = page.locator("th", has=header)
        expect(column).to_have_attribute(
            "aria-sort", "descending" if order == "desc" else "ascending"
        )
        values = _numbers(page.evaluate(COLUMN_JS, "complaints_per_1000"))
        assert _sorted_with_nulls_last(values, descending=order == "desc"), values
    assert "sort=complaints_per_1000" in page.url and "order=asc" in page.url
    expect(page.locator("#campaigns table.data tbody tr").first).to_be_visible()
    expect(page.locator("#campaigns")).not_to_contain_text("null")
    screenshot(page, "dashboard")

    # The whole filtered list as a CSV file, fetched with the token.
    with page.expect_download() as download:
        page.click("#csv")
    assert download.value.suggested_filename == f"kpis-{month}.csv"
    header = Path(download.value.path()).read_text(encoding="utf-8-sig").splitlines()[0]
    assert header.startswith("community_id,community_name,")

    # One community: its 13-month charts and its engineers' ranking.
    link = page.locator("#kpi-table tbody tr a").first
    name = link.text_content()
    link.click()
    page.wait_for_url(re.compile(r"/dashboard/communities/\d+"))
    expect(page.locator("#community-name")).to_have_text(name)
    expect(page.locator("#latest-month")).to_have_text(month)
    page.wait_for_function(
        "() => { const c = Chart.getChart('chart-volume');"
        " return c && c.data.labels.length === 13; }"
    )
    for canvas in ("chart-volume", "chart-per1000", "chart-trend"):
        page.wait_for_function(f"() => ({PAINTED_JS})('{canvas}') > 2000")
    ranking = page.locator("#engineers tbody tr")
    expect(ranking.first.locator("td").first).to_have_text("1")
    assert ranking.count() >= 1
    expect(page.locator("#engineers thead")).to_contain_text("贝叶斯评分")
    screenshot(page, "dashboard-community")


def _sign_in(page, url: str) -> None:
    from playwright.sync_api import expect

    page.goto(url)
    page.fill("input[name=login]", "manager")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("#signin-form button[type=submit]")
    expect(page.locator("#who")).to_have_text("服务经理")  # signed in: the token is kept


def _ranking_values(page, box: str) -> list[float | None]:
    return _numbers(page.locator(f"{box} li .num").all_text_contents())


def test_manager_goes_from_the_worst_community_to_a_complaint_and_closes_it(
    live_server, open_page, screenshot
):
    from playwright.sync_api import expect

    page = open_page(viewport={"width": 1366, "height": 900})
    _sign_in(page, f"{live_server.url}/dashboard?month={MONTH}")
    expect(page.locator("#kpi-table tbody tr")).to_have_count(20)

    # For 千户投诉量 lower is better: the best list is the lowest, the worst the highest.
    page.select_option("#rank-key", "complaints_per_1000")
    # Each list says which key it shows once it is drawn for it.
    expect(page.locator("#best")).to_have_attribute("data-key", "complaints_per_1000")
    expect(page.locator("#worst")).to_have_attribute("data-key", "complaints_per_1000")
    expect(page.locator("#worst li a").first).to_have_text(live_server.data["worst_by_complaints"])
    expect(page.locator("#best-title")).to_have_text("最好")
    expect(page.locator("#worst-title")).to_have_text("最差")
    expect(page.locator("#worst li")).to_have_count(5)
    worst = _ranking_values(page, "#worst")
    best = _ranking_values(page, "#best")
    assert worst == sorted(worst, reverse=True) and best == sorted(best), (worst, best)
    assert worst[0] > best[0]
    assert page.locator(
        "#kpi-table th", has=page.locator("[data-sort=complaints_per_1000]")
    ).get_attribute("title")

    # One click: the worst community's page lists its complaints, with their text.
    link = page.locator("#worst li a").first
    name = link.text_content()
    link.click()
    page.wait_for_url(re.compile(r"/dashboard/communities/\d+"))
    expect(page.locator("#community-name")).to_have_text(name)
    community_id = int(re.search(r"/communities/(\d+)", page.url).group(1))
    item = (
        page.locator("#follow-ups article.follow-up")
        .filter(has=page.locator("blockquote.complaint"))
        .filter(has=page.locator("form.close-form"))
        .first
    )
    expect(item).to_be_visible()
    follow_up_id = int(item.get_attribute("data-follow-up-id"))
    with live_server.app.app_context():
        follow_up = db.session.get(FollowUp, follow_up_id)
        order = db.session.get(ServiceOrder, follow_up.order_id)
        assert follow_up.community_id == community_id
    expect(item.locator("blockquote.complaint")).to_have_text(order.complaint)
    expect(item.locator(".order-facts")).to_contain_text(f"工单 #{order.id}")

    # The order behind it: its timeline, read on demand, shows the complaint.
    item.get_by_role("button", name="工单时间线").click()
    expect(item.locator("ol.timeline li").last).to_contain_text("投诉")
    screenshot(page, "dashboard-community-follow-ups")

    # Closing needs a note; with one, the follow-up shows as closed with it.
    item.get_by_role("button", name="关闭跟进").click()
    assert (
        db_status(live_server, follow_up_id) == FollowUpStatus.OPEN
    )  # the browser required a note
    item.locator("input[name=note]").fill("已电话回访，安排师傅返工")
    item.get_by_role("button", name="关闭跟进").click()
    done = page.locator(f"#follow-ups [data-follow-up-id='{follow_up_id}']")
    expect(done.locator(".status")).to_have_text("已关闭")
    expect(done).to_contain_text("已电话回访，安排师傅返工")
    with live_server.app.app_context():
        closed = db.session.get(FollowUp, follow_up_id)
        assert (closed.status, closed.note) == (FollowUpStatus.CLOSED, "已电话回访，安排师傅返工")

    # The follow-ups page, filtered to this community, shows it among the closed ones.
    page.goto(f"{live_server.url}/dashboard/follow-ups?community_id={community_id}&status=closed")
    closed_item = page.locator(f"[data-follow-up-id='{follow_up_id}']")
    expect(closed_item).to_contain_text("已电话回访，安排师傅返工")


def test_a_late_answer_for_the_previous_key_does_not_redraw_the_best_and_worst_lists(
    live_server, open_page
):
    """The page's first best/worst lists (its default key) may answer after the manager has
    chosen another key; the lists keep the key chosen last."""
    from playwright.sync_api import expect

    page = open_page(viewport={"width": 1366, "height": 900})
    held = []  # the first lists' requests, answered only after the next key's lists are drawn

    def is_first_ranking(url: str) -> bool:
        return "/kpis/communities?" in url and "page_size=5" in url and "orders_per_1000" in url

    def hold(route) -> None:
        if len(held) < 2:
            held.append(route)
        else:
            route.continue_()

    page.route(is_first_ranking, hold)
    _sign_in(page, f"{live_server.url}/dashboard?month={MONTH}")
    expect(page.locator("#kpi-table tbody tr")).to_have_count(20)
    page.wait_for_function("() => document.querySelector('#rank-key').value !== ''")
    while len(held) < 2:
        page.wait_for_timeout(50)

    page.select_option("#rank-key", "complaints_per_1000")
    expect(page.locator("#worst")).to_have_attribute("data-key", "complaints_per_1000")
    expect(page.locator("#best")).to_have_attribute("data-key", "complaints_per_1000")
    drawn = page.locator("#best, #worst").all_inner_texts()
    for route in held:
        with page.expect_response(lambda r, url=route.request.url: r.url == url) as answer:
            route.continue_()
        answer.value.finished()
    # The late answers have been read by the page (a task later than their bodies).
    page.evaluate("() => new Promise((done) => setTimeout(done, 200))")

    expect(page.locator("#worst")).to_have_attribute("data-key", "complaints_per_1000")
    assert page.locator("#best, #worst").all_inner_texts() == drawn
    assert _ranking_values(page, "#worst") == sorted(_ranking_values(page, "#worst"), reverse=True)


def db_status(live_server, follow_up_id: int) -> str:
    with live_server.app.app_context():
        return db.session.get(FollowUp, follow_up_id).status


def test_the_dashboard_opens_on_the_last_complete_month_and_survives_a_bad_link(
    live_server, open_page
):
    from playwright.sync_api import expect

    page = open_page(viewport={"width": 1366, "height": 900})
    _sign_in(page, f"{live_server.url}/dashboard")
    this_month = datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")
    expect(page.locator("input[name=month]")).to_have_value(shift_month(this_month, -1))
    expect(page.locator("#partial-note")).to_be_hidden()

    # A link sorted by satisfaction, lowest first: sorted, communities without ratings last.
    page.goto(f"{live_server.url}/dashboard?month={MONTH}&sort=satisfaction_index&order=asc")
    expect(page.locator("#kpi-table tbody tr")).to_have_count(20)
    header = page.locator("th", has=page.locator("button.sort[data-sort=satisfaction_index]"))
    expect(header).to_have_attribute("aria-sort", "ascending")
    values = _numbers(page.evaluate(COLUMN_JS, "satisfaction_index"))
    assert _sorted_with_nulls_last(values, descending=False), values

    # Nonsense in the address falls back to the defaults instead of blanking the page.
    page.goto(f"{live_server.url}/dashboard?month=2026-13&sort=nonsense&order=up&page=-3&tier=Z")
    expect(page.locator("#kpi-table tbody tr")).to_have_count(20)
    expect(page.locator("input[name=month]")).to_have_value(shift_month(this_month, -1))

    # The running month says it is partial and warns about nothing.
    page.goto(f"{live_server.url}/dashboard?month={this_month}")
    expect(page.locator("#partial-note")).to_be_visible()
    expect(page.locator("#warnings")).to_contain_text("尚未结束")


def test_the_warnings_list_pages_through_every_community_of_the_month(live_server, open_page):
    from playwright.sync_api import expect

    page = open_page(viewport={"width": 1366, "height": 900})
    with page.expect_response(lambda r: "/api/v1/kpis/warnings" in r.url) as answer:
        _sign_in(page, f"{live_server.url}/dashboard?month={MONTH}")
    total = answer.value.json()["total"]
    assert total > 0, "the demo month has warnings"
    expect(page.locator("#warning-total")).to_have_text(f"共 {total} 个小区")
    expect(page.locator("#warnings li")).to_have_count(min(total, 20))
    expect(page.locator("#warnings li .tag").first).to_have_attribute("title", re.compile(".+"))


def test_manager_approves_held_content_on_the_moderation_page(live_server, open_page, screenshot):
    from playwright.sync_api import expect

    page = open_page(viewport={"width": 1366, "height": 900})
    _sign_in(page, f"{live_server.url}/dashboard/moderation")
    for kind in ("question", "answer", "review"):
        expect(page.locator(f"#held article[data-kind={kind}]").first).to_be_visible()
    review = page.locator("#held article[data-kind=review]").first
    expect(review.locator("blockquote")).to_have_text("师傅态度差，另外推荐大家去某某店")
    screenshot(page, "dashboard-moderation")
    review_id = int(review.get_attribute("data-id"))
    review.get_by_role("button", name="通过").click()
    expect(page.locator(f"#held article[data-kind=review][data-id='{review_id}']")).to_have_count(0)
    with live_server.app.app_context():
        assert db.session.get(Review, review_id).status == ReviewStatus.VISIBLE


def test_manager_reads_broadcasts_with_their_delivery_counts(live_server, open_page, screenshot):
    from playwright.sync_api import expect

    with live_server.app.app_context():
        broadcast = db.session.scalars(sa.select(Broadcast).order_by(Broadcast.id.desc())).first()
        counts = dict(
            db.session.execute(
                sa.select(Delivery.status, sa.func.count())
                .where(Delivery.broadcast_id == broadcast.id)
                .group_by(Delivery.status)
            ).all()
        )
    assert counts, "the announced visit reached its residents"
    page = open_page(viewport={"width": 1366, "height": 900})
    _sign_in(page, f"{live_server.url}/dashboard/broadcasts")
    expect(page.locator("#broadcasts tbody tr").first).to_be_visible()
    row = page.locator(f"#broadcasts tr[data-broadcast-id='{broadcast.id}']")
    expect(row).to_contain_text("工程师上门预告")
    cells = row.locator("td")
    expect(cells.nth(3)).to_have_text(str(broadcast.recipients))
    expect(cells.nth(4)).to_have_text(str(counts.get("sent", 0)))
    if counts.get("skipped_no_credit"):
        expect(cells.nth(5)).to_contain_text(f"无订阅额度 {counts['skipped_no_credit']}")
    screenshot(page, "dashboard-broadcasts")
