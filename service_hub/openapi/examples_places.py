"""Examples of communities and what happens in them: the registry, services, addresses, Q&A,
activities, visits, uploads and the health checks.

One small world runs through every example module: 翠湖天地 (community 12, 徐汇区, Shanghai),
resident 7 (小李), engineer 3 (王建国), the service 净水器滤芯更换 (2) and order 305.
"""

from __future__ import annotations

AT = "2026-05-16T09:12:05+08:00"
LATER = "2026-05-16T09:40:31+08:00"
WINDOW_START = "2026-05-18T14:00:00+08:00"
WINDOW_END = "2026-05-18T16:00:00+08:00"
PHOTO = "/media/2026/05/3f9a1c2e.jpg"
MAP_URL = (
    "https://uri.amap.com/marker?position=121.4372,31.1925"
    "&name=%E7%BF%A0%E6%B9%96%E5%A4%A9%E5%9C%B0&coordinate=gaode"
)

COMMUNITY = {
    "id": 12,
    "external_code": "SH-XH-0012",
    "name": "翠湖天地",
    "province": "上海市",
    "city": "上海市",
    "district": "徐汇区",
    "address": "漕溪北路 88 弄",
    "lat": 31.1925,
    "lng": 121.4372,
    "household_count": 1860,
    "tier": "A",
    "status": "active",
}

NEARBY = {
    "items": [{**COMMUNITY, "distance_m": 420}],
    "page": 1,
    "page_size": 20,
    "total": 1,
    "radius_km": 3.0,
}

SERVICE_TYPE = {
    "id": 2,
    "code": "purifier_filter",
    "name": "净水器滤芯更换",
    "skill": "purifier",
    "min_skill_level": 2,
    "duration_minutes": 60,
    "base_price_cents": 12000,
    "active": True,
}

SERVICE_TYPE_CREATE = {
    "code": "purifier_filter",
    "name": "净水器滤芯更换",
    "skill": "purifier",
    "min_skill_level": 2,
    "duration_minutes": 60,
    "base_price_cents": 12000,
}

SERVICE_TYPE_CHANGE = {"base_price_cents": 9900, "active": True}

BINDING = {"community_id": 12, "created_at": AT, "created": True}

ADDRESS = {
    "id": 5,
    "community_id": 12,
    "community_name": "翠湖天地",
    "building": "3号楼",
    "unit": "2单元",
    "room": "1201",
    "contact_name": "李女士",
    "mobile": "13800138000",
    "is_default": True,
    "address_text": "3号楼2单元1201",
    "bound": True,
    "created_at": AT,
    "updated_at": AT,
}

ADDRESS_BODY = {
    "community_id": 12,
    "building": "3号楼",
    "unit": "2单元",
    "room": "1201",
    "contact_name": "李女士",
    "mobile": "13800138000",
    "is_default": True,
}

ADDRESS_CHANGE = {"room": "1202", "contact_name": "李先生"}

ANSWER = {
    "id": 31,
    "question_id": 17,
    "text": "滤芯一般半年到一年换一次，出水变慢就该换了，周六我在小区可以上门看看。",
    "photos": [],
    "status": "visible",
    "answerer": {"role": "engineer", "engineer_id": 3, "name": "王建国"},
    "created_at": LATER,
}

QUESTION = {
    "id": 17,
    "community_id": 12,
    "text": "小区里谁家净水器换过滤芯？多久换一次？",
    "photos": [PHOTO],
    "status": "visible",
    "answer_count": 1,
    "asker_nickname": "小李",
    "mine": True,
    "created_at": AT,
}

QUESTION_CREATE = {"text": "小区里谁家净水器换过滤芯？多久换一次？", "photos": [PHOTO]}

ANSWER_CREATE = {"text": "滤芯一般半年到一年换一次，出水变慢就该换了。", "photos": []}

ACTIVITY = {
    "id": 9,
    "title": "净水器免费检测日",
    "description": "品牌工程师现场检测水质、清洗滤网，到场业主可领 10 元优惠券。",
    "place": "小区会所二楼",
    "starts_at": "2026-05-23T09:30:00+08:00",
    "ends_at": "2026-05-23T11:30:00+08:00",
    "signup_opens_at": AT,
    "signup_closes_at": "2026-05-22T20:00:00+08:00",
    "capacity": 40,
    "signed_up": 12,
    "status": "open",
}

ACTIVITY_CREATE = {
    "title": "净水器免费检测日",
    "description": "品牌工程师现场检测水质、清洗滤网，到场业主可领 10 元优惠券。",
    "place": "小区会所二楼",
    "starts_at": "2026-05-23T09:30:00+08:00",
    "ends_at": "2026-05-23T11:30:00+08:00",
    "signup_closes_at": "2026-05-22T20:00:00+08:00",
    "capacity": 40,
    "other_community_ids": [],
}

SIGNUP = {"activity_id": 9, "status": "active", "created_at": AT}

ATTENDANCE_BODY = {"resident_ids": [7, 8, 15]}

ATTENDANCE = {"marked": [7, 8], "already": [], "not_signed_up": [15], "coupons_granted": 2}

SLOT = {
    "id": 61,
    "starts_at": "2026-05-23T13:00:00+08:00",
    "ends_at": "2026-05-23T14:00:00+08:00",
    "capacity": 2,
    "booked": 1,
}

VISIT = {
    "id": 41,
    "engineer_id": 3,
    "engineer": {"id": 3, "name": "王建国", "photo_url": "/media/2026/05/engineer-3.jpg"},
    "community_id": 12,
    "starts_at": "2026-05-23T13:00:00+08:00",
    "ends_at": "2026-05-23T17:00:00+08:00",
    "note": "周六下午在小区，可预约滤芯更换和清洗",
    "service_type_ids": [2],
    "status": "scheduled",
    "slots": [SLOT],
}

VISIT_CREATE = {
    "community_id": 12,
    "starts_at": "2026-05-23T13:00:00+08:00",
    "ends_at": "2026-05-23T17:00:00+08:00",
    "note": "周六下午在小区，可预约滤芯更换和清洗",
    "service_type_ids": [2],
    "slots": [
        {
            "starts_at": "2026-05-23T13:00:00+08:00",
            "ends_at": "2026-05-23T14:00:00+08:00",
            "capacity": 2,
        }
    ],
}

BOOKING_CREATE = {"slot_id": 61, "service_type_id": 2, "description": "顺便换一下滤芯"}

BOOKING = {
    "id": 14,
    "visit_id": 41,
    "slot_id": 61,
    "order_id": 306,
    "status": "active",
    "created_at": AT,
}

UPLOAD = {
    "id": 501,
    "url": PHOTO,
    "content_type": "image/jpeg",
    "width": 1280,
    "height": 960,
    "size_bytes": 184320,
    "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
}

IMPORT_REPORT = {
    "rows": 3,
    "inserted": 1,
    "updated": 1,
    "unchanged": 0,
    "rejected": [
        {
            "line": 4,
            "external_code": "SH-XH-0099",
            "reason": "lat: must be between -90 and 90",
            "reason_zh": "纬度应在 -90 到 90 之间",
        }
    ],
    "rejected_total": 1,
}

EXAMPLES = {
    "Community": COMMUNITY,
    "Nearby": NEARBY,
    "ServiceType": SERVICE_TYPE,
    "ServiceTypeChange": SERVICE_TYPE_CHANGE,
    "Binding": BINDING,
    "Address": ADDRESS,
    "AddressBody": ADDRESS_BODY,
    "AddressChange": ADDRESS_CHANGE,
    "Question": QUESTION,
    "QuestionCreate": QUESTION_CREATE,
    "QuestionWithAnswers": {**QUESTION, "answers": [ANSWER]},
    "Answer": ANSWER,
    "AnswerCreate": ANSWER_CREATE,
    "Activity": ACTIVITY,
    "ActivityCreate": ACTIVITY_CREATE,
    "Signup": SIGNUP,
    "AttendanceBody": ATTENDANCE_BODY,
    "Attendance": ATTENDANCE,
    "Visit": VISIT,
    "VisitCreate": VISIT_CREATE,
    "BookingCreate": BOOKING_CREATE,
    "Booking": BOOKING,
    "Upload": UPLOAD,
    "ImportFile": {"file": "communities.csv"},
    "ImportReport": IMPORT_REPORT,
    "Liveness": {"status": "ok"},
    "Readiness": {
        "status": "ready",
        "checks": {"database": True, "queue": True},
        "queue_kind": "rq",
    },
}
