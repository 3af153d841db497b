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


FOLLOW_UP_KINDS = ["low_rating", "complaint", "dispute"]  # dispute: of completed work (验收)


class FollowUpArgs(PageArgsSchema):
    status = ma.fields.String(
        load_default=FollowUpStatus.OPEN.value,
        validate=ma.validate.OneOf([*(s.value for s in FollowUpStatus), "all"]),
    )
    community_id = ma.fields.Integer(
        load_default=None,
        validate=ma.validate.Range(min=1, max=2**31 - 1),
        metadata={"description": "only this community's (outside my region: none)"},
    )
    kind = ma.fields.String(load_default=None, validate=ma.validate.OneOf(FOLLOW_UP_KINDS))
    order = ma.fields.String(
        load_default="oldest",
        validate=ma.validate.OneOf(["oldest", "newest"]),
        metadata={"description": "oldest first (a queue) or newest first (a history)"},
    )


class FollowUpOrderSchema(ma.Schema):
    id = ma.fields.Integer()
    status = ma.fields.String()
    service_name = ma.fields.String()
    engineer_id = ma.fields.Integer(allow_none=True)
    engineer_name = ma.fields.String(allow_none=True)
    description = ma.fields.String()
    window_start = LocalDateTime(allow_none=True)
    created_at = LocalDateTime()
    completed_at = LocalDateTime(allow_none=True)


class FollowUpReviewSchema(ma.Schema):
    id = ma.fields.Integer()
    rating = ma.fields.Integer()
    text = ma.fields.String()
    photos = ma.fields.List(ma.fields.String())
    status = ma.fields.String(metadata={"enum": [s.value for s in ReviewStatus]})
    created_at = LocalDateTime()


class FollowUpSchema(ma.Schema):
    id = ma.fields.Integer()
    kind = ma.fields.String(metadata={"enum": FOLLOW_UP_KINDS})
    order_id = ma.fields.Integer()
    community_id = ma.fields.Integer()
    community_name = ma.fields.String()
    engineer_id = ma.fields.Integer(allow_none=True)
    summary = ma.fields.String()
    status = ma.fields.String(metadata={"enum": [s.value for s in FollowUpStatus]})
    note = ma.fields.String(allow_none=True)
    created_at = LocalDateTime()
    closed_at = LocalDateTime(allow_none=True)
    complaint = ma.fields.String(
        allow_none=True, metadata={"description": "the resident's complaint about the order"}
    )
    review = ma.fields.Nested(
        FollowUpReviewSchema,
        allow_none=True,
        metadata={"description": "the order's review (held or hidden ones too), if any"},
    )
    order = ma.fields.Nested(FollowUpOrderSchema, metadata={"description": "the order behind it"})


def _not_blank(text: str) -> None:
    if not text.strip():
        raise ma.ValidationError("Say what was done.")


class CloseSchema(ma.Schema):
    note = ma.fields.String(
        required=True,
        validate=[ma.validate.Length(min=1, max=500), _not_blank],
        metadata={"description": "what was done (shown to managers)"},
    )
