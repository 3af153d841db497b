"""Bodies of the points routes: ledger lines and the page with its balance."""

from __future__ import annotations

import marshmallow as ma

from service_hub.plumbing.pagination import page_schema
from service_hub.plumbing.timefmt import LocalDateTime


class PointsEntrySchema(ma.Schema):
    points = ma.fields.Integer(required=True)
    reason = ma.fields.String(
        required=True, metadata={"description": "order_completed, butler_order, …"}
    )
    source_event = ma.fields.String(required=True, metadata={"description": "e.g. order:42:butler"})
    created_at = LocalDateTime(required=True)


class PointsPageSchema(page_schema(PointsEntrySchema)):
    balance = ma.fields.Integer(required=True)
