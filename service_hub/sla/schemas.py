"""Bodies of the staff alert routes (GET /staff/alerts, POST /staff/alerts/read)."""

import marshmallow as ma

from models import StaffAlertKind
from service_hub.plumbing.pagination import PageArgsSchema, page_schema
from service_hub.plumbing.timefmt import LocalDateTime


class AlertArgsSchema(PageArgsSchema):
    unread_only = ma.fields.Boolean(
        load_default=False, metadata={"description": "true: only alerts I have not read"}
    )


class StaffAlertSchema(ma.Schema):
    id = ma.fields.Integer()
    kind = ma.fields.String(
        metadata={
            "enum": [k.value for k in StaffAlertKind],
            "description": "sla_breached: an order missed a step's deadline; "
            "unassigned_at_risk: nobody can take an order whose acceptance deadline is near",
        }
    )
    order_id = ma.fields.Integer(allow_none=True)
    community_id = ma.fields.Integer()
    community_name = ma.fields.String()
    text = ma.fields.String(metadata={"description": "what happened, in Chinese"})
    created_at = LocalDateTime()
    read = ma.fields.Boolean(metadata={"description": "whether I have read it"})


class AlertPageSchema(page_schema(StaffAlertSchema)):
    unread = ma.fields.Integer(
        required=True, metadata={"description": "my unread alerts (counted up to 1000)"}
    )


class AlertReadSchema(ma.Schema):
    ids = ma.fields.List(
        ma.fields.Integer(validate=ma.validate.Range(min=1)),
        load_default=None,
        allow_none=True,
        validate=ma.validate.Length(max=100),
        metadata={"description": "omit to mark all my alerts read"},
    )


class AlertReadResultSchema(ma.Schema):
    marked = ma.fields.Integer(metadata={"description": "alerts that were unread"})
    unread = ma.fields.Integer()
