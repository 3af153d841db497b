"""Community home, residents' bindings, and the service catalogue."""

import json

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from service_hub.auth.access import caller_if_any, current_principal, optional_auth, requires
from service_hub.communities import home, service
from service_hub.communities.home_cache import home_cache
from service_hub.communities.schemas import (
    BindingSchema,
    CommunityHomeSchema,
    CommunitySchema,
    ServiceTypeChangeSchema,
    ServiceTypeSchema,
)
from service_hub.coupons.service import HOME_LIMIT
from service_hub.engineers.service import sees_standing
from service_hub.plumbing.pagination import PageArgsSchema, page_schema, paginate

blp = Blueprint("communities", __name__, description="Communities, bindings, service catalogue")


@blp.route("/communities/<int:community_id>")
class CommunityHome(MethodView):
    @optional_auth(blp)
    @blp.response(200, CommunityHomeSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, community_id: int):
        """A community's home: its services, ranked engineers (rating and reviews; the
        standing for managers), upcoming visits with their engineer, activities, coupons,
        questions, and whether the calling resident is bound to it."""
        principal = caller_if_any()
        page = home_cache().page(community_id, lambda: _shared_page(community_id))
        text = _compose(page, principal, community_id)
        return current_app.response_class(text, mimetype="application/json")


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _shared_page(community_id: int) -> dict:
    """The shared part of a community's page as the cache keeps it: serialised once, as JSON
    text for what every caller gets and as items for the caller's coupons."""
    shared = home.shared_home(community_id)
    offers = CommunityHomeSchema(only=("claimable_coupons",)).dump(shared)["claimable_coupons"]
    with_standing = CommunityHomeSchema(only=("engineers",)).dump(
        {"engineers": shared["engineers_with_standing"]}
    )["engineers"]
    common = CommunityHomeSchema(exclude=("engineers", "is_bound", "claimable_coupons")).dump(
        shared
    )
    return {
        "common": _json(common)[1:-1],  # its members, without the braces
        "engineers": _json(CommunityHomeSchema(only=("engineers",)).dump(shared)["engineers"]),
        "engineers_with_standing": _json(with_standing),
        # Read for residents only; text, like the rest, so a read from Redis parses little.
        "offers": _json(
            [[item, shared["new_residents_days"][item["campaign_id"]]] for item in offers]
        ),
        "offers_text": _json(offers[:HOME_LIMIT]),
    }


def _compose(page: dict, principal, community_id: int) -> str:
    """The whole page for the caller: the shared part as cached, then their own (a resident:
    bound or not and the coupons they may claim, one statement)."""
    engineers = page["engineers_with_standing" if sees_standing(principal) else "engineers"]
    bound, coupons = False, page["offers_text"]
    if principal is not None and principal.role == "resident":
        offered = json.loads(page["offers"])
        rules = {item["campaign_id"]: days for item, days in offered}
        bound, held, left_out = home.resident_facts(principal.id, community_id, rules)
        offers = [item for item, _ in offered]
        coupons = _json(home.claimable_for(offers, held, left_out))
    return (
        f'{{{page["common"]},"engineers":{engineers},"is_bound":{"true" if bound else "false"},'
        f'"claimable_coupons":{coupons}}}'
    )


@blp.route("/me/communities")
class MyCommunities(MethodView):
    @requires(blp, "resident")
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, page_schema(CommunitySchema))
    def get(self, page_args):
        """The communities I am bound to."""
        query = service.my_communities_query(current_principal().id)
        return paginate(query, **page_args)


@blp.route("/me/communities/<int:community_id>")
class MyCommunity(MethodView):
    @requires(blp, "resident")
    @blp.response(200, BindingSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT", description="too many communities")
    def put(self, community_id: int):
        """Bind me to a community (a repeat returns the existing binding)."""
        binding, created = service.bind(current_principal().id, community_id)
        return {
            "community_id": binding.community_id,
            "created_at": binding.created_at,
            "created": created,
        }

    @requires(blp, "resident")
    @blp.response(204)
    def delete(self, community_id: int):
        """Unbind me from a community (a repeat is harmless)."""
        service.unbind(current_principal().id, community_id)


@blp.route("/services")
class Services(MethodView):
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, page_schema(ServiceTypeSchema))
    def get(self, page_args):
        """The service catalogue: types, the skill each needs, duration and base price."""
        return paginate(service.services_query(), **page_args)

    # The catalogue and its prices are national: admins only, never a (regional) manager.
    @requires(blp, "admin")
    @blp.arguments(ServiceTypeSchema)
    @blp.response(201, ServiceTypeSchema)
    @blp.alt_response(409, response="CONFLICT", description="code taken")
    def post(self, args):
        """Add a service type to the national catalogue (admins)."""
        return service.create_service_type(args)


@blp.route("/services/<int:service_type_id>")
class ServiceTypeDetail(MethodView):
    @requires(blp, "admin")
    @blp.arguments(ServiceTypeChangeSchema(partial=True))
    @blp.response(200, ServiceTypeSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT", description="code taken")
    def patch(self, changes, service_type_id: int):
        """Change a service type or its price (admins; set active=false to withdraw it)."""
        return service.update_service_type(service_type_id, changes)
