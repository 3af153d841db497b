"""The web views' pages: server-rendered shells whose scripts call our JSON API."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from models.base import utcnow
from service_hub.plumbing.timefmt import local_zone
from service_hub.web.contract import kpi_table_contract

bp = Blueprint(
    "web",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/web/static",
)

# Everything a page loads comes from us: scripts, styles, images (uploads included), the API.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "frame-ancestors 'none'; form-action 'self'"
)


def _page_config(**extra) -> dict:
    """What every page's script needs to know, embedded as JSON in the page."""
    return {
        "api": "/api/v1",
        "timezone": current_app.config["TIMEZONE"],
        "this_month": utcnow().astimezone(local_zone()).strftime("%Y-%m"),
        **extra,
    }


@bp.after_request
def _no_outside_sources(response):
    if response.mimetype == "text/html":
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
    return response


@bp.get("/dashboard")
def dashboard():
    """Managers' dashboard: KPI table, best and worst communities, warnings, campaigns."""
    config = _page_config(view="dashboard", kpi=kpi_table_contract())
    return render_template("web/dashboard.html", config=config)


@bp.get("/dashboard/communities/<int:community_id>")
def community(community_id: int):
    """One community for managers: 13-month charts, its engineers' ranking, warnings."""
    config = _page_config(view="community", community_id=community_id, kpi=kpi_table_contract())
    return render_template("web/community.html", config=config)


@bp.get("/dashboard/follow-ups")
def follow_ups():
    """Complaints and low ratings to follow up: the review, the order, close with a note."""
    return render_template("web/follow_ups.html", config=_page_config(view="follow_ups"))


@bp.get("/dashboard/moderation")
def moderation():
    """Held questions, answers and reviews: approve, reject or hide them."""
    return render_template("web/moderation.html", config=_page_config(view="moderation"))


@bp.get("/dashboard/broadcasts")
def broadcasts():
    """Community broadcasts with their WeChat delivery counts."""
    return render_template("web/broadcasts.html", config=_page_config(view="broadcasts"))


@bp.get("/dashboard/orders")
def orders():
    """Managers' order queue: unassigned, offers about to expire, late, urged, all; bulk acts."""
    return render_template("web/orders.html", config=_page_config(view="orders"))


@bp.get("/dashboard/alerts")
def alerts():
    """Staff alerts of my region: orders that missed a deadline or that nobody can take."""
    return render_template("web/alerts.html", config=_page_config(view="alerts"))


@bp.get("/dashboard/orders/<int:order_id>")
def order(order_id: int):
    """One order for managers: details, timeline, dispatch score breakdown, one-click acts."""
    config = _page_config(view="order", order_id=order_id)
    return render_template("web/order.html", config=config)


@bp.get("/dashboard/orders/<int:order_id>/report")
def order_report(order_id: int):
    """One order's service report (服务报告), printable: checklist, photos, times, signature."""
    config = _page_config(view="order_report", order_id=order_id)
    return render_template("web/order_report.html", config=config)


@bp.get("/m/")
def mobile():
    """Engineers' mobile view: offers, orders, questions, visits, ranking and points."""
    return render_template("web/mobile.html", config=_page_config(view="mobile"))
