"""The web views' server side: page shells, the KPI contract read from OpenAPI, local assets."""

from __future__ import annotations

import json
import re

import pytest

PAGES = (
    "/dashboard",
    "/dashboard/communities/1",
    "/dashboard/follow-ups",
    "/dashboard/moderation",
    "/dashboard/broadcasts",
    "/dashboard/orders",
    "/dashboard/orders/1",
    "/dashboard/orders/1/report",
    "/dashboard/alerts",
    "/m/",
)
MANAGER_PAGES = tuple(path for path in PAGES if path.startswith("/dashboard"))


def _config(response) -> dict:
    found = re.search(r'<script type="application/json" id="page-config">(.*?)</script>',
                      response.text, re.S)  # fmt: skip
    return json.loads(found.group(1))


@pytest.mark.parametrize("path", PAGES)
def test_pages_are_shells_that_load_only_our_own_files(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assets = re.findall(r'(?:src|href)="([^"]+)"', response.text)
    assert assets
    for asset in assets:
        if asset.startswith("data:") or not asset.startswith(("/web/static/", "http", "//")):
            continue
        assert asset.startswith("/web/static/"), asset
        assert client.get(asset).status_code == 200, asset


@pytest.mark.parametrize("path", MANAGER_PAGES)
def test_every_managers_page_links_the_alerts_with_their_unread_badge(client, path):
    text = client.get(path).text
    assert re.search(r'<a href="/dashboard/alerts"[^>]*>提醒 <span id="alert-count"', text)
    assert '<script defer src="/web/static/nav.js"></script>' in text


def test_the_dashboard_follows_the_kpi_list_in_the_openapi_document(client):
    document = client.get("/api/v1/openapi.json").json
    operation = document["paths"]["/api/v1/kpis/communities"]["get"]
    params = {p["name"]: p["schema"] for p in operation["parameters"] if p["in"] == "query"}

    kpi = _config(client.get("/dashboard"))["kpi"]

    assert kpi["sort_keys"] == params["sort"]["enum"]
    filters = [f["name"] for f in kpi["filters"]]
    assert "month" in filters and "region" in filters
    assert not {"sort", "order", "page", "page_size", "format"} & set(filters)
    assert {"community_name", "orders", "orders_per_1000"} <= set(kpi["fields"])
    assert kpi["fields"]["orders_per_1000"] == {
        "label": "千户服务量",
        "definition": "每千户当月订单数：订单量 × 1000 ÷ 户数",
        "kind": "number",
        "higher_is_better": True,
    }
    assert kpi["fields"]["complaints_per_1000"]["higher_is_better"] is False
    assert kpi["warnings"]["falling_volume"]["label"] == "服务量下降"


def test_chart_js_is_served_by_us_with_its_license(client):
    script = client.get("/web/static/vendor/chart.umd.min.js")
    assert script.status_code == 200
    assert b"Chart.js v4." in script.data[:200]
    license_text = client.get("/web/static/vendor/chart.js.LICENSE.md")
    assert b"MIT License" in license_text.data
