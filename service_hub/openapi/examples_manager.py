"""Examples of coupons and campaigns, KPIs and broadcasts, and the community home, which
gathers a piece of nearly every other example."""

from __future__ import annotations

from service_hub.openapi.examples_places import (
    ACTIVITY,
    AT,
    COMMUNITY,
    LATER,
    QUESTION,
    SERVICE_TYPE,
    VISIT,
)

TARGETING = {
    "tiers": ["A", "B"],
    "orders_per_1000": {"min": None, "max": 20.0},
    "regions": [{"province": "上海市", "city": "上海市", "district": "徐汇区"}],
    "radius": {"lat": 31.1925, "lng": 121.4372, "radius_km": 5.0},
    "new_residents_days": 30,
}

DISCOUNT = {
    "title": "净水器清洗立减10元",
    "description": "满 50 元可用，限净水器服务",
    "discount_kind": "fixed",
    "amount_off_cents": 1000,
    "percent_off": None,
    "max_discount_cents": None,
    "min_spend_cents": 5000,
    "service_type_ids": [2],
}

CAMPAIGN = {
    **DISCOUNT,
    "id": 4,
    "channel": "claim",
    "total_stock": 500,
    "issued": 120,
    "remaining": 380,
    "per_resident_limit": 1,
    "starts_at": "2026-05-01T00:00:00+08:00",
    "ends_at": "2026-06-30T23:59:59+08:00",
    "valid_from": None,
    "valid_until": None,
    "valid_days": 30,
    "targeting": TARGETING,
    "region_scope": "上海市",
    "status": "active",
    "created_by": 2,
    "created_at": "2026-04-28T15:20:00+08:00",
}

CAMPAIGN_CREATE = {
    **DISCOUNT,
    "channel": "claim",
    "total_stock": 500,
    "per_resident_limit": 1,
    "starts_at": "2026-05-01T00:00:00+08:00",
    "ends_at": "2026-06-30T23:59:59+08:00",
    "valid_days": 30,
    "targeting": {"tiers": ["A", "B"], "orders_per_1000": {"min": None, "max": 20.0}},
}

CLAIMABLE = {
    **DISCOUNT,
    "campaign_id": 4,
    "remaining": 380,
    "per_resident_limit": 1,
    "held": 0,
    "claim_ends_at": "2026-06-30T23:59:59+08:00",
    "valid_until": None,
    "valid_days": 30,
    "new_residents_only": False,
}

COUPON = {
    "id": 88,
    "campaign_id": 4,
    "title": "净水器清洗立减10元",
    "discount_kind": "fixed",
    "amount_off_cents": 1000,
    "percent_off": None,
    "max_discount_cents": None,
    "min_spend_cents": 5000,
    "service_type_ids": [2],
    "source": "claim",
    "community_id": 12,
    "state": "available",
    "valid_from": AT,
    "valid_until": "2026-06-15T09:12:05+08:00",
    "order_id": None,
    "discount_cents": None,
    "created_at": AT,
    "spent_at": None,
}

KPI_ROW = {
    "community_id": 12,
    "community_name": "翠湖天地",
    "tier": "A",
    "month": "2026-04",
    "partial_month": False,
    "household_count": 1860,
    "orders": 41,
    "completed": 37,
    "cancelled": 3,
    "complaints": 1,
    "orders_per_1000": 22.04,
    "complaints_per_1000": 0.54,
    "orders_mom": 0.17,
    "orders_yoy": 0.46,
    "complaints_mom": -0.5,
    "complaints_yoy": None,
    "orders_per_1000_mom": 0.17,
    "complaints_per_1000_mom": -0.5,
    "average_rating": 4.7,
    "accept_minutes": 6.5,
    "on_time_rate": 0.95,
    "active_residents": 35,
    "sla_breaches": 2,
    "urges": 3,
    "repeat_visits": 1,
    "disputes": 0,
    "first_time_fix_rate": 0.97,
    "satisfaction_index": 91.2,
    "health_warnings": [],
}

BROADCAST = {
    "id": 19,
    "community_id": 12,
    "community_name": "翠湖天地",
    "kind": "visit_announced",
    "event_key": "visit:41",
    "recipients": 1320,
    "created_at": AT,
    "finished_at": LATER,
    "counts": {"sent": 410, "skipped_no_credit": 900, "capped": 10},
}

ENGINEER_BRIEF = {
    "id": 3,
    "name": "王建国",
    "photo_url": "/media/2026/05/engineer-3.jpg",
    "years_of_service": 10,
}

# The home as a resident bound to it reads it.
COMMUNITY_HOME = {
    "community": COMMUNITY,
    "recent_questions": [
        {key: QUESTION[key] for key in ("id", "text", "photos", "answer_count", "created_at")}
    ],
    "open_activities": [
        {
            key: ACTIVITY[key]
            for key in ("id", "title", "place", "starts_at", "ends_at", "capacity", "signed_up")
        }
    ],
    "is_bound": True,
    "engineers": [
        {
            "engineer": ENGINEER_BRIEF,
            "average_rating": 4.8,
            "review_count": 38,
            "completed_orders": 46,
            "standing": None,  # managers and admins only
        }
    ],
    "upcoming_visits": [
        {
            **{
                key: VISIT[key]
                for key in ("id", "engineer_id", "community_id", "starts_at", "ends_at", "note")
            },
            "engineer": ENGINEER_BRIEF,
        }
    ],
    "services": [SERVICE_TYPE],
    "claimable_coupons": [CLAIMABLE],
}

EXAMPLES = {
    "Campaign": CAMPAIGN,
    "CampaignCreate": CAMPAIGN_CREATE,
    "CampaignDetail": {
        **CAMPAIGN,
        "coupons": {"available": 96, "reserved": 4, "spent": 18, "expired": 2},
    },
    "PreviewBody": {"targeting": TARGETING},
    "Preview": {
        "communities": 36,
        "residents": 21480,
        "volume_month": "2026-04",
        "sample": [
            {
                "id": 12,
                "name": "翠湖天地",
                "tier": "A",
                "city": "上海市",
                "district": "徐汇区",
                "orders_per_1000": 22.04,
            }
        ],
    },
    "Claimable": CLAIMABLE,
    "ClaimBody": {"community_id": 12},
    "Coupon": COUPON,
    "RewardRule": {
        "event": "review_with_photos",
        "campaign_id": 5,
        "id": 2,
        "active": True,
        "created_by": 2,
        "created_at": AT,
    },
    "RewardRuleCreate": {"event": "review_with_photos", "campaign_id": 5},
    "KpiRow": KPI_ROW,
    "KpiSeries": {"community_id": 12, "months": [KPI_ROW]},
    "Broadcast": BROADCAST,
    "CommunityHome": COMMUNITY_HOME,
}
