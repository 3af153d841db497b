"""Bodies of the engineer routes."""

import marshmallow as ma

HHMM = ma.validate.Regexp(r"^([01]\d|2[0-3]):[0-5]\d$", error="use HH:MM")


class WorkingHoursSchema(ma.Schema):
    days = ma.fields.List(
        ma.fields.Integer(validate=ma.validate.Range(min=1, max=7)),
        required=True,
        validate=ma.validate.Length(min=1, max=7),
        metadata={"description": "1 = Monday … 7 = Sunday"},
    )
    start = ma.fields.String(required=True, validate=HHMM)
    end = ma.fields.String(required=True, validate=HHMM)

    @ma.validates_schema
    def _end_after_start(self, data, **_kwargs):
        if data["end"] <= data["start"]:
            raise ma.ValidationError("must be after start", field_name="end")


class SkillSchema(ma.Schema):
    skill = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=32))
    level = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1, max=5))


class EngineerPublicSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    bio = ma.fields.String()
    photo_url = ma.fields.String(allow_none=True)
    years_of_service = ma.fields.Integer()
    on_duty = ma.fields.Boolean()
    working_hours = ma.fields.Nested(WorkingHoursSchema, allow_none=True)


class EngineerAdminSchema(EngineerPublicSchema):
    base_lat = ma.fields.Float()
    base_lng = ma.fields.Float()
    max_open_orders = ma.fields.Integer(allow_none=True)
    staff_user_id = ma.fields.Integer()


class ServedCommunitySchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    standing = ma.fields.Float(
        allow_none=True,
        metadata={
            "description": "standing in this community, 0..1: for managers, admins and the "
            "engineer themself; null for everyone else"
        },
    )
    completed_orders = ma.fields.Integer()


class EngineerProfileSchema(ma.Schema):
    engineer = ma.fields.Nested(EngineerPublicSchema)
    skills = ma.fields.List(ma.fields.Nested(SkillSchema))
    communities = ma.fields.List(ma.fields.Nested(ServedCommunitySchema))
    review_count = ma.fields.Integer()
    average_rating = ma.fields.Float(allow_none=True)


class RankedEngineerSchema(ma.Schema):
    engineer = ma.fields.Nested(EngineerPublicSchema)
    average_rating = ma.fields.Float(
        allow_none=True,
        metadata={"description": "their visible reviews' average here, 1–5 (null: none yet)"},
    )
    review_count = ma.fields.Integer(metadata={"description": "their visible reviews here"})
    completed_orders = ma.fields.Integer(metadata={"description": "orders completed here"})
    standing = ma.fields.Float(
        allow_none=True,
        metadata={
            "description": "managers and admins: standing in this community, 0..1; null for "
            "everyone else"
        },
    )
    standing_breakdown = ma.fields.Dict(
        allow_none=True,
        metadata={"description": "managers and admins: what the standing is made of"},
    )


_LAT = ma.validate.Range(min=-90, max=90)
_LNG = ma.validate.Range(min=-180, max=180)


class ProfileChangeSchema(ma.Schema):
    """What an engineer may change about themselves."""

    bio = ma.fields.String(validate=ma.validate.Length(max=500))
    photo_url = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=300))
    on_duty = ma.fields.Boolean()
    working_hours = ma.fields.Nested(WorkingHoursSchema, allow_none=True)


class AdminProfileChangeSchema(ProfileChangeSchema):
    """What a manager may change about an engineer."""

    name = ma.fields.String(validate=ma.validate.Length(min=1, max=64))
    years_of_service = ma.fields.Integer(validate=ma.validate.Range(min=0, max=60))
    base_lat = ma.fields.Float(validate=_LAT)
    base_lng = ma.fields.Float(validate=_LNG)
    max_open_orders = ma.fields.Integer(allow_none=True, validate=ma.validate.Range(min=0, max=100))


class EngineerCreateSchema(AdminProfileChangeSchema):
    username = ma.fields.String(required=True, validate=ma.validate.Length(min=3, max=64))
    password = ma.fields.String(
        required=True, load_only=True, validate=ma.validate.Length(min=8, max=128)
    )
    phone = ma.fields.String(load_default=None, validate=ma.validate.Regexp(r"^\+?\d{6,20}$"))
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=64))
    base_lat = ma.fields.Float(required=True, validate=_LAT)
    base_lng = ma.fields.Float(required=True, validate=_LNG)
    community_ids = ma.fields.List(
        ma.fields.Integer(validate=ma.validate.Range(min=1)),
        load_default=list,
        load_only=True,
        validate=ma.validate.Length(max=50),
        metadata={
            "description": "communities the engineer serves from the start; "
            "a manager with a region names at least one, all in the region"
        },
    )


class SkillsSchema(ma.Schema):
    skills = ma.fields.List(
        ma.fields.Nested(SkillSchema), required=True, validate=ma.validate.Length(max=20)
    )

    @ma.validates_schema
    def _unique(self, data, **_kwargs):
        names = [s["skill"] for s in data["skills"]]
        if len(names) != len(set(names)):
            raise ma.ValidationError("each skill once", field_name="skills")


class AssignmentSchema(ma.Schema):
    engineer_id = ma.fields.Integer()
    community_id = ma.fields.Integer()
    created = ma.fields.Boolean()
