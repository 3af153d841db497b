"""Bodies of the KPI routes: the table's, the warnings' and the series' arguments, and their
rows. Each row field carries its Chinese label, one-line definition, kind and direction from
measures.KPIS into the OpenAPI document (`x-label`, `description`, `x-kind`,
`x-higher-is-better`), which is where the dashboard reads them (web/contract.py)."""

import marshmallow as ma

from service_hub.kpis import queries
from service_hub.kpis.measures import KPIS, WARNINGS
from service_hub.plumbing.pagination import MAX_PAGE_SIZE, PageArgsSchema

# Years 1000–9999: a month and the 36 before it stay four-digit years (no year 0 or below).
MONTH = ma.validate.Regexp(r"^[1-9]\d{3}-(0[1-9]|1[0-2])$", error="use YYYY-MM")
TIERS = ["A", "B", "C", "D"]


def kpi(field_class: type[ma.fields.Field], name: str, **kwargs) -> ma.fields.Field:
    """A row field described by measures.KPIS[name]."""
    about = KPIS[name]
    metadata = {
        "description": about.definition,
        "x-label": about.label,
        "x-kind": about.kind,
        "x-higher-is-better": about.higher_is_better,
    }
    return field_class(metadata=metadata, **kwargs)


class MonthFilterArgs(ma.Schema):
    month = ma.fields.String(
        load_default=None,
        validate=MONTH,
        metadata={"description": "YYYY-MM, local; default the last complete month"},
    )
    region = ma.fields.String(
        load_default=None,
        validate=ma.validate.Length(max=32),
        metadata={"description": "province, city or district"},
    )
    tier = ma.fields.String(load_default=None, validate=ma.validate.OneOf(TIERS))


class KpiTableArgs(MonthFilterArgs):
    sort = ma.fields.String(load_default="orders", validate=ma.validate.OneOf(queries.SORTABLE))
    order = ma.fields.String(load_default="desc", validate=ma.validate.OneOf(["asc", "desc"]))
    format = ma.fields.String(
        load_default="json",
        validate=ma.validate.OneOf(["json", "csv"]),
        metadata={"description": "csv: every matching row as a file"},
    )
    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1, max=10_000))
    page_size = ma.fields.Integer(
        load_default=20, validate=ma.validate.Range(min=1, max=MAX_PAGE_SIZE)
    )


class KpiWarningArgs(MonthFilterArgs, PageArgsSchema):
    pass


class KpiSeriesArgs(ma.Schema):
    months = ma.fields.Integer(load_default=13, validate=ma.validate.Range(min=1, max=36))
    until = ma.fields.String(
        load_default=None,
        validate=MONTH,
        metadata={"description": "YYYY-MM, the last month; default the last complete month"},
    )


class KpiRowSchema(ma.Schema):
    community_id = kpi(ma.fields.Integer, "community_id")
    community_name = kpi(ma.fields.String, "community_name")
    tier = kpi(ma.fields.String, "tier")
    month = kpi(ma.fields.String, "month")
    partial_month = kpi(ma.fields.Boolean, "partial_month")
    household_count = kpi(ma.fields.Integer, "household_count")
    orders = kpi(ma.fields.Integer, "orders")
    completed = kpi(ma.fields.Integer, "completed")
    cancelled = kpi(ma.fields.Integer, "cancelled")
    complaints = kpi(ma.fields.Integer, "complaints")
    orders_per_1000 = kpi(ma.fields.Float, "orders_per_1000", allow_none=True)
    complaints_per_1000 = kpi(ma.fields.Float, "complaints_per_1000", allow_none=True)
    orders_mom = kpi(ma.fields.Float, "orders_mom", allow_none=True)
    orders_yoy = kpi(ma.fields.Float, "orders_yoy", allow_none=True)
    complaints_mom = kpi(ma.fields.Float, "complaints_mom", allow_none=True)
    complaints_yoy = kpi(ma.fields.Float, "complaints_yoy", allow_none=True)
    orders_per_1000_mom = kpi(ma.fields.Float, "orders_per_1000_mom", allow_none=True)
    complaints_per_1000_mom = kpi(ma.fields.Float, "complaints_per_1000_mom", allow_none=True)
    average_rating = kpi(ma.fields.Float, "average_rating", allow_none=True)
    accept_minutes = kpi(ma.fields.Float, "accept_minutes", allow_none=True)
    on_time_rate = kpi(ma.fields.Float, "on_time_rate", allow_none=True)
    active_residents = kpi(ma.fields.Integer, "active_residents")
    sla_breaches = kpi(ma.fields.Integer, "sla_breaches")
    urges = kpi(ma.fields.Integer, "urges")
    repeat_visits = kpi(ma.fields.Integer, "repeat_visits")
    disputes = kpi(ma.fields.Integer, "disputes")
    first_time_fix_rate = kpi(ma.fields.Float, "first_time_fix_rate", allow_none=True)
    satisfaction_index = kpi(ma.fields.Float, "satisfaction_index", allow_none=True)
    health_warnings = ma.fields.List(
        ma.fields.String(metadata={"enum": list(WARNINGS)}),
        metadata={
            "description": KPIS["health_warnings"].definition,
            "x-label": KPIS["health_warnings"].label,
            "x-kind": KPIS["health_warnings"].kind,
            "x-higher-is-better": None,
            "x-codes": WARNINGS,
        },
    )


class KpiSeriesSchema(ma.Schema):
    community_id = ma.fields.Integer()
    months = ma.fields.List(ma.fields.Nested(KpiRowSchema))
