"""Bodies of the community Q&A and moderation routes."""

import marshmallow as ma

from models.community_life import MODERATION_STATUSES
from service_hub.plumbing.pagination import PageArgsSchema
from service_hub.plumbing.timefmt import LocalDateTime
from service_hub.qa.held import HELD_KINDS
from service_hub.qa.service import MAX_PHOTOS

MAX_TEXT_LENGTH = 1000


def _not_blank(value: str) -> None:
    if not value.strip():
        raise ma.ValidationError("Must not be blank.")


class PostSchema(ma.Schema):
    """Text with up to nine photos (URLs returned by POST /api/v1/uploads)."""

    text = ma.fields.String(
        required=True,
        validate=[ma.validate.Length(min=1, max=MAX_TEXT_LENGTH), _not_blank],
        metadata={"description": "1–1000 characters"},
    )
    photos = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(min=1, max=300)),
        load_default=list,
        validate=ma.validate.Length(max=MAX_PHOTOS),
        metadata={"description": "up to 9 photo URLs from POST /api/v1/uploads"},
    )

    @ma.post_load
    def _strip_text(self, data: dict, **_kwargs) -> dict:
        data["text"] = data["text"].strip()
        return data


class QuestionCreateSchema(PostSchema):
    """A resident's question."""


class AnswerCreateSchema(PostSchema):
    """An engineer's or customer service's answer."""


class AnswererSchema(ma.Schema):
    role = ma.fields.String(metadata={"enum": ["engineer", "customer_service"]})
    engineer_id = ma.fields.Integer(
        allow_none=True, metadata={"description": "set for engineers: link to their profile"}
    )
    name = ma.fields.String()


class AnswerSchema(ma.Schema):
    id = ma.fields.Integer()
    question_id = ma.fields.Integer()
    text = ma.fields.String()
    photos = ma.fields.List(ma.fields.String())
    status = ma.fields.String(metadata={"enum": list(MODERATION_STATUSES)})
    answerer = ma.fields.Nested(AnswererSchema)
    created_at = LocalDateTime()


class QuestionSchema(ma.Schema):
    id = ma.fields.Integer()
    community_id = ma.fields.Integer()
    text = ma.fields.String()
    photos = ma.fields.List(ma.fields.String())
    status = ma.fields.String(
        metadata={
            "enum": list(MODERATION_STATUSES),
            "description": "held: waiting for review, shown only to its author and staff",
        }
    )
    answer_count = ma.fields.Integer(metadata={"description": "visible answers"})
    asker_nickname = ma.fields.String(allow_none=True)
    mine = ma.fields.Boolean(metadata={"description": "asked by the caller"})
    created_at = LocalDateTime()


class QuestionWithAnswersSchema(QuestionSchema):
    answers = ma.fields.List(
        ma.fields.Nested(AnswerSchema),
        metadata={"description": "the first visible answers; all of them: GET …/answers"},
    )


class ModerationDecisionSchema(ma.Schema):
    reason = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Length(max=300),
        metadata={"description": "why (required to reject)"},
    )


class ModerationResultSchema(ma.Schema):
    kind = ma.fields.String(metadata={"enum": ["question", "answer"]})
    id = ma.fields.Integer()
    status = ma.fields.String(metadata={"enum": list(MODERATION_STATUSES)})
    reason = ma.fields.String(allow_none=True)
    changed = ma.fields.Boolean(metadata={"description": "false when the decision was a repeat"})


class HeldArgs(PageArgsSchema):
    kind = ma.fields.String(load_default=None, validate=ma.validate.OneOf(HELD_KINDS))
    community_id = ma.fields.Integer(
        load_default=None,
        validate=ma.validate.Range(min=1, max=2**31 - 1),
        metadata={"description": "only this community's (outside my region: none)"},
    )


class HeldItemSchema(ma.Schema):
    kind = ma.fields.String(
        metadata={
            "enum": list(HELD_KINDS),
            "description": "decide with POST /{kind}s/{id}/approve|reject (questions, "
            "answers) or POST /reviews/{id}/approve|hide (reviews)",
        }
    )
    id = ma.fields.Integer()
    community_id = ma.fields.Integer()
    community_name = ma.fields.String()
    question_id = ma.fields.Integer(allow_none=True, metadata={"description": "answers only"})
    order_id = ma.fields.Integer(allow_none=True, metadata={"description": "reviews only"})
    rating = ma.fields.Integer(allow_none=True, metadata={"description": "reviews only"})
    text = ma.fields.String()
    photos = ma.fields.List(ma.fields.String())
    resident_id = ma.fields.Integer(
        allow_none=True, metadata={"description": "questions and reviews"}
    )
    staff_user_id = ma.fields.Integer(allow_none=True, metadata={"description": "answers"})
    created_at = LocalDateTime()
