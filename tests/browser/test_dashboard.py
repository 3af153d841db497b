"""The managers' dashboard in a real browser: sign in, sort the KPI table, open a community."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from demo.extras import seed_extras
from demo.seed import DEMO_PASSWORD, seed_demo
from dispatch.standing import rebuild as rebuild_standings

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


def seed(app) -> None:
    """The demo city with 30 communities, a year of orders up to NOW, computed standings."""
    with app.app_context():
        seed_demo(communities=30, seed=SEED, progress=lambda _message: None, now=NOW)
        seed_extras(SEED)
        rebuild_standings()


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
    expect(page.locator("#top li")).to_have_count(5)
    expect(page.locator("#bottom li")).to_have_count(5)
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
