"""Examples of people: signing in, profiles, engineers and their skills, the butler binding,
points, the inbox and notification preferences, and staff alerts."""

from __future__ import annotations

from service_hub.openapi.examples_places import AT, LATER

TOKEN = {
    "token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI3Iiwia2luZCI6InJlc2lkZW50In0.sig",
    "expires_in": 604800,
    "role": "resident",
    "resident_id": 7,
}

STAFF_TOKEN = {
    "token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIyMSIsImtpbmQiOiJzdGFmZiJ9.sig",
    "expires_in": 43200,
    "role": "engineer",
    "staff_id": 21,
    "engineer_id": 3,
}

RESIDENT_PROFILE = {"id": 7, "nickname": "小李", "avatar_url": "/media/2026/05/avatar-7.jpg"}

WORKING_HOURS = {"days": [1, 2, 3, 4, 5, 6], "start": "08:30", "end": "18:00"}

ENGINEER_PUBLIC = {
    "id": 3,
    "name": "王建国",
    "bio": "十年净水器安装维修经验，徐汇区常驻",
    "photo_url": "/media/2026/05/engineer-3.jpg",
    "years_of_service": 10,
    "on_duty": True,
    "working_hours": WORKING_HOURS,
}

ENGINEER_ADMIN = {
    **ENGINEER_PUBLIC,
    "base_lat": 31.1881,
    "base_lng": 121.4365,
    "max_open_orders": 6,
    "staff_user_id": 21,
}

ENGINEER_CREATE = {
    "name": "王建国",
    "username": "wangjianguo",
    "password": "Jianguo-2026-xh",
    "phone": "13900139000",
    "years_of_service": 10,
    "base_lat": 31.1881,
    "base_lng": 121.4365,
    "working_hours": WORKING_HOURS,
    "community_ids": [12],
}

SKILLS = {"skills": [{"skill": "purifier", "level": 3}, {"skill": "water_heater", "level": 2}]}

ENGINEER_PROFILE = {
    "engineer": ENGINEER_PUBLIC,
    "skills": SKILLS["skills"],
    "communities": [{"id": 12, "name": "翠湖天地", "standing": 0.78, "completed_orders": 46}],
    "review_count": 38,
    "average_rating": 4.8,
}

BUTLER_ENGINEER = {"id": 3, "name": "王建国", "photo_url": "/media/2026/05/engineer-3.jpg"}

BIND_CODE = {
    "scene": "b7Kx9QmZ",
    "expires_at": "2026-05-16T09:22:05+08:00",
    "qr_png_base64": (
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
    ),
    "page": "pages/butler/bind",
}

BIND_RESULT = {
    "binding_id": 23,
    "engineer": BUTLER_ENGINEER,
    "bound_at": AT,
    "outcome": "bound",
    "replaced_engineer_id": None,
}

POINTS_PAGE = {
    "items": [
        {
            "points": 10,
            "reason": "完成工单",
            "source_event": "order:305:completed",
            "created_at": LATER,
        }
    ],
    "page": 1,
    "page_size": 20,
    "total": 1,
    "balance": 120,
}

INBOX_PAGE = {
    "items": [
        {
            "id": 88,
            "kind": "order_accepted",
            "title": "工单已接单",
            "body": "王建国已接单：净水器滤芯更换。",
            "page": "pages/order/detail?id=305",
            "created_at": AT,
            "read_at": None,
        }
    ],
    "page": 1,
    "page_size": 20,
    "total": 1,
    "unread": 1,
}

STAFF_ALERT = {
    "id": 15,
    "kind": "sla_breached",
    "order_id": 305,
    "community_id": 12,
    "community_name": "翠湖天地",
    "text": "工单 305（翠湖天地，净水器滤芯更换）接单超时",
    "created_at": AT,
    "read": False,
}

EXAMPLES = {
    "WeChatLogin": {"code": "081Kq0ll2gxXkd4ORgnl2KqXN40Kq0lm"},
    "StaffLogin": {"login": "wangjianguo", "password": "Jianguo-2026-xh"},
    "Token": TOKEN,
    "ResidentProfile": RESIDENT_PROFILE,
    "EngineerPublic": ENGINEER_PUBLIC,
    "EngineerAdmin": ENGINEER_ADMIN,
    "EngineerCreate": ENGINEER_CREATE,
    "EngineerProfile": ENGINEER_PROFILE,
    "ProfileChange": {"on_duty": False, "bio": "十年净水器安装维修经验，徐汇区、长宁区常驻"},
    "AdminProfileChange": {"max_open_orders": 8, "base_lat": 31.2001, "base_lng": 121.4420},
    "Skills": SKILLS,
    "Assignment": {"engineer_id": 3, "community_id": 12, "created": True},
    "Like": {"engineer_id": 3, "liked": True, "created": True},
    "BindCode": BIND_CODE,
    "BindArgs": {"scene": "b7Kx9QmZ"},
    "BindResult": BIND_RESULT,
    "ButlerBinding": {"binding_id": 23, "engineer": BUTLER_ENGINEER, "bound_at": AT},
    "PointsPage": POINTS_PAGE,
    "InboxPage": INBOX_PAGE,
    "MarkRead": {"ids": [88]},
    "MarkReadResult": {"marked": 1, "unread": 0},
    "Credits": {
        "credits": {"tmpl-order_accepted": 1},
        "templates": {"order_accepted": "tmpl-order_accepted"},
    },
    "PromptResult": {"results": {"tmpl-order_accepted": "accept"}},
    "OptOuts": {
        "opted_out": ["activity_reminder"],
        "kinds": [
            "activity_reminder",
            "coupon_expiring",
            "coupon_granted",
            "engineer_en_route",
            "order_accepted",
            "order_completed",
            "visit_announced",
            "window_proposed",
        ],
    },
    "StaffAlert": STAFF_ALERT,
    "AlertPage": {"items": [STAFF_ALERT], "page": 1, "page_size": 20, "total": 1, "unread": 1},
    "AlertRead": {"ids": [15]},
    "AlertReadResult": {"marked": 1, "unread": 0},
}
