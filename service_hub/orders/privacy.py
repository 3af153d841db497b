"""Who sees an order's contact mobile in full (docs/privacy.md): the one rule every place that
shows an order (detail, lists, offers, the managers' console) asks."""

from __future__ import annotations

from models import ServiceOrder
from models.order import OPEN_STATUSES
from service_hub.auth.tokens import Principal


def mask_mobile(mobile: str | None) -> str | None:
    """138****8000: the first three and the last four digits, as Chinese apps show a number."""
    if not mobile:
        return mobile
    if len(mobile) < 8:
        return "*" * len(mobile)
    return f"{mobile[:3]}****{mobile[-4:]}"


def sees_full_mobile(principal: Principal | None, order: ServiceOrder) -> bool:
    """The engineer assigned to the order while it is open (accepted, en route, in service),
    who has to call; and the resident who owns it, who typed the number in. Nobody else:
    not an engineer who was only offered it, not managers or admins, and once the order is
    completed or cancelled not its engineer either."""
    if principal is None:
        return False
    if principal.role == "resident":
        return order.resident_id == principal.id
    if principal.role == "engineer":
        return (
            principal.engineer_id is not None
            and order.engineer_id == principal.engineer_id
            and order.status in OPEN_STATUSES
        )
    return False


def contact_mobile_for(principal: Principal | None, order: ServiceOrder) -> str | None:
    """The order's contact mobile as this caller may see it: in full or masked. Call it
    wherever an order is serialised; never put `order.contact_mobile` in a response."""
    if sees_full_mobile(principal, order):
        return order.contact_mobile
    return mask_mobile(order.contact_mobile)
