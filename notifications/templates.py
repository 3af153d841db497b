"""The registry of notification kinds: what each says, where it leads, how urgent it is."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NotificationKind:
    """One kind of message residents receive."""

    name: str
    title: str
    body: str  # str.format template over the event's payload
    page: str  # mini-program page to open
    urgency: str  # "transactional" or "marketing"

    def render(self, payload: dict) -> tuple[str, str, str]:
        """(title, body, page) for this event."""
        return (
            self.title.format(**payload),
            self.body.format(**payload),
            self.page.format(**payload),
        )


KINDS: dict[str, NotificationKind] = {
    kind.name: kind
    for kind in (
        NotificationKind(
            "visit_announced",
            "工程师上门预告",
            "{engineer_name}将于{local_start}到访{community_name}，可预约顺路服务。",
            "pages/visit/detail?id={visit_id}",
            "marketing",
        ),
        NotificationKind(
            "order_accepted",
            "工单已接单",
            "{engineer_name}已接单：{service_name}。",
            "pages/order/detail?id={order_id}",
            "transactional",
        ),
        NotificationKind(
            "order_completed",
            "服务已完成",
            "{service_name}已完成，欢迎评价本次服务。",
            "pages/order/review?id={order_id}",
            "transactional",
        ),
    )
}


def get_kind(name: str) -> NotificationKind:
    """The registered kind, or KeyError for a name nobody registered."""
    return KINDS[name]
