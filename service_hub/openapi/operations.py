"""Every operation's operationId (what a generated client names its function), and the examples
that are the operation's own rather than its schema's.

Ids are verbs on the domain's nouns, unique and stable: renaming one renames a function in the
mini-program team's generated client, so treat it like a path. A new route needs a line here
(tests/test_openapi_examples.py says which).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from typing import Any

from service_hub.kpis.schemas import KpiRowSchema
from service_hub.openapi.examples_manager import KPI_ROW
from service_hub.openapi.examples_orders import CONSOLE_ROW, ORDER
from service_hub.openapi.examples_people import STAFF_TOKEN
from service_hub.openapi.examples_places import SERVICE_TYPE_CREATE
from service_hub.orders.console import CSV_COLUMNS


@dataclass(frozen=True)
class Operation:
    """An operation's id, and examples that replace its schemas' ones (None: the schema's):
    of its request body, of its success response, and per media type (text/csv, say)."""

    operation_id: str
    request: Any = None
    response: Any = None
    media: dict[str, Any] = field(default_factory=dict)


SECONDS = re.compile(r":\d\d(?=[+-]\d\d:\d\d$)")  # of an ISO 8601 time with its offset


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return " ".join(map(str, value))
    return SECONDS.sub("", str(value))


def _csv(columns: tuple[str, ...], row: dict) -> str:
    """The CSV export of one row, as the exports write it (the order console's gives local
    times to the minute; a list is space-separated)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerow({name: _cell(value) for name, value in row.items()})
    return "\ufeff" + out.getvalue()


P = "/api/v1"
OPERATIONS: dict[str, Operation] = {
    "GET /healthz": Operation("check_liveness"),
    "GET /readyz": Operation("check_readiness"),
    "GET /metrics": Operation(
        "get_metrics",
        media={
            "text/plain": "# HELP service_hub_http_requests_total HTTP requests answered\n"
            "# TYPE service_hub_http_requests_total counter\n"
            'service_hub_http_requests_total{method="GET",route="/healthz",status="200"} 42.0\n'
        },
    ),
    # auth
    f"POST {P}/auth/wechat-login": Operation("wechat_login"),
    f"POST {P}/auth/staff-login": Operation("staff_login", response=STAFF_TOKEN),
    f"GET {P}/me": Operation("get_my_profile"),
    f"PATCH {P}/me": Operation("update_my_profile", request={"nickname": "小李"}),
    # registry and communities
    f"POST {P}/communities/import": Operation("import_communities"),
    f"GET {P}/communities/nearby": Operation("list_nearby_communities"),
    f"GET {P}/communities/{{community_id}}": Operation("get_community_home"),
    f"GET {P}/me/communities": Operation("list_my_communities"),
    f"PUT {P}/me/communities/{{community_id}}": Operation("bind_community"),
    f"DELETE {P}/me/communities/{{community_id}}": Operation("unbind_community"),
    f"GET {P}/services": Operation("list_services"),
    f"POST {P}/services": Operation("create_service", request=SERVICE_TYPE_CREATE),
    f"PATCH {P}/services/{{service_type_id}}": Operation("update_service"),
    # addresses
    f"GET {P}/me/addresses": Operation("list_my_addresses"),
    f"POST {P}/me/addresses": Operation("create_address"),
    f"PATCH {P}/me/addresses/{{address_id}}": Operation("update_address"),
    f"DELETE {P}/me/addresses/{{address_id}}": Operation("delete_address"),
    # engineers
    f"GET {P}/communities/{{community_id}}/engineers": Operation("list_community_engineers"),
    f"GET {P}/engineers/{{engineer_id}}": Operation("get_engineer_profile"),
    f"PATCH {P}/engineers/{{engineer_id}}": Operation("update_engineer"),
    f"POST {P}/engineers": Operation("create_engineer"),
    f"GET {P}/engineers/me": Operation("get_my_engineer_profile"),
    f"PATCH {P}/engineers/me": Operation("update_my_engineer_profile"),
    f"PUT {P}/engineers/{{engineer_id}}/communities/{{community_id}}": Operation(
        "assign_engineer_to_community"
    ),
    f"DELETE {P}/engineers/{{engineer_id}}/communities/{{community_id}}": Operation(
        "remove_engineer_from_community"
    ),
    f"PUT {P}/engineers/{{engineer_id}}/skills": Operation("set_engineer_skills"),
    # orders
    f"GET {P}/orders": Operation("list_orders", media={"text/csv": _csv(CSV_COLUMNS, CONSOLE_ROW)}),
    f"POST {P}/orders": Operation("create_order"),
    f"POST {P}/orders/bulk": Operation("act_on_orders"),
    f"GET {P}/orders/{{order_id}}": Operation("get_order"),
    f"POST {P}/orders/{{order_id}}/{{action}}": Operation(
        "act_on_order", response={**ORDER, "status": "cancelled", "version": 5}
    ),
    f"GET {P}/me/orders": Operation("list_my_orders"),
    f"GET {P}/engineers/me/offers": Operation("list_my_offers"),
    # completion evidence and the resident's acceptance (完工验收)
    f"GET {P}/services/{{service_type_id}}/checklist": Operation("get_service_checklist"),
    f"PUT {P}/services/{{service_type_id}}/checklist": Operation("replace_service_checklist"),
    f"GET {P}/orders/{{order_id}}/checklist": Operation("get_order_checklist"),
    f"PUT {P}/orders/{{order_id}}/checklist": Operation("save_order_checklist"),
    f"GET {P}/orders/{{order_id}}/report": Operation("get_service_report"),
    # reviews and follow-ups
    f"POST {P}/orders/{{order_id}}/review": Operation("review_order"),
    f"PATCH {P}/reviews/{{review_id}}": Operation("edit_review"),
    f"POST {P}/reviews/{{review_id}}/reply": Operation("reply_to_review"),
    f"POST {P}/reviews/{{review_id}}/{{decision}}": Operation("moderate_review"),
    f"GET {P}/engineers/{{engineer_id}}/reviews": Operation("list_engineer_reviews"),
    f"POST {P}/engineers/{{engineer_id}}/like": Operation("like_engineer"),
    f"DELETE {P}/engineers/{{engineer_id}}/like": Operation("unlike_engineer"),
    f"GET {P}/follow-ups": Operation("list_follow_ups"),
    f"POST {P}/follow-ups/{{follow_up_id}}/close": Operation("close_follow_up"),
    # questions and answers
    f"GET {P}/communities/{{community_id}}/questions": Operation("list_community_questions"),
    f"POST {P}/communities/{{community_id}}/questions": Operation("ask_question"),
    f"GET {P}/questions/{{question_id}}/answers": Operation("list_answers"),
    f"POST {P}/questions/{{question_id}}/answers": Operation("answer_question"),
    f"GET {P}/moderation/held": Operation("list_held_content"),
    f"POST {P}/questions/{{item_id}}/approve": Operation("approve_question"),
    f"POST {P}/questions/{{item_id}}/reject": Operation("reject_question"),
    f"POST {P}/answers/{{item_id}}/approve": Operation("approve_answer"),
    f"POST {P}/answers/{{item_id}}/reject": Operation("reject_answer"),
    # activities
    f"GET {P}/communities/{{community_id}}/activities": Operation("list_community_activities"),
    f"POST {P}/communities/{{community_id}}/activities": Operation("create_activity"),
    f"GET {P}/activities/{{activity_id}}": Operation("get_activity"),
    f"POST {P}/activities/{{activity_id}}/signups": Operation("sign_up_for_activity"),
    f"DELETE {P}/activities/{{activity_id}}/signups/me": Operation("cancel_activity_signup"),
    f"POST {P}/activities/{{activity_id}}/attendance": Operation("record_attendance"),
    # visits
    f"POST {P}/engineers/me/visits": Operation("announce_visit"),
    f"GET {P}/communities/{{community_id}}/visits": Operation("list_community_visits"),
    f"POST {P}/visits/{{visit_id}}/bookings": Operation("book_visit_slot"),
    f"DELETE {P}/visits/{{visit_id}}/bookings/me": Operation("cancel_visit_booking"),
    # uploads
    f"POST {P}/uploads": Operation("upload_image", request={"file": "kitchen-purifier.jpg"}),
    # inbox and notification preferences
    f"GET {P}/me/inbox": Operation("list_my_inbox"),
    f"POST {P}/me/inbox/read": Operation("mark_inbox_read"),
    f"GET {P}/me/subscriptions": Operation("get_my_subscription_credits"),
    f"POST {P}/me/subscriptions": Operation("record_subscription_prompt"),
    f"GET {P}/me/notification-opt-outs": Operation("list_my_notification_opt_outs"),
    f"PUT {P}/me/notification-opt-outs/{{kind}}": Operation("opt_out_of_notifications"),
    f"DELETE {P}/me/notification-opt-outs/{{kind}}": Operation("opt_in_to_notifications"),
    f"GET {P}/broadcasts": Operation("list_broadcasts"),
    # KPIs
    f"GET {P}/kpis/communities": Operation(
        "list_community_kpis", media={"text/csv": _csv(tuple(KpiRowSchema().fields), KPI_ROW)}
    ),
    f"GET {P}/kpis/warnings": Operation("list_kpi_warnings"),
    f"GET {P}/kpis/communities/{{community_id}}": Operation("get_community_kpi_series"),
    # butler
    f"POST {P}/engineers/me/bind-codes": Operation("create_bind_code"),
    f"POST {P}/butler/bind": Operation("bind_butler"),
    f"GET {P}/me/butler": Operation("get_my_butler"),
    f"DELETE {P}/me/butler": Operation("unbind_butler"),
    # points
    f"GET {P}/engineers/me/points": Operation("list_my_engineer_points"),
    f"GET {P}/me/points": Operation("list_my_points"),
    # coupons
    f"GET {P}/coupon-campaigns": Operation("list_coupon_campaigns"),
    f"POST {P}/coupon-campaigns": Operation("create_coupon_campaign"),
    f"POST {P}/coupon-campaigns/preview": Operation("preview_targeting"),
    f"GET {P}/coupon-campaigns/{{campaign_id}}": Operation("get_coupon_campaign"),
    f"GET {P}/coupon-campaigns/{{campaign_id}}/preview": Operation("preview_coupon_campaign"),
    f"POST {P}/coupon-campaigns/{{campaign_id}}/{{action}}": Operation("act_on_coupon_campaign"),
    f"GET {P}/communities/{{community_id}}/coupons": Operation("list_community_coupons"),
    f"POST {P}/coupons/{{campaign_id}}/claim": Operation("claim_coupon"),
    f"GET {P}/me/coupons": Operation("list_my_coupons"),
    f"GET {P}/coupon-reward-rules": Operation("list_reward_rules"),
    f"POST {P}/coupon-reward-rules": Operation("create_reward_rule"),
    f"DELETE {P}/coupon-reward-rules/{{rule_id}}": Operation("delete_reward_rule"),
    # staff alerts
    f"GET {P}/staff/alerts": Operation("list_staff_alerts"),
    f"POST {P}/staff/alerts/read": Operation("mark_staff_alerts_read"),
}
