"""The words an order is shown in (Simplified Chinese): a label per state and per timeline
event, the Chinese for the system's own reasons, and which events a resident sees. One table,
so the mini-program never shows the English the timeline is recorded in."""

from __future__ import annotations

from dataclasses import dataclass

from models.order import Acceptance, OrderStatus

S = OrderStatus

# The order's state as the resident reads it on a card.
STATUS_LABELS: dict[str, str] = {
    S.CREATED: "已提交",
    S.DISPATCHING: "正在匹配师傅",
    S.OFFERED: "等待师傅接单",
    S.UNASSIGNED: "暂无师傅接单",
    S.ACCEPTED: "师傅已接单",
    S.EN_ROUTE: "师傅已出发",
    S.IN_SERVICE: "服务中",
    S.COMPLETED: "已完成",
    S.CANCELLED: "已取消",
}


@dataclass(frozen=True)
class EventText:
    """How one timeline event reads.

    `label`: the step, for every reader. `resident`: whether the resident sees the event at
    all (offers, expiries and declines concern engineers who never came: dispatch's
    business, and another engineer's). `resident_reason`: whether the resident reads the
    reason a person gave (a manager's note when assigning is internal). `system_zh`: what the
    mini-program shows for the system's own reason, which is recorded in English for staff
    ("offered to engineer 3"); None when the system gives none or passes a person's words on.
    """

    label: str
    resident: bool = True
    resident_reason: bool = True
    system_zh: str | None = None


# Every event of models/order_lifecycle.ACTIONS (tests/test_order_representations.py holds
# the table to it): a new action needs its words here.
EVENT_TEXTS: dict[str, EventText] = {
    "create": EventText("已提交需求"),
    # its reason is written by the booking code ("booked slot 4 on visit 2"), not the resident
    "book": EventText("已预约师傅上门时段", resident_reason=False),
    "dispatch": EventText("正在为您匹配师傅"),
    "offer": EventText("已派单给师傅", resident=False, system_zh="已派给合适的师傅，等待接单"),
    "unassign": EventText(
        "暂无师傅接单", system_zh="附近暂时没有可以接单的师傅，客服会尽快为您安排"
    ),
    "expire": EventText(
        "师傅未及时接单", resident=False, system_zh="师傅未在时限内接单，正在重新匹配"
    ),
    "accept": EventText("师傅已接单"),
    "decline": EventText("师傅未接单", resident=False),
    "en_route": EventText("师傅已出发"),
    "start": EventText("师傅已到达，开始服务"),
    "complete": EventText("服务已完成"),
    "confirm": EventText("已确认验收"),
    "dispute": EventText("对服务提出异议"),
    "auto_confirm": EventText("系统自动验收", system_zh="完工后未在规定时间内验收，系统已自动确认"),
    "complain": EventText("已投诉"),
    "cancel": EventText("已取消"),
    "assign": EventText("客服已为您指派师傅", resident_reason=False),
    "redispatch": EventText("正在重新为您匹配师傅", resident_reason=False),
    "urge": EventText("已催单"),
    "reschedule": EventText("已修改上门时间"),
    "propose_window": EventText("师傅提议了新的上门时间"),
    "accept_window": EventText("已同意新的上门时间"),
    "decline_window": EventText("已拒绝新的上门时间"),
    "second_visit": EventText("已安排二次上门"),
    "revisit": EventText("原师傅将再次上门", system_zh="原师傅将再次上门处理"),
}


# Completed work waiting for the resident's acceptance (验收), or disputed, reads so.
ACCEPTANCE_LABELS: dict[str, str] = {
    Acceptance.PENDING: "待验收",
    Acceptance.DISPUTED: "验收有异议",
}


def status_label(status: str, acceptance: str | None = None) -> str:
    """The state in Chinese (the raw value for a state the table does not know yet); a
    completed order by its acceptance while the resident has not accepted it."""
    if status == S.COMPLETED and acceptance in ACCEPTANCE_LABELS:
        return ACCEPTANCE_LABELS[acceptance]
    return STATUS_LABELS.get(status, status)


def event_text(event: str) -> EventText:
    """The words of a timeline event (its raw name as the label when the table lacks it)."""
    return EVENT_TEXTS.get(event) or EventText(event)
