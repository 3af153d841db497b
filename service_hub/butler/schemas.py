"""Bodies of the butler routes: binding codes, the scan, and the binding it makes."""

from __future__ import annotations

import marshmallow as ma

from service_hub.butler import service
from service_hub.plumbing.timefmt import LocalDateTime


class BindCodeSchema(ma.Schema):
    scene = ma.fields.String(
        required=True, metadata={"description": "≤ 32 characters, WeChat's scene alphabet"}
    )
    expires_at = LocalDateTime(required=True)
    qr_png_base64 = ma.fields.String(required=True, metadata={"description": "PNG, base64"})
    page = ma.fields.String(required=True, metadata={"description": "mini-program page"})


class BindArgsSchema(ma.Schema):
    scene = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=service.SCENE_LENGTH),
        metadata={"description": "the scene the mini-program was opened with"},
    )


class ButlerEngineerSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    photo_url = ma.fields.String(allow_none=True)


class ButlerBindingSchema(ma.Schema):
    binding_id = ma.fields.Integer(required=True)
    engineer = ma.fields.Nested(ButlerEngineerSchema, required=True)
    bound_at = LocalDateTime(required=True)


class BindResultSchema(ButlerBindingSchema):
    outcome = ma.fields.String(
        required=True,
        metadata={"description": "bound (first butler), replaced, or already_bound"},
    )
    replaced_engineer_id = ma.fields.Integer(
        allow_none=True, metadata={"description": "the previous butler, when replaced"}
    )
