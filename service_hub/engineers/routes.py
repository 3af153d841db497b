"""Engineer profiles, per-community ranking, and managers' administration of engineers."""

from flask.views import MethodView
from flask_smorest import Blueprint

from service_hub.auth.access import caller_if_any, current_principal, optional_auth, requires
from service_hub.engineers import schemas, service
from service_hub.plumbing.pagination import PageArgsSchema, page_schema, paginate

blp = Blueprint("engineers", __name__, description="Engineers: profiles and administration")


@blp.route("/communities/<int:community_id>/engineers")
class CommunityEngineers(MethodView):
    @optional_auth(blp)
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, page_schema(schemas.RankedEngineerSchema))
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, page_args, community_id: int):
        """Engineers ranked for this community, each with their rating, reviews and orders
        completed here; managers and admins also see the standing and what it is made of."""
        with_standing = service.sees_standing(caller_if_any())
        query = service.ranked_for_community_query(community_id)
        return paginate(
            query,
            **page_args,
            row_to_item=lambda e, link: {"engineer": e, **service.reputation(link, with_standing)},
        )


@blp.route("/engineers/<int:engineer_id>")
class EngineerProfile(MethodView):
    @optional_auth(blp)
    @blp.response(200, schemas.EngineerProfileSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, engineer_id: int):
        """An engineer's public profile: skills, communities served, ratings; the standing
        per community for managers, admins and the engineer themself."""
        return service.profile(engineer_id, caller_if_any())

    @requires(blp, "manager")
    @blp.arguments(schemas.AdminProfileChangeSchema)
    @blp.response(200, schemas.EngineerAdminSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def patch(self, changes, engineer_id: int):
        """Change an engineer's profile, base location, duty and load limit (managers of a
        region: engineers serving one of its communities)."""
        return service.administer_profile(current_principal(), engineer_id, changes)


@blp.route("/engineers")
class Engineers(MethodView):
    @requires(blp, "manager")
    @blp.arguments(schemas.EngineerCreateSchema)
    @blp.response(201, schemas.EngineerAdminSchema)
    @blp.alt_response(409, response="CONFLICT", description="username or phone taken")
    def post(self, args):
        """Create an engineer: a staff account, its profile and the communities it serves
        (managers of a region: at least one, all in the region)."""
        return service.create_engineer(current_principal(), **args)


@blp.route("/engineers/me")
class MyProfile(MethodView):
    @requires(blp, "engineer")
    @blp.response(200, schemas.EngineerAdminSchema)
    def get(self):
        """My own profile, as managers see it."""
        return service.get_engineer(current_principal().engineer_id)

    @requires(blp, "engineer")
    @blp.arguments(schemas.ProfileChangeSchema)
    @blp.response(200, schemas.EngineerAdminSchema)
    def patch(self, changes):
        """Change my bio, photo, duty status or working hours."""
        return service.update_profile(current_principal().engineer_id, changes)


@blp.route("/engineers/<int:engineer_id>/communities/<int:community_id>")
class EngineerCommunity(MethodView):
    @requires(blp, "manager")
    @blp.response(200, schemas.AssignmentSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def put(self, engineer_id: int, community_id: int):
        """The engineer serves this community (a repeat is harmless; managers of a region: an
        engineer of the region, a community of the region)."""
        created = service.assign_community(current_principal(), engineer_id, community_id)
        return {"engineer_id": engineer_id, "community_id": community_id, "created": created}

    @requires(blp, "manager")
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, engineer_id: int, community_id: int):
        """The engineer stops serving this community."""
        service.unassign_community(current_principal(), engineer_id, community_id)


@blp.route("/engineers/<int:engineer_id>/skills")
class EngineerSkills(MethodView):
    @requires(blp, "manager")
    @blp.arguments(schemas.SkillsSchema)
    @blp.response(200, schemas.SkillsSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def put(self, args, engineer_id: int):
        """Replace the engineer's skills and levels (managers of the engineer's region)."""
        return {"skills": service.set_skills(current_principal(), engineer_id, args["skills"])}
