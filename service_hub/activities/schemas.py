"""Bodies of the activity routes: activities, their listing, sign-ups and attendance."""

import marshmallow as ma

from service_hub.plumbing.pagination import PageArgsSchema
from service_hub.plumbing.timefmt import NOW, TODAY, LocalDateTime


class ActivityCreateSchema(ma.Schema):
    title = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=64))
    description = ma.fields.String(load_default="", validate=ma.validate.Length(max=1000))
    place = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    starts_at = LocalDateTime(required=True, past=TODAY, ahead="SCHEDULE_MAX_DAYS_AHEAD")
    ends_at = LocalDateTime(required=True, past=NOW, ahead="SCHEDULE_MAX_DAYS_AHEAD")
    signup_opens_at = LocalDateTime(
        load_default=None, allow_none=True, past=TODAY, ahead="SCHEDULE_MAX_DAYS_AHEAD"
    )
    signup_closes_at = LocalDateTime(
        load_default=None,
        allow_none=True,
        past=NOW,
        ahead="SCHEDULE_MAX_DAYS_AHEAD",
        metadata={"description": "default: when it starts"},
    )
    capacity = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1, max=100_000))
    other_community_ids = ma.fields.List(
        ma.fields.Integer(validate=ma.validate.Range(min=1)),
        load_default=list,
        metadata={"description": "further communities the activity is open to"},
    )


class ActivitySchema(ma.Schema):
    id = ma.fields.Integer()
    title = ma.fields.String()
    description = ma.fields.String()
    place = ma.fields.String()
    starts_at = LocalDateTime()
    ends_at = LocalDateTime()
    signup_opens_at = LocalDateTime()
    signup_closes_at = LocalDateTime()
    capacity = ma.fields.Integer()
    signed_up = ma.fields.Integer()
    status = ma.fields.String()


class ActivityListArgs(PageArgsSchema):
    include_past = ma.fields.Boolean(load_default=False)


class SignupSchema(ma.Schema):
    activity_id = ma.fields.Integer()
    status = ma.fields.String()
    created_at = LocalDateTime()


class AttendanceBodySchema(ma.Schema):
    resident_ids = ma.fields.List(
        ma.fields.Integer(validate=ma.validate.Range(min=1)),
        required=True,
        validate=ma.validate.Length(min=1, max=1000),
    )


class AttendanceSchema(ma.Schema):
    marked = ma.fields.List(ma.fields.Integer(), metadata={"description": "newly attended"})
    already = ma.fields.List(ma.fields.Integer(), metadata={"description": "marked before"})
    not_signed_up = ma.fields.List(ma.fields.Integer())
    coupons_granted = ma.fields.Integer()
