"""Bodies of the visit routes: visits with their slots, and bookings."""

import marshmallow as ma

from service_hub.plumbing.timefmt import NOW, LocalDateTime
from service_hub.visits import service


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


class VisitBriefSchema(ma.Schema):
    """A visit as lists show it (the community home)."""

    id = ma.fields.Integer()
    engineer_id = ma.fields.Integer()
    community_id = ma.fields.Integer()
    starts_at = LocalDateTime()
    ends_at = LocalDateTime()
    note = ma.fields.String()


class VisitEngineerSchema(ma.Schema):
    """The visiting engineer as residents see them."""

    id = ma.fields.Integer()
    name = ma.fields.String()
    photo_url = ma.fields.String(allow_none=True)


class VisitSchema(VisitBriefSchema):
    engineer = ma.fields.Nested(VisitEngineerSchema, metadata={"description": "who comes"})
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
