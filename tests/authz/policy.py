"""Who may call what, as data: every route of the OpenAPI document, per caller.

TABLE says, per route (method and path) and caller, whether the call is allowed (any answer
but 401, 403 and 5xx, and not a 4xx saying the probe itself was wrong: a validation error or
no such route), refused (401 for a stranger, 403 for anyone signed in) or hidden (404: the
code does not tell that the thing exists). Each row also carries the request that probes it
(path parameters from the world, a body). The machinery that sends the probes and checks the
answers is in tests/authz/test_matrix.py; the world they act on in tests/authz/world.py.

A route added to the API without a row here fails
test_matrix.py::test_the_table_covers_every_route_in_the_document.

Every request here is chosen so that it cannot change who may do what for a later case:
bindings and assignments are made and undone on spare rows (`spare_community`,
`spare_engineer`), rejections hit spare questions and answers, and state changes on the
world's own rows (an order moving en route, a follow-up closing) only turn a later allowed
call into another allowed answer (409 instead of 200).

The one order-action route, POST /orders/{order_id}/{action}, is probed here with one action;
every action x caller is in tests/authz/test_order_actions.py, driven by the order lifecycle.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from PIL import Image

from models import order_lifecycle as lifecycle
from service_hub.communities.importer import COLUMNS
from tests import factories as f

ROLES = (
    "anonymous",
    "resident_here",
    "resident_there",
    "engineer_here",
    "engineer_there",
    "manager_here",
    "manager_there",
    "admin",
)
OK, NO, HIDDEN = "allowed", "refused", "hidden"


def who(default: str = NO, **overrides: str) -> dict[str, str]:
    """The expected outcome per caller: `default` for everyone not named."""
    unknown = set(overrides) - set(ROLES)
    assert not unknown, f"unknown roles {unknown}"
    return {role: overrides.get(role, default) for role in ROLES}


PUBLIC = who(OK)
SIGNED_IN = who(OK, anonymous=NO)
RESIDENTS = who(resident_here=OK, resident_there=OK)
ENGINEERS = who(engineer_here=OK, engineer_there=OK)
MANAGERS = who(manager_here=OK, manager_there=OK, admin=OK)
# A manager with a region acts only on communities there, and on engineers serving at least
# one of them (service_hub/auth/regions.py).
REGION = who(manager_here=OK, admin=OK)
# The national service catalogue and its prices.
ADMIN = who(admin=OK)


@dataclass(frozen=True)
class Ref:
    """A path parameter taken from the world: Ref("order") is the world's order id."""

    name: str


@dataclass(frozen=True)
class Call:
    """One route of the document, the request that probes it, and who may make it."""

    method: str
    path: str
    expect: dict[str, str]
    params: dict[str, Ref | str] = field(default_factory=dict)
    json: dict | Callable[[dict, str], dict] | None = None
    query: dict | None = None
    upload: tuple[str, bytes] | None = None  # (file name, bytes) as multipart field `file`


def _in(days: float, hours: float = 0) -> str:
    return (datetime.now(UTC) + timedelta(days=days, hours=hours)).isoformat()


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "teal").save(buffer, "PNG")
    return buffer.getvalue()


def order_body(ids: dict, role: str) -> dict:
    body = {"community_id": ids["community_here"], "service_type_id": ids["service_type"]}
    if role.startswith(("manager", "admin")):  # staff record orders for a resident
        body["resident_id"] = ids["resident_here"]
    return body


def address_body(ids: dict, role: str) -> dict:
    """A door in the caller's own community (residents there are bound there)."""
    community = ids["community_there" if role == "resident_there" else "community_here"]
    return {
        "community_id": community,
        "building": "3",
        "room": "502",
        "contact_name": "王先生",
        "mobile": "13912345678",
    }


def activity_body(ids: dict, role: str) -> dict:
    return {
        "title": "净水器保养讲座",
        "place": "会所",
        "starts_at": _in(3),
        "ends_at": _in(3, 2),
        "capacity": 20,
    }


def visit_body(ids: dict, role: str) -> dict:
    return {
        "community_id": ids["community_here"],
        "starts_at": _in(2),
        "ends_at": _in(2, 3),
        "slots": [{"starts_at": _in(2), "ends_at": _in(2, 1), "capacity": 3}],
    }


CAMPAIGN = {
    "title": "净水器清洗立减10元",
    "discount_kind": "fixed",
    "amount_off_cents": 1000,
    "total_stock": 100,
    "valid_days": 30,
}
CSV_HEADER_ONLY = ("communities.csv", (",".join(COLUMNS) + "\n").encode())


def engineer_body(ids: dict, role: str) -> dict:
    """A new engineer serving the spare community (上海市): a regional manager names one."""
    return {
        "username": "matrix_engineer",
        "password": "long-enough-password",
        "name": "矩阵师傅",
        "base_lat": 31.2,
        "base_lng": 121.4,
        "community_ids": [ids["spare_community"]],
    }


HERE = Ref("community_here")

TABLE: list[Call] = [
    # Health and sign-in: open to everyone.
    Call("GET", "/healthz", PUBLIC),
    Call("GET", "/readyz", PUBLIC),
    # Metrics answer only METRICS_TOKEN's bearer; unset here, so hidden from every caller
    # (tests/test_observability.py tries the token).
    Call("GET", "/metrics", who(HIDDEN)),
    # A wx.login code is good once, so each caller brings its own.
    Call(
        "POST",
        "/api/v1/auth/wechat-login",
        PUBLIC,
        json=lambda ids, role: {"code": f"matrix-{role}:1"},
    ),
    Call(
        "POST",
        "/api/v1/auth/staff-login",
        PUBLIC,
        json={"login": "matrix_manager", "password": f.PASSWORD},
    ),
    # A resident's own profile and bindings (acting on a spare community, never the world's).
    Call("GET", "/api/v1/me", RESIDENTS),
    Call("PATCH", "/api/v1/me", RESIDENTS, json={"nickname": "邻居"}),
    Call("GET", "/api/v1/me/communities", RESIDENTS),
    Call(
        "PUT",
        "/api/v1/me/communities/{community_id}",
        RESIDENTS,
        params={"community_id": Ref("spare_community")},
    ),
    Call(
        "DELETE",
        "/api/v1/me/communities/{community_id}",
        RESIDENTS,
        params={"community_id": Ref("spare_community")},
    ),
    # A resident's address book: their own; another resident's address does not exist for
    # them (404). Each resident adds an address in their own community; deletion hits a spare.
    Call("GET", "/api/v1/me/addresses", RESIDENTS),
    Call("POST", "/api/v1/me/addresses", RESIDENTS, json=address_body),
    Call(
        "PATCH",
        "/api/v1/me/addresses/{address_id}",
        who(resident_here=OK, resident_there=HIDDEN),
        params={"address_id": Ref("address")},
        json={"contact_name": "李女士"},
    ),
    Call(
        "DELETE",
        "/api/v1/me/addresses/{address_id}",
        who(resident_here=OK, resident_there=HIDDEN),
        params={"address_id": Ref("spare_address")},
    ),
    # Communities: read by anyone, imported by managers. The catalogue: read by anyone,
    # changed by admins only (it is national, prices included).
    Call("POST", "/api/v1/communities/import", MANAGERS, upload=CSV_HEADER_ONLY),
    Call("GET", "/api/v1/communities/nearby", PUBLIC, query={"lat": 31.19, "lng": 121.44}),
    Call("GET", "/api/v1/communities/{community_id}", PUBLIC, params={"community_id": HERE}),
    Call("GET", "/api/v1/services", PUBLIC),
    Call(
        "POST",
        "/api/v1/services",
        ADMIN,
        json={"code": "matrix_svc", "name": "矩阵服务", "skill": "purifier"},
    ),
    Call(
        "PATCH",
        "/api/v1/services/{service_type_id}",
        ADMIN,
        params={"service_type_id": Ref("service_type")},
        json={"duration_minutes": 60},
    ),
    # Engineers: public profiles; managers administer the engineers of their region (those
    # serving one of its communities), and assign them only to its communities.
    Call(
        "GET",
        "/api/v1/communities/{community_id}/engineers",
        PUBLIC,
        params={"community_id": HERE},
    ),
    Call("GET", "/api/v1/engineers/{engineer_id}", PUBLIC, params={"engineer_id": Ref("engineer")}),
    Call(
        "PATCH",
        "/api/v1/engineers/{engineer_id}",
        REGION,
        params={"engineer_id": Ref("engineer")},
        json={"bio": "十年经验"},
    ),
    Call("POST", "/api/v1/engineers", REGION, json=engineer_body),
    Call("GET", "/api/v1/engineers/me", ENGINEERS),
    Call("PATCH", "/api/v1/engineers/me", ENGINEERS, json={"bio": "认真负责"}),
    Call(
        "PUT",
        "/api/v1/engineers/{engineer_id}/communities/{community_id}",
        REGION,
        params={"engineer_id": Ref("spare_engineer"), "community_id": HERE},
    ),
    Call(
        "DELETE",
        "/api/v1/engineers/{engineer_id}/communities/{community_id}",
        REGION,
        params={"engineer_id": Ref("spare_engineer"), "community_id": HERE},
    ),
    Call(
        "PUT",
        "/api/v1/engineers/{engineer_id}/skills",
        REGION,
        params={"engineer_id": Ref("engineer")},
        json={"skills": [{"skill": "purifier", "level": 3}]},  # what it had: nothing changes
    ),
    # Orders: the owner, its engineer and managers of its region see it; others hear 404.
    Call(
        "POST",
        "/api/v1/orders",
        who(resident_here=OK, manager_here=OK, admin=OK),
        json=order_body,
    ),
    Call(
        "GET",
        "/api/v1/orders/{order_id}",
        who(
            resident_here=OK,
            resident_there=HIDDEN,
            engineer_here=OK,
            engineer_there=HIDDEN,
            manager_here=OK,
            manager_there=HIDDEN,
            admin=OK,
        ),
        params={"order_id": Ref("order")},
    ),
    # en-route is the assigned engineer's (admins may act for them); the owner and a manager
    # of the region see the order but may not move it; everyone else does not see it.
    Call(
        "POST",
        "/api/v1/orders/{order_id}/{action}",
        who(
            resident_there=HIDDEN,
            engineer_here=OK,
            engineer_there=HIDDEN,
            manager_there=HIDDEN,
            admin=OK,
        ),
        params={"order_id": Ref("order"), "action": "en-route"},
        json={},
    ),
    Call(
        "GET",
        "/api/v1/me/orders",
        who(resident_here=OK, resident_there=OK, engineer_here=OK, engineer_there=OK),
    ),
    Call("GET", "/api/v1/engineers/me/offers", ENGINEERS),
    # The managers' order console: the list is filtered to the region (a manager elsewhere
    # sees no rows); a bulk action answers per order, an order outside the region as
    # order_not_found. Redispatching the world's accepted order is refused per order, so
    # nothing changes.
    Call("GET", "/api/v1/orders", MANAGERS),
    Call(
        "POST",
        "/api/v1/orders/bulk",
        MANAGERS,
        json=lambda ids, role: {"action": "redispatch", "order_ids": [ids["order"]]},
    ),
    # Completion evidence (完工验收): service types' checklists are national (admins); an
    # order's checklist is read by whoever sees the order and saved by its engineer (or an
    # admin) while in service: the world's order is not, so they hear 409. The report is for
    # the order's resident, its engineer and managers of its region.
    Call(
        "GET",
        "/api/v1/services/{service_type_id}/checklist",
        PUBLIC,
        params={"service_type_id": Ref("service_type")},
    ),
    Call(
        "PUT",
        "/api/v1/services/{service_type_id}/checklist",
        ADMIN,
        params={"service_type_id": Ref("service_type")},
        json={"items": []},  # what it had: nothing changes
    ),
    Call(
        "GET",
        "/api/v1/orders/{order_id}/checklist",
        who(
            resident_here=OK,
            resident_there=HIDDEN,
            engineer_here=OK,
            engineer_there=HIDDEN,
            manager_here=OK,
            manager_there=HIDDEN,
            admin=OK,
        ),
        params={"order_id": Ref("order")},
    ),
    Call(
        "PUT",
        "/api/v1/orders/{order_id}/checklist",
        who(engineer_here=OK, engineer_there=HIDDEN, admin=OK),
        params={"order_id": Ref("order")},
        json={"answers": {}},
    ),
    Call(
        "GET",
        "/api/v1/orders/{order_id}/report",
        who(
            resident_here=OK,
            resident_there=HIDDEN,
            engineer_here=OK,
            engineer_there=HIDDEN,
            manager_here=OK,
            manager_there=HIDDEN,
            admin=OK,
        ),
        params={"order_id": Ref("done_order")},
    ),
    # Reviews, likes, follow-ups.
    Call(
        "POST",
        "/api/v1/orders/{order_id}/review",
        who(resident_here=OK, resident_there=HIDDEN),
        params={"order_id": Ref("done_order")},
        json={"rating": 2},
    ),
    Call(
        "PATCH",
        "/api/v1/reviews/{review_id}",
        who(resident_here=OK),
        params={"review_id": Ref("review")},
        json={"rating": 2},
    ),
    Call(
        "POST",
        "/api/v1/reviews/{review_id}/reply",
        REGION,
        params={"review_id": Ref("review")},
        json={"text": "感谢反馈，我们会回访"},
    ),
    Call(
        "POST",
        "/api/v1/reviews/{review_id}/{decision}",
        REGION,
        params={"review_id": Ref("review"), "decision": "show"},
        json={},
    ),
    Call(
        "GET",
        "/api/v1/engineers/{engineer_id}/reviews",
        PUBLIC,
        params={"engineer_id": Ref("engineer")},
    ),
    # Only a resident the engineer has served may like them.
    Call(
        "POST",
        "/api/v1/engineers/{engineer_id}/like",
        who(resident_here=OK),
        params={"engineer_id": Ref("engineer")},
    ),
    Call(
        "DELETE",
        "/api/v1/engineers/{engineer_id}/like",
        RESIDENTS,
        params={"engineer_id": Ref("engineer")},
    ),
    Call("GET", "/api/v1/follow-ups", MANAGERS),
    Call(
        "POST",
        "/api/v1/follow-ups/{follow_up_id}/close",
        REGION,
        params={"follow_up_id": Ref("follow_up")},
        json={"note": "已电话回访"},
    ),
    # Q&A: anyone reads; bound residents ask; serving engineers and regional staff answer.
    Call(
        "GET",
        "/api/v1/communities/{community_id}/questions",
        PUBLIC,
        params={"community_id": HERE},
    ),
    Call(
        "POST",
        "/api/v1/communities/{community_id}/questions",
        who(resident_here=OK),
        params={"community_id": HERE},
        json={"text": "净水器滤芯多久换一次？"},
    ),
    Call(
        "GET",
        "/api/v1/questions/{question_id}/answers",
        PUBLIC,
        params={"question_id": Ref("question")},
    ),
    Call(
        "POST",
        "/api/v1/questions/{question_id}/answers",
        who(engineer_here=OK, manager_here=OK, admin=OK),
        params={"question_id": Ref("question")},
        json={"text": "一般半年一次"},
    ),
    Call("GET", "/api/v1/moderation/held", MANAGERS),
    Call(
        "POST",
        "/api/v1/questions/{item_id}/approve",
        REGION,
        params={"item_id": Ref("question")},
        json={},
    ),
    Call(
        "POST",
        "/api/v1/questions/{item_id}/reject",
        REGION,
        params={"item_id": Ref("spare_question")},
        json={"reason": "重复提问"},
    ),
    Call(
        "POST",
        "/api/v1/answers/{item_id}/approve",
        REGION,
        params={"item_id": Ref("answer")},
        json={},
    ),
    Call(
        "POST",
        "/api/v1/answers/{item_id}/reject",
        REGION,
        params={"item_id": Ref("spare_answer")},
        json={"reason": "答非所问"},
    ),
    # Activities: managers of the region open them; bound residents sign up.
    Call(
        "GET",
        "/api/v1/communities/{community_id}/activities",
        PUBLIC,
        params={"community_id": HERE},
    ),
    Call(
        "POST",
        "/api/v1/communities/{community_id}/activities",
        REGION,
        params={"community_id": HERE},
        json=activity_body,
    ),
    Call(
        "GET",
        "/api/v1/activities/{activity_id}",
        PUBLIC,
        params={"activity_id": Ref("activity")},
    ),
    Call(
        "POST",
        "/api/v1/activities/{activity_id}/signups",
        who(resident_here=OK),
        params={"activity_id": Ref("activity")},
    ),
    Call(
        "DELETE",
        "/api/v1/activities/{activity_id}/signups/me",
        RESIDENTS,
        params={"activity_id": Ref("activity")},
    ),
    Call(
        "POST",
        "/api/v1/activities/{activity_id}/attendance",
        REGION,
        params={"activity_id": Ref("activity")},
        json=lambda ids, role: {"resident_ids": [ids["resident_here"]]},
    ),
    # Visits: serving engineers announce; bound residents book.
    Call("POST", "/api/v1/engineers/me/visits", who(engineer_here=OK), json=visit_body),
    Call(
        "GET",
        "/api/v1/communities/{community_id}/visits",
        PUBLIC,
        params={"community_id": HERE},
    ),
    Call(
        "POST",
        "/api/v1/visits/{visit_id}/bookings",
        who(resident_here=OK),
        params={"visit_id": Ref("visit")},
        json=lambda ids, role: {"slot_id": ids["slot"], "service_type_id": ids["service_type"]},
    ),
    Call(
        "DELETE",
        "/api/v1/visits/{visit_id}/bookings/me",
        RESIDENTS,
        params={"visit_id": Ref("visit")},
    ),
    # Uploads: anyone signed in.
    Call("POST", "/api/v1/uploads", SIGNED_IN, upload=("photo.png", _png())),
    # A resident's inbox and notification preferences.
    Call("GET", "/api/v1/me/inbox", RESIDENTS),
    Call("POST", "/api/v1/me/inbox/read", RESIDENTS, json={}),
    Call("GET", "/api/v1/me/subscriptions", RESIDENTS),
    Call(
        "POST",
        "/api/v1/me/subscriptions",
        RESIDENTS,
        json=lambda ids, role: {"results": {ids["template_id"]: "reject"}},
    ),
    Call("GET", "/api/v1/me/notification-opt-outs", RESIDENTS),
    Call(
        "PUT",
        "/api/v1/me/notification-opt-outs/{kind}",
        RESIDENTS,
        params={"kind": "coupon_granted"},
    ),
    Call(
        "DELETE",
        "/api/v1/me/notification-opt-outs/{kind}",
        RESIDENTS,
        params={"kind": "coupon_granted"},
    ),
    # Managers' dashboards: lists are filtered to the region; one community outside it is 404.
    Call("GET", "/api/v1/broadcasts", MANAGERS),
    # Staff alerts (SLA): managers read their region's; engineers and residents have none.
    Call("GET", "/api/v1/staff/alerts", MANAGERS),
    Call("POST", "/api/v1/staff/alerts/read", MANAGERS, json={}),
    Call("GET", "/api/v1/kpis/communities", MANAGERS),
    Call("GET", "/api/v1/kpis/warnings", MANAGERS),
    Call(
        "GET",
        "/api/v1/kpis/communities/{community_id}",
        who(manager_here=OK, manager_there=HIDDEN, admin=OK),
        params={"community_id": HERE},
    ),
    # Butler binding and points.
    Call("POST", "/api/v1/engineers/me/bind-codes", ENGINEERS),
    Call("POST", "/api/v1/butler/bind", RESIDENTS, json={"scene": "nosuchscene"}),
    Call("GET", "/api/v1/me/butler", RESIDENTS),
    Call("DELETE", "/api/v1/me/butler", RESIDENTS),
    Call("GET", "/api/v1/engineers/me/points", ENGINEERS),
    Call("GET", "/api/v1/me/points", RESIDENTS),
    # Coupons: campaigns belong to the region of the manager who made them.
    Call("GET", "/api/v1/coupon-campaigns", MANAGERS),
    Call("POST", "/api/v1/coupon-campaigns", MANAGERS, json=CAMPAIGN),
    Call("POST", "/api/v1/coupon-campaigns/preview", MANAGERS, json={}),
    Call(
        "GET",
        "/api/v1/coupon-campaigns/{campaign_id}",
        REGION,
        params={"campaign_id": Ref("campaign")},
    ),
    Call(
        "GET",
        "/api/v1/coupon-campaigns/{campaign_id}/preview",
        REGION,
        params={"campaign_id": Ref("campaign")},
    ),
    Call(
        "POST",
        "/api/v1/coupon-campaigns/{campaign_id}/{action}",
        REGION,
        params={"campaign_id": Ref("campaign"), "action": "activate"},
    ),
    Call(
        "GET",
        "/api/v1/communities/{community_id}/coupons",
        who(resident_here=OK, manager_here=OK, admin=OK),
        params={"community_id": HERE},
    ),
    # The campaign is scoped to 上海市: a resident of 北京市 is not targeted (403).
    Call(
        "POST",
        "/api/v1/coupons/{campaign_id}/claim",
        who(resident_here=OK),
        params={"campaign_id": Ref("campaign")},
    ),
    Call("GET", "/api/v1/me/coupons", RESIDENTS),
    Call("GET", "/api/v1/coupon-reward-rules", MANAGERS),
    Call(
        "POST",
        "/api/v1/coupon-reward-rules",
        REGION,
        json=lambda ids, role: {"event": "activity_attended", "campaign_id": ids["reward"]},
    ),
    Call(
        "DELETE",
        "/api/v1/coupon-reward-rules/{rule_id}",
        REGION,
        params={"rule_id": Ref("reward_rule")},
    ),
]


# --- every order action x caller -----------------------------------------------------------
#
# POST /orders/{order_id}/{action} is one route with many actions. Who may take each one, from
# which states, is the order lifecycle's ACTIONS (models/order_lifecycle.py); here is what each
# caller hears for an order in a state the action starts from, written out so a change of the
# lifecycle shows up here. test_order_actions.py checks each cell over HTTP, and that the
# cells agree with what ACTIONS implies. cancel is not here: tests/test_order_lifecycle.py
# holds who may cancel, per caller and state.


@dataclass(frozen=True)
class OrderCaller:
    """A caller of an order action: its role, whether it sees the order (can_see: otherwise
    404, before the lifecycle is asked) and which parties of the order it is."""

    kind: str | None  # resident, engineer, manager, admin; None for a stranger
    sees: bool
    parties: frozenset[str] = frozenset()


ORDER_CALLERS = {
    "anonymous": OrderCaller(None, False),
    "owner": OrderCaller("resident", True, frozenset({lifecycle.OWNER})),
    # bound to the same community
    "another resident": OrderCaller("resident", False),
    # holds the pending offer (offered), is assigned (accepted on), or had an offer that
    # expired (while the order waits)
    "its engineer": OrderCaller(
        "engineer", True, frozenset({lifecycle.ASSIGNED, lifecycle.OFFERED})
    ),
    # serves the same community and declined an offer of this order: sees it, is no party
    "another engineer": OrderCaller("engineer", True),
    "manager here": OrderCaller("manager", True, frozenset({lifecycle.REGION})),
    "manager elsewhere": OrderCaller("manager", False),
    "admin": OrderCaller("admin", True),
}

# What a caller hears: (status, error code).
DONE = (200, None)
STRANGER = (401, "auth_required")
UNSEEN = (404, "order_not_found")
WRONG_ROLE = (403, "role_forbidden")
NOT_OWNER = (403, "not_owner")
NOT_ASSIGNED = (403, "not_assigned")
NOT_OFFERED = (409, "illegal_transition")  # only the offered engineer can answer an offer

# action → what each caller hears, in the order of ORDER_CALLERS:
#  anonymous, owner, another resident, its engineer, another engineer, manager here,
#  manager elsewhere, admin
_ENGINEERS_STEP = (STRANGER, WRONG_ROLE, UNSEEN, DONE, NOT_ASSIGNED, WRONG_ROLE, UNSEEN, DONE)
_OFFER_ANSWER = (STRANGER, WRONG_ROLE, UNSEEN, DONE, NOT_OFFERED, WRONG_ROLE, UNSEEN, WRONG_ROLE)
_MANAGERS = (STRANGER, WRONG_ROLE, UNSEEN, WRONG_ROLE, WRONG_ROLE, DONE, UNSEEN, DONE)
_RESIDENTS = (STRANGER, DONE, UNSEEN, WRONG_ROLE, WRONG_ROLE, WRONG_ROLE, UNSEEN, WRONG_ROLE)
_RESIDENT_OR_ADMIN = (STRANGER, DONE, UNSEEN, WRONG_ROLE, WRONG_ROLE, WRONG_ROLE, UNSEEN, DONE)
ORDER_ACTIONS: dict[str, tuple[tuple[int, str | None], ...]] = {
    "accept": _OFFER_ANSWER,
    "decline": _OFFER_ANSWER,
    "en-route": _ENGINEERS_STEP,
    "start": _ENGINEERS_STEP,
    "complete": _ENGINEERS_STEP,
    "complain": _RESIDENT_OR_ADMIN,
    # The resident's acceptance (完工验收, service_hub/completion)
    "confirm": _RESIDENT_OR_ADMIN,
    "dispute": _RESIDENT_OR_ADMIN,
    "assign": _MANAGERS,
    "redispatch": _MANAGERS,
    # Promises kept (docs/sla.md)
    "urge": _RESIDENTS,
    "reschedule": (STRANGER, DONE, UNSEEN, WRONG_ROLE, WRONG_ROLE, DONE, UNSEEN, DONE),
    "propose-window": (
        STRANGER,
        WRONG_ROLE,
        UNSEEN,
        DONE,
        NOT_ASSIGNED,
        WRONG_ROLE,
        UNSEEN,
        WRONG_ROLE,
    ),
    "accept-window": _RESIDENTS,
    "decline-window": _RESIDENTS,
    "second-visit": (STRANGER, WRONG_ROLE, UNSEEN, DONE, NOT_ASSIGNED, DONE, UNSEEN, DONE),
}
