"""Bodies of the KPI routes: the table's and the series' arguments, and their rows."""

import marshmallow as ma

from service_hub.kpis import queries
from service_hub.plumbing.pagination import MAX_PAGE_SIZE

# Years 1000–9999: a month and the 36 before it stay four-digit years (no year 0 or below).
MONTH = ma.validate.Regexp(r"^[1-9]\d{3}-(0[1-9]|1[0-2])$", error="use YYYY-MM")


class KpiTableArgs(ma.Schema):
    month = ma.fields.String(
        load_default=None,
        validate=MONTH,
        metadata={"description": "YYYY-MM, local; default this month"},
    )
    sort = ma.fields.String(load_default="orders", validate=ma.validate.OneOf(queries.SORTABLE))
    order = ma.fields.String(load_default="desc", validate=ma.validate.OneOf(["asc", "desc"]))
    region = ma.fields.String(
        load_default=None,
        validate=ma.validate.Length(max=32),
        metadata={"description": "province, city or district"},
    )
    tier = ma.fields.String(load_default=None, validate=ma.validate.OneOf(["A", "B", "C", "D"]))
    format = ma.fields.String(
        load_default="json",
        validate=ma.validate.OneOf(["json", "csv"]),
        metadata={"description": "csv: every matching row as a file"},
    )
    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1, max=10_000))
    page_size = ma.fields.Integer(
        load_default=20, validate=ma.validate.Range(min=1, max=MAX_PAGE_SIZE)
    )


class KpiSeriesArgs(ma.Schema):
    months = ma.fields.Integer(load_default=13, validate=ma.validate.Range(min=1, max=36))
    until = ma.fields.String(load_default=None, validate=MONTH)


class KpiRowSchema(ma.Schema):
    community_id = ma.fields.Integer()
    community_name = ma.fields.String()
    tier = ma.fields.String()
    month = ma.fields.String()
    household_count = ma.fields.Integer()
    orders = ma.fields.Integer()
    completed = ma.fields.Integer()
    cancelled = ma.fields.Integer()
    complaints = ma.fields.Integer()
    orders_per_1000 = ma.fields.Float(allow_none=True, metadata={"description": "千户服务量"})
    complaints_per_1000 = ma.fields.Float(allow_none=True, metadata={"description": "千户投诉量"})
    orders_mom = ma.fields.Float(allow_none=True, metadata={"description": "环比, 0.1 = +10%"})
    orders_yoy = ma.fields.Float(allow_none=True, metadata={"description": "同比"})
    complaints_mom = ma.fields.Float(allow_none=True)
    complaints_yoy = ma.fields.Float(allow_none=True)
    orders_per_1000_mom = ma.fields.Float(allow_none=True)
    complaints_per_1000_mom = ma.fields.Float(allow_none=True)
    average_rating = ma.fields.Float(allow_none=True)
    accept_minutes = ma.fields.Float(
        allow_none=True, metadata={"description": "creation → acceptance, mean"}
    )
    on_time_rate = ma.fields.Float(
        allow_none=True, metadata={"description": "arrivals within 15 min of window"}
    )
    active_residents = ma.fields.Integer()
    satisfaction_index = ma.fields.Float(metadata={"description": "0–100, docs/kpis.md"})
    health_warnings = ma.fields.List(
        ma.fields.String(),
        metadata={
            "description": "falling_volume, rising_complaints, low_rating, no_engineer_active"
        },
    )


class KpiSeriesSchema(ma.Schema):
    community_id = ma.fields.Integer()
    months = ma.fields.List(ma.fields.Nested(KpiRowSchema))
