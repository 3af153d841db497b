"""Completion evidence and the resident's acceptance (完工验收, issue 15) in the demo city.

- `seed_checklists`: a Chinese completion checklist per service type (yes/no, a number with
  its unit, a text, a required photo), as an admin's PUT /services/{id}/checklist leaves it.
- `demo_photos`: a few demo images, stored as POST /uploads stores them (a file under
  UPLOAD_DIR named by its sha256 and an `upload` row), so every photo URL renders.
- `accept_work`: before the plans are written, every completed order gets what the engineer's
  `complete` and the resident's answer leave: checklist answers, completion photos and a note;
  confirmed (some with a signature), auto-confirmed after ACCEPTANCE_AUTO_HOURS, accepted by
  the review, pending (completed inside the window and unanswered) or disputed (recently, still
  open; or settled and confirmed later), with the `confirm`, `auto_confirm` and `dispute`
  events in their timelines. The counts that follow acceptance (the links' completed orders,
  points, coupons spent, standing) are built from these states.
"""

from __future__ import annotations

import hashlib
import io
import random
from datetime import datetime, timedelta
from pathlib import Path

from flask import current_app
from PIL import Image, ImageDraw

from models import Acceptance, ChecklistItem, Upload

HOUR = timedelta(hours=1)
SETTLED_SHARE = 0.004  # older work disputed, then settled and confirmed
OPEN_DISPUTES = 3  # recent work disputed now, each with an open follow-up
SIGNED_SHARE = 0.3  # residents' confirmations with a handwritten signature

# (key, label, kind, unit, min, max, required) per service code.
YES, NUM, TEXT, PHOTO = "yes_no", "number", "text", "photo"
CHECKLISTS: dict[str, list[tuple]] = {
    "purifier_install": [
        ("leak_free", "接头无渗漏", YES, None, None, None, True),
        ("tds", "出水TDS值", NUM, "ppm", 0, 500, True),
        ("place", "安装位置", TEXT, None, None, None, False),
        ("photo", "安装完成照片", PHOTO, None, None, None, True),
    ],
    "filter_replace": [
        ("stages", "更换滤芯数量", NUM, "支", 1, 6, True),
        ("flushed", "已冲洗新滤芯", YES, None, None, None, True),
        ("photo", "新旧滤芯对比照片", PHOTO, None, None, None, True),
    ],
    "aircon_clean": [
        ("filter_washed", "滤网已清洗", YES, None, None, None, True),
        ("outlet_temp", "出风口温度", NUM, "℃", 5, 40, True),
        ("drain_ok", "排水通畅", YES, None, None, None, False),
        ("photo", "清洗后照片", PHOTO, None, None, None, True),
    ],
    "aircon_repair": [
        ("fault", "故障原因", TEXT, None, None, None, True),
        ("pressure", "运行压力", NUM, "MPa", 0, 4, False),
        ("cooling_ok", "试机制冷正常", YES, None, None, None, True),
        ("photo", "维修部位照片", PHOTO, None, None, None, True),
    ],
    "aircon_install": [
        ("pipe_length", "铜管长度", NUM, "米", 0, 30, True),
        ("bracket_safe", "外机支架牢固", YES, None, None, None, True),
        ("vacuumed", "已抽真空", YES, None, None, None, True),
        ("photo", "外机安装照片", PHOTO, None, None, None, True),
    ],
    "boiler_service": [
        ("pressure", "系统水压", NUM, "bar", 0, 3, True),
        ("flue_ok", "烟道密封良好", YES, None, None, None, True),
        ("gas_leak_free", "燃气无泄漏", YES, None, None, None, True),
        ("photo", "保养后照片", PHOTO, None, None, None, True),
    ],
    "heater_repair": [
        ("fault", "故障原因", TEXT, None, None, None, True),
        ("water_temp", "出水温度", NUM, "℃", 20, 80, True),
        ("photo", "维修后照片", PHOTO, None, None, None, True),
    ],
    "appliance_repair": [
        ("fault", "故障原因", TEXT, None, None, None, True),
        ("parts", "更换配件", TEXT, None, None, None, False),
        ("works", "试机正常", YES, None, None, None, True),
        ("photo", "维修后照片", PHOTO, None, None, None, True),
    ],
    "hood_clean": [
        ("disassembled", "已拆洗风轮与油网", YES, None, None, None, True),
        ("oil_cup", "油杯已清空", YES, None, None, None, False),
        ("photo", "清洗后照片", PHOTO, None, None, None, True),
    ],
}
DEFAULT_CHECKLIST = [
    ("works", "试机正常", YES, None, None, None, True),
    ("photo", "完工照片", PHOTO, None, None, None, True),
]
TEXT_ANSWERS = {
    "place": ("厨房水槽下方", "阳台洗衣机旁", "厨房台面下柜"),
    "fault": ("电容老化，已更换", "传感器接触不良，已重新固定", "主板电源模块损坏，已更换",
              "排水管堵塞，已疏通", "温控器失灵，已更换"),
    "parts": ("无", "电容一只", "密封圈两个", "温控器一只"),
}  # fmt: skip
NOTES = (
    "已完成，现场已清理干净。", "已试机，运行正常，已向业主说明使用注意事项。",
    "工作完成，建议半年后再保养一次。", "已处理完毕，旧配件已交业主确认。",
    "完工，业主在场确认。", None,
)  # fmt: skip
DISPUTE_REASONS = (
    "师傅走后还是漏水，问题没有解决。", "清洗后有异味，出风口还有黑点。",
    "试机时正常，晚上又不制热了。", "收费和说好的不一样，想找经理确认。",
    "安装的位置和约定的不一致，墙面有划痕。",
)  # fmt: skip

# Demo images: (name, size, background, foreground); drawn, never downloaded.
PHOTOS = [(f"work-{n}", (480, 360), bg, fg) for n, (bg, fg) in enumerate((
    ((205, 214, 222), (72, 110, 150)), ((226, 221, 205), (150, 110, 60)),
    ((210, 226, 214), (60, 130, 90)), ((230, 230, 236), (90, 90, 120)),
    ((236, 224, 224), (160, 80, 80)), ((220, 232, 240), (40, 120, 170)),
))]  # fmt: skip
SIGNATURES = [(f"sign-{n}", (360, 120), (255, 255, 255), (20, 20, 40)) for n in range(3)]
DISPUTE_PHOTOS = [("dispute-0", (480, 360), (200, 200, 200), (170, 40, 40)),
                  ("dispute-1", (480, 360), (215, 205, 190), (120, 60, 30))]  # fmt: skip


def seed_checklists(services: list[dict], insert) -> dict[int, list[dict]]:
    """Insert each service type's checklist; returns its items (as rows) per service id."""
    rows, lists = [], {}
    for service in services:
        spec = CHECKLISTS.get(service["code"], DEFAULT_CHECKLIST)
        items = [
            {"service_type_id": service["id"], "position": n, "key": key, "label": label,
             "kind": kind, "unit": unit, "min_value": low, "max_value": high,
             "required": required}
            for n, (key, label, kind, unit, low, high, required) in enumerate(spec)
        ]  # fmt: skip
        lists[service["id"]] = items
        rows += items
    insert(ChecklistItem, rows)
    return lists


def _image(name: str, size: tuple[int, int], bg: tuple, fg: tuple) -> bytes:
    """A small PNG, the same bytes for the same name: a work scene or a signature stroke."""
    rng = random.Random(name)
    image = Image.new("RGB", size, bg)
    draw = ImageDraw.Draw(image)
    w, h = size
    if name.startswith("sign"):
        points = [(20 + i * (w - 40) / 24, h / 2 + rng.uniform(-h / 3, h / 3)) for i in range(25)]
        draw.line(points, fill=fg, width=4, joint="curve")
    else:
        for _ in range(6):
            x, y = rng.uniform(0, w * 0.7), rng.uniform(0, h * 0.7)
            box = (x, y, x + rng.uniform(40, w * 0.3), y + rng.uniform(40, h * 0.3))
            draw.rectangle(box, outline=fg, width=5)
        draw.ellipse((w * 0.35, h * 0.3, w * 0.65, h * 0.7), fill=fg)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()


def demo_photos(insert, uploader_id: int, now: datetime) -> dict[str, list[str]]:
    """Store the demo images as uploads (the demo's manager uploaded them: one row per image,
    not per resident); returns their URLs: work, signature, dispute."""
    config = current_app.config
    prefix, folder = config["UPLOAD_URL_PREFIX"], Path(config["UPLOAD_DIR"])
    urls: dict[str, list[str]] = {"work": [], "signature": [], "dispute": []}
    rows, seen = [], set()
    for group, specs in (("work", PHOTOS), ("signature", SIGNATURES), ("dispute", DISPUTE_PHOTOS)):
        for spec in specs:
            data = _image(*spec)
            sha = hashlib.sha256(data).hexdigest()
            path = folder / sha[:2] / f"{sha}.png"
            if not path.is_file():  # same bytes, same name: a second seed finds it there
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
            urls[group].append(f"{prefix}{sha}.png")
            if sha not in seen:
                seen.add(sha)
                rows.append({"sha256": sha, "content_type": "image/png", "extension": "png",
                             "size_bytes": len(data), "width": spec[1][0],
                             "height": spec[1][1], "uploader_kind": "staff",
                             "uploader_id": uploader_id, "created_at": now})  # fmt: skip
    insert(Upload, rows)
    return urls


def _answers(rng: random.Random, items: list[dict], photos: list[str]) -> list[dict]:
    """The checklist as the engineer filled it (service_hub.completion.checklists)."""
    answers = []
    for item in items:
        kind, value = item["kind"], None
        if kind == YES:
            value = True if item["required"] else rng.random() < 0.9
        elif kind == NUM:
            low, high = item["min_value"] or 0, item["max_value"] or 100
            value = round(low + (high - low) * rng.uniform(0.2, 0.6), 1)
        elif kind == TEXT:
            value = rng.choice(TEXT_ANSWERS.get(item["key"], ("已按规范完成",)))
        elif kind == PHOTO:
            value = rng.choice(photos)
        if value is None and item["required"]:
            value = "已完成"
        answers.append({"key": item["key"], "label": item["label"], "kind": kind,
                        "unit": item["unit"], "required": item["required"],
                        "value": value})  # fmt: skip
    return answers


def accept_work(
    plans: list[tuple], checklists: dict[int, list[dict]], photos: dict[str, list[str]],
    now: datetime, seed: int,
) -> dict[str, int]:  # fmt: skip
    """Completion evidence and acceptance for every completed order (see the module's
    docstring). An order dict with "_awaiting" stays pending. Returns counts per state."""
    rng = random.Random(f"{seed}-acceptance")
    window = float(current_app.config["ACCEPTANCE_AUTO_HOURS"]) * HOUR
    parents = {id(plan[0]["_parent"]) for plan in plans if "_parent" in plan[0]}
    done = sorted((plan for plan in plans if plan[0]["status"] == "completed"),
                  key=lambda plan: plan[0]["completed_at"])  # fmt: skip
    for order, *_ in plans:  # rows of one table carry the same keys
        order.update(completion_photos=[], checklist_answers=[], completion_note=None,
                     acceptance=None, confirmed_at=None, signature_url=None, disputed_at=None,
                     dispute_reason=None, dispute_photos=[])  # fmt: skip
    for order, *_ in done:
        items = checklists[order["service_type_id"]]
        order["checklist_answers"] = _answers(rng, items, photos["work"])
        order["completion_photos"] = rng.sample(photos["work"], rng.randint(1, 3))
        order["completion_note"] = rng.choice(NOTES)

    def quiet(plan) -> bool:  # nothing else said about it: free to dispute
        order = plan[0]
        return (plan[4] is None and not order["complaint"] and id(order) not in parents
                and "_awaiting" not in order)  # fmt: skip

    recent = [p for p in done if p[0]["completed_at"] > now - window + 6 * HOUR and quiet(p)]
    recent = [p for p in recent if p[0]["completed_at"] < now - 2 * HOUR]
    disputed = {id(p) for p in recent[-OPEN_DISPUTES:]}
    older = [p for p in done if p[0]["completed_at"] < now - window - 7 * 24 * HOUR and quiet(p)]
    settled = {id(p) for p in rng.sample(older, min(len(older), max(3, round(
        len(older) * SETTLED_SHARE))))}  # fmt: skip
    for plan in done:
        order, events, review = plan[0], plan[1], plan[4]
        completed, resident = order["completed_at"], ("resident", order["resident_id"])
        order["acceptance"] = Acceptance.PENDING
        if "_awaiting" in order:
            continue
        extra = []
        if id(plan) in disputed or id(plan) in settled:
            at = completed + rng.uniform(2, min(30.0, (now - completed) / HOUR - 1)) * HOUR
            reason = rng.choice(DISPUTE_REASONS)
            shown = rng.sample(photos["dispute"], rng.randint(1, 2))
            order.update(acceptance=Acceptance.DISPUTED, disputed_at=at, dispute_reason=reason,
                         dispute_photos=shown)  # fmt: skip
            extra.append(("dispute", *resident, "completed", "completed", at, reason))
            if id(plan) in settled:  # settled with the manager, then confirmed
                at += rng.uniform(24, 96) * HOUR
                order.update(acceptance=Acceptance.CONFIRMED, confirmed_at=at)
                extra.append(("confirm", *resident, "completed", "completed", at, None))
        else:
            answered = completed + rng.uniform(0.3, 60) * HOUR
            if review is not None:  # a rating is an answer: the review confirms pending work
                answered = min(answered, review["created_at"])
            elif rng.random() < 0.45:  # nobody answered: the system confirms it
                answered = completed + window + rng.uniform(1, 10) * 60 * timedelta(seconds=1)
            if answered > now:
                continue  # still waiting for the resident
            auto = review is None and answered >= completed + window
            order.update(acceptance=Acceptance.AUTO_CONFIRMED if auto else Acceptance.CONFIRMED,
                         confirmed_at=answered)  # fmt: skip
            if not auto and rng.random() < SIGNED_SHARE:
                order["signature_url"] = rng.choice(photos["signature"])
            actor = ("system", None) if auto else resident
            extra.append(("auto_confirm" if auto else "confirm", *actor, "completed",
                          "completed", answered, None))  # fmt: skip
        events += extra
        events.sort(key=lambda event: event[5])  # stable: the steps of one moment keep order
        order["updated_at"] = events[-1][5]
    states: dict[str, int] = {}
    for plan in done:
        states[plan[0]["acceptance"]] = states.get(plan[0]["acceptance"], 0) + 1
    return states
