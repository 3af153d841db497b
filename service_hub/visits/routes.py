"""Visits: engineers announce them, residents see them and book follow-on slots."""

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint

from service_hub.auth.access import current_principal, requires
from service_hub.orders import service as orders
from service_hub.pagination import PageArgsSchema, page_schema, paginate
from service_hub.timefmt import NOW, LocalDateTime
from service_hub.visits import service

blp = Blueprint("visits", __name__, description="Engineer visits and follow-on slot booking")


class SlotInSchema(ma.Schema):
    starts_at = LocalDateTime(required=True, past=NOW, ahead="SCHEDULE_MAX_DAYS_AHEAD")
    ends_at = LocalDateTime(required=True, past=NOW, ahead="SCHEDULE_MAX_DAYS_AHEAD")
    capacity = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1, max=50))


class VisitCreateSchema(ma.Schema):
    community_id = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1))
    starts_at = LocalDateTime(required=True, past=NOW, ahead="SCHEDULE_MAX_DAYS_AHEAD")
    ends_at = LocalDateTime(required=True, past=NOW, ahead="SCHEDULE_MAX_DAYS_AHEAD")
    note = ma.fields.String(load_default="", validate=ma.validate.Length(max=200))
    service_type_ids = ma.fields.List(
        ma.fields.Integer(),
        load_default=list,
        validate=ma.validate.Length(max=50),
        metadata={"description": "empty: any I can do"},
    )
    slots = ma.fields.List(
        ma.fields.Nested(SlotInSchema),
        required=True,
        validate=ma.validate.Length(min=1, max=service.MAX_SLOTS),
    )


class SlotSchema(ma.Schema):
    id = ma.fields.Integer()
    starts_at = LocalDateTime()
    ends_at = LocalDateTime()
    capacity = ma.fields.Integer()
    booked = ma.fields.Integer()


class VisitSchema(ma.Schema):
    id = ma.fields.Integer()
    engineer_id = ma.fields.Integer()
    community_id = ma.fields.Integer()
    starts_at = LocalDateTime()
    ends_at = LocalDateTime()
    note = ma.fields.String()
    service_type_ids = ma.fields.List(ma.fields.Integer())
    status = ma.fields.String()
    slots = ma.fields.List(ma.fields.Nested(SlotSchema))


class BookingCreateSchema(ma.Schema):
    slot_id = ma.fields.Integer(required=True)
    service_type_id = ma.fields.Integer(required=True)
    description = ma.fields.String(load_default="", validate=ma.validate.Length(max=1000))
    photos = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(max=300)),
        load_default=list,
        validate=ma.validate.Length(max=9),
    )


class BookingSchema(ma.Schema):
    id = ma.fields.Integer()
    visit_id = ma.fields.Integer()
    slot_id = ma.fields.Integer()
    order_id = ma.fields.Integer()
    status = ma.fields.String()
    created_at = LocalDateTime()


def _with_slots(visits: list) -> list[dict]:
    slots = service.slots_of([v.id for v in visits])
    return [
        {**{k: getattr(v, k) for k in VisitSchema().fields if k != "slots"}, "slots": slots[v.id]}
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
