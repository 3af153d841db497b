"""Bodies of the review routes: reviews, replies, visibility, likes and follow-ups."""

import marshmallow as ma

from models import FollowUpStatus, ReviewStatus
from service_hub.plumbing.pagination import PageArgsSchema
from service_hub.plumbing.timefmt import LocalDateTime

PHOTOS = ma.fields.List(
    ma.fields.String(validate=ma.validate.Length(max=300)),
    validate=ma.validate.Length(max=9),
    metadata={"description": "URLs from POST /uploads, at most 9"},
)


class ReviewCreateSchema(ma.Schema):
    rating = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1, max=5))
    text = ma.fields.String(load_default="", validate=ma.validate.Length(max=1000))
    photos = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(max=300)),
        load_default=list,
        validate=ma.validate.Length(max=9),
    )


class ReviewEditSchema(ma.Schema):
    rating = ma.fields.Integer(validate=ma.validate.Range(min=1, max=5))
    text = ma.fields.String(validate=ma.validate.Length(max=1000))
    photos = PHOTOS


class ReviewSchema(ma.Schema):
    id = ma.fields.Integer()
    order_id = ma.fields.Integer()
    engineer_id = ma.fields.Integer()
    community_id = ma.fields.Integer()
    rating = ma.fields.Integer()
    text = ma.fields.String()
    photos = ma.fields.List(ma.fields.String())
    status = ma.fields.String(metadata={"enum": [s.value for s in ReviewStatus]})
    created_at = LocalDateTime()
    edited_at = LocalDateTime(allow_none=True)
    reply_text = ma.fields.String(allow_none=True)
    replied_at = LocalDateTime(allow_none=True)
    hidden_reason = ma.fields.String(allow_none=True)


class ReplySchema(ma.Schema):
    text = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=500))


class VisibilitySchema(ma.Schema):
    reason = ma.fields.String(
        load_default=None, allow_none=True, validate=ma.validate.Length(max=300)
    )


class LikeSchema(ma.Schema):
    engineer_id = ma.fields.Integer()
    liked = ma.fields.Boolean()
    created = ma.fields.Boolean()


class FollowUpArgs(PageArgsSchema):
    status = ma.fields.String(
        load_default=FollowUpStatus.OPEN.value,
        validate=ma.validate.OneOf([*(s.value for s in FollowUpStatus), "all"]),
    )


class FollowUpSchema(ma.Schema):
    id = ma.fields.Integer()
    kind = ma.fields.String(metadata={"enum": ["low_rating", "complaint"]})
    order_id = ma.fields.Integer()
    community_id = ma.fields.Integer()
    engineer_id = ma.fields.Integer(allow_none=True)
    summary = ma.fields.String()
    status = ma.fields.String()
    note = ma.fields.String(allow_none=True)
    created_at = LocalDateTime()
    closed_at = LocalDateTime(allow_none=True)


class CloseSchema(ma.Schema):
    note = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=500))
