"""Who may call what: every route of the OpenAPI document, as each of eight callers.

The table (TABLE) says, per route and caller, whether the call is allowed (any answer but
401, 403 and 5xx, and not a 4xx saying the probe itself was wrong: a validation error or no
such route), refused (401 for a stranger, 403 for anyone signed in) or hidden (404: the code
does not tell that the thing exists). A route added to the API without a row here fails
test_the_table_covers_every_route_in_the_document.

The world is built once per backend and module, not once per case: about 700 cases would
otherwise rebuild it (and truncate every table) 700 times, minutes instead of seconds. So this
module replaces the conftest's per-test cleanup (`_clean` below) with one cleanup when the
world is torn down, and every request in the table is chosen so that it cannot change who may
do what for a later case: bindings and assignments are made and undone on spare rows
(`spare_community`, `spare_engineer`), rejections hit spare questions and answers, and
state changes on the world's own rows (an order moving en route, a follow-up closing) only
turn a later allowed call into another allowed answer (409 instead of 200).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import jwt
import pytest
import sqlalchemy as sa
from PIL import Image

from models import FollowUp
from service_hub.auth.tokens import ALGORITHM, AUDIENCE, ISSUER
from service_hub.communities.importer import COLUMNS
from service_hub.extensions import db
from service_hub.ratelimit import EXTENSION_KEY
from tests import factories as f
from tests.conftest import reset_backend

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
HTTP_METHODS = {"get", "put", "post", "patch", "delete"}


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


def _order_body(ids: dict, role: str) -> dict:
    body = {"community_id": ids["community_here"], "service_type_id": ids["service_type"]}
    if role.startswith(("manager", "admin")):  # staff record orders for a resident
        body["resident_id"] = ids["resident_here"]
    return body


def _activity_body(ids: dict, role: str) -> dict:
    return {
        "title": "净水器保养讲座",
        "place": "会所",
        "starts_at": _in(3),
        "ends_at": _in(3, 2),
        "capacity": 20,
    }


def _visit_body(ids: dict, role: str) -> dict:
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


def _engineer_body(ids: dict, role: str) -> dict:
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
    Call("POST", "/api/v1/engineers", REGION, json=_engineer_body),
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
        json=_order_body,
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
        json=_activity_body,
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
    Call("POST", "/api/v1/engineers/me/visits", who(engineer_here=OK), json=_visit_body),
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
    Call("GET", "/api/v1/kpis/communities", MANAGERS),
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

CASES = [(call, role) for call in TABLE for role in ROLES]


def _call_id(call: Call) -> str:
    return f"{call.method} {call.path}"


# --- the world ---------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _clean(request):
    """Replaces the conftest's per-test cleanup: `world` empties everything once, at its end.

    Rate-limit counters are still reset after each case, as everywhere else.
    """
    yield
    if "app" in request.fixturenames:
        request.getfixturevalue("app").extensions[EXTENSION_KEY].reset()


def _run_jobs(app) -> None:
    """Run every queued job (as conftest's run_jobs, which is function-scoped)."""
    from service_hub.worker import build_worker

    queue = app.extensions["job_queue"]
    if hasattr(queue, "drain"):
        queue.drain()
    else:
        build_worker(app, (), simple=True).work(burst=True, logging_level="WARNING")


def _ok(response, status: int = 201) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    return response.json


def _created_id(client, path: str, headers: dict, body: dict) -> int:
    return _ok(client.post(path, headers=headers, json=body))["id"]


def _build(app, client) -> tuple[dict, dict]:
    """The world's ids and each caller's Authorization header."""
    here = f.community(app)  # 上海市
    there = f.community(
        app, province="北京市", city="北京市", district="朝阳区", lat=39.92, lng=116.44
    )
    spare = f.community(app)  # 上海市
    ids = {
        "community_here": here,
        "community_there": there,
        "spare_community": spare,
        "service_type": f.service_type(app),
        "resident_here": f.resident(app, communities=(here,)),
        "resident_there": f.resident(app, communities=(there,)),
        "engineer": f.engineer(app, communities=(here,)),
        "engineer_there": f.engineer(app, communities=(there,), base=(39.92, 116.44)),
        # Serves the spare community, so is in the region of manager_here, not manager_there.
        "spare_engineer": f.engineer(app, communities=(spare,)),
    }
    manager_here = f.staff(app, "manager", region="上海市", username="matrix_manager")
    auth = {
        "anonymous": {},
        "resident_here": f.resident_auth(app, ids["resident_here"]),
        "resident_there": f.resident_auth(app, ids["resident_there"]),
        "engineer_here": f.engineer_auth(app, ids["engineer"]),
        "engineer_there": f.engineer_auth(app, ids["engineer_there"]),
        "manager_here": f.staff_auth(app, manager_here, "manager"),
        "manager_there": f.staff_auth(app, f.staff(app, "manager", region="北京市"), "manager"),
        "admin": f.staff_auth(app, f.staff(app, "admin"), "admin"),
    }
    resident, engineer, manager = (
        auth["resident_here"],
        auth["engineer_here"],
        auth["manager_here"],
    )

    # Two orders of the resident here, both offered to and accepted by the engineer here;
    # one is then worked to completion and reviewed (2★, which opens a follow-up).
    orders = [
        _created_id(client, "/api/v1/orders", resident, _order_body(ids, "resident_here"))
        for _ in range(2)
    ]
    _run_jobs(app)
    for order_id in orders:
        _ok(client.post(f"/api/v1/orders/{order_id}/accept", headers=engineer, json={}), 200)
    ids["order"], ids["done_order"] = orders
    for action in ("en-route", "start", "complete"):
        path = f"/api/v1/orders/{ids['done_order']}/{action}"
        _ok(client.post(path, headers=engineer, json={}), 200)
    review = client.post(
        f"/api/v1/orders/{ids['done_order']}/review",
        headers=resident,
        json={"rating": 2, "text": "来得有点晚"},
    )
    ids["review"] = _ok(review)["id"]
    _run_jobs(app)
    with app.app_context():
        ids["follow_up"] = db.session.scalar(sa.select(FollowUp.id))
    assert ids["follow_up"] is not None

    questions = f"/api/v1/communities/{here}/questions"
    for name in ("question", "spare_question"):
        ids[name] = _created_id(client, questions, resident, {"text": "热水器怎么除垢？"})
    answers = f"/api/v1/questions/{ids['question']}/answers"
    for name in ("answer", "spare_answer"):
        ids[name] = _created_id(client, answers, engineer, {"text": "用柠檬酸"})

    activities = f"/api/v1/communities/{here}/activities"
    ids["activity"] = _created_id(client, activities, manager, _activity_body(ids, "admin"))
    visit_body = _visit_body(ids, "engineer_here")
    visit = _ok(client.post("/api/v1/engineers/me/visits", headers=engineer, json=visit_body))
    ids["visit"], ids["slot"] = visit["id"], visit["slots"][0]["id"]

    campaigns = "/api/v1/coupon-campaigns"
    for name, channel in (("campaign", "claim"), ("reward", "reward")):
        created = _ok(
            client.post(campaigns, headers=manager, json={**CAMPAIGN, "channel": channel})
        )
        _ok(client.post(f"{campaigns}/{created['id']}/activate", headers=manager), 200)
        ids[name] = created["id"]
    rule = client.post(
        "/api/v1/coupon-reward-rules",
        headers=manager,
        json={"event": "review_with_photos", "campaign_id": ids["reward"]},
    )
    ids["reward_rule"] = _ok(rule)["id"]
    templates = _ok(client.get("/api/v1/me/subscriptions", headers=resident), 200)["templates"]
    ids["template_id"] = next(iter(templates.values()))
    return ids, auth


@pytest.fixture(scope="module")
def world(app, fake_wechat, tmp_path_factory):
    """The world's ids and callers, built once per backend; everything is emptied after."""
    upload_dir = app.config["UPLOAD_DIR"]
    app.config["UPLOAD_DIR"] = str(tmp_path_factory.mktemp("matrix-uploads"))
    try:
        yield _build(app, app.test_client())
    finally:
        app.config["UPLOAD_DIR"] = upload_dir
        fake_wechat.state.reset()
        reset_backend(app)


# --- the matrix --------------------------------------------------------------------------


def _send(client, call: Call, ids: dict, role: str, headers: dict):
    path = call.path
    for name, value in call.params.items():
        path = path.replace(
            "{" + name + "}", str(ids[value.name] if isinstance(value, Ref) else value)
        )
    kwargs: dict = {"headers": headers, "query_string": call.query}
    if call.upload is not None:
        filename, data = call.upload
        kwargs["data"] = {"file": (io.BytesIO(data), filename)}
        kwargs["content_type"] = "multipart/form-data"
    elif call.json is not None:
        kwargs["json"] = call.json(ids, role) if callable(call.json) else call.json
    return client.open(path, method=call.method, **kwargs)


def _error_code(response) -> str | None:
    body = response.get_json(silent=True) or {}
    return (body.get("error") or {}).get("code")


def _assert_outcome(response, expected: str, role: str) -> None:
    status, code = response.status_code, _error_code(response)
    seen = f"{status} {code or ''}".strip()
    if expected == OK:
        assert status < 500 and status not in (401, 403), f"refused or failed: {seen}"
        # A bad probe (validation error, or a URL no route matches) would prove nothing.
        assert code not in ("validation_error", "not_found", "method_not_allowed"), seen
    elif expected == HIDDEN:
        assert status == 404 and code, f"expected a JSON 404, got {seen}"
    else:
        assert status == (401 if role == "anonymous" else 403), f"expected refusal, got {seen}"
        assert code, f"a refusal answers in the one error shape, got {seen}"


@pytest.mark.parametrize(("call", "role"), CASES, ids=[f"{_call_id(c)} as {r}" for c, r in CASES])
def test_each_caller_gets_the_outcome_the_table_says(client, world, call, role):
    ids, auth = world
    response = _send(client, call, ids, role, auth[role])
    _assert_outcome(response, call.expect[role], role)


def test_the_table_covers_every_route_in_the_document(client):
    document = client.get("/api/v1/openapi.json").json
    documented = {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }
    tabled = [(call.method, call.path) for call in TABLE]
    assert len(tabled) == len(set(tabled)), "a route is in the table twice"
    missing = sorted(documented - set(tabled))
    assert not missing, f"routes with no row in TABLE (say who may call them): {missing}"
    assert not sorted(set(tabled) - documented), "rows for routes the document does not have"


@pytest.mark.parametrize("call", TABLE, ids=_call_id)
def test_every_row_says_something_for_every_caller(call):
    assert set(call.expect) == set(ROLES)
    assert set(call.expect.values()) <= {OK, NO, HIDDEN}


# --- tokens ------------------------------------------------------------------------------

GUARDED = "/api/v1/me/inbox"


def _claims(**overrides) -> dict:
    now = datetime.now(UTC)
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "1",
        "kind": "resident",
        "role": "resident",
        "iat": now,
        "exp": now + timedelta(hours=1),
    }
    return {**claims, **overrides}


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def _signed(app, **overrides) -> str:
    return jwt.encode(_claims(**overrides), app.config["SECRET_KEY"], algorithm=ALGORITHM)


def _refused(response, code: str) -> None:
    assert response.status_code == 401, response.get_data(as_text=True)
    assert _error_code(response) == code


def test_a_well_formed_token_passes_the_guard(app, client):
    assert client.get(GUARDED, headers=_bearer(_signed(app))).status_code == 200


def test_an_expired_token_is_refused(app, client):
    expired = _signed(app, exp=datetime.now(UTC) - timedelta(seconds=1))
    _refused(client.get(GUARDED, headers=_bearer(expired)), "token_expired")


def test_a_token_whose_claims_were_changed_after_signing_is_refused(app, client):
    header, _, signature = _signed(app).split(".")
    forged = jwt.encode(_claims(kind="staff", role="admin"), "k" * 48, algorithm=ALGORITHM)
    tampered = ".".join((header, forged.split(".")[1], signature))
    _refused(client.get(GUARDED, headers=_bearer(tampered)), "token_invalid")


def test_a_token_signed_with_another_key_is_refused(client):
    foreign = jwt.encode(_claims(), "another-key-that-is-long-enough-0123456789", ALGORITHM)
    _refused(client.get(GUARDED, headers=_bearer(foreign)), "token_invalid")


def test_an_unsigned_token_is_refused(client):
    unsigned = jwt.encode(_claims(), None, algorithm="none")
    _refused(client.get(GUARDED, headers=_bearer(unsigned)), "token_invalid")


def test_a_token_for_another_audience_is_refused(app, client):
    token = _signed(app, aud="another-api")
    _refused(client.get(GUARDED, headers=_bearer(token)), "token_invalid")


def test_a_token_from_another_issuer_is_refused(app, client):
    token = _signed(app, iss="someone-else")
    _refused(client.get(GUARDED, headers=_bearer(token)), "token_invalid")


def test_a_token_without_an_expiry_is_refused(app, client):
    claims = _claims()
    del claims["exp"]
    token = jwt.encode(claims, app.config["SECRET_KEY"], algorithm=ALGORITHM)
    _refused(client.get(GUARDED, headers=_bearer(token)), "token_invalid")


def test_a_token_with_a_non_numeric_subject_is_refused(app, client):
    _refused(client.get(GUARDED, headers=_bearer(_signed(app, sub="alice"))), "token_invalid")


def test_a_token_sent_without_the_bearer_scheme_is_refused(app, client):
    response = client.get(GUARDED, headers={"Authorization": f"Token {_signed(app)}"})
    _refused(response, "auth_required")


def test_a_bad_token_on_the_public_question_list_is_refused(app, client, world):
    ids, _ = world
    expired = _signed(app, exp=datetime.now(UTC) - timedelta(seconds=1))
    response = client.get(
        f"/api/v1/communities/{ids['community_here']}/questions", headers=_bearer(expired)
    )
    _refused(response, "token_expired")


def test_a_staff_token_of_a_deactivated_account_is_refused(app, client, world):
    staff_id = f.staff(app, "manager")
    headers = f.staff_auth(app, staff_id, "manager")
    assert client.get("/api/v1/follow-ups", headers=headers).status_code == 200
    with app.app_context():
        from models import StaffUser

        db.session.get(StaffUser, staff_id).active = False
        db.session.commit()
    _refused(client.get("/api/v1/follow-ups", headers=headers), "account_inactive")
