"""Bodies of the completion routes: service types' checklists, an order's checklist form, and
the service report."""

import marshmallow as ma

from models import Acceptance, ChecklistKind
from service_hub.completion.checklists import MAX_ITEMS
from service_hub.completion.report import ACCEPTANCE_LABELS
from service_hub.plumbing.timefmt import LocalDateTime

KINDS = [k.value for k in ChecklistKind]
ACCEPTANCE_STATES = [a.value for a in Acceptance]
NUMBER_ONLY = ("unit", "min_value", "max_value")


class ChecklistItemSchema(ma.Schema):
    """One item of a service type's checklist, as admins define it."""

    key = ma.fields.String(
        required=True,
        validate=ma.validate.Regexp(r"^[a-z][a-z0-9_]{0,31}$"),
        metadata={"description": "stable name within the service type; answers use it"},
    )
    label = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=64),
        metadata={"description": "what the engineer reads: 安装后出水 TDS 值"},
    )
    kind = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(KINDS),
        metadata={
            "description": "yes_no: true or false; number: a number (unit, range); text: up "
            "to 200 characters; photo: the URL of an image uploaded through POST /uploads"
        },
    )
    unit = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Length(min=1, max=16),
        metadata={"description": "number only: its unit (MPa, ppm, ℃)"},
    )
    min_value = ma.fields.Float(
        load_default=None,
        allow_none=True,
        allow_nan=False,
        validate=ma.validate.Range(min=-1e9, max=1e9),
        metadata={"description": "number only: the lowest acceptable value"},
    )
    max_value = ma.fields.Float(
        load_default=None,
        allow_none=True,
        allow_nan=False,
        validate=ma.validate.Range(min=-1e9, max=1e9),
        metadata={"description": "number only: the highest acceptable value"},
    )
    required = ma.fields.Boolean(
        load_default=False,
        metadata={"description": "complete is refused until it is answered"},
    )

    @ma.validates_schema
    def _coherent(self, data, **kwargs):
        if data.get("kind") != ChecklistKind.NUMBER:
            for name in NUMBER_ONLY:
                if data.get(name) is not None:
                    raise ma.ValidationError("only for kind number", name)
        low, high = data.get("min_value"), data.get("max_value")
        if low is not None and high is not None and high < low:
            raise ma.ValidationError("must not be below min_value", "max_value")


class ChecklistReplaceSchema(ma.Schema):
    """PUT /services/{id}/checklist: the whole list, in order (empty: no checklist)."""

    items = ma.fields.List(
        ma.fields.Nested(ChecklistItemSchema),
        required=True,
        validate=ma.validate.Length(max=MAX_ITEMS),
    )

    @ma.validates_schema
    def _unique_keys(self, data, **kwargs):
        keys = [item["key"] for item in data.get("items") or []]
        if len(set(keys)) != len(keys):
            raise ma.ValidationError("each key once", "items")


class ChecklistSchema(ma.Schema):
    service_type_id = ma.fields.Integer()
    service_name = ma.fields.String()
    items = ma.fields.List(ma.fields.Nested(ChecklistItemSchema))


ANSWER = (
    "true/false (yes_no), a number (number), a text (text), or a photo URL from POST "
    "/uploads (photo)"
)


class OrderChecklistSaveSchema(ma.Schema):
    """PUT /orders/{id}/checklist: the engineer's answers so far (replacing those saved)."""

    answers = ma.fields.Dict(
        keys=ma.fields.String(validate=ma.validate.Length(min=1, max=32)),
        values=ma.fields.Raw(allow_none=True),
        required=True,
        validate=ma.validate.Length(max=MAX_ITEMS),
        metadata={"description": f"item key → answer: {ANSWER}; null or absent: unanswered"},
    )
    note = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Length(max=500),
        metadata={"description": "the completion note (what was done); absent: kept as is"},
    )


class OrderChecklistItemSchema(ma.Schema):
    """One item of an order's checklist with its answer."""

    key = ma.fields.String()
    label = ma.fields.String()
    kind = ma.fields.String(metadata={"enum": KINDS})
    unit = ma.fields.String(allow_none=True)
    min_value = ma.fields.Float(allow_none=True)
    max_value = ma.fields.Float(allow_none=True)
    required = ma.fields.Boolean()
    value = ma.fields.Raw(allow_none=True, metadata={"description": f"{ANSWER}; null: none"})


class OrderChecklistSchema(ma.Schema):
    order_id = ma.fields.Integer()
    service_type_id = ma.fields.Integer()
    version = ma.fields.Integer(
        metadata={"description": "the order's version after this: send it as If-Match"}
    )
    items = ma.fields.List(
        ma.fields.Nested(OrderChecklistItemSchema),
        metadata={
            "description": "before completion the service type's items with the answers "
            "saved; after it, the items and answers as completed"
        },
    )
    note = ma.fields.String(allow_none=True)
    missing = ma.fields.List(
        ma.fields.String(), metadata={"description": "keys of required items unanswered"}
    )


class ReportEngineerSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    photo_url = ma.fields.String(allow_none=True)


class ReportTimesSchema(ma.Schema):
    created_at = LocalDateTime(metadata={"description": "requested"})
    accepted_at = LocalDateTime(allow_none=True, metadata={"description": "engineer took it"})
    arrived_at = LocalDateTime(allow_none=True, metadata={"description": "service started"})
    completed_at = LocalDateTime(allow_none=True)
    confirmed_at = LocalDateTime(
        allow_none=True, metadata={"description": "the work was accepted (or auto-accepted)"}
    )
    disputed_at = LocalDateTime(allow_none=True)


class ReportPartSchema(ma.Schema):
    name = ma.fields.String()
    quantity = ma.fields.Integer()


class ServiceReportSchema(ma.Schema):
    order_id = ma.fields.Integer()
    status = ma.fields.String()
    service_name = ma.fields.String()
    community_name = ma.fields.String()
    address_text = ma.fields.String(allow_none=True)
    description = ma.fields.String(metadata={"description": "what the resident asked for"})
    engineer = ma.fields.Nested(ReportEngineerSchema, allow_none=True)
    checklist = ma.fields.List(
        ma.fields.Nested(OrderChecklistItemSchema),
        metadata={"description": "the checklist as the engineer filled it, with its labels"},
    )
    completion_note = ma.fields.String(allow_none=True)
    completion_photos = ma.fields.List(ma.fields.String())
    parts = ma.fields.List(
        ma.fields.Nested(ReportPartSchema),
        metadata={"description": "parts used; always empty for now (none are recorded yet)"},
    )
    times = ma.fields.Nested(ReportTimesSchema)
    acceptance = ma.fields.String(
        allow_none=True,
        metadata={
            "enum": [*ACCEPTANCE_STATES, None],
            "description": "the resident's acceptance (验收); null before completion",
        },
    )
    acceptance_label = ma.fields.String(
        metadata={"description": "in Chinese: " + "、".join(ACCEPTANCE_LABELS.values())}
    )
    signature_url = ma.fields.String(
        allow_none=True, metadata={"description": "the resident's handwritten signature"}
    )
    dispute_reason = ma.fields.String(allow_none=True)
    dispute_photos = ma.fields.List(ma.fields.String())
    generated_at = LocalDateTime()
