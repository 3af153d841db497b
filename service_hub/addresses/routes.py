"""Residents' address books: the doors in their bound communities that orders go to."""

from flask.views import MethodView
from flask_smorest import Blueprint

from service_hub.addresses import service
from service_hub.addresses.schemas import (
    AddressBodySchema,
    AddressChangeSchema,
    AddressListArgsSchema,
    AddressSchema,
)
from service_hub.auth.access import current_principal, requires
from service_hub.plumbing.pagination import page_schema, paginate

blp = Blueprint("addresses", __name__, description="Residents' address books")


@blp.route("/me/addresses")
class MyAddresses(MethodView):
    @requires(blp, "resident")
    @blp.arguments(AddressListArgsSchema, location="query")
    @blp.response(200, page_schema(AddressSchema))
    def get(self, args):
        """My addresses, the default first (mobile in full: it is my own book)."""
        community_id = args.pop("community_id")
        query = service.addresses_query(current_principal().id, community_id)
        return paginate(query, **args, row_to_item=service.address_item)

    @requires(blp, "resident")
    @blp.arguments(AddressBodySchema)
    @blp.response(201, AddressSchema)
    @blp.alt_response(404, response="NOT_FOUND", description="community_not_found")
    @blp.alt_response(409, response="CONFLICT", description="too_many_addresses")
    def post(self, args):
        """Add an address in one of my bound communities (403 not_bound otherwise). My first
        address, or one sent with is_default=true, is my default."""
        return service.create_address(current_principal().id, args)


@blp.route("/me/addresses/<int:address_id>")
class MyAddress(MethodView):
    @requires(blp, "resident")
    @blp.arguments(AddressChangeSchema(partial=True))
    @blp.response(200, AddressSchema)
    @blp.alt_response(404, response="NOT_FOUND", description="address_not_found")
    def patch(self, changes, address_id: int):
        """Change one of my addresses; is_default=true makes it my default. Orders already
        made keep the address they were made with."""
        return service.update_address(current_principal().id, address_id, changes)

    @requires(blp, "resident")
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND", description="address_not_found")
    def delete(self, address_id: int):
        """Delete one of my addresses (orders keep their copy); if it was my default, my most
        recently changed other address becomes the default."""
        service.delete_address(current_principal().id, address_id)
