"""Community activities: managers create, residents sign up and cancel."""

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint

from service_hub.activities import service
from service_hub.auth.access import current_principal, requires
from service_hub.communities.service import get_community
from service_hub.pagination import PageArgsSchema, page_schema, paginate
from service_hub.timefmt import NOW, TODAY, LocalDateTime

blp = Blueprint("activities", __name__, description="Community activities and sign-ups")


class ActivityCreateSchema(ma.Schema):
    title = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=64))
    description = ma.fields.String(load_default="", validate=ma.validate.Length(max=1000))
    place = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    starts_at = LocalDateTime(required=True, past=TODAY, ahead="SCHEDULE_MAX_DAYS_AHEAD")
    ends_at = LocalDateTime(required=True, past=NOW, ahead="SCHEDULE_MAX_DAYS_AHEAD")
    signup_opens_at = LocalDateTime(
        load_default=None, allow_none=True, past=TODAY, ahead="SCHEDULE_MAX_DAYS_AHEAD"
    )
    signup_closes_at = LocalDateTime(
        load_default=None,
        allow_none=True,
        past=NOW,
        ahead="SCHEDULE_MAX_DAYS_AHEAD",
        metadata={"description": "default: when it starts"},
    )
    capacity = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1, max=100_000))
    other_community_ids = ma.fields.List(
        ma.fields.Integer(validate=ma.validate.Range(min=1)),
        load_default=list,
        metadata={"description": "further communities the activity is open to"},
    )


class ActivitySchema(ma.Schema):
    id = ma.fields.Integer()
    title = ma.fields.String()
    description = ma.fields.String()
    place = ma.fields.String()
    starts_at = LocalDateTime()
    ends_at = LocalDateTime()
    signup_opens_at = LocalDateTime()
    signup_closes_at = LocalDateTime()
    capacity = ma.fields.Integer()
    signed_up = ma.fields.Integer()
    status = ma.fields.String()


class ActivityListArgs(PageArgsSchema):
    include_past = ma.fields.Boolean(load_default=False)


class SignupSchema(ma.Schema):
    activity_id = ma.fields.Integer()
    status = ma.fields.String()
    created_at = LocalDateTime()


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
