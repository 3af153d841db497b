"""Completion evidence (完工验收): service types' checklists, an order's checklist form and its
service report. The resident's confirm and dispute are order actions (POST
/orders/{id}/confirm, /dispute)."""

from flask.views import MethodView
from flask_smorest import Blueprint

from service_hub.auth.access import current_principal, requires
from service_hub.completion import checklists, report, service
from service_hub.completion.schemas import (
    ChecklistReplaceSchema,
    ChecklistSchema,
    OrderChecklistSaveSchema,
    OrderChecklistSchema,
    ServiceReportSchema,
)
from service_hub.plumbing.errors import ErrorSchema

blp = Blueprint(
    "completion",
    __name__,
    description="Completion checklists, the resident's acceptance and the service report",
)


@blp.route("/services/<int:service_type_id>/checklist")
class ServiceChecklist(MethodView):
    @blp.response(200, ChecklistSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, service_type_id: int):
        """The service type's completion checklist (an empty list: none)."""
        return checklists.checklist_of(service_type_id)

    # Like the catalogue it belongs to, the checklist is national: admins only.
    @requires(blp, "admin")
    @blp.arguments(ChecklistReplaceSchema)
    @blp.response(200, ChecklistSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def put(self, args, service_type_id: int):
        """Replace the service type's checklist (admins): items in order, each yes/no, a
        number with unit and range, a text or a photo, required or not. Orders already
        filled keep their answers and labels."""
        return checklists.replace_checklist(service_type_id, args["items"])


@blp.route("/orders/<int:order_id>/checklist")
class OrderChecklist(MethodView):
    @requires(blp, "resident", "engineer", "manager")
    @blp.response(200, OrderChecklistSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, order_id: int):
        """The order's checklist as a form: its items with the answers saved so far (after
        completion: as completed), the note, and which required items are still missing."""
        return service.order_checklist(current_principal(), order_id)

    @requires(blp, "engineer", "admin")
    @blp.arguments(OrderChecklistSaveSchema)
    @blp.response(200, OrderChecklistSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT", description="the order is not in service")
    @blp.alt_response(
        422,
        schema=ErrorSchema,
        description="a wrong answer, named answers.<key> with a Chinese message (unknown "
        "item, wrong kind, number out of range, photo not uploaded here)",
    )
    def put(self, args, order_id: int):
        """Save my answers so far (the order's engineer while in service), replacing those
        saved before; nothing is required until complete. Answers the version to send as
        If-Match with complete."""
        return service.save_checklist(current_principal(), order_id, args["answers"], args["note"])


@blp.route("/orders/<int:order_id>/report")
class OrderReport(MethodView):
    @requires(blp, "resident", "engineer", "manager")
    @blp.response(200, ServiceReportSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, order_id: int):
        """The service report (服务报告): what was asked and done, the checklist with its
        labels, completion photos and note, parts, the times of each step, the engineer,
        the resident's acceptance and signature. For the order's resident, its engineer
        and managers of its region."""
        return report.service_report(current_principal(), order_id)
