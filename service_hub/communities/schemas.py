"""Bodies of the community, binding and catalogue routes, and of the community registry's
(bulk import, nearby lookup)."""

import marshmallow as ma
from flask import current_app
from flask_smorest.fields import Upload

from service_hub.communities.importer import COLUMNS, REJECTED_LIST_CAP
from service_hub.coupons.schemas import ClaimableSchema
from service_hub.plumbing.pagination import PageArgsSchema, page_schema
from service_hub.plumbing.timefmt import LocalDateTime
from service_hub.visits.schemas import VisitBriefSchema


class CommunitySchema(ma.Schema):
    id = ma.fields.Integer()
    external_code = ma.fields.String()
    name = ma.fields.String()
    province = ma.fields.String()
    city = ma.fields.String()
    district = ma.fields.String()
    address = ma.fields.String()
    lat = ma.fields.Float()
    lng = ma.fields.Float()
    household_count = ma.fields.Integer()
    tier = ma.fields.String()
    status = ma.fields.String()


class ServiceTypeSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    code = ma.fields.String(required=True, validate=ma.validate.Regexp(r"^[a-z][a-z0-9_]{1,31}$"))
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=64))
    skill = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=32))
    min_skill_level = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1, max=5))
    duration_minutes = ma.fields.Integer(
        load_default=60, validate=ma.validate.Range(min=5, max=24 * 60)
    )
    base_price_cents = ma.fields.Integer(
        load_default=0, validate=ma.validate.Range(min=0, max=10_000_000)
    )
    active = ma.fields.Boolean(load_default=True)


class ServiceTypeChangeSchema(ServiceTypeSchema):
    """Any subset of a service type's fields (used with partial=True)."""


class EngineerBriefSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    photo_url = ma.fields.String(allow_none=True)
    years_of_service = ma.fields.Integer()


class HomeEngineerSchema(ma.Schema):
    """An engineer on a community's home, as residents judge them."""

    engineer = ma.fields.Nested(EngineerBriefSchema)
    average_rating = ma.fields.Float(
        allow_none=True,
        metadata={"description": "their visible reviews' average here, 1–5 (null: none yet)"},
    )
    review_count = ma.fields.Integer(metadata={"description": "their visible reviews here"})
    completed_orders = ma.fields.Integer(metadata={"description": "orders completed here"})
    standing = ma.fields.Float(
        allow_none=True,
        metadata={
            "description": "managers and admins: the standing here, 0..1 (docs/ranking.md); "
            "null for everyone else"
        },
    )


class HomeVisitSchema(VisitBriefSchema):
    """An upcoming visit on a community's home, with its engineer."""

    engineer = ma.fields.Nested(EngineerBriefSchema)


class ActivityBriefSchema(ma.Schema):
    id = ma.fields.Integer()
    title = ma.fields.String()
    place = ma.fields.String()
    starts_at = LocalDateTime()
    ends_at = LocalDateTime()
    capacity = ma.fields.Integer()
    signed_up = ma.fields.Integer()


class QuestionBriefSchema(ma.Schema):
    id = ma.fields.Integer()
    text = ma.fields.String()
    photos = ma.fields.List(ma.fields.String())
    answer_count = ma.fields.Integer()
    created_at = LocalDateTime()


class CommunityHomeSchema(ma.Schema):
    community = ma.fields.Nested(CommunitySchema)
    recent_questions = ma.fields.List(ma.fields.Nested(QuestionBriefSchema))
    open_activities = ma.fields.List(ma.fields.Nested(ActivityBriefSchema))
    is_bound = ma.fields.Boolean(
        metadata={"description": "the calling resident is bound to it (false without a token)"}
    )
    engineers = ma.fields.List(
        ma.fields.Nested(HomeEngineerSchema),
        metadata={"description": "the first 20 engineers, best standing here first"},
    )
    upcoming_visits = ma.fields.List(ma.fields.Nested(HomeVisitSchema))
    services = ma.fields.List(ma.fields.Nested(ServiceTypeSchema))
    claimable_coupons = ma.fields.List(
        ma.fields.Nested(ClaimableSchema),
        metadata={"description": "coupons on offer to this community's residents now"},
    )


class BindingSchema(ma.Schema):
    community_id = ma.fields.Integer()
    created_at = LocalDateTime()
    created = ma.fields.Boolean(metadata={"description": "false when it already existed"})


# The community registry: bulk import and nearby lookup (service_hub/communities/registry.py).


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


class NearbyArgsSchema(PageArgsSchema):
    """?lat=&lng=&radius_km= and the shared page and page_size."""

    lat = ma.fields.Float(required=True, validate=ma.validate.Range(-90, 90))
    lng = ma.fields.Float(required=True, validate=ma.validate.Range(-180, 180))
    radius_km = ma.fields.Float(
        load_default=3.0,
        validate=ma.validate.Range(min=0, min_inclusive=False),
        metadata={"description": "at most NEARBY_MAX_RADIUS_KM (50 by default)"},
    )

    @ma.validates("radius_km")
    def _within_configured_maximum(self, value: float, **_kwargs) -> None:
        maximum = current_app.config["NEARBY_MAX_RADIUS_KM"]
        if value > maximum:
            raise ma.ValidationError(f"Must be at most {maximum:g} km.")


class NearbyCommunitySchema(CommunitySchema):
    distance_m = ma.fields.Integer(metadata={"description": "metres from the query point"})


class NearbySchema(page_schema(NearbyCommunitySchema)):
    """The shared page envelope, nearest first, and the radius searched."""

    total = ma.fields.Integer(
        required=True, metadata={"description": "active communities within the radius"}
    )
    radius_km = ma.fields.Float(
        required=True, metadata={"description": "the radius searched (3 when not given)"}
    )
