"""Bodies of the order routes."""

import marshmallow as ma

from models.order import ORDER_SOURCES
from service_hub.coupons.schemas import OrderCouponSchema
from service_hub.plumbing.timefmt import NOW, TODAY, LocalDateTime


class OrderCreateSchema(ma.Schema):
    community_id = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1))
    service_type_id = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1))
    description = ma.fields.String(load_default="", validate=ma.validate.Length(max=1000))
    window_start = LocalDateTime(
        load_default=None, allow_none=True, past=TODAY, ahead="ORDER_WINDOW_MAX_DAYS_AHEAD"
    )
    window_end = LocalDateTime(
        load_default=None, allow_none=True, past=NOW, ahead="ORDER_WINDOW_MAX_DAYS_AHEAD"
    )
    preferred_engineer_id = ma.fields.Integer(
        load_default=None, allow_none=True, validate=ma.validate.Range(min=1)
    )
    photos = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(max=300)),
        load_default=list,
        validate=ma.validate.Length(max=9),
        metadata={"description": "URLs from POST /uploads"},
    )
    resident_id = ma.fields.Integer(
        load_default=None,
        metadata={"description": "managers only: the resident a phone or proactive order is for"},
    )
    source = ma.fields.String(
        load_default=None,
        validate=ma.validate.OneOf(["phone", "proactive"]),
        metadata={
            "description": "managers only (default phone); residents' orders are mini_program"
        },
    )
    coupon_id = ma.fields.Integer(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Range(min=1),
        metadata={"description": "one of the resident's coupons (GET /me/coupons) to use"},
    )


class OrderEventSchema(ma.Schema):
    action = ma.fields.String()
    actor_kind = ma.fields.String()
    actor_id = ma.fields.Integer(allow_none=True)
    from_status = ma.fields.String(allow_none=True)
    to_status = ma.fields.String()
    reason = ma.fields.String(allow_none=True)
    at = LocalDateTime()


class OrderSchema(ma.Schema):
    id = ma.fields.Integer()
    resident_id = ma.fields.Integer()
    community_id = ma.fields.Integer()
    service_type_id = ma.fields.Integer()
    engineer_id = ma.fields.Integer(allow_none=True)
    preferred_engineer_id = ma.fields.Integer(allow_none=True)
    status = ma.fields.String()
    source = ma.fields.String(metadata={"enum": list(ORDER_SOURCES)})
    description = ma.fields.String()
    photos = ma.fields.List(ma.fields.String())
    window_start = LocalDateTime(allow_none=True)
    window_end = LocalDateTime(allow_none=True)
    dispatch_breakdown = ma.fields.Dict(
        allow_none=True, metadata={"description": "why this engineer was chosen"}
    )
    unassigned_reason = ma.fields.String(allow_none=True)
    complaint = ma.fields.String(allow_none=True)
    version = ma.fields.Integer(metadata={"description": "send as If-Match to act safely"})
    created_at = LocalDateTime()
    accepted_at = LocalDateTime(allow_none=True)
    completed_at = LocalDateTime(allow_none=True)
    coupon = ma.fields.Nested(  # coupons: reserved while open, spent on completion
        OrderCouponSchema, allow_none=True, metadata={"description": "the coupon it holds"}
    )


class OrderDetailSchema(OrderSchema):
    timeline = ma.fields.List(ma.fields.Nested(OrderEventSchema))


class OrderActionSchema(ma.Schema):
    reason = ma.fields.String(
        load_default=None, allow_none=True, validate=ma.validate.Length(max=300)
    )
    engineer_id = ma.fields.Integer(
        load_default=None, allow_none=True, metadata={"description": "for assign (managers)"}
    )


class OfferSchema(ma.Schema):
    id = ma.fields.Integer()
    order_id = ma.fields.Integer()
    status = ma.fields.String()
    dispatch_breakdown = ma.fields.Dict()
    offered_at = LocalDateTime()
    expires_at = LocalDateTime()
