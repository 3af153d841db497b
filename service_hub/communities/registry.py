"""Routes for the community registry at national scale: bulk CSV import and nearby lookup."""

from __future__ import annotations

import marshmallow as ma
from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from flask_smorest.fields import Upload

from service_hub.auth.access import current_principal, requires
from service_hub.communities.importer import COLUMNS, REJECTED_LIST_CAP, import_communities
from service_hub.communities.nearby import find_nearby
from service_hub.communities.schemas import CommunitySchema

blp = Blueprint("registry", __name__, description="Community registry: import and nearby lookup")

MAX_NEARBY_LIMIT = 100


class ImportFileSchema(ma.Schema):
    file = Upload(
        required=True,
        metadata={
            "description": "CSV, UTF-8 with or without BOM. Header: " + ",".join(COLUMNS) + "."
        },
    )


class RejectedRowSchema(ma.Schema):
    line = ma.fields.Integer(metadata={"description": "line in the file; the header is line 1"})
    external_code = ma.fields.String()
    reason = ma.fields.String()
    reason_zh = ma.fields.String()


class ImportReportSchema(ma.Schema):
    rows = ma.fields.Integer(metadata={"description": "data rows read"})
    inserted = ma.fields.Integer()
    updated = ma.fields.Integer()
    unchanged = ma.fields.Integer(metadata={"description": "already stored exactly so"})
    rejected = ma.fields.List(
        ma.fields.Nested(RejectedRowSchema),
        metadata={"description": f"the first {REJECTED_LIST_CAP} rows not written"},
    )
    rejected_total = ma.fields.Integer()


class NearbyArgsSchema(ma.Schema):
    lat = ma.fields.Float(required=True, validate=ma.validate.Range(-90, 90))
    lng = ma.fields.Float(required=True, validate=ma.validate.Range(-180, 180))
    radius_km = ma.fields.Float(
        load_default=3.0,
        validate=ma.validate.Range(min=0, min_inclusive=False),
        metadata={"description": "at most NEARBY_MAX_RADIUS_KM (50 by default)"},
    )
    limit = ma.fields.Integer(
        load_default=20, validate=ma.validate.Range(min=1, max=MAX_NEARBY_LIMIT)
    )

    @ma.validates("radius_km")
    def _within_configured_maximum(self, value: float, **_kwargs) -> None:
        maximum = current_app.config["NEARBY_MAX_RADIUS_KM"]
        if value > maximum:
            raise ma.ValidationError(f"Must be at most {maximum:g} km.")


class NearbyCommunitySchema(CommunitySchema):
    distance_m = ma.fields.Integer(metadata={"description": "metres from the query point"})


class NearbySchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(NearbyCommunitySchema), required=True)
    total = ma.fields.Integer(
        required=True, metadata={"description": "active communities within the radius"}
    )
    radius_km = ma.fields.Float(required=True)


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
        return find_nearby(args["lat"], args["lng"], args["radius_km"], args["limit"])
