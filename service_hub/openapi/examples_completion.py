"""Examples of completion evidence and the resident's acceptance (完工验收): a service type's
checklist, order 305's checklist as its engineer fills it, and its service report."""

from __future__ import annotations

from service_hub.openapi.examples_places import AT, LATER, PHOTO, WINDOW_START

SIGNATURE = "/media/2026/05/9b1e7d40.png"
DONE_AT = "2026-05-18T15:20:00+08:00"
CONFIRMED_AT = "2026-05-18T19:02:00+08:00"

CHECKLIST_ITEMS = [
    {
        "key": "filter_replaced",
        "label": "已更换全部滤芯",
        "kind": "yes_no",
        "unit": None,
        "min_value": None,
        "max_value": None,
        "required": True,
    },
    {
        "key": "tds_after",
        "label": "出水 TDS 值",
        "kind": "number",
        "unit": "ppm",
        "min_value": 0,
        "max_value": 50,
        "required": True,
    },
    {
        "key": "leak_check",
        "label": "接头无渗漏照片",
        "kind": "photo",
        "unit": None,
        "min_value": None,
        "max_value": None,
        "required": True,
    },
    {
        "key": "advice",
        "label": "给业主的建议",
        "kind": "text",
        "unit": None,
        "min_value": None,
        "max_value": None,
        "required": False,
    },
]
ANSWERS = {
    "filter_replaced": True,
    "tds_after": 12,
    "leak_check": PHOTO,
    "advice": "建议半年后检查一次前置滤芯",
}
FILLED = [
    {
        key: value
        for key, value in {**item, "value": ANSWERS[item["key"]]}.items()
        if key not in ("min_value", "max_value")
    }
    for item in CHECKLIST_ITEMS
]
NOTE = "更换 PP 棉、活性炭和 RO 膜三支滤芯，冲洗 10 分钟后出水正常"

SERVICE_REPORT = {
    "order_id": 305,
    "status": "completed",
    "service_name": "净水器滤芯更换",
    "community_name": "翠湖天地",
    "address_text": "3号楼2单元1201",
    "description": "厨房净水器出水变慢，想换滤芯",
    "engineer": {"id": 3, "name": "王建国", "photo_url": "/media/2026/01/5c2d9e11.jpg"},
    "checklist": FILLED,
    "completion_note": NOTE,
    "completion_photos": [PHOTO],
    "parts": [],
    "times": {
        "created_at": AT,
        "accepted_at": LATER,
        "arrived_at": WINDOW_START,
        "completed_at": DONE_AT,
        "confirmed_at": CONFIRMED_AT,
        "disputed_at": None,
    },
    "acceptance": "confirmed",
    "acceptance_label": "已验收",
    "signature_url": SIGNATURE,
    "dispute_reason": None,
    "dispute_photos": [],
    "generated_at": "2026-05-19T10:00:00+08:00",
}

EXAMPLES = {
    "ChecklistItem": CHECKLIST_ITEMS[1],
    "ChecklistReplace": {"items": CHECKLIST_ITEMS},
    "Checklist": {"service_type_id": 2, "service_name": "净水器滤芯更换", "items": CHECKLIST_ITEMS},
    "OrderChecklistSave": {"answers": ANSWERS, "note": NOTE},
    "OrderChecklistItem": {**CHECKLIST_ITEMS[1], "value": 12},
    "OrderChecklist": {
        "order_id": 305,
        "service_type_id": 2,
        "version": 7,
        "items": [{**item, "value": ANSWERS[item["key"]]} for item in CHECKLIST_ITEMS],
        "note": NOTE,
        "missing": [],
    },
    "ServiceReport": SERVICE_REPORT,
}
