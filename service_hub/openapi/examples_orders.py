"""Examples of orders and what follows them: offers, the managers' console and bulk actions,
reviews, follow-ups, moderation and the ranked engineers of a community."""

from __future__ import annotations

from service_hub.openapi.examples_people import ENGINEER_PUBLIC
from service_hub.openapi.examples_places import (
    AT,
    LATER,
    MAP_URL,
    PHOTO,
    WINDOW_END,
    WINDOW_START,
)
from service_hub.orders.flags import FLAGS

DISPATCH_BREAKDOWN = {
    "engineer_id": 3,
    "components": {
        "standing": 0.78,
        "distance": 0.95,
        "load": 0.666667,
        "preferred": 0.0,
        "butler": 1.0,
    },
    "weights": {"standing": 0.45, "distance": 0.25, "load": 0.15, "preferred": 0.1, "butler": 0.05},
    "weighted": {
        "standing": 0.351,
        "distance": 0.2375,
        "load": 0.1,
        "preferred": 0.0,
        "butler": 0.05,
    },
    "distance_km": 0.512,
    "total": 0.7385,
    "candidates": 3,
    "rejected": {"9": "off_duty"},
    "preferred_skipped": None,
}

# What an engineer reads on their own offer: their scoring, nobody else's.
OWN_BREAKDOWN = {
    key: DISPATCH_BREAKDOWN[key]
    for key in ("components", "weights", "weighted", "distance_km", "total")
}

# The order as its resident reads it (dispatch's internals are the managers'), accepted.
ORDER = {
    "id": 305,
    "resident_id": 7,
    "community_id": 12,
    "service_type_id": 2,
    "engineer_id": 3,
    "preferred_engineer_id": None,
    "status": "accepted",
    "source": "mini_program",
    "description": "厨房净水器出水变慢，想换滤芯",
    "photos": [PHOTO],
    "window_start": WINDOW_START,
    "window_end": WINDOW_END,
    "dispatch_breakdown": None,
    "unassigned_reason": None,
    "complaint": None,
    "version": 4,
    "created_at": AT,
    "accepted_at": LATER,
    "completed_at": None,
    "coupon": {
        "id": 88,
        "campaign_id": 4,
        "title": "净水器清洗立减10元",
        "discount_cents": 1000,
        "status": "reserved",
    },
    "status_label": "师傅已接单",
    "service_name": "净水器滤芯更换",
    "list_price_cents": 8800,
    "engineer": {"id": 3, "name": "王建国", "photo_url": "/media/2026/05/engineer-3.jpg"},
    "community_name": "翠湖天地",
    "community_address": "徐汇区 漕溪北路 88 弄",
    "community_lat": 31.1925,
    "community_lng": 121.4372,
    "map_url": MAP_URL,
    "address_id": 5,
    "address_text": "3号楼2单元1201",
    "contact_name": "李女士",
    "contact_mobile": "13800138000",
    "completion_photos": [],
    # completion evidence and the resident's acceptance: none yet, the work is not done
    "completion_note": None,
    "acceptance": None,
    "confirmed_at": None,
    "signature_url": None,
    "disputed_at": None,
    "dispute_reason": None,
    "dispute_photos": [],
    "started_at": None,
    "accept_due_at": "2026-05-16T09:27:05+08:00",
    "arrive_due_at": WINDOW_END,
    "complete_due_at": "2026-05-18T18:00:00+08:00",
    "sla_state": "on_track",
    "sla_breached_at": None,
    "urge_count": 0,
    "last_urged_at": None,
    "reschedule_count": 0,
    "proposed_window_start": None,
    "proposed_window_end": None,
    "parent_order_id": None,
    # what the resident may do now: the buttons of the order's page
    **{flag: False for flag in FLAGS},
    "can_cancel": True,
    "can_urge": True,
    "can_reschedule": True,
}

# As the resident reads it: no offers, no system reasons in English, no staff ids.
TIMELINE = [
    {
        "action": "create",
        "label": "已提交需求",
        "actor_kind": "resident",
        "actor_id": 7,
        "from_status": None,
        "to_status": "created",
        "reason": None,
        "reason_zh": None,
        "at": AT,
    },
    {
        "action": "accept",
        "label": "师傅已接单",
        "actor_kind": "engineer",
        "actor_id": None,
        "from_status": "offered",
        "to_status": "accepted",
        "reason": None,
        "reason_zh": None,
        "at": LATER,
    },
]

ORDER_CREATE = {
    "community_id": 12,
    "service_type_id": 2,
    "description": "厨房净水器出水变慢，想换滤芯",
    "photos": [PHOTO],
    "window_start": WINDOW_START,
    "window_end": WINDOW_END,
    "address_id": 5,
    "coupon_id": 88,
}

OFFER = {
    "id": 77,
    "order_id": 305,
    "status": "pending",
    "dispatch_breakdown": OWN_BREAKDOWN,
    "offered_at": AT,
    "expires_at": "2026-05-16T09:17:05+08:00",
    "summary": {
        "service_name": "净水器滤芯更换",
        "community_name": "翠湖天地",
        "community_address": "徐汇区 漕溪北路 88 弄",
        "community_lat": 31.1925,
        "community_lng": 121.4372,
        "map_url": MAP_URL,
        "address_text": "3号楼2单元1201",
        "window_start": WINDOW_START,
        "window_end": WINDOW_END,
        "distance_km": 0.5,
        "description": "厨房净水器出水变慢，想换滤芯",
        "photos": [PHOTO],
        "contact_name": "李女士",
        "contact_mobile": "138****8000",
    },
}

CONSOLE_ROW = {
    "id": 305,
    "status": "offered",
    "source": "mini_program",
    "service_type_id": 2,
    "service_name": "净水器滤芯更换",
    "community_id": 12,
    "community_name": "翠湖天地",
    "engineer_id": None,
    "engineer_name": None,
    "created_at": AT,
    "updated_at": AT,
    "age_minutes": 12,
    "window_start": WINDOW_START,
    "window_end": WINDOW_END,
    "sla_state": "at_risk",
    "urge_count": 1,
    "unassigned_reason": None,
    "contact_name": "李女士",
    "contact_mobile": "138****8000",
    "offer_expires_at": "2026-05-16T09:17:05+08:00",
}

BULK_RESULT = {
    "action": "assign",
    "succeeded": 1,
    "failed": 1,
    "results": [
        {"order_id": 305, "ok": True, "status": "accepted", "error": None},
        {
            "order_id": 311,
            "ok": False,
            "status": "completed",
            "error": {
                "code": "illegal_transition",
                "message": "assign is not allowed from completed",
                "message_zh": "当前状态不能执行该操作",
            },
        },
    ],
}

REVIEW = {
    "id": 52,
    "order_id": 305,
    "engineer_id": 3,
    "community_id": 12,
    "rating": 5,
    "text": "师傅准时上门，换完滤芯还教我怎么看滤芯寿命，很专业。",
    "photos": [PHOTO],
    "status": "visible",
    "created_at": AT,
    "edited_at": None,
    "reply_text": "谢谢李女士，有问题随时找我。",
    "replied_at": LATER,
    "hidden_reason": None,
}

FOLLOW_UP = {
    "id": 6,
    "kind": "low_rating",
    "order_id": 305,
    "community_id": 12,
    "community_name": "翠湖天地",
    "engineer_id": 3,
    "summary": "评分 2 星：师傅迟到一小时",
    "status": "open",
    "note": None,
    "created_at": AT,
    "closed_at": None,
    "complaint": None,
    "review": {
        "id": 52,
        "rating": 2,
        "text": "师傅迟到一小时，也没提前打电话。",
        "photos": [],
        "status": "visible",
        "created_at": AT,
    },
    "order": {
        "id": 305,
        "status": "completed",
        "service_name": "净水器滤芯更换",
        "engineer_id": 3,
        "engineer_name": "王建国",
        "description": "厨房净水器出水变慢，想换滤芯",
        "window_start": WINDOW_START,
        "created_at": AT,
        "completed_at": LATER,
    },
}

HELD_ITEM = {
    "kind": "question",
    "id": 18,
    "community_id": 12,
    "community_name": "翠湖天地",
    "question_id": None,
    "order_id": None,
    "rating": None,
    "text": "加微信 abc123 低价换滤芯",
    "photos": [],
    "resident_id": 9,
    "staff_user_id": None,
    "created_at": AT,
}

# As a manager reads it (residents get null standing and breakdown).
RANKED_ENGINEER = {
    "engineer": ENGINEER_PUBLIC,
    "average_rating": 4.8,
    "review_count": 38,
    "completed_orders": 46,
    "standing": 0.78,
    "standing_breakdown": {
        "standing": 0.78,
        "bayesian_rating": 4.6512,
        "quality": 0.9128,
        "reviews": 38,
        "average_rating": 4.8,
        "complaints": 1,
        "complaint_rate": 0.0217,
        "likes": 12,
        "likes_term": 0.5,
        "completed_orders": 46,
        "decayed_completed": 39.4,
        "volume": 0.8,
        "weights": {"quality": 0.55, "volume": 0.3, "likes": 0.15, "complaints": 0.5},
        "as_of": "2026-05-16T01:12:05+00:00",
    },
}

EXAMPLES = {
    "Order": ORDER,
    "OrderDetail": {**ORDER, "timeline": TIMELINE},
    "OrderCreate": ORDER_CREATE,
    "OrderAction": {"reason": "家里临时有事，改天再约"},
    "Offer": OFFER,
    "OrderConsoleRow": CONSOLE_ROW,
    "OrderBulk": {"action": "assign", "order_ids": [305, 311], "engineer_id": 3},
    "OrderBulkResult": BULK_RESULT,
    "Review": REVIEW,
    "ReviewCreate": {
        "rating": 5,
        "text": "师傅准时上门，换完滤芯还教我怎么看滤芯寿命，很专业。",
        "photos": [PHOTO],
    },
    "ReviewEdit": {"rating": 4, "text": "师傅很专业，就是比约定晚到了十分钟。"},
    "Reply": {"text": "谢谢李女士，有问题随时找我。"},
    "Visibility": {"reason": "含有业主手机号"},
    "FollowUp": FOLLOW_UP,
    "Close": {"note": "已电话回访，师傅道歉并赠送一次滤网清洗，业主接受。"},
    "HeldItem": HELD_ITEM,
    "ModerationDecision": {"reason": "广告引流"},
    "ModerationResult": {
        "kind": "question",
        "id": 18,
        "status": "rejected",
        "reason": "广告引流",
        "changed": True,
    },
    "RankedEngineer": RANKED_ENGINEER,
}
