"""Bodies of the address book routes."""

import marshmallow as ma

from service_hub.plumbing.pagination import PageArgsSchema
from service_hub.plumbing.timefmt import LocalDateTime

# Mainland China mobile numbers: 11 digits, 13x to 19x.
MOBILE_PATTERN = r"^1[3-9]\d{9}$"


def _text(max_length: int, description: str, *, required: bool = True) -> ma.fields.String:
    if required:
        return ma.fields.String(
            required=True,
            validate=ma.validate.Length(min=1, max=max_length),
            metadata={"description": description},
        )
    return ma.fields.String(
        load_default="",
        validate=ma.validate.Length(max=max_length),
        metadata={"description": description},
    )


class AddressBodySchema(ma.Schema):
    """A door in one of my bound communities, and who to ask for there."""

    community_id = ma.fields.Integer(
        required=True,
        validate=ma.validate.Range(min=1),
        metadata={"description": "one of my bound communities"},
    )
    building = _text(16, "楼栋, e.g. 12 (shown as 12号楼) or 12号楼")
    unit = _text(16, "单元, e.g. 2 (shown as 2单元); may be empty", required=False)
    room = _text(16, "室, e.g. 301 (shown as 301室)")
    contact_name = _text(32, "who the engineer asks for")
    mobile = ma.fields.String(
        required=True,
        validate=ma.validate.Regexp(
            MOBILE_PATTERN, error="a mainland mobile: 11 digits, 13x-19x (请输入11位手机号)"
        ),
        metadata={"description": "mainland mobile, 11 digits; shown masked on orders"},
    )
    is_default = ma.fields.Boolean(
        load_default=False,
        metadata={
            "description": "make it my default address (my first address is the default "
            "anyway; exactly one address is the default)"
        },
    )

    @ma.pre_load
    def _strip(self, data, **kwargs):
        """Spaces around what was typed are not part of an address."""
        if isinstance(data, dict):
            return {k: v.strip() if isinstance(v, str) else v for k, v in data.items()}
        return data


class AddressChangeSchema(AddressBodySchema):
    """Any subset of an address's fields (used with partial=True); is_default=true makes it
    the default, false on the default is refused (make another one the default)."""


class AddressSchema(ma.Schema):
    id = ma.fields.Integer()
    community_id = ma.fields.Integer()
    community_name = ma.fields.String()
    building = ma.fields.String()
    unit = ma.fields.String()
    room = ma.fields.String()
    contact_name = ma.fields.String()
    mobile = ma.fields.String(metadata={"description": "in full: it is my own address book"})
    is_default = ma.fields.Boolean()
    address_text = ma.fields.String(
        metadata={"description": "as an order will show it: 小区 街道地址 楼栋单元室"}
    )
    bound = ma.fields.Boolean(
        metadata={"description": "false once I unbind the community (orders there need it)"}
    )
    created_at = LocalDateTime()
    updated_at = LocalDateTime()


class AddressListArgsSchema(PageArgsSchema):
    community_id = ma.fields.Integer(
        load_default=None,
        validate=ma.validate.Range(min=1),
        metadata={"description": "only my addresses in this community"},
    )
