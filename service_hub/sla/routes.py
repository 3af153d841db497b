"""Staff alerts: orders of my region that broke or are about to break a promise (managers of
the region and admins)."""

from flask.views import MethodView
from flask_smorest import Blueprint

from service_hub.auth.access import current_principal, requires
from service_hub.plumbing.pagination import paginate
from service_hub.sla import alerts
from service_hub.sla.schemas import (
    AlertArgsSchema,
    AlertPageSchema,
    AlertReadResultSchema,
    AlertReadSchema,
)

blp = Blueprint("sla", __name__, description="Promises kept (SLA): staff alerts")


def _item(alert, community_name: str, read: bool) -> dict:
    return {
        "id": alert.id,
        "kind": alert.kind,
        "order_id": alert.order_id,
        "community_id": alert.community_id,
        "community_name": community_name,
        "text": alert.text,
        "created_at": alert.created_at,
        "read": read,
    }


@blp.route("/staff/alerts")
class StaffAlerts(MethodView):
    @requires(blp, "manager")
    @blp.arguments(AlertArgsSchema, location="query")
    @blp.response(200, AlertPageSchema)
    def get(self, args):
        """Alerts of my region's orders from the last 30 days, newest first, with my unread
        count: orders that missed a deadline (once per step), and unassigned orders whose
        acceptance deadline is near."""
        principal = current_principal()
        unread_only = args.pop("unread_only")
        stmt = alerts.alerts_query(principal, unread_only)
        return {
            **paginate(stmt, row_to_item=_item, **args),
            "unread": alerts.unread_count(principal),
        }


@blp.route("/staff/alerts/read")
class StaffAlertsRead(MethodView):
    @requires(blp, "manager")
    @blp.arguments(AlertReadSchema)
    @blp.response(200, AlertReadResultSchema)
    def post(self, args):
        """Mark some (or all) of my alerts read; alerts outside my region are left alone."""
        principal = current_principal()
        marked = alerts.mark_read(principal, args["ids"])
        return {"marked": marked, "unread": alerts.unread_count(principal)}
