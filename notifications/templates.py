"""The registry of notification kinds: what each says in the inbox and in WeChat, where it
leads, and how urgent it is.

WeChat subscribe-message templates name their fields by type and position (thing1, time2,
phrase3 …); the prefix is the field's type, which notifications/fields.py validates. Each
kind's WeChat template id comes from configuration (WECHAT_TEMPLATES).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app

TRANSACTIONAL = "transactional"  # about the resident's own order: never capped or deferred
MARKETING = "marketing"  # capped per resident, deferred out of quiet hours


@dataclass(frozen=True)
class NotificationKind:
    """One kind of message residents receive."""

    name: str
    title: str
    body: str  # str.format template over the event's payload
    page: str  # mini-program page to open
    urgency: str
    wechat_fields: Callable[[dict], dict[str, str]]  # payload → {"thing1": "…", …}

    def render(self, payload: dict) -> tuple[str, str, str]:
        """(title, body, page) for this event."""
        return (
            self.title.format(**payload),
            self.body.format(**payload),
            self.page.format(**payload),
        )

    @property
    def template_id(self) -> str:
        """The WeChat template id configured for this kind."""
        return current_app.config["WECHAT_TEMPLATES"][self.name]


def _kinds() -> tuple[NotificationKind, ...]:
    return (
        NotificationKind(
            "visit_announced",
            "工程师上门预告",
            "{engineer_name}将于{local_start}到访{community_name}，可预约顺路服务。",
            "pages/visit/detail?id={visit_id}",
            MARKETING,
            lambda p: {
                "thing1": p["community_name"],
                "name2": p["engineer_name"],
                "time3": p["local_start"],
                "thing4": "可预约顺路上门服务",
            },
        ),
        NotificationKind(
            "order_accepted",
            "工单已接单",
            "{engineer_name}已接单：{service_name}。",
            "pages/order/detail?id={order_id}",
            TRANSACTIONAL,
            lambda p: {
                "character_string1": str(p["order_id"]),
                "thing2": p["service_name"],
                "name3": p["engineer_name"],
                "phrase4": "已接单",
            },
        ),
        NotificationKind(
            "engineer_en_route",
            "工程师已出发",
            "{engineer_name}已出发，请留意来电。",
            "pages/order/detail?id={order_id}",
            TRANSACTIONAL,
            lambda p: {
                "character_string1": str(p["order_id"]),
                "name2": p["engineer_name"],
                "phrase3": "已出发",
            },
        ),
        NotificationKind(
            "order_completed",
            "服务已完成",
            "{service_name}已完成，请确认验收并评价本次服务。",
            "pages/order/review?id={order_id}",
            TRANSACTIONAL,
            lambda p: {
                "character_string1": str(p["order_id"]),
                "thing2": p["service_name"],
                "phrase3": "已完成",
                "thing4": "请确认验收并评价本次服务",
            },
        ),
        NotificationKind(
            "window_proposed",
            "工程师建议调整上门时间",
            "{engineer_name}建议改为{local_start}上门，请在工单中确认或拒绝。",
            "pages/order/detail?id={order_id}",
            TRANSACTIONAL,
            lambda p: {
                "character_string1": str(p["order_id"]),
                "name2": p["engineer_name"],
                "time3": p["local_start"],
                "thing4": "请在工单中确认或拒绝",
            },
        ),
        NotificationKind(
            "activity_reminder",
            "活动提醒",
            "您报名的“{title}”将于{local_start}在{place}开始。",
            "pages/activity/detail?id={activity_id}",
            MARKETING,
            lambda p: {"thing1": p["title"], "time2": p["local_start"], "thing3": p["place"]},
        ),
        NotificationKind(
            "coupon_granted",
            "优惠券到账",
            "您获得一张优惠券：{coupon_name}。",
            "pages/coupon/mine",
            MARKETING,
            lambda p: {"thing1": p["coupon_name"], "amount2": p.get("amount", "")},
        ),
        NotificationKind(
            "coupon_expiring",
            "优惠券即将过期",
            "您的优惠券“{coupon_name}”将于{local_expiry}过期。",
            "pages/coupon/mine",
            MARKETING,
            lambda p: {"thing1": p["coupon_name"], "date2": p["local_expiry"]},
        ),
    )


KINDS: dict[str, NotificationKind] = {kind.name: kind for kind in _kinds()}
DEFAULT_TEMPLATE_IDS = {name: f"tmpl-{name}" for name in KINDS}


def get_kind(name: str) -> NotificationKind:
    """The registered kind, or KeyError for a name nobody registered."""
    return KINDS[name]
