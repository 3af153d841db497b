"""The service report (服务报告) of one order: what was asked and done, the checklist as filled,
the completion photos and note, parts, the times of each step, who did it, and the resident's
acceptance with their signature. One call for the mini-program's report screen and the
managers' printable page; the order's resident, its engineer and managers of its region
read it (an engineer who only saw an offer of it does not)."""

from __future__ import annotations

from models import Community, Engineer, ServiceOrder, ServiceType
from models.base import utcnow
from service_hub.auth.tokens import Principal
from service_hub.orders.service import get_order_for
from service_hub.plumbing.errors import NotFound
from service_hub.plumbing.extensions import db

# The resident's acceptance in Chinese (None: the work is not completed yet).
ACCEPTANCE_LABELS = {
    None: "未完工",
    "pending": "待验收",
    "confirmed": "已验收",
    "auto_confirmed": "已自动验收",
    "disputed": "有异议",
}


def report_order(principal: Principal, order_id: int) -> ServiceOrder:
    """The order if the caller may read its report; 404 otherwise."""
    order = get_order_for(principal, order_id)
    if principal.role == "engineer" and order.engineer_id != principal.engineer_id:
        raise NotFound(f"No order {order_id}.", code="order_not_found", message_zh="工单不存在")
    return order


def service_report(principal: Principal, order_id: int) -> dict:
    """The order's service report (ServiceReportSchema)."""
    order = report_order(principal, order_id)
    service = db.session.get(ServiceType, order.service_type_id)
    community = db.session.get(Community, order.community_id)
    engineer = db.session.get(Engineer, order.engineer_id) if order.engineer_id else None
    return {
        "order_id": order.id,
        "status": order.status,
        "service_name": service.name,
        "community_name": community.name,
        "address_text": order.address_text,
        "description": order.description,
        "engineer": engineer
        and {"id": engineer.id, "name": engineer.name, "photo_url": engineer.photo_url},
        "checklist": order.checklist_answers or [],
        "completion_note": order.completion_note,
        "completion_photos": order.completion_photos or [],
        # No parts are recorded yet (parts and prices come with money, docs/api-changes.md).
        "parts": [],
        "times": {
            "created_at": order.created_at,
            "accepted_at": order.accepted_at,
            "arrived_at": order.started_at,
            "completed_at": order.completed_at,
            "confirmed_at": order.confirmed_at,
            "disputed_at": order.disputed_at,
        },
        "acceptance": order.acceptance,
        "acceptance_label": ACCEPTANCE_LABELS.get(order.acceptance, order.acceptance),
        "signature_url": order.signature_url,
        "dispute_reason": order.dispute_reason,
        "dispute_photos": order.dispute_photos or [],
        "generated_at": utcnow(),
    }
