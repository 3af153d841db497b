"""Reviews, likes and managers' follow-ups."""

from flask.views import MethodView
from flask_smorest import Blueprint

from service_hub.auth.access import current_principal, requires
from service_hub.plumbing.pagination import PageArgsSchema, page_schema, paginate
from service_hub.reviews import follow_ups, service
from service_hub.reviews.schemas import (
    CloseSchema,
    FollowUpArgs,
    FollowUpSchema,
    LikeSchema,
    ReplySchema,
    ReviewCreateSchema,
    ReviewEditSchema,
    ReviewSchema,
    VisibilitySchema,
)

blp = Blueprint("reviews", __name__, description="Reviews, likes and follow-ups")


@blp.route("/orders/<int:order_id>/review")
class OrderReview(MethodView):
    @requires(blp, "resident")
    @blp.arguments(ReviewCreateSchema)
    @blp.response(201, ReviewSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT", description="not completed, or reviewed already")
    def post(self, args, order_id: int):
        """Rate a completed order of mine, once (text is content-checked; doubtful text is
        held for a manager)."""
        return service.create_review(current_principal().id, order_id, **args), 201


@blp.route("/reviews/<int:review_id>")
class ReviewDetail(MethodView):
    @requires(blp, "resident")
    @blp.arguments(ReviewEditSchema)
    @blp.response(200, ReviewSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT", description="edit window closed, or hidden")
    def patch(self, changes, review_id: int):
        """Change my review within the edit window (REVIEW_EDIT_WINDOW_SECONDS)."""
        return service.edit_review(current_principal().id, review_id, changes)


@blp.route("/reviews/<int:review_id>/reply")
class ReviewReply(MethodView):
    @requires(blp, "manager")
    @blp.arguments(ReplySchema)
    @blp.response(200, ReviewSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, args, review_id: int):
        """Reply to a review publicly (managers of its region)."""
        return service.reply(current_principal(), review_id, args["text"])


@blp.route(
    "/reviews/<int:review_id>/<any(hide,show,approve):decision>",
    parameters=[
        {
            "in": "path",
            "name": "decision",
            "required": True,
            "schema": {"type": "string", "enum": ["hide", "show", "approve"]},
        }
    ],
)
class ReviewVisibility(MethodView):
    @requires(blp, "manager")
    @blp.arguments(VisibilitySchema)
    @blp.response(200, ReviewSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, args, review_id: int, decision: str):
        """Hide a review (a reason is required; it is kept, not deleted), show it again, or
        approve a held one."""
        return service.set_visibility(current_principal(), review_id, decision, args["reason"])


@blp.route("/engineers/<int:engineer_id>/reviews")
class EngineerReviews(MethodView):
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, page_schema(ReviewSchema))
    def get(self, page_args, engineer_id: int):
        """An engineer's visible reviews, newest first."""
        return paginate(service.engineer_reviews_query(engineer_id), **page_args)


@blp.route("/engineers/<int:engineer_id>/like")
class EngineerLike(MethodView):
    @requires(blp, "resident")
    @blp.response(201, LikeSchema)
    @blp.alt_response(200, schema=LikeSchema, description="liked already", success=True)
    def post(self, engineer_id: int):
        """Like an engineer who has completed an order for me (403 otherwise)."""
        created = service.like(current_principal().id, engineer_id)
        body = {"engineer_id": engineer_id, "liked": True, "created": created}
        return body, 201 if created else 200

    @requires(blp, "resident")
    @blp.response(204)
    def delete(self, engineer_id: int):
        """Take my like back."""
        service.unlike(current_principal().id, engineer_id)


@blp.route("/follow-ups")
class FollowUps(MethodView):
    @requires(blp, "manager")
    @blp.arguments(FollowUpArgs, location="query")
    @blp.response(200, page_schema(FollowUpSchema))
    def get(self, args):
        """Low ratings and complaints in my region (or one community of it), oldest first
        (or newest), each with the complaint, the review and the order behind it."""
        status = args.pop("status")
        query = follow_ups.follow_ups_query(
            current_principal(),
            None if status == "all" else status,
            args.pop("community_id"),
            args.pop("kind"),
            args.pop("order") == "newest",
        )
        return paginate(query, **args, row_to_item=follow_ups.follow_up_item)


@blp.route("/follow-ups/<int:follow_up_id>/close")
class CloseFollowUp(MethodView):
    @requires(blp, "manager")
    @blp.arguments(CloseSchema)
    @blp.response(200, FollowUpSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT", description="closed already")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY", description="no note")
    def post(self, args, follow_up_id: int):
        """Record what was done and close the follow-up."""
        return follow_ups.close(current_principal(), follow_up_id, args["note"])
