"""Bodies of the community, binding and catalogue routes."""

import marshmallow as ma

from service_hub.timefmt import LocalDateTime


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
    id = ma.fields.Integer()
    code = ma.fields.String()
    name = ma.fields.String()
    skill = ma.fields.String()
    min_skill_level = ma.fields.Integer()
    duration_minutes = ma.fields.Integer()
    base_price_cents = ma.fields.Integer()


class EngineerBriefSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    photo_url = ma.fields.String(allow_none=True)
    years_of_service = ma.fields.Integer()


class RankedEngineerSchema(ma.Schema):
    engineer = ma.fields.Nested(EngineerBriefSchema)
    composite_score = ma.fields.Float()
    completed_orders = ma.fields.Integer()


class VisitSchema(ma.Schema):
    id = ma.fields.Integer()
    engineer_id = ma.fields.Integer()
    community_id = ma.fields.Integer()
    starts_at = LocalDateTime()
    ends_at = LocalDateTime()
    note = ma.fields.String()


class CommunityHomeSchema(ma.Schema):
    community = ma.fields.Nested(CommunitySchema)
    engineers = ma.fields.List(ma.fields.Nested(RankedEngineerSchema))
    upcoming_visits = ma.fields.List(ma.fields.Nested(VisitSchema))
    services = ma.fields.List(ma.fields.Nested(ServiceTypeSchema))


class BindingSchema(ma.Schema):
    community_id = ma.fields.Integer()
    created_at = LocalDateTime()
    created = ma.fields.Boolean(metadata={"description": "false when it already existed"})
