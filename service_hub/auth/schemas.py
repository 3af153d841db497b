"""Request and response bodies of the sign-in routes."""

import marshmallow as ma


class WeChatLoginSchema(ma.Schema):
    code = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=128),
        metadata={"description": "the code from wx.login()"},
    )


class StaffLoginSchema(ma.Schema):
    login = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=64),
        metadata={"description": "username or phone"},
    )
    password = ma.fields.String(
        required=True, load_only=True, validate=ma.validate.Length(min=1, max=128)
    )


class TokenSchema(ma.Schema):
    token = ma.fields.String(required=True)
    expires_in = ma.fields.Integer(required=True, metadata={"description": "seconds"})
    role = ma.fields.String(required=True)
    resident_id = ma.fields.Integer()
    staff_id = ma.fields.Integer()
    engineer_id = ma.fields.Integer(allow_none=True)


class ResidentProfileSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    nickname = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=64))
    avatar_url = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=300))
