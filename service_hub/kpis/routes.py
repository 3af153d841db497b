"""Managers' KPI table (JSON or CSV), the health warnings list and one community's series."""

import io

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from models.base import utcnow
from service_hub.auth.access import current_principal, requires
from service_hub.kpis import queries
from service_hub.kpis.schemas import (
    KpiRowSchema,
    KpiSeriesArgs,
    KpiSeriesSchema,
    KpiTableArgs,
    KpiWarningArgs,
)
from service_hub.plumbing import csv_export
from service_hub.plumbing.extensions import db
from service_hub.plumbing.pagination import page_schema, paginate
from service_hub.plumbing.timefmt import local_zone

blp = Blueprint("kpis", __name__, description="Per-community KPIs for managers")

CSV_MAX_ROWS = 100_000


def _this_month() -> str:
    return utcnow().astimezone(local_zone()).strftime("%Y-%m")


def _month_and_partial(month: str | None) -> tuple[str, bool]:
    """The month asked for (default: the last complete one) and whether it is still running."""
    running = _this_month()
    month = month or queries.shift_month(running, -1)
    return month, month >= running


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
        """Per-community KPIs for one month (default: the last complete month), sorted and
        filtered. Undefined values (no households on record, no ratings, nothing to compare
        with) sort last in both directions; a quiet month counts as zeros. A month still
        running has `partial_month`, no 环比/同比 and no health warnings."""
        month, partial = _month_and_partial(args["month"])
        sort = (current_principal(), month, args["sort"], args["order"] == "desc")
        if args["format"] == "csv":
            queries.fill_month(month)
            stmt = queries.table_query(*sort, args["region"], args["tier"], partial)
            return _csv(stmt, queries.row_for(month, partial))
        return queries.table_page(
            *sort, args["region"], args["tier"], partial, args["page"], args["page_size"]
        )


@blp.route("/kpis/warnings")
class KpiWarnings(MethodView):
    @requires(blp, "manager")
    @blp.arguments(KpiWarningArgs, location="query")
    @blp.response(200, page_schema(KpiRowSchema))
    def get(self, args):
        """Every community of my region (and the filters) with a health warning in a complete
        month (default: the last one), most warnings first; none for a month still running."""
        month, partial = _month_and_partial(args["month"])
        stmt = queries.warnings_query(
            current_principal(), month, args["region"], args["tier"], partial
        )
        convert = queries.row_for(month, partial)
        return paginate(stmt, args["page"], args["page_size"], row_to_item=convert)


@blp.route("/kpis/communities/<int:community_id>")
class KpiSeries(MethodView):
    @requires(blp, "manager")
    @blp.arguments(KpiSeriesArgs, location="query")
    @blp.response(200, KpiSeriesSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, args, community_id: int):
        """One community's KPIs month by month, oldest first, up to `until` (default: the
        last complete month); a month still running is `partial_month`."""
        last, _partial = _month_and_partial(args["until"])
        months = [queries.shift_month(last, -n) for n in range(args["months"] - 1, -1, -1)]
        return {
            "community_id": community_id,
            "months": queries.series(current_principal(), community_id, months, _this_month()),
        }
