"""The resident's inbox (GET /me/inbox, marking read), subscribe-prompt results and opt-outs,
and managers' view of broadcasts."""

from flask.views import MethodView
from flask_smorest import Blueprint

from models import Community
from notifications import preferences
from notifications.inbox import inbox_query, mark_read, unread_count
from notifications.templates import KINDS
from service_hub.auth.access import current_principal, requires
from service_hub.auth.regions import region_clause
from service_hub.inbox.schemas import (
    BroadcastArgs,
    BroadcastSchema,
    CreditsSchema,
    InboxPageSchema,
    MarkReadResultSchema,
    MarkReadSchema,
    OptOutsSchema,
    PromptResultSchema,
)
from service_hub.plumbing.pagination import PageArgsSchema, page_schema, paginate

blp = Blueprint("inbox", __name__, description="In-app notifications")


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
        ).add_columns(Community.name)
        page = paginate(query, **args, row_to_item=lambda b, name: (b, name))
        counts = preferences.broadcast_counts([b.id for b, _name in page["items"]])
        fields = [k for k in BroadcastSchema().fields if k not in ("counts", "community_name")]
        page["items"] = [
            {**{k: getattr(b, k) for k in fields}, "community_name": name, "counts": counts[b.id]}
            for b, name in page["items"]
        ]
        return page
