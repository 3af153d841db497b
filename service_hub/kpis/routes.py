"""Managers' KPI table (JSON or CSV) and one community's series."""

import io

import marshmallow as ma
from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from models.base import utcnow
from service_hub import csv_export
from service_hub.auth.access import current_principal, requires
from service_hub.extensions import db
from service_hub.kpis import queries
from service_hub.pagination import MAX_PAGE_SIZE, page_schema, paginate
from service_hub.timefmt import local_zone

blp = Blueprint("kpis", __name__, description="Per-community KPIs for managers")

# Years 1000–9999: a month and the 36 before it stay four-digit years (no year 0 or below).
MONTH = ma.validate.Regexp(r"^[1-9]\d{3}-(0[1-9]|1[0-2])$", error="use YYYY-MM")
CSV_MAX_ROWS = 100_000


def _this_month() -> str:
    return utcnow().astimezone(local_zone()).strftime("%Y-%m")


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


def _csv(stmt, convert) -> Response:
    columns = list(KpiRowSchema().fields)
    out = io.StringIO()
    out.write("\ufeff")  # so spreadsheet programs read the Chinese names as UTF-8
    writer = csv_export.DictWriter(out, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for row in db.session.execute(stmt.limit(CSV_MAX_ROWS)):
        item = convert(*row)
        item["health_warnings"] = " ".join(item["health_warnings"])
        writer.writerow(item)
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=kpis.csv"},
    )


@blp.route("/kpis/communities")
class KpiTable(MethodView):
    @requires(blp, "manager")
    @blp.arguments(KpiTableArgs, location="query")
    @blp.response(
        200,
        page_schema(KpiRowSchema),
        description="JSON page; with format=csv a text/csv file of every match",
    )
    @blp.doc(responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}})
    def get(self, args):
        """Per-community KPIs for one month (default: this month), sorted and filtered."""
        month = args["month"] or _this_month()
        stmt = queries.table_query(
            current_principal(),
            month,
            args["sort"],
            args["order"] == "desc",
            args["region"],
            args["tier"],
        )
        if args["format"] == "csv":
            return _csv(stmt, queries.row_for(month))
        return paginate(stmt, args["page"], args["page_size"], row_to_item=queries.row_for(month))


@blp.route("/kpis/communities/<int:community_id>")
class KpiSeries(MethodView):
    @requires(blp, "manager")
    @blp.arguments(KpiSeriesArgs, location="query")
    @blp.response(200, KpiSeriesSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, args, community_id: int):
        """One community's KPIs month by month, oldest first."""
        last = args["until"] or _this_month()
        months = [queries.shift_month(last, -n) for n in range(args["months"] - 1, -1, -1)]
        return {
            "community_id": community_id,
            "months": queries.series(current_principal(), community_id, months),
        }
