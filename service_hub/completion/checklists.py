"""Completion checklists (完工检查单): what admins ask of each service type, and an engineer's
answers checked against it.

A service type's checklist is a list of items (yes/no, a number with its unit and range, a
short text, a photo uploaded here), each required or not; PUT /services/{id}/checklist
replaces it whole. An order keeps its answers resolved against the items as they were then
(key, label, kind, unit, required, value), so the report still reads right after the list
changes. The engineer may save answers at any time while in service (nothing required yet);
`complete` is accepted only when every required item has its answer.
"""

from __future__ import annotations

import math

import sqlalchemy as sa

from models import ChecklistItem, ChecklistKind, ServiceOrder, ServiceType
from service_hub.plumbing.errors import InvalidInput, NotFound
from service_hub.plumbing.extensions import db
from service_hub.plumbing.sql import lock_row
from service_hub.uploads.storage import validate_photo_urls

MAX_ITEMS = 30
TEXT_MAX = 200
FIELD = "answers"  # the body field the answers come in; errors name "answers.<key>"


def _service_type(service_type_id: int) -> ServiceType:
    service_type = db.session.get(ServiceType, service_type_id)
    if service_type is None:
        raise NotFound(
            f"No service type {service_type_id}.",
            code="service_type_not_found",
            message_zh="服务项目不存在",
        )
    return service_type


def items_of(service_type_id: int) -> list[ChecklistItem]:
    """The service type's checklist items, in their order."""
    return db.session.scalars(
        sa.select(ChecklistItem)
        .where(ChecklistItem.service_type_id == service_type_id)
        .order_by(ChecklistItem.position)
    ).all()


def checklist_of(service_type_id: int) -> dict:
    """The service type's checklist as the API shows it (404 for an unknown service type)."""
    service_type = _service_type(service_type_id)
    return {
        "service_type_id": service_type.id,
        "service_name": service_type.name,
        "items": items_of(service_type_id),
    }


def replace_checklist(service_type_id: int, items: list[dict]) -> dict:
    """Replace the service type's checklist with `items` (already validated by the schema:
    unique keys, a range only on numbers, min ≤ max), under the service type's row lock;
    an empty list removes it. Orders keep the answers they have."""
    if not lock_row(ServiceType, service_type_id):
        _service_type(service_type_id)  # raises the 404
    db.session.execute(
        sa.delete(ChecklistItem).where(ChecklistItem.service_type_id == service_type_id)
    )
    if items:
        db.session.execute(
            sa.insert(ChecklistItem),
            [
                {**item, "service_type_id": service_type_id, "position": position}
                for position, item in enumerate(items, 1)
            ],
        )
    db.session.commit()
    return checklist_of(service_type_id)


def _number_problem(item: ChecklistItem, value) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return "请填写数字"
    unit = f" {item.unit}" if item.unit else ""
    low, high = item.min_value, item.max_value
    if (low is not None and value < low) or (high is not None and value > high):
        if low is not None and high is not None:
            return f"应在 {low:g}–{high:g}{unit} 之间"
        if low is not None:
            return f"不能小于 {low:g}{unit}"
        return f"不能大于 {high:g}{unit}"
    return None


def _problem(item: ChecklistItem, value) -> str | None:
    """What is wrong with one answer (in Chinese, for the form), or None."""
    if item.kind == ChecklistKind.YES_NO and not isinstance(value, bool):
        return "请选择是或否"
    if item.kind == ChecklistKind.NUMBER:
        return _number_problem(item, value)
    if item.kind == ChecklistKind.TEXT:
        if not isinstance(value, str):
            return "请填写文字"
        if len(value) > TEXT_MAX:
            return f"最多 {TEXT_MAX} 字"
    if item.kind == ChecklistKind.PHOTO:
        if not isinstance(value, str) or len(value) > 300:
            return "请上传照片"
        try:
            validate_photo_urls([value], max_count=1)
        except InvalidInput:
            return "照片须先通过本系统上传"
    return None


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def resolve_answers(
    service_type_id: int, answers: dict, *, complete: bool, unknown_ok: bool = False
) -> list[dict]:
    """The answers checked against the service type's checklist, one entry per item in its
    order ({key, label, kind, unit, required, value}; value None when unanswered). Raises a
    422 naming each wrong answer (`answers.<key>`, in Chinese): an unknown item (unless
    `unknown_ok`: answers saved before an admin removed the item), a value of the wrong kind,
    a number out of range, a photo not uploaded here, and, when `complete`, a required item
    left unanswered. Nothing is written."""
    items = items_of(service_type_id)
    known = {item.key for item in items}
    problems = {
        f"{FIELD}.{key}": ["检查单中没有这一项"]
        for key in answers
        if key not in known and not unknown_ok
    }
    missing = []
    resolved = []
    for item in items:
        value = answers.get(item.key)
        if isinstance(value, str):
            value = value.strip()
        if _blank(value):
            value = None
            if complete and item.required:
                missing.append(item.label)
                problems[f"{FIELD}.{item.key}"] = ["此项必填"]
        else:
            problem = _problem(item, value)
            if problem:
                problems[f"{FIELD}.{item.key}"] = [problem]
        resolved.append(
            {
                "key": item.key,
                "label": item.label,
                "kind": item.kind,
                "unit": item.unit,
                "required": item.required,
                "value": value,
            }
        )
    if problems:
        raise InvalidInput(
            "The checklist has missing or wrong answers.",
            code="checklist_incomplete" if missing else "validation_error",
            message_zh=(
                f"完工检查单还有必填项未填写：{'、'.join(missing)}"
                if missing
                else "完工检查单填写有误，请检查标出的项目"
            ),
            fields=problems,
        )
    return resolved


def saved_answers(order: ServiceOrder) -> dict:
    """The answers an order holds, by item key (what a form starts from)."""
    return {
        entry["key"]: entry["value"]
        for entry in order.checklist_answers or []
        if entry.get("value") is not None
    }


def completion_facts(order: ServiceOrder, answers: dict | None, note: str | None) -> dict:
    """What `complete` records of the checklist: the answers given with it (or, without
    them, those saved before), every required item answered; and the note (given, or saved)."""
    saved = answers is None
    given = saved_answers(order) if saved else answers
    return {
        "checklist_answers": resolve_answers(
            order.service_type_id, given, complete=True, unknown_ok=saved
        ),
        "completion_note": order.completion_note if note is None else (note.strip() or None),
    }
