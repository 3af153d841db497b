"""Every order action x caller over HTTP: POST /orders/{order_id}/{action} answers each caller
what tests/authz/policy.py's ORDER_ACTIONS says, for a fresh order in a state the action starts
from (taken from the lifecycle's ACTIONS), and that table agrees with what ACTIONS implies.

The callers are built once per backend and module (`cast`); each case gets its own order, so
no case can change another's. As in test_matrix.py, this module replaces the conftest's
per-test cleanup with one cleanup when the cast is torn down.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from models import DispatchOffer, OrderStatus, ServiceOrder
from models import order_lifecycle as lifecycle
from models.base import utcnow
from service_hub.plumbing.extensions import db
from service_hub.plumbing.ratelimit import EXTENSION_KEY
from tests import factories as f
from tests.authz.policy import (
    DONE,
    NOT_ASSIGNED,
    NOT_OFFERED,
    NOT_OWNER,
    ORDER_ACTIONS,
    ORDER_CALLERS,
    STRANGER,
    UNSEEN,
    WRONG_ROLE,
)
from tests.conftest import reset_backend

REASON = "矩阵测试"
# What a caller who is the wrong party hears, per party the lifecycle asks for.
PARTY_ERRORS = {
    lifecycle.OWNER: NOT_OWNER,
    lifecycle.ASSIGNED: NOT_ASSIGNED,
    lifecycle.OFFERED: NOT_OFFERED,
    lifecycle.REGION: UNSEEN,
}
# States in which the order has its engineer.
ENGINEER_ASSIGNED = {
    OrderStatus.ACCEPTED,
    OrderStatus.EN_ROUTE,
    OrderStatus.IN_SERVICE,
    OrderStatus.COMPLETED,
}
CASES = [
    pytest.param(action, caller, outcome, id=f"{action} as {caller}")
    for action, outcomes in ORDER_ACTIONS.items()
    for caller, outcome in zip(ORDER_CALLERS, outcomes, strict=True)
]


def starting_state(name: str) -> OrderStatus:
    """A state the action starts from for every role that may take it (the last such state in
    OrderStatus's order: unassigned rather than created for assign)."""
    rules = lifecycle.ACTIONS[name].who.values()
    common = set(OrderStatus).intersection(*(rule.sources for rule in rules))
    return [state for state in OrderStatus if state in common][-1]


def implied(name: str, caller: str) -> tuple[int, str | None]:
    """What ACTIONS implies the caller hears: 401 for a stranger, 404 for one who does not see
    the order, 403 for a role the action does not list, the party's error for the wrong party."""
    who = ORDER_CALLERS[caller]
    if who.kind is None:
        return STRANGER
    if not who.sees:
        return UNSEEN
    rule = lifecycle.ACTIONS[name].who.get(who.kind)
    if rule is None:
        return WRONG_ROLE
    if rule.party is not None and rule.party not in who.parties:
        return PARTY_ERRORS[rule.party]
    return DONE


@pytest.fixture(autouse=True)
def _clean(request):
    """Replaces the conftest's per-test cleanup: `cast` empties everything once, at its end."""
    yield
    if "app" in request.fixturenames:
        request.getfixturevalue("app").extensions[EXTENSION_KEY].reset()


@pytest.fixture(scope="module")
def cast(app, fake_wechat):
    """The ids the orders need and each caller's Authorization header."""
    here = f.community(app)  # 上海市
    ids = {
        "community": here,
        "service_type": f.service_type(app),
        "owner": f.resident(app, communities=(here,)),
        "its engineer": f.engineer(app, communities=(here,)),
        "another engineer": f.engineer(app, communities=(here,)),
    }
    auth = {
        "anonymous": {},
        "owner": f.resident_auth(app, ids["owner"]),
        "another resident": f.resident_auth(app, f.resident(app, communities=(here,))),
        "its engineer": f.engineer_auth(app, ids["its engineer"]),
        "another engineer": f.engineer_auth(app, ids["another engineer"]),
        "manager here": f.staff_auth(app, f.staff(app, "manager", region="上海市"), "manager"),
        "manager elsewhere": f.staff_auth(app, f.staff(app, "manager", region="北京市"), "manager"),
        "admin": f.staff_auth(app, f.staff(app, "admin"), "admin"),
    }
    try:
        yield ids, auth
    finally:
        fake_wechat.state.reset()
        reset_backend(app)


def order_in(app, ids: dict, state: OrderStatus) -> int:
    """A fresh order of the owner in `state`. Its engineer holds the pending offer (offered),
    is assigned (accepted on), or had an offer that expired (before); another engineer
    declined an offer of it. It carries a window its engineer proposed (for accept-window
    and decline-window); completed, its work waits for the resident (confirm, dispute)."""
    now = utcnow()
    assigned = state in ENGINEER_ASSIGNED
    its_offer = "pending" if state == OrderStatus.OFFERED else "accepted" if assigned else "expired"
    with app.app_context():
        order = ServiceOrder(
            resident_id=ids["owner"],
            community_id=ids["community"],
            service_type_id=ids["service_type"],
            engineer_id=ids["its engineer"] if assigned else None,
            status=state,
            accepted_at=now if assigned else None,
            completed_at=now if state == OrderStatus.COMPLETED else None,
            acceptance="pending" if state == OrderStatus.COMPLETED else None,
            proposed_window_start=now + timedelta(days=2),
            proposed_window_end=now + timedelta(days=2, hours=2),
        )
        db.session.add(order)
        db.session.flush()
        for engineer, status in (
            (ids["its engineer"], its_offer),
            (ids["another engineer"], "declined"),
        ):
            db.session.add(
                DispatchOffer(
                    order_id=order.id,
                    engineer_id=engineer,
                    status=status,
                    dispatch_breakdown={},
                    expires_at=now + timedelta(hours=1),
                )
            )
        db.session.commit()
        return order.id


def test_the_table_names_every_action_of_the_route_but_cancel():
    assert set(ORDER_ACTIONS) == set(lifecycle.ROUTE_ACTIONS) - {"cancel"}


@pytest.mark.parametrize("action", ORDER_ACTIONS)
def test_the_table_says_what_the_lifecycle_implies(action):
    said = dict(zip(ORDER_CALLERS, ORDER_ACTIONS[action], strict=True))
    assert said == {caller: implied(action, caller) for caller in ORDER_CALLERS}


@pytest.mark.parametrize(("action", "caller", "outcome"), CASES)
def test_each_caller_of_an_order_action_hears_what_the_table_says(
    app, client, cast, action, caller, outcome
):
    ids, auth = cast
    order_id = order_in(app, ids, starting_state(action))
    body = {"reason": REASON}
    if action == "assign":
        body["engineer_id"] = ids["its engineer"]
    if "window_start" in lifecycle.ACTIONS[action].needs:
        start = utcnow() + timedelta(days=1)
        body["window_start"] = start.isoformat()
        body["window_end"] = (start + timedelta(hours=2)).isoformat()
    response = client.post(f"/api/v1/orders/{order_id}/{action}", headers=auth[caller], json=body)
    error = (response.get_json(silent=True) or {}).get("error") or {}
    assert (response.status_code, error.get("code")) == outcome, response.get_data(as_text=True)
