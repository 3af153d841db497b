"""Address book rules: a resident's doors in their bound communities (at most
MAX_ADDRESSES, exactly one default while there is any), and the snapshot an order keeps of one."""

from __future__ import annotations

import sqlalchemy as sa

from models import Community, CommunityBinding, Resident, ResidentAddress
from service_hub.communities.service import get_community, is_bound
from service_hub.plumbing.errors import Conflict, Forbidden, InvalidInput, NotFound
from service_hub.plumbing.extensions import db
from service_hub.plumbing.sql import lock_row

# A household rarely has more than a few doors; the cap keeps a book (and a mistake) small.
MAX_ADDRESSES = 20
ADDRESS_TEXT_MAX = 300  # ServiceOrder.address_text

# What a bare number gets in Chinese address form, and the endings that need nothing added.
_BUILDING = ("号楼", ("楼", "栋", "幢", "座", "号", "阁", "苑"))
_UNIT = ("单元", ("单元", "门"))
_ROOM = ("室", ("室", "号", "房"))


def _suffixed(value: str, rule: tuple[str, tuple[str, ...]]) -> str:
    suffix, kept = rule
    value = value.strip()
    if not value or value.endswith(kept) or not (value[-1].isascii() and value[-1].isalnum()):
        return value
    return value + suffix


def door_text(building: str, unit: str, room: str) -> str:
    """ "12号楼2单元301室" from ("12", "2", "301"); words a resident typed are kept."""
    return _suffixed(building, _BUILDING) + _suffixed(unit, _UNIT) + _suffixed(room, _ROOM)


def street_address(community: Community) -> str:
    """The community's street address with its district: "浦东新区XX路88号"."""
    address = community.address or ""
    if community.district and not address.startswith(community.district):
        return community.district + address
    return address


def address_text(community: Community, address: ResidentAddress) -> str:
    """What the engineer reads: "阳光小区 浦东新区XX路88号 12号楼2单元301室"."""
    door = door_text(address.building, address.unit, address.room)
    parts = (community.name, street_address(community), door)
    return " ".join(p for p in parts if p)[:ADDRESS_TEXT_MAX]


def _not_found(address_id: int) -> NotFound:
    return NotFound(f"No address {address_id}.", code="address_not_found", message_zh="地址不存在")


def _require_bound(resident_id: int, community_id: int) -> Community:
    community = get_community(community_id)
    if not is_bound(resident_id, community_id):
        raise Forbidden(
            "Bind the community before adding an address there.",
            code="not_bound",
            message_zh="请先绑定该小区",
        )
    return community


def _own_address(resident_id: int, address_id: int) -> ResidentAddress:
    address = db.session.get(ResidentAddress, address_id)
    if address is None or address.resident_id != resident_id:
        raise _not_found(address_id)  # someone else's address does not exist for you
    return address


def _make_default(address: ResidentAddress) -> None:
    """Clear the resident's other default first, then set this one: the partial unique index
    (one default per resident) is checked row by row."""
    db.session.execute(
        sa.update(ResidentAddress)
        .where(
            ResidentAddress.resident_id == address.resident_id,
            ResidentAddress.is_default.is_(True),
            ResidentAddress.id != address.id,
        )
        .values(is_default=False)
        .execution_options(synchronize_session="fetch")
    )
    address.is_default = True


def addresses_query(resident_id: int, community_id: int | None = None) -> sa.Select:
    """The resident's addresses with their community and whether it is still bound (one
    query per page): the default first, then the most recently changed."""
    bound = (
        sa.exists()
        .where(
            CommunityBinding.resident_id == resident_id,
            CommunityBinding.community_id == ResidentAddress.community_id,
        )
        .label("bound")
    )
    stmt = (
        sa.select(ResidentAddress, Community, bound)
        .join(Community, Community.id == ResidentAddress.community_id)
        .where(ResidentAddress.resident_id == resident_id)
        .order_by(
            ResidentAddress.is_default.desc(),
            ResidentAddress.updated_at.desc(),
            ResidentAddress.id.desc(),
        )
    )
    if community_id is not None:
        stmt = stmt.where(ResidentAddress.community_id == community_id)
    return stmt


def address_item(address: ResidentAddress, community: Community, bound: bool) -> dict:
    """An address as the resident's book shows it (their own mobile in full)."""
    return {
        **{c.key: getattr(address, c.key) for c in sa.inspect(ResidentAddress).column_attrs},
        "community_name": community.name,
        "address_text": address_text(community, address),
        "bound": bool(bound),
    }


def get_address_item(resident_id: int, address_id: int) -> dict:
    """One of the resident's addresses, as the book shows it."""
    address = _own_address(resident_id, address_id)
    community = db.session.get(Community, address.community_id)
    return address_item(address, community, is_bound(resident_id, address.community_id))


def create_address(resident_id: int, fields: dict) -> dict:
    """Add an address in one of the resident's bound communities. The first address, or one
    marked is_default, becomes the default. 409 too_many_addresses beyond MAX_ADDRESSES."""
    lock_row(Resident, resident_id)  # serialises the count and the default with other writes
    _require_bound(resident_id, fields["community_id"])
    count = db.session.scalar(
        sa.select(sa.func.count()).where(ResidentAddress.resident_id == resident_id)
    )
    if count >= MAX_ADDRESSES:
        raise Conflict(
            f"An address book holds at most {MAX_ADDRESSES} addresses.",
            code="too_many_addresses",
            message_zh=f"最多保存 {MAX_ADDRESSES} 个地址，请先删除不用的地址",
        )
    wants_default = fields.pop("is_default", False) or count == 0
    address = ResidentAddress(resident_id=resident_id, is_default=False, **fields)
    db.session.add(address)
    db.session.flush()
    if wants_default:
        _make_default(address)
    db.session.commit()
    return get_address_item(resident_id, address.id)


def update_address(resident_id: int, address_id: int, changes: dict) -> dict:
    """Change an address (a new community must be bound too); is_default=true makes it the
    default. Orders keep the snapshot they took: nothing here changes an order."""
    lock_row(Resident, resident_id)
    address = _own_address(resident_id, address_id)
    if "community_id" in changes and changes["community_id"] != address.community_id:
        _require_bound(resident_id, changes["community_id"])
    wants_default = changes.pop("is_default", None)
    if wants_default is False and address.is_default:
        raise InvalidInput(
            "One address stays the default: make another one the default instead.",
            code="default_required",
            message_zh="请先把其他地址设为默认地址",
            fields={"is_default": ["set another address as default instead"]},
        )
    for name, value in changes.items():
        setattr(address, name, value)
    if wants_default:
        _make_default(address)
    db.session.commit()
    return get_address_item(resident_id, address_id)


def delete_address(resident_id: int, address_id: int) -> None:
    """Remove an address; orders that used it keep their snapshot (address_id becomes null).
    If it was the default, the most recently changed remaining address becomes the default."""
    lock_row(Resident, resident_id)
    address = _own_address(resident_id, address_id)
    was_default = address.is_default
    db.session.delete(address)
    db.session.flush()
    if was_default:
        heir = db.session.scalar(
            sa.select(ResidentAddress)
            .where(ResidentAddress.resident_id == resident_id)
            .order_by(ResidentAddress.updated_at.desc(), ResidentAddress.id.desc())
            .limit(1)
        )
        if heir is not None:
            heir.is_default = True
    db.session.commit()


def _address_for_order(resident_id: int, community_id: int) -> ResidentAddress | None:
    """The address an order without address_id goes to: the resident's default if it is in
    the order's community, else their only address there; none when that is ambiguous."""
    there = db.session.scalars(
        sa.select(ResidentAddress)
        .where(
            ResidentAddress.resident_id == resident_id,
            ResidentAddress.community_id == community_id,
        )
        .order_by(ResidentAddress.is_default.desc(), ResidentAddress.id)
        .limit(2)
    ).all()
    if there and (there[0].is_default or len(there) == 1):
        return there[0]
    return None


def order_snapshot(resident_id: int, community: Community, address_id: int | None) -> dict:
    """The address and contact an order copies at creation (address_id, address_text,
    contact_name, contact_mobile), or {} when the resident has none to give. `address_id`
    must be the resident's own and in the order's community (422 otherwise)."""
    if address_id is None:
        address = _address_for_order(resident_id, community.id)
        if address is None:
            return {}
    else:
        address = db.session.get(ResidentAddress, address_id)
        if address is None or address.resident_id != resident_id:
            raise InvalidInput(
                "Unknown address.",
                code="unknown_address",
                message_zh="地址不存在",
                fields={"address_id": ["not an address of this resident"]},
            )
        if address.community_id != community.id:
            raise InvalidInput(
                "The address is in another community than the order.",
                code="address_in_other_community",
                message_zh="该地址不在下单的小区",
                fields={"address_id": ["in another community"]},
            )
    return {
        "address_id": address.id,
        "address_text": address_text(community, address),
        "contact_name": address.contact_name,
        "contact_mobile": address.mobile,
    }
