"""An order as each reader sees it (docs/privacy.md, "Who sees what of an order"): what a
resident's row carries without another call (names, photo, price, the state in Chinese), the
timeline in Chinese without dispatch's internals, dispatch's breakdown for managers only, and
action flags that agree with the action route, both ways, for every flag."""

from __future__ import annotations

from datetime import timedelta

import pytest

from models import OrderStatus
from models import order_lifecycle as lifecycle
from models.base import utcnow
from service_hub.orders.flags import ACTION_FLAGS, FLAGS, REVIEW_FLAG
from service_hub.orders.texts import EVENT_TEXTS, STATUS_LABELS
from tests import factories as f
from tests.test_community_home import counted_queries

PHOTO = "/media/engineer.jpg"
REFUSED = {403, 404, 409, 429}


class World:
    """A community with its resident, one engineer (preferred, so offered first), a manager
    of every region, and orders driven through the API into the state a test needs."""

    def __init__(self, app, client, run_jobs):
        self.app, self.client, self.run_jobs = app, client, run_jobs
        self.community = f.community(app, name="翠湖天地")
        self.resident = f.resident(app, communities=(self.community,))
        self.service = f.service_type(app, name="净水器滤芯更换", base_price_cents=8800)
        self.engineer = f.engineer(
            app,
            communities=(self.community,),
            name="王建国",
            photo_url=PHOTO,
            max_open_orders=500,  # the flag tests keep many orders open
        )
        self.callers = {
            "resident": f.resident_auth(app, self.resident),
            "engineer": f.engineer_auth(app, self.engineer),
            "manager": f.staff_auth(app, f.staff(app, "manager"), "manager"),
        }

    def post(self, path: str, caller: str, body: dict | None = None):
        return self.client.post(f"/api/v1{path}", headers=self.callers[caller], json=body or {})

    def get(self, order_id: int, caller: str):
        return self.client.get(f"/api/v1/orders/{order_id}", headers=self.callers[caller])

    def act(self, order_id: int, action: str, caller: str, body: dict | None = None) -> dict:
        response = self.post(f"/orders/{order_id}/{action}", caller, body)
        assert response.status_code == 200, (action, response.json)
        return response.json

    def order(self, service: int | None = None) -> int:
        """A new order, dispatched (offered to the engineer, or unassigned)."""
        body = {
            "community_id": self.community,
            "service_type_id": service or self.service,
            "preferred_engineer_id": self.engineer,
        }
        response = self.post("/orders", "resident", body)
        assert response.status_code == 201, response.json
        self.run_jobs()
        return response.json["id"]

    def order_in(self, state: str) -> int:
        """A new order in `state`: an order status, or one of the steps named in STATES."""
        if state == "unassigned":
            return self.order(f.service_type(self.app, skill="boiler"))
        order_id = self.order()
        for action, caller, body in STEPS[state]:
            self.act(order_id, action, caller, body)
        if state == "reviewed":
            response = self.post(f"/orders/{order_id}/review", "resident", {"rating": 5})
            assert response.status_code == 201, response.json
        self.run_jobs()
        return order_id


def window(days: int = 2) -> dict:
    start = utcnow() + timedelta(days=days)
    return {
        "window_start": start.isoformat(),
        "window_end": (start + timedelta(hours=2)).isoformat(),
    }


DONE = [("accept", "engineer", {}), ("en-route", "engineer", {}), ("start", "engineer", {})]
DONE += [("complete", "engineer", {})]
STEPS = {
    "offered": [],
    "cancelled": [("cancel", "resident", {})],
    "accepted": DONE[:1],
    "proposed": [*DONE[:1], ("propose-window", "engineer", {**window(3), "reason": "改期"})],
    "en_route": DONE[:2],
    "in_service": DONE[:3],
    "completed": DONE,
    "reviewed": DONE,
    "disputed": [*DONE, ("dispute", "resident", {"reason": "还在漏水"})],
    "confirmed": [*DONE, ("confirm", "resident", {})],
}
STATES = ["unassigned", *STEPS]


@pytest.fixture
def world(app, client, run_jobs) -> World:
    return World(app, client, run_jobs)


# ---- what a row carries -----------------------------------------------------------------


def test_a_resident_order_row_names_the_service_price_engineer_and_community(world):
    order_id = world.order_in("accepted")
    [row] = world.client.get("/api/v1/me/orders", headers=world.callers["resident"]).json["items"]
    assert row["id"] == order_id
    assert (row["service_name"], row["list_price_cents"]) == ("净水器滤芯更换", 8800)
    assert row["engineer"] == {"id": world.engineer, "name": "王建国", "photo_url": PHOTO}
    assert (row["community_name"], row["status_label"]) == ("翠湖天地", "师傅已接单")


def test_an_order_without_its_engineer_yet_has_none(world):
    order = world.get(world.order_in("unassigned"), "resident").json
    assert (order["engineer"], order["status_label"]) == (None, "暂无师傅接单")


def test_completed_work_waiting_for_the_resident_reads_as_waiting_for_acceptance(world):
    order = world.get(world.order_in("completed"), "resident").json
    assert (order["status"], order["status_label"]) == ("completed", "待验收")


def test_a_resident_list_of_many_states_costs_the_queries_of_a_short_one(app, world):
    world.order_in("reviewed")
    world.client.get("/api/v1/me/orders", headers=world.callers["resident"])
    with counted_queries(app) as one:
        world.client.get("/api/v1/me/orders", headers=world.callers["resident"])
    for state in ("completed", "accepted", "unassigned", "cancelled", "reviewed"):
        world.order_in(state)
    with counted_queries(app) as six:
        page = world.client.get("/api/v1/me/orders", headers=world.callers["resident"]).json
    assert page["total"] == 6
    assert len(six) == len(one)


# ---- who sees dispatch's internals ------------------------------------------------------


def test_a_resident_sees_no_dispatch_breakdown(world):
    order = world.get(world.order_in("accepted"), "resident").json
    assert order["dispatch_breakdown"] is None


def test_an_engineer_sees_no_order_breakdown_but_their_own_offer_breakdown(world):
    order_id = world.order()
    offers = world.client.get("/api/v1/engineers/me/offers", headers=world.callers["engineer"])
    [offer] = offers.json["items"]
    assert "rejected" not in offer["dispatch_breakdown"]
    assert offer["dispatch_breakdown"]["total"] > 0
    assert world.get(order_id, "engineer").json["dispatch_breakdown"] is None


def test_a_manager_sees_why_dispatch_chose_whom(world):
    order = world.get(world.order_in("accepted"), "manager").json
    assert order["dispatch_breakdown"]["engineer_id"] == world.engineer


def test_only_a_manager_reads_why_nobody_was_found(world):
    order_id = world.order_in("unassigned")
    assert world.get(order_id, "resident").json["unassigned_reason"] is None
    assert world.get(order_id, "manager").json["unassigned_reason"].startswith("no eligible")


# ---- the timeline -----------------------------------------------------------------------


def test_every_lifecycle_event_has_its_chinese_words():
    events = {action.event for action in lifecycle.ACTIONS.values()}
    assert sorted(events - set(EVENT_TEXTS)) == [], "add them to orders/texts.py EVENT_TEXTS"


def test_every_order_state_has_a_chinese_label():
    assert sorted(set(OrderStatus) - set(STATUS_LABELS)) == []


def test_a_resident_timeline_has_no_offer_and_no_english_system_reason(world):
    timeline = world.get(world.order_in("accepted"), "resident").json["timeline"]
    assert [e["action"] for e in timeline] == ["create", "dispatch", "accept"]
    assert [e["label"] for e in timeline] == ["已提交需求", "正在为您匹配师傅", "师傅已接单"]
    assert all(e["reason"] is None for e in timeline)


def test_a_manager_timeline_keeps_the_system_reason_and_gives_its_chinese(world):
    timeline = world.get(world.order_in("accepted"), "manager").json["timeline"]
    offer = next(e for e in timeline if e["action"] == "offer")
    assert offer["reason"] == f"offered to engineer {world.engineer}"
    assert offer["reason_zh"] == "已派给合适的师傅，等待接单"


def test_a_resident_reads_the_system_reason_in_chinese_when_nobody_was_found(world):
    timeline = world.get(world.order_in("unassigned"), "resident").json["timeline"]
    unassign = timeline[-1]
    assert (unassign["action"], unassign["reason"]) == ("unassign", None)
    assert unassign["reason_zh"] == "附近暂时没有可以接单的师傅，客服会尽快为您安排"


def test_a_resident_does_not_see_who_on_the_staff_acted(world):
    order_id = world.order_in("accepted")
    timeline = world.get(order_id, "resident").json["timeline"]
    assert [e["actor_id"] for e in timeline] == [world.resident, None, None]


def test_an_engineer_does_not_see_another_engineers_decline(world):
    other = f.engineer(world.app, communities=(world.community,))
    order_id = world.order()  # offered to the preferred engineer first
    world.act(order_id, "decline", "engineer", {"reason": "太远了"})
    world.run_jobs()  # offered to the other engineer now
    seen_by_other = world.client.get(
        f"/api/v1/orders/{order_id}", headers=f.engineer_auth(world.app, other)
    )
    assert "decline" not in [e["action"] for e in seen_by_other.json["timeline"]]
    manager_view = world.get(order_id, "manager").json["timeline"]
    assert "太远了" in [e["reason"] for e in manager_view]


# ---- flags agree with the route, both ways ----------------------------------------------


def body_for(action: str, world: World) -> dict:
    """What the action asks for: a reason always, a window and an engineer where needed."""
    body = {"reason": "测试原因"}
    if action in lifecycle.ACTIONS:
        spec = lifecycle.ACTIONS[action]
        if spec.facts >= lifecycle.WINDOW or action == "second-visit":
            body.update(window(4))
        if "engineer_id" in spec.needs:
            body["engineer_id"] = world.engineer
    return body


def attempt(world: World, order_id: int, flag: str, caller: str):
    if flag == REVIEW_FLAG:
        return world.post(f"/orders/{order_id}/review", caller, {"rating": 4})
    action = ACTION_FLAGS[flag]
    return world.post(f"/orders/{order_id}/{action}", caller, body_for(action, world))


def test_the_flags_are_one_per_route_action_and_review():
    assert set(FLAGS) == {f"can_{a.replace('-', '_')}" for a in lifecycle.ROUTE_ACTIONS} | {
        "can_review"
    }


@pytest.mark.parametrize("state", STATES)
def test_each_flag_says_what_the_action_route_does(world, state):
    """For each caller who can see the order: every false flag's action is refused (on one
    order, which a refusal leaves as it was), every true flag's action succeeds (each on a
    fresh order in the same state)."""
    order_id = world.order_in(state)
    disagreements = []
    for caller in world.callers:
        seen = world.get(order_id, caller)
        if seen.status_code == 404:
            continue
        flags = {flag: seen.json[flag] for flag in FLAGS}
        for flag in (name for name, on in flags.items() if not on):
            response = attempt(world, order_id, flag, caller)
            if response.status_code not in REFUSED:
                disagreements.append((caller, flag, False, response.status_code))
        for flag in (name for name, on in flags.items() if on):
            response = attempt(world, world.order_in(state), flag, caller)
            if response.status_code not in (200, 201):
                disagreements.append((caller, flag, True, response.json["error"]["code"]))
    assert disagreements == []


def test_a_resident_may_cancel_and_urge_a_waiting_order_but_not_review_it(world):
    order = world.get(world.order_in("offered"), "resident").json
    assert (order["can_cancel"], order["can_urge"], order["can_review"]) == (True, True, False)
    assert order["can_accept"] is False


def test_completed_work_may_be_confirmed_disputed_and_reviewed_by_its_resident(world):
    order = world.get(world.order_in("completed"), "resident").json
    assert (order["can_confirm"], order["can_dispute"], order["can_review"]) == (True,) * 3


def test_a_reviewed_order_may_not_be_reviewed_again(world):
    assert world.get(world.order_in("reviewed"), "resident").json["can_review"] is False
