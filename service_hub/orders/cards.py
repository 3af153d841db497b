"""Orders and offers as their readers see them: the order's own columns plus what an engineer
decides and drives on (service, community, street address, GCJ-02 coordinates, a map link,
the door and who to ask for), what a resident's list row shows (the state in Chinese, the
service and its list price, the engineer's name and photo) and what the caller may do now
(`orders.flags`), with the contact mobile as the caller may see it (`orders.privacy`) and
dispatch's internals for managers only. Set-based: a page of any length costs the same few
queries."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import quote, urlencode

import sqlalchemy as sa
from geopy.distance import great_circle

from models import (
    Community,
    Coupon,
    DispatchOffer,
    Engineer,
    OfferStatus,
    ServiceOrder,
    ServiceType,
)
from models.base import utcnow
from service_hub.addresses.service import street_address
from service_hub.auth.tokens import Principal
from service_hub.orders.flags import flags_for
from service_hub.orders.privacy import contact_mobile_for
from service_hub.orders.texts import status_label
from service_hub.orders.timeline import STAFF
from service_hub.plumbing.extensions import db

_ORDER_COLUMNS = tuple(c.key for c in sa.inspect(ServiceOrder).column_attrs)


def map_url(lat: float, lng: float, name: str) -> str:
    """Amap's marker URI (https://lbs.amap.com/api/uri-api/guide/mobile-web/point) for a
    point in GCJ-02, the system our coordinates are in (docs/privacy.md, "Coordinates"):
    `coordinate=gaode` says so; `callnative=1` opens the Amap app on a phone that has it."""
    query = {
        "position": f"{round(lng, 6)},{round(lat, 6)}",  # Amap wants lng,lat
        "name": name,
        "src": "service-hub",
        "coordinate": "gaode",
        "callnative": "1",
    }
    return "https://uri.amap.com/marker?" + urlencode(query, quote_via=quote, safe=",")


def _where(community: Community) -> dict:
    return {
        "community_name": community.name,
        "community_address": street_address(community),
        "community_lat": community.lat,
        "community_lng": community.lng,
        "map_url": map_url(community.lat, community.lng, community.name),
    }


def order_cards(principal: Principal, orders: Iterable[ServiceOrder]) -> list[dict]:
    """The orders as OrderSchema shows them to `principal`, in the same order, with what a
    list row shows (service, price, engineer, community) and what the caller may do with
    each (`flags`): five queries for any number (communities, services, coupons,
    engineers, reviews), none per order for a resident."""
    orders = list(orders)
    if not orders:
        return []
    communities = {
        c.id: c
        for c in db.session.scalars(
            sa.select(Community).where(Community.id.in_({o.community_id for o in orders}))
        )
    }
    services = {
        row.id: row
        for row in db.session.execute(
            sa.select(ServiceType.id, ServiceType.name, ServiceType.base_price_cents).where(
                ServiceType.id.in_({o.service_type_id for o in orders})
            )
        )
    }
    coupons = {
        c.order_id: c
        for c in db.session.scalars(
            sa.select(Coupon).where(Coupon.order_id.in_([o.id for o in orders]))
        )
    }
    engineers = _engineer_briefs({o.engineer_id for o in orders} - {None})
    flags = flags_for(principal, orders)
    return [
        {
            **{name: getattr(order, name) for name in _ORDER_COLUMNS},
            **_staff_only(principal, order),
            **_where(communities[order.community_id]),
            "status_label": status_label(order.status, order.acceptance),
            "service_name": services[order.service_type_id].name,
            "list_price_cents": services[order.service_type_id].base_price_cents,
            "engineer": engineers.get(order.engineer_id),
            "contact_mobile": contact_mobile_for(principal, order),
            "coupon": coupons.get(order.id),
            **flags[order.id],
        }
        for order in orders
    ]


def _engineer_briefs(engineer_ids: set[int]) -> dict[int, dict]:
    """Name and photo of each engineer, by id (one query; none for no id)."""
    if not engineer_ids:
        return {}
    rows = db.session.execute(
        sa.select(Engineer.id, Engineer.name, Engineer.photo_url).where(
            Engineer.id.in_(engineer_ids)
        )
    )
    return {row.id: row._asdict() for row in rows}


def _staff_only(principal: Principal, order: ServiceOrder) -> dict:
    """Dispatch's internals (why this engineer, who else was ranked or rejected and why,
    weights and distances; why nobody was found, in its English codes) are for managers and
    admins. An engineer reads their own offer's breakdown on the offer; a resident reads
    the timeline's Chinese (docs/privacy.md)."""
    if principal.role in STAFF:
        return {}
    return {"dispatch_breakdown": None, "unassigned_reason": None}


def order_card(principal: Principal, order: ServiceOrder) -> dict:
    """One order as OrderSchema shows it to `principal`."""
    return order_cards(principal, [order])[0]


def open_offers_query(engineer_id: int) -> sa.Select:
    """An engineer's pending offers with their order, community and service name (one query
    for a page), soonest to expire first. Rows: (offer, order, community, service name)."""
    return (
        sa.select(DispatchOffer, ServiceOrder, Community, ServiceType.name)
        .join(ServiceOrder, ServiceOrder.id == DispatchOffer.order_id)
        .join(Community, Community.id == ServiceOrder.community_id)
        .join(ServiceType, ServiceType.id == ServiceOrder.service_type_id)
        .where(
            DispatchOffer.engineer_id == engineer_id,
            DispatchOffer.status == OfferStatus.PENDING,
            DispatchOffer.expires_at > utcnow(),
        )
        .order_by(DispatchOffer.expires_at, DispatchOffer.id)
    )


def offer_card_builder(principal: Principal):
    """A row_to_item for `open_offers_query`: the offer with the summary an engineer decides
    on, the distance measured from the engineer's base (geopy great circle, as dispatch)."""
    base = db.session.execute(
        sa.select(Engineer.base_lat, Engineer.base_lng).where(Engineer.id == principal.engineer_id)
    ).one()

    def card(offer: DispatchOffer, order: ServiceOrder, community: Community, service: str):
        distance = great_circle(tuple(base), (community.lat, community.lng)).km
        return {
            **{c.key: getattr(offer, c.key) for c in sa.inspect(DispatchOffer).column_attrs},
            "summary": {
                **_where(community),
                "service_name": service,
                "window_start": order.window_start,
                "window_end": order.window_end,
                "distance_km": round(distance, 2),
                "description": order.description,
                "photos": order.photos,
                "address_text": order.address_text,
                "contact_name": order.contact_name,
                "contact_mobile": contact_mobile_for(principal, order),
            },
        }

    return card
