"""The managers' order console: the one query behind GET /orders (filters, sort, region), the
rows a manager reads, and bulk assign / redispatch through the order lifecycle.

The first page must stay fast at millions of orders on PostgreSQL, so the list is one
statement over `service_order` joined to its community (for the region), filtered and
sorted on indexed columns (`ix_service_order_status_created`: status, created_at), with the
names of its service and engineer outer-joined for the page's rows only; and its count is
capped (`plumbing.pagination.paginate_capped`). bench/order_console.py measures it.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Response, stream_with_context
from sqlalchemy.orm.exc import StaleDataError

from models import (
    Community,
    DispatchOffer,
    Engineer,
    OfferStatus,
    OrderStatus,
    ServiceOrder,
    ServiceType,
)
from models.base import utcnow
from service_hub.auth.regions import region_clause, require_engineer_in_region
from service_hub.auth.tokens import Principal
from service_hub.orders import service
from service_hub.orders.privacy import mask_mobile
from service_hub.plumbing import csv_export
from service_hub.plumbing.errors import AppError, InvalidInput
from service_hub.plumbing.extensions import db
from service_hub.plumbing.sql import retry_transient
from service_hub.plumbing.timefmt import local_zone

# What the list sorts by (a query's `sort`); the order's id breaks ties the same way.
SORTS = {
    "created_at": ServiceOrder.created_at,
    "window_start": ServiceOrder.window_start,
    "updated_at": ServiceOrder.updated_at,
}
# States in which an order still waits for an engineer (the lifecycle's WAITING).
WAITING = (
    OrderStatus.CREATED,
    OrderStatus.DISPATCHING,
    OrderStatus.OFFERED,
    OrderStatus.UNASSIGNED,
)
# How many matches a list counts before it says "more than this" (and how deep it pages):
# enough for any queue a manager works through; a count past it would read a region's whole
# history (a CSV export or narrower filters reach further).
COUNT_CAP = 1_000
# A CSV export holds at most this many orders (streamed, oldest or newest first by `sort`).
CSV_MAX_ROWS = 50_000
# At most this many orders per bulk request: each is its own transaction under its row lock.
BULK_MAX = 100
BULK_ACTIONS = ("assign", "redispatch")


def _pending_offer_expiry():
    """The expiry of the order's pending offer (None when it has none): one index lookup."""
    return (
        sa.select(sa.func.min(DispatchOffer.expires_at))
        .where(
            DispatchOffer.order_id == ServiceOrder.id,
            DispatchOffer.status == OfferStatus.PENDING,
        )
        .correlate(ServiceOrder)
        .scalar_subquery()
    )


def _conditions(principal: Principal, args: dict, now: datetime) -> list:
    """The WHERE clauses for a console query's filters (see OrderConsoleArgs)."""
    where = [region_clause(principal)]
    if args.get("status"):
        statuses = list(dict.fromkeys(args["status"]))
        where.append(
            ServiceOrder.status == statuses[0]
            if len(statuses) == 1
            else ServiceOrder.status.in_(statuses)
        )
    for name in ("community_id", "engineer_id", "source", "sla_state"):
        if args.get(name) is not None:
            where.append(getattr(ServiceOrder, name) == args[name])
    if args.get("created_from") is not None:
        where.append(ServiceOrder.created_at >= args["created_from"])
    if args.get("created_to") is not None:
        where.append(ServiceOrder.created_at < args["created_to"])
    if args.get("urged") is True:
        where.append(ServiceOrder.urge_count > 0)
    elif args.get("urged") is False:
        where.append(ServiceOrder.urge_count == 0)
    if args.get("unassigned") is True:
        where += [ServiceOrder.engineer_id.is_(None), ServiceOrder.status.in_(WAITING)]
    elif args.get("unassigned") is False:
        where.append(ServiceOrder.engineer_id.is_not(None))
    minutes = args.get("offer_expiring_within")
    if minutes is not None:
        soon = now + timedelta(minutes=minutes)
        where += [
            ServiceOrder.status == OrderStatus.OFFERED,
            sa.exists().where(
                DispatchOffer.order_id == ServiceOrder.id,
                DispatchOffer.status == OfferStatus.PENDING,
                DispatchOffer.expires_at <= soon,
            ),
        ]
    return where


def console_query(principal: Principal, args: dict, now: datetime | None = None) -> sa.Select:
    """The orders a manager's console lists: in the caller's region, filtered and sorted by
    `args` (OrderConsoleArgs), one row per order with the names a manager reads."""
    now = now or utcnow()
    column = SORTS[args.get("sort") or "created_at"]
    descending = args.get("order") == "desc"
    key = column.desc() if descending else column.asc()
    if column is ServiceOrder.window_start:
        key = key.nulls_last()  # orders without a window last, either way
    tiebreak = ServiceOrder.id.desc() if descending else ServiceOrder.id.asc()
    return (
        sa.select(
            ServiceOrder.id,
            ServiceOrder.status,
            ServiceOrder.source,
            ServiceOrder.service_type_id,
            ServiceType.name.label("service_name"),
            ServiceOrder.community_id,
            Community.name.label("community_name"),
            ServiceOrder.engineer_id,
            Engineer.name.label("engineer_name"),
            ServiceOrder.created_at,
            ServiceOrder.updated_at,
            ServiceOrder.window_start,
            ServiceOrder.window_end,
            ServiceOrder.sla_state,
            ServiceOrder.urge_count,
            ServiceOrder.unassigned_reason,
            ServiceOrder.contact_name,
            ServiceOrder.contact_mobile,
            _pending_offer_expiry().label("offer_expires_at"),
        )
        .select_from(ServiceOrder)
        .join(Community, Community.id == ServiceOrder.community_id)
        # Outer joins to unique keys: PostgreSQL drops them from the capped count.
        .outerjoin(ServiceType, ServiceType.id == ServiceOrder.service_type_id)
        .outerjoin(Engineer, Engineer.id == ServiceOrder.engineer_id)
        .where(*_conditions(principal, args, now))
        .order_by(key, tiebreak)
    )


def row_for(stmt: sa.Select, now: datetime | None = None):
    """A function turning one row of `stmt` (a console_query) into the item a manager
    reads: by column name, the mobile masked, the order's age in whole minutes."""
    now = now or utcnow()
    names = [column.name for column in stmt.selected_columns]

    def convert(*row) -> dict:
        item = dict(zip(names, row, strict=True))
        item["contact_mobile"] = mask_mobile(item["contact_mobile"])  # managers: always
        item["age_minutes"] = max(0, int((now - item["created_at"]).total_seconds() // 60))
        return item

    return convert


# The CSV's columns, in order (the JSON row's fields).
CSV_COLUMNS = (
    "id",
    "status",
    "source",
    "service_name",
    "community_id",
    "community_name",
    "engineer_id",
    "engineer_name",
    "created_at",
    "age_minutes",
    "window_start",
    "window_end",
    "sla_state",
    "urge_count",
    "offer_expires_at",
    "contact_name",
    "contact_mobile",
    "unassigned_reason",
)


def _csv_chunks(stmt: sa.Select) -> Iterator[str]:
    convert = row_for(stmt)
    zone = local_zone()
    out = io.StringIO()
    out.write("\ufeff")  # so spreadsheet programs read the Chinese names as UTF-8
    writer = csv_export.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    rows = db.session.execute(stmt.limit(CSV_MAX_ROWS).execution_options(yield_per=1000))
    for n, row in enumerate(rows, 1):
        item = convert(*row)
        for name, value in item.items():
            if isinstance(value, datetime):
                item[name] = value.astimezone(zone).isoformat(timespec="minutes")
        writer.writerow(item)
        if n % 1000 == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def csv_response(stmt: sa.Select) -> Response:
    """Every order of a console query (at most CSV_MAX_ROWS) as a CSV file, in local time,
    mobiles masked, every cell neutralised against formulas; streamed as it is read."""
    return Response(
        stream_with_context(_csv_chunks(stmt)),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=orders.csv"},
    )


def _failure(order_id: int, error: AppError) -> dict:
    return {
        "order_id": order_id,
        "ok": False,
        "status": (error.details or {}).get("current_status"),
        "error": {"code": error.code, "message": error.message, "message_zh": error.message_zh},
    }


@retry_transient
def _perform(principal: Principal, order_id: int, action: str, reason, engineer_id):
    return service.perform(principal, order_id, action, reason, engineer_id=engineer_id)


def bulk_act(
    principal: Principal,
    action: str,
    order_ids: list[int],
    engineer_id: int | None = None,
    reason: str | None = None,
) -> dict:
    """Take `action` (assign to `engineer_id`, or redispatch) on each order, one transaction
    each, through the order lifecycle: one order refused leaves the others' successes
    standing. Answers per order, in the order given."""
    if action == "assign":
        if db.session.get(Engineer, engineer_id) is None:
            raise InvalidInput(
                "Unknown engineer.",
                fields={"engineer_id": ["unknown"]},
                message_zh="工程师不存在",
            )
        require_engineer_in_region(principal, engineer_id)
        db.session.rollback()  # nothing held across the orders' own transactions
    results = []
    for order_id in order_ids:
        try:
            order = _perform(principal, order_id, action, reason, engineer_id)
        except AppError as error:
            db.session.rollback()
            results.append(_failure(order_id, error))
            continue
        except StaleDataError:
            db.session.rollback()
            conflict = AppError(
                "The order changed meanwhile; retry.",
                code="concurrent_update",
                message_zh="数据已被更新，请重试",
            )
            results.append(_failure(order_id, conflict))
            continue
        results.append({"order_id": order_id, "ok": True, "status": order.status, "error": None})
    succeeded = sum(1 for r in results if r["ok"])
    return {
        "action": action,
        "succeeded": succeeded,
        "failed": len(results) - succeeded,
        "results": results,
    }
