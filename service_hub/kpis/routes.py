"""Managers' KPI table and one community's series."""

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint

from models.base import utcnow
from service_hub.auth.access import current_principal, requires
from service_hub.kpis import queries
from service_hub.pagination import MAX_PAGE_SIZE, page_schema, paginate
from service_hub.timefmt import local_zone

blp = Blueprint("kpis", __name__, description="Per-community KPIs for managers")

MONTH = ma.validate.Regexp(r"^\d{4}-(0[1-9]|1[0-2])$", error="use YYYY-MM")


def _this_month() -> str:
    return utcnow().astimezone(local_zone()).strftime("%Y-%m")


def _months_back(last: str, count: int) -> list[str]:
    year, month = map(int, last.split("-"))
    months = []
    for _ in range(count):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return list(reversed(months))


class KpiTableArgs(ma.Schema):
    month = ma.fields.String(load_default=None, validate=MONTH)
    sort = ma.fields.String(load_default="orders", validate=ma.validate.OneOf(queries.SORTABLE))
    order = ma.fields.String(load_default="desc", validate=ma.validate.OneOf(["asc", "desc"]))
    region = ma.fields.String(load_default=None, validate=ma.validate.Length(max=32))
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
    month = ma.fields.String()
    household_count = ma.fields.Integer()
    orders = ma.fields.Integer()
    completed = ma.fields.Integer()
    cancelled = ma.fields.Integer()
    complaints = ma.fields.Integer()
    orders_per_1000 = ma.fields.Float(allow_none=True, metadata={"description": "千户服务量"})
    complaints_per_1000 = ma.fields.Float(allow_none=True, metadata={"description": "千户投诉量"})
    average_rating = ma.fields.Float(allow_none=True)


class KpiSeriesSchema(ma.Schema):
    community_id = ma.fields.Integer()
    months = ma.fields.List(ma.fields.Nested(KpiRowSchema))


@blp.route("/kpis/communities")
class KpiTable(MethodView):
    @requires(blp, "manager")
    @blp.arguments(KpiTableArgs, location="query")
    @blp.response(200, page_schema(KpiRowSchema))
    def get(self, args):
        """Per-community KPIs for one month (default: this month), sorted and filtered."""
        month = args["month"] or _this_month()
        stmt = queries.table_query(
            current_principal(), month, args["sort"], args["order"] == "desc", args["region"]
        )
        return paginate(stmt, args["page"], args["page_size"], row_to_item=queries.to_row)


@blp.route("/kpis/communities/<int:community_id>")
class KpiSeries(MethodView):
    @requires(blp, "manager")
    @blp.arguments(KpiSeriesArgs, location="query")
    @blp.response(200, KpiSeriesSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, args, community_id: int):
        """One community's KPIs month by month, oldest first."""
        months = _months_back(args["until"] or _this_month(), args["months"])
        return {
            "community_id": community_id,
            "months": queries.series(current_principal(), community_id, months),
        }
