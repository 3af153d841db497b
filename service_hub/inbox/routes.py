"""GET /me/inbox and marking messages read."""

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint

from notifications.inbox import inbox_query, mark_read, unread_count
from service_hub.auth.access import current_principal, requires
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


from service_hub.inbox import preferences as _preferences  # noqa: E402,F401  (routes on blp)
