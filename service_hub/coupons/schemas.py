"""Bodies of the coupon routes: campaigns and their targeting, coupons, reward rules."""

from __future__ import annotations

import marshmallow as ma
from webargs.fields import DelimitedList

from models.coupon import (
    CAMPAIGN_CHANNELS,
    CAMPAIGN_STATUSES,
    DISCOUNT_KINDS,
    REWARD_EVENTS,
)
from service_hub.coupons.campaigns import coupon_counts
from service_hub.coupons.service import COUPON_STATE_FILTERS, coupon_state
from service_hub.plumbing.pagination import PageArgsSchema
from service_hub.plumbing.timefmt import NOW, TODAY, LocalDateTime

MAX_CENTS = 100_000_000  # ¥1,000,000
Range = ma.validate.Range


class BandSchema(ma.Schema):
    min = ma.fields.Float(validate=Range(min=0, max=100_000), allow_none=True)
    max = ma.fields.Float(validate=Range(min=0, max=100_000), allow_none=True)

    @ma.validates_schema
    def _ordered(self, data, **kwargs):
        low, high = data.get("min"), data.get("max")
        if low is None and high is None:
            raise ma.ValidationError("give min, max or both", "min")
        if low is not None and high is not None and high <= low:
            raise ma.ValidationError("must be greater than min", "max")


class RegionSchema(ma.Schema):
    province = ma.fields.String(validate=ma.validate.Length(min=1, max=32))
    city = ma.fields.String(validate=ma.validate.Length(min=1, max=32))
    district = ma.fields.String(validate=ma.validate.Length(min=1, max=32))

    @ma.validates_schema
    def _names_something(self, data, **kwargs):
        if not data:
            raise ma.ValidationError("name a province, city or district", "province")


class RadiusSchema(ma.Schema):
    lat = ma.fields.Float(required=True, validate=Range(min=-90, max=90))
    lng = ma.fields.Float(required=True, validate=Range(min=-180, max=180))
    radius_km = ma.fields.Float(
        required=True, validate=Range(min=0.1, max=50), metadata={"description": "≤ 50 km"}
    )


class TargetingSchema(ma.Schema):
    """Rules combined with AND; leave one out to not narrow by it (docs/coupons.md)."""

    tiers = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(min=1, max=8)),
        validate=ma.validate.Length(min=1, max=10),
        metadata={"description": 'community tiers, e.g. ["A", "B"]'},
    )
    orders_per_1000 = ma.fields.Nested(
        BandSchema,
        metadata={"description": "last month's orders per 1,000 households: min ≤ v < max"},
    )
    regions = ma.fields.List(
        ma.fields.Nested(RegionSchema),
        validate=ma.validate.Length(min=1, max=50),
        metadata={"description": "any of these places; each names province, city, district"},
    )
    radius = ma.fields.Nested(RadiusSchema, metadata={"description": "around a point"})
    new_residents_days = ma.fields.Integer(
        validate=Range(min=1, max=365),
        metadata={"description": "only residents who joined at most this many days ago"},
    )


class CampaignCreateSchema(ma.Schema):
    title = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=64))
    description = ma.fields.String(load_default="", validate=ma.validate.Length(max=500))
    channel = ma.fields.String(
        load_default="claim",
        validate=ma.validate.OneOf(CAMPAIGN_CHANNELS),
        metadata={"description": "claim: residents claim it; reward: reward rules grant it"},
    )
    discount_kind = ma.fields.String(required=True, validate=ma.validate.OneOf(DISCOUNT_KINDS))
    amount_off_cents = ma.fields.Integer(
        load_default=None, validate=Range(min=1, max=MAX_CENTS), metadata={"description": "fixed"}
    )
    percent_off = ma.fields.Integer(
        load_default=None, validate=Range(min=1, max=99), metadata={"description": "percent"}
    )
    max_discount_cents = ma.fields.Integer(
        load_default=None,
        validate=Range(min=1, max=MAX_CENTS),
        metadata={"description": "the cap of a percent discount (required with it)"},
    )
    min_spend_cents = ma.fields.Integer(
        load_default=0,
        validate=Range(min=0, max=MAX_CENTS),
        metadata={"description": "spend threshold: the service's price must reach it"},
    )
    service_type_ids = ma.fields.List(
        ma.fields.Integer(validate=Range(min=1)),
        load_default=list,
        validate=ma.validate.Length(max=100),
        metadata={"description": "services it applies to; empty means all"},
    )
    total_stock = ma.fields.Integer(required=True, validate=Range(min=1, max=10_000_000))
    per_resident_limit = ma.fields.Integer(load_default=1, validate=Range(min=1, max=100))
    starts_at = LocalDateTime(
        load_default=None,
        allow_none=True,
        past=TODAY,
        ahead="SCHEDULE_MAX_DAYS_AHEAD",
        metadata={"description": "claims open; default now"},
    )
    ends_at = LocalDateTime(
        load_default=None,
        allow_none=True,
        past=NOW,
        ahead="SCHEDULE_MAX_DAYS_AHEAD",
        metadata={"description": "claims close; optional"},
    )
    valid_from = LocalDateTime(
        load_default=None, allow_none=True, past=TODAY, ahead="SCHEDULE_MAX_DAYS_AHEAD"
    )
    valid_until = LocalDateTime(
        load_default=None,
        allow_none=True,
        past=NOW,
        ahead="SCHEDULE_MAX_DAYS_AHEAD",
        metadata={"description": "a fixed validity window (or give valid_days)"},
    )
    valid_days = ma.fields.Integer(
        load_default=None,
        allow_none=True,
        validate=Range(min=1, max=3650),
        metadata={"description": "valid for N days from issue (or give valid_until)"},
    )
    targeting = ma.fields.Nested(TargetingSchema, load_default=dict)

    @ma.validates_schema
    def _consistent(self, data, **kwargs):
        problems: dict[str, list[str]] = {}
        if data["discount_kind"] == "fixed":
            if data.get("amount_off_cents") is None:
                problems["amount_off_cents"] = ["required for a fixed discount"]
            for name in ("percent_off", "max_discount_cents"):
                if data.get(name) is not None:
                    problems[name] = ["only for a percent discount"]
        else:
            for name in ("percent_off", "max_discount_cents"):
                if data.get(name) is None:
                    problems[name] = ["required for a percent discount"]
            if data.get("amount_off_cents") is not None:
                problems["amount_off_cents"] = ["only for a fixed discount"]
        if (data.get("valid_until") is None) == (data.get("valid_days") is None):
            problems["valid_until"] = ["give exactly one of valid_until and valid_days"]
        if data.get("valid_from") is not None and data.get("valid_until") is None:
            problems["valid_from"] = ["only with valid_until"]
        if problems:
            raise ma.ValidationError(problems)


class DiscountFieldsSchema(ma.Schema):
    """What a coupon takes off, shown on campaigns and coupons alike."""

    title = ma.fields.String()
    description = ma.fields.String()
    discount_kind = ma.fields.String(metadata={"enum": list(DISCOUNT_KINDS)})
    amount_off_cents = ma.fields.Integer(allow_none=True)
    percent_off = ma.fields.Integer(allow_none=True)
    max_discount_cents = ma.fields.Integer(allow_none=True)
    min_spend_cents = ma.fields.Integer()
    service_type_ids = ma.fields.List(ma.fields.Integer())


class CampaignSchema(DiscountFieldsSchema):
    id = ma.fields.Integer()
    channel = ma.fields.String(metadata={"enum": list(CAMPAIGN_CHANNELS)})
    total_stock = ma.fields.Integer()
    issued = ma.fields.Integer()
    remaining = ma.fields.Function(lambda c: c.total_stock - c.issued)
    per_resident_limit = ma.fields.Integer()
    starts_at = LocalDateTime()
    ends_at = LocalDateTime(allow_none=True)
    valid_from = LocalDateTime(allow_none=True)
    valid_until = LocalDateTime(allow_none=True)
    valid_days = ma.fields.Integer(allow_none=True)
    targeting = ma.fields.Nested(TargetingSchema)
    region_scope = ma.fields.String(
        allow_none=True, metadata={"description": "the creating manager's region"}
    )
    status = ma.fields.String(metadata={"enum": list(CAMPAIGN_STATUSES)})
    created_by = ma.fields.Integer()
    created_at = LocalDateTime()


class CampaignDetailSchema(CampaignSchema):
    coupons = ma.fields.Function(
        lambda campaign: coupon_counts(campaign.id),
        metadata={
            "type": "object",
            "description": "issued coupons by state: available, reserved, spent, expired",
        },
    )


class CampaignListArgs(PageArgsSchema):
    status = ma.fields.String(load_default=None, validate=ma.validate.OneOf(CAMPAIGN_STATUSES))


class PreviewCommunitySchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    tier = ma.fields.String()
    city = ma.fields.String()
    district = ma.fields.String()
    orders_per_1000 = ma.fields.Float(allow_none=True)


class PreviewSchema(ma.Schema):
    communities = ma.fields.Integer(metadata={"description": "communities reached now"})
    residents = ma.fields.Integer(metadata={"description": "distinct residents bound to them"})
    volume_month = ma.fields.String(metadata={"description": "the month the volume band reads"})
    sample = ma.fields.List(ma.fields.Nested(PreviewCommunitySchema))


class PreviewBodySchema(ma.Schema):
    targeting = ma.fields.Nested(TargetingSchema, load_default=dict)


class ClaimableSchema(DiscountFieldsSchema):
    campaign_id = ma.fields.Integer(metadata={"description": "POST /coupons/{campaign_id}/claim"})
    remaining = ma.fields.Integer()
    per_resident_limit = ma.fields.Integer()
    held = ma.fields.Integer(
        allow_none=True, metadata={"description": "how many the caller holds (residents)"}
    )
    claim_ends_at = LocalDateTime(allow_none=True)
    valid_until = LocalDateTime(allow_none=True)
    valid_days = ma.fields.Integer(allow_none=True)
    new_residents_only = ma.fields.Boolean()


class ClaimBodySchema(ma.Schema):
    community_id = ma.fields.Integer(
        load_default=None,
        allow_none=True,
        validate=Range(min=1),
        metadata={"description": "claim through this bound community (default: any targeted)"},
    )


class CouponSchema(ma.Schema):
    id = ma.fields.Integer()
    campaign_id = ma.fields.Integer()
    title = ma.fields.String(attribute="campaign.title")
    discount_kind = ma.fields.String(attribute="campaign.discount_kind")
    amount_off_cents = ma.fields.Integer(attribute="campaign.amount_off_cents", allow_none=True)
    percent_off = ma.fields.Integer(attribute="campaign.percent_off", allow_none=True)
    max_discount_cents = ma.fields.Integer(attribute="campaign.max_discount_cents", allow_none=True)
    min_spend_cents = ma.fields.Integer(attribute="campaign.min_spend_cents")
    service_type_ids = ma.fields.List(ma.fields.Integer(), attribute="campaign.service_type_ids")
    source = ma.fields.String(metadata={"enum": ["claim", "reward"]})
    community_id = ma.fields.Integer(allow_none=True)
    state = ma.fields.Function(
        coupon_state, metadata={"enum": ["available", "reserved", "spent", "expired"]}
    )
    valid_from = LocalDateTime()
    valid_until = LocalDateTime()
    order_id = ma.fields.Integer(allow_none=True)
    discount_cents = ma.fields.Integer(
        allow_none=True, metadata={"description": "taken off the order holding it"}
    )
    created_at = LocalDateTime()
    spent_at = LocalDateTime(allow_none=True)


class MyCouponsArgs(PageArgsSchema):
    """Filter and page of GET /me/coupons."""

    state = DelimitedList(
        ma.fields.String(validate=ma.validate.OneOf(COUPON_STATE_FILTERS)),
        load_default=lambda: ["all"],
        validate=ma.validate.Length(min=1, max=len(COUPON_STATE_FILTERS)),
        metadata={
            "description": "one or several, comma-separated: a coupon's state (available, "
            "reserved, spent, expired), usable (available and valid now) or all (the default)"
        },
    )


class OrderCouponSchema(ma.Schema):
    """The coupon an order holds (reserved while open, spent when its work is accepted)."""

    id = ma.fields.Integer()
    campaign_id = ma.fields.Integer()
    title = ma.fields.String(attribute="campaign.title")
    discount_cents = ma.fields.Integer()
    status = ma.fields.String()


class RewardRuleCreateSchema(ma.Schema):
    event = ma.fields.String(required=True, validate=ma.validate.OneOf(REWARD_EVENTS))
    campaign_id = ma.fields.Integer(required=True, validate=Range(min=1))


class RewardRuleSchema(RewardRuleCreateSchema):
    id = ma.fields.Integer()
    active = ma.fields.Boolean()
    created_by = ma.fields.Integer()
    created_at = LocalDateTime()
