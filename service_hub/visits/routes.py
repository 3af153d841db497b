"""Visits: engineers announce them, residents see them and book follow-on slots."""

from flask.views import MethodView
from flask_smorest import Blueprint

from service_hub.auth.access import current_principal, requires
from service_hub.orders import service as orders
from service_hub.plumbing.pagination import PageArgsSchema, page_schema, paginate
from service_hub.visits import service
from service_hub.visits.schemas import (
    BookingCreateSchema,
    BookingSchema,
    VisitCreateSchema,
    VisitSchema,
)

blp = Blueprint("visits", __name__, description="Engineer visits and follow-on slot booking")


def _with_slots(visits: list) -> list[dict]:
    slots = service.slots_of([v.id for v in visits])
    engineers = service.engineers_of(visits)
    own = [k for k in VisitSchema().fields if k not in ("slots", "engineer")]
    return [
        {
            **{k: getattr(v, k) for k in own},
            "engineer": engineers[v.engineer_id],
            "slots": slots[v.id],
        }
        for v in visits
    ]


@blp.route("/engineers/me/visits")
class MyVisits(MethodView):
    @requires(blp, "engineer")
    @blp.arguments(VisitCreateSchema)
    @blp.response(201, VisitSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, args):
        """Announce a visit to a community I serve, with slots residents can book."""
        visit = service.announce(current_principal().engineer_id, **args)
        return _with_slots([visit])[0]


@blp.route("/communities/<int:community_id>/visits")
class CommunityVisits(MethodView):
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, page_schema(VisitSchema))
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, page_args, community_id: int):
        """Upcoming visits to this community, with each slot's capacity and bookings."""
        page = paginate(service.upcoming_visits_query(community_id), **page_args)
        return {**page, "items": _with_slots(page["items"])}


@blp.route("/visits/<int:visit_id>/bookings")
class Bookings(MethodView):
    @requires(blp, "resident")
    @blp.arguments(BookingCreateSchema)
    @blp.response(201, BookingSchema)
    @blp.alt_response(200, schema=BookingSchema, description="already booked", success=True)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT", description="slot full or closed")
    def post(self, args, visit_id: int):
        """Book a slot on this visit: an order assigned to the visiting engineer."""
        booking, created = service.book(current_principal().id, visit_id, **args)
        return booking, 201 if created else 200


@blp.route("/visits/<int:visit_id>/bookings/me")
class MyBooking(MethodView):
    @requires(blp, "resident")
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT", description="the service has started")
    def delete(self, visit_id: int):
        """Cancel my booking: its order is cancelled and the slot is free again."""
        principal = current_principal()
        order_id = service.my_booking_order(principal.id, visit_id)
        orders.perform(principal, order_id, "cancel", "booking cancelled")
