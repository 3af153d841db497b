"""Routes for the community registry at national scale: bulk CSV import and nearby lookup."""

from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from service_hub.auth.access import current_principal, requires
from service_hub.communities.importer import import_communities
from service_hub.communities.nearby import find_nearby
from service_hub.communities.schemas import (
    ImportFileSchema,
    ImportReportSchema,
    NearbyArgsSchema,
    NearbySchema,
)

blp = Blueprint("registry", __name__, description="Community registry: import and nearby lookup")


@blp.route("/communities/import")
class CommunityImport(MethodView):
    @requires(blp, "manager")
    @blp.arguments(ImportFileSchema, location="files")
    @blp.response(200, ImportReportSchema)
    @blp.alt_response(413, response="REQUEST_ENTITY_TOO_LARGE", description="too many rows")
    def post(self, files):
        """Create or update communities from a CSV file (multipart/form-data, field `file`).

        Rows are matched by `external_code`: new codes are inserted, known ones updated.
        `tier` is A–D, `status` active or inactive, `household_count` ≥ 0, `lat` −90…90,
        `lng` −180…180. A bad row is reported with its line and reason and the others are
        still written. A manager limited to a region may import only rows of that province
        or city. At most `IMPORT_MAX_ROWS_PER_REQUEST` rows (100,000) per request; load a
        whole country with `flask import-communities PATH`.
        """
        principal = current_principal()
        report = import_communities(
            files["file"].stream,
            region=None if principal.role == "admin" else principal.region,
            max_rows=current_app.config["IMPORT_MAX_ROWS_PER_REQUEST"],
        )
        return report


@blp.route("/communities/nearby")
class NearbyCommunities(MethodView):
    @blp.arguments(NearbyArgsSchema, location="query")
    @blp.response(200, NearbySchema)
    def get(self, args):
        """Active communities within `radius_km` of a point, nearest first, with `distance_m`."""
        return find_nearby(
            args["lat"], args["lng"], args["radius_km"], args["page_size"], args["page"]
        )
