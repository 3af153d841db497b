"""Community activities: managers create, residents sign up and cancel, managers mark who
attended (participation rewards follow, service_hub/coupons/rewards.py)."""

from flask.views import MethodView
from flask_smorest import Blueprint

from service_hub.activities import service
from service_hub.activities.schemas import (
    ActivityCreateSchema,
    ActivityListArgs,
    ActivitySchema,
    AttendanceBodySchema,
    AttendanceSchema,
    SignupSchema,
)
from service_hub.auth.access import current_principal, requires
from service_hub.communities.service import get_community
from service_hub.plumbing.pagination import page_schema, paginate

blp = Blueprint("activities", __name__, description="Community activities and sign-ups")


@blp.route("/communities/<int:community_id>/activities")
class CommunityActivities(MethodView):
    @blp.arguments(ActivityListArgs, location="query")
    @blp.response(200, page_schema(ActivitySchema))
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, args, community_id: int):
        """Activities open to this community, soonest first."""
        query = service.community_activities_query(community_id, args.pop("include_past"))
        return paginate(query, **args)

    @requires(blp, "manager")
    @blp.arguments(ActivityCreateSchema)
    @blp.response(201, ActivitySchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, args, community_id: int):
        """Create an activity for this community (and optionally others)."""
        get_community(community_id)
        others = args.pop("other_community_ids")
        return service.create_activity(current_principal(), [community_id, *others], **args)


@blp.route("/activities/<int:activity_id>")
class ActivityDetail(MethodView):
    @blp.response(200, ActivitySchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, activity_id: int):
        """One activity, with how many places are taken."""
        return service.get_activity(activity_id)


@blp.route("/activities/<int:activity_id>/signups")
class Signups(MethodView):
    @requires(blp, "resident")
    @blp.response(201, SignupSchema)
    @blp.alt_response(200, schema=SignupSchema, description="already signed up", success=True)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT", description="full, or sign-up closed")
    def post(self, activity_id: int):
        """Sign me up (a repeat returns my existing place)."""
        signup, created = service.sign_up(current_principal().id, activity_id)
        return signup, 201 if created else 200


@blp.route("/activities/<int:activity_id>/signups/me")
class MySignup(MethodView):
    @requires(blp, "resident")
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, activity_id: int):
        """Cancel my place (harmless when I have none)."""
        service.cancel_signup(current_principal().id, activity_id)


@blp.route("/activities/<int:activity_id>/attendance")
class Attendance(MethodView):
    @requires(blp, "manager")
    @blp.arguments(AttendanceBodySchema)
    @blp.response(200, AttendanceSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT", description="the activity has not begun")
    def post(self, args, activity_id: int):
        """Mark signed-up residents as attended (each once); attendance rewards follow."""
        return service.mark_attendance(current_principal(), activity_id, args["resident_ids"])
