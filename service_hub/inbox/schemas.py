"""Bodies of the inbox routes: the inbox, marking read, subscribe-prompt results and
opt-outs, and managers' view of broadcasts."""

import marshmallow as ma

from notifications import preferences
from service_hub.plumbing.pagination import PageArgsSchema, page_schema
from service_hub.plumbing.timefmt import LocalDateTime


class InboxItemSchema(ma.Schema):
    id = ma.fields.Integer()
    kind = ma.fields.String()
    title = ma.fields.String()
    body = ma.fields.String()
    page = ma.fields.String(allow_none=True, metadata={"description": "mini-program page"})
    created_at = LocalDateTime()
    read_at = LocalDateTime(allow_none=True)


class InboxPageSchema(page_schema(InboxItemSchema)):
    unread = ma.fields.Integer(required=True)


class MarkReadSchema(ma.Schema):
    ids = ma.fields.List(
        ma.fields.Integer(),
        load_default=None,
        allow_none=True,
        validate=ma.validate.Length(max=100),
        metadata={"description": "omit to mark everything read"},
    )


class MarkReadResultSchema(ma.Schema):
    marked = ma.fields.Integer()
    unread = ma.fields.Integer()


# Subscribe-prompt results, opt-outs, and managers' view of broadcasts.


class PromptResultSchema(ma.Schema):
    results = ma.fields.Dict(
        keys=ma.fields.String(validate=ma.validate.Length(min=1, max=64)),
        values=ma.fields.String(validate=ma.validate.OneOf(preferences.PROMPT_RESULTS)),
        required=True,
        validate=ma.validate.Length(min=1, max=20),
        metadata={
            "description": "template id → accept | reject | ban | filter, as "
            "wx.requestSubscribeMessage returns it; each accept allows one send"
        },
    )


class CreditsSchema(ma.Schema):
    credits = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Integer(),
        metadata={"description": "template id → sends still allowed"},
    )
    templates = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.String(),
        metadata={"description": "kind → template id to prompt for"},
    )


class OptOutsSchema(ma.Schema):
    opted_out = ma.fields.List(ma.fields.String())
    kinds = ma.fields.List(ma.fields.String())


class BroadcastArgs(PageArgsSchema):
    community_id = ma.fields.Integer(load_default=None)


class BroadcastSchema(ma.Schema):
    id = ma.fields.Integer()
    community_id = ma.fields.Integer()
    community_name = ma.fields.String()
    kind = ma.fields.String()
    event_key = ma.fields.String()
    recipients = ma.fields.Integer()
    created_at = LocalDateTime()
    finished_at = LocalDateTime(allow_none=True)
    counts = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Integer(),
        metadata={"description": "WeChat deliveries per status"},
    )
