"""The resident's inbox (GET /me/inbox, marking read), subscribe-prompt results and opt-outs,
and managers' view of broadcasts."""

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint

from notifications import preferences
from notifications.inbox import inbox_query, mark_read, unread_count
from notifications.templates import KINDS
from service_hub.auth.access import current_principal, requires
from service_hub.auth.regions import region_clause
from service_hub.pagination import PageArgsSchema, page_schema, paginate
from service_hub.timefmt import LocalDateTime

blp = Blueprint("inbox", __name__, description="In-app notifications")


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


@blp.route("/me/inbox")
class Inbox(MethodView):
    @requires(blp, "resident")
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, InboxPageSchema)
    def get(self, page_args):
        """My notifications, newest first, with the unread count."""
        resident_id = current_principal().id
        return {
            **paginate(inbox_query(resident_id), **page_args),
            "unread": unread_count(resident_id),
        }


@blp.route("/me/inbox/read")
class InboxRead(MethodView):
    @requires(blp, "resident")
    @blp.arguments(MarkReadSchema)
    @blp.response(200, MarkReadResultSchema)
    def post(self, args):
        """Mark some (or all) of my notifications read."""
        resident_id = current_principal().id
        marked = mark_read(resident_id, args["ids"])
        return {"marked": marked, "unread": unread_count(resident_id)}


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


def _credits(resident_id: int) -> dict:
    return {
        "credits": preferences.available_credits(resident_id),
        "templates": {name: kind.template_id for name, kind in KINDS.items()},
    }


@blp.route("/me/subscriptions")
class Subscriptions(MethodView):
    @requires(blp, "resident")
    @blp.response(200, CreditsSchema)
    def get(self):
        """My unspent send credits per template, and the template to prompt for per kind."""
        return _credits(current_principal().id)

    @requires(blp, "resident")
    @blp.arguments(PromptResultSchema)
    @blp.response(200, CreditsSchema)
    def post(self, args):
        """Record a subscribe prompt's results (each accept is one WeChat send)."""
        preferences.record_prompt(current_principal().id, args["results"])
        return _credits(current_principal().id)


@blp.route("/me/notification-opt-outs")
class OptOuts(MethodView):
    @requires(blp, "resident")
    @blp.response(200, OptOutsSchema)
    def get(self):
        """The kinds I receive only in the inbox, and every kind there is."""
        return {
            "opted_out": preferences.opted_out_kinds(current_principal().id),
            "kinds": sorted(KINDS),
        }


@blp.route("/me/notification-opt-outs/<string:kind>")
class OptOut(MethodView):
    @requires(blp, "resident")
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def put(self, kind: str):
        """No WeChat messages of this kind for me (the inbox still gets them)."""
        preferences.opt_out(current_principal().id, kind)

    @requires(blp, "resident")
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, kind: str):
        """WeChat messages of this kind again."""
        preferences.opt_in(current_principal().id, kind)


@blp.route("/broadcasts")
class Broadcasts(MethodView):
    @requires(blp, "manager")
    @blp.arguments(BroadcastArgs, location="query")
    @blp.response(200, page_schema(BroadcastSchema))
    def get(self, args):
        """Community broadcasts in my region, newest first, with delivery counts per status."""
        query = preferences.broadcasts_query(
            region_clause(current_principal()), args.pop("community_id")
        )
        page = paginate(query, **args)
        counts = preferences.broadcast_counts([b.id for b in page["items"]])
        fields = [k for k in BroadcastSchema().fields if k != "counts"]
        page["items"] = [
            {**{k: getattr(b, k) for k in fields}, "counts": counts[b.id]} for b in page["items"]
        ]
        return page
