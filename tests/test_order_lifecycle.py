"""The order lifecycle (models/order_lifecycle.py) read as a table: who may cancel an order,
per caller and state, and that every action in the table is reached by a route or a job."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import tests.factories as f
from models import OrderStatus, ServiceOrder
from models import order_lifecycle as lifecycle
from service_hub.auth.tokens import Principal
from service_hub.plumbing.errors import AppError

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("service_hub", "models", "dispatch", "notifications")

OWNER_ID, ENGINEER_ID, STAFF_ID = 1, 7, 50
REASON = "住户来电取消"


def _manager(region: str) -> lifecycle.Actor:
    principal = Principal("staff", STAFF_ID, "manager", None, region)
    return lifecycle.Actor("manager", STAFF_ID, principal)


CALLERS = {  # caller → (actor, reason given)
    "owner": (lifecycle.Actor("resident", OWNER_ID), None),
    "other resident": (lifecycle.Actor("resident", OWNER_ID + 1), None),
    "assigned engineer": (lifecycle.Actor("engineer", ENGINEER_ID), REASON),
    "manager": (_manager("上海市"), REASON),
    "manager, no reason": (_manager("上海市"), None),
    "manager elsewhere": (_manager("北京市"), REASON),
    "admin": (lifecycle.Actor("admin", STAFF_ID, Principal("staff", STAFF_ID, "admin")), REASON),
}
OK, ILLEGAL = "cancelled", "illegal_transition"
NOT_OWNER, ROLE, NOT_SEEN = "not_owner", "role_forbidden", "order_not_found"
NO_REASON = "validation_error"
# The rule, written out: state → outcome per caller, in the order of CALLERS.
WHO_MAY_CANCEL = {
    "created": (OK, NOT_OWNER, ROLE, OK, NO_REASON, NOT_SEEN, OK),
    "dispatching": (OK, NOT_OWNER, ROLE, OK, NO_REASON, NOT_SEEN, OK),
    "offered": (OK, NOT_OWNER, ROLE, OK, NO_REASON, NOT_SEEN, OK),
    "unassigned": (OK, NOT_OWNER, ROLE, OK, NO_REASON, NOT_SEEN, OK),
    "accepted": (OK, NOT_OWNER, ROLE, OK, NO_REASON, NOT_SEEN, OK),
    "en_route": (OK, NOT_OWNER, ROLE, OK, NO_REASON, NOT_SEEN, OK),
    "in_service": (ILLEGAL, NOT_OWNER, ROLE, OK, NO_REASON, NOT_SEEN, OK),
    "completed": (ILLEGAL, NOT_OWNER, ROLE, ILLEGAL, NO_REASON, NOT_SEEN, ILLEGAL),
    "cancelled": (ILLEGAL, NOT_OWNER, ROLE, ILLEGAL, NO_REASON, NOT_SEEN, ILLEGAL),
}
CASES = [
    pytest.param(state, caller, outcome, id=f"{caller} / {state}")
    for state, outcomes in WHO_MAY_CANCEL.items()
    for caller, outcome in zip(CALLERS, outcomes, strict=True)
]


def test_the_cancel_rule_names_every_state():
    assert set(WHO_MAY_CANCEL) == set(OrderStatus)


@pytest.mark.parametrize(("state", "caller", "outcome"), CASES)
def test_who_may_cancel_an_order(app, state, caller, outcome):
    community_id = f.community(app)  # in 上海市
    actor, reason = CALLERS[caller]
    with app.app_context():
        order = ServiceOrder(
            resident_id=OWNER_ID, community_id=community_id, engineer_id=ENGINEER_ID, status=state
        )
        try:
            lifecycle.check(order, "cancel", actor, reason)
            result = OK
        except AppError as error:
            result = error.code
    assert result == outcome


def _lifecycle_calls(tree: ast.Module) -> set[str]:
    """Actions named as constants in this module's calls of the lifecycle's functions."""
    imported = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "models.order_lifecycle"
        for alias in node.names
    }
    named = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            name = func.attr if func.value.id == "lifecycle" else None
        else:
            name = func.id if isinstance(func, ast.Name) and func.id in imported else None
        if name == "create":
            named.add("create")
        if name in ("apply", "check") and len(node.args) > 1:
            action = node.args[1]
            if isinstance(action, ast.Constant) and isinstance(action.value, str):
                named.add(action.value)
    return named


def test_every_action_in_the_table_is_reached_by_a_route_or_a_job(client):
    named = set()
    for package in PRODUCT:
        for path in (ROOT / package).rglob("*.py"):
            if path.name != "order_lifecycle.py":
                named |= _lifecycle_calls(ast.parse(path.read_text(), str(path)))
    document = client.get("/api/v1/openapi.json").json
    action_route = document["paths"]["/api/v1/orders/{order_id}/{action}"]["post"]
    (path_action,) = [p for p in action_route["parameters"] if p["name"] == "action"]
    routed = set(path_action["schema"]["enum"])
    assert set(lifecycle.ACTIONS) - named - routed == set()
