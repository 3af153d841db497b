"""Points: an engineer's (or a resident's) balance and ledger history."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from service_hub.auth.access import current_principal, requires
from service_hub.plumbing.errors import Forbidden
from service_hub.plumbing.pagination import PageArgsSchema, paginate
from service_hub.points import ledger
from service_hub.points.schemas import (
    PointsPageSchema,
)

blp = Blueprint("points", __name__, description="Points ledgers and balances")

LEDGER_RULES = """`balance` is the sum of every line of the ledger; `items` are its lines, newest
first. Each line names its `reason` and the `source_event` that earned it; an event never
credits twice (docs/butler.md)."""


def _ledger_page(owner_kind: str, owner_id: int, page: int, page_size: int) -> dict:
    return {
        "balance": ledger.balance(owner_kind, owner_id),
        **paginate(ledger.history_query(owner_kind, owner_id), page, page_size),
    }


@blp.route("/engineers/me/points")
class MyEngineerPoints(MethodView):
    @requires(blp, "engineer")
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, PointsPageSchema)
    @blp.doc(description=LEDGER_RULES)
    def get(self, page_args):
        """My points balance and history, as an engineer."""
        engineer_id = current_principal().engineer_id
        if engineer_id is None:  # an admin passes requires() but has no ledger here
            raise Forbidden("This ledger is for engineers.", code="role_forbidden")
        return _ledger_page("engineer", engineer_id, **page_args)


@blp.route("/me/points")
class MyResidentPoints(MethodView):
    @requires(blp, "resident")
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, PointsPageSchema)
    @blp.doc(description=LEDGER_RULES + " Residents' ledger holds participation rewards.")
    def get(self, page_args):
        """My points balance and history, as a resident."""
        principal = current_principal()
        if principal.kind != "resident":
            raise Forbidden("This ledger is for residents.", code="role_forbidden")
        return _ledger_page("resident", principal.id, **page_args)
