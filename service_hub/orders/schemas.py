"""Bodies of the order routes."""

import marshmallow as ma
from webargs.fields import DelimitedList

from models.order import ORDER_SOURCES, Acceptance, OrderStatus, SlaState
from service_hub.coupons.schemas import OrderCouponSchema
from service_hub.orders.console import BULK_ACTIONS, BULK_MAX, COUNT_CAP, CSV_MAX_ROWS, SORTS
from service_hub.orders.flags import ACTION_FLAGS, REVIEW_FLAG
from service_hub.plumbing.pagination import MAX_PAGE_SIZE, PageArgsSchema
from service_hub.plumbing.timefmt import NOW, TODAY, LocalDateTime


class OrderCreateSchema(ma.Schema):
    community_id = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1))
    service_type_id = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1))
    description = ma.fields.String(load_default="", validate=ma.validate.Length(max=1000))
    window_start = LocalDateTime(
        load_default=None, allow_none=True, past=TODAY, ahead="ORDER_WINDOW_MAX_DAYS_AHEAD"
    )
    window_end = LocalDateTime(
        load_default=None, allow_none=True, past=NOW, ahead="ORDER_WINDOW_MAX_DAYS_AHEAD"
    )
    preferred_engineer_id = ma.fields.Integer(
        load_default=None, allow_none=True, validate=ma.validate.Range(min=1)
    )
    photos = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(max=300)),
        load_default=list,
        validate=ma.validate.Length(max=9),
        metadata={"description": "URLs from POST /uploads"},
    )
    resident_id = ma.fields.Integer(
        load_default=None,
        metadata={"description": "managers only: the resident a phone or proactive order is for"},
    )
    source = ma.fields.String(
        load_default=None,
        validate=ma.validate.OneOf(["phone", "proactive"]),
        metadata={
            "description": "managers only (default phone); residents' orders are mini_program"
        },
    )
    coupon_id = ma.fields.Integer(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Range(min=1),
        metadata={"description": "one of the resident's coupons (GET /me/coupons) to use"},
    )
    address_id = ma.fields.Integer(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Range(min=1),
        metadata={
            "description": "the resident's address (GET /me/addresses) in this community; "
            "without it, their default address if it is here, else their only one here. "
            "The order keeps a copy (address_text, contact_name, contact_mobile)"
        },
    )


class OrderEventSchema(ma.Schema):
    """One step of the order, as the caller may see it (docs/privacy.md)."""

    action = ma.fields.String()
    label = ma.fields.String(metadata={"description": "the step in Chinese: 师傅已接单"})
    actor_kind = ma.fields.String(
        metadata={"enum": ["resident", "engineer", "manager", "admin", "system"]}
    )
    actor_id = ma.fields.Integer(
        allow_none=True, metadata={"description": "null for residents unless they acted"}
    )
    from_status = ma.fields.String(allow_none=True)
    to_status = ma.fields.String()
    reason = ma.fields.String(
        allow_none=True,
        metadata={
            "description": "the reason a person gave; the system's own reasons (English, "
            "internal) only to managers and admins"
        },
    )
    reason_zh = ma.fields.String(
        allow_none=True,
        metadata={"description": "the system's reason in Chinese, for a step it took"},
    )
    at = LocalDateTime()


class OrderEngineerSchema(ma.Schema):
    """The order's engineer as its cards show them."""

    id = ma.fields.Integer()
    name = ma.fields.String()
    photo_url = ma.fields.String(allow_none=True)


# What the caller may do now: a flag per action of POST /orders/{id}/{action}, and review.
OrderFlagsSchema = ma.Schema.from_dict(
    {
        **{
            flag: ma.fields.Boolean(
                metadata={
                    "description": f"the caller may take {action} now "
                    f"(POST /orders/{{order_id}}/{action}, given what it asks for)"
                }
            )
            for flag, action in ACTION_FLAGS.items()
        },
        REVIEW_FLAG: ma.fields.Boolean(
            metadata={"description": "the caller may review it now (POST /orders/{id}/review)"}
        ),
    },
    name="OrderFlagsSchema",
)


class OrderSchema(OrderFlagsSchema):
    id = ma.fields.Integer()
    resident_id = ma.fields.Integer()
    community_id = ma.fields.Integer()
    service_type_id = ma.fields.Integer()
    engineer_id = ma.fields.Integer(allow_none=True)
    preferred_engineer_id = ma.fields.Integer(allow_none=True)
    status = ma.fields.String()
    status_label = ma.fields.String(metadata={"description": "the state in Chinese: 师傅已接单"})
    source = ma.fields.String(metadata={"enum": list(ORDER_SOURCES)})
    description = ma.fields.String()
    photos = ma.fields.List(ma.fields.String())
    window_start = LocalDateTime(allow_none=True)
    window_end = LocalDateTime(allow_none=True)
    dispatch_breakdown = ma.fields.Dict(
        allow_none=True,
        metadata={
            "description": "managers and admins: why this engineer was chosen (scores, "
            "weights, distance, candidates rejected and why); null for residents and "
            "engineers (an engineer's own is on their offer)"
        },
    )
    unassigned_reason = ma.fields.String(
        allow_none=True,
        metadata={"description": "managers and admins: why dispatch found nobody (codes)"},
    )
    complaint = ma.fields.String(allow_none=True)
    version = ma.fields.Integer(metadata={"description": "send as If-Match to act safely"})
    created_at = LocalDateTime()
    accepted_at = LocalDateTime(allow_none=True)
    completed_at = LocalDateTime(allow_none=True)
    coupon = ma.fields.Nested(  # coupons: reserved while open, spent on acceptance
        OrderCouponSchema, allow_none=True, metadata={"description": "the coupon it holds"}
    )
    # Where and who (service_hub/orders/cards.py): what an engineer decides and drives on,
    # and what a resident's list row shows without another call.
    service_name = ma.fields.String()
    list_price_cents = ma.fields.Integer(
        metadata={
            "description": "the service's list price in fen (1/100 yuan), as the catalogue "
            "has it now; what is paid may differ (coupon, parts)"
        }
    )
    engineer = ma.fields.Nested(
        OrderEngineerSchema,
        allow_none=True,
        metadata={"description": "the engineer who took it: name and photo (null until then)"},
    )
    community_name = ma.fields.String()
    community_address = ma.fields.String(metadata={"description": "district and street"})
    community_lat = ma.fields.Float(metadata={"description": "GCJ-02 (docs/privacy.md)"})
    community_lng = ma.fields.Float(metadata={"description": "GCJ-02 (docs/privacy.md)"})
    map_url = ma.fields.String(
        metadata={"description": "Amap marker link for the community (GCJ-02, coordinate=gaode)"}
    )
    address_id = ma.fields.Integer(allow_none=True)
    address_text = ma.fields.String(
        allow_none=True,
        metadata={"description": "copied at creation: 小区 街道地址 楼栋单元室"},
    )
    contact_name = ma.fields.String(allow_none=True)
    contact_mobile = ma.fields.String(
        allow_none=True,
        metadata={
            "description": "in full only to the assigned engineer while the order is open and "
            "to its resident; masked (138****8000) otherwise (docs/privacy.md)"
        },
    )
    completion_photos = ma.fields.List(
        ma.fields.String(), metadata={"description": "the engineer's photos of the finished work"}
    )
    completion_note = ma.fields.String(
        allow_none=True, metadata={"description": "the engineer's note on what was done"}
    )
    # The resident's acceptance (完工验收): GET /orders/{id}/report has the whole of it.
    acceptance = ma.fields.String(
        allow_none=True,
        metadata={
            "enum": [*(a.value for a in Acceptance), None],
            "description": "null before completion; pending: waiting for the resident "
            "(confirm or dispute; confirmed by itself after ACCEPTANCE_AUTO_HOURS); "
            "confirmed, auto_confirmed: the work counts as done; disputed",
        },
    )
    confirmed_at = LocalDateTime(allow_none=True, metadata={"description": "work accepted"})
    signature_url = ma.fields.String(
        allow_none=True, metadata={"description": "the resident's signature (an upload)"}
    )
    disputed_at = LocalDateTime(allow_none=True)
    dispute_reason = ma.fields.String(allow_none=True)
    dispute_photos = ma.fields.List(ma.fields.String())
    # Promises kept (SLA, docs/sla.md): deadlines from the service type's targets.
    started_at = LocalDateTime(allow_none=True, metadata={"description": "engineer arrived"})
    accept_due_at = LocalDateTime(
        allow_none=True, metadata={"description": "an engineer accepts by then (created + target)"}
    )
    arrive_due_at = LocalDateTime(
        allow_none=True,
        metadata={
            "description": "the engineer arrives by then (window start, else acceptance, "
            "+ target); moves with the window"
        },
    )
    complete_due_at = LocalDateTime(
        allow_none=True, metadata={"description": "the work is done by then (started + target)"}
    )
    sla_state = ma.fields.String(
        metadata={
            "enum": [s.value for s in SlaState],
            "description": "at_risk: the current step's deadline is near; breached: a step "
            "missed its deadline (stays breached)",
        }
    )
    sla_breached_at = LocalDateTime(allow_none=True, metadata={"description": "first breach"})
    urge_count = ma.fields.Integer(metadata={"description": "times the resident urged (催单)"})
    last_urged_at = LocalDateTime(allow_none=True)
    reschedule_count = ma.fields.Integer(
        metadata={"description": "times the resident moved the window (at most 2)"}
    )
    proposed_window_start = LocalDateTime(
        allow_none=True,
        metadata={"description": "a window the engineer proposes, until the resident answers"},
    )
    proposed_window_end = LocalDateTime(allow_none=True)
    parent_order_id = ma.fields.Integer(
        allow_none=True, metadata={"description": "a second visit (二次上门): the first order"}
    )


class OrderDetailSchema(OrderSchema):
    timeline = ma.fields.List(ma.fields.Nested(OrderEventSchema))


class OrderActionSchema(ma.Schema):
    reason = ma.fields.String(
        load_default=None, allow_none=True, validate=ma.validate.Length(max=300)
    )
    engineer_id = ma.fields.Integer(
        load_default=None, allow_none=True, metadata={"description": "for assign (managers)"}
    )
    photos = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(max=300)),
        load_default=list,
        validate=ma.validate.Length(max=9),
        metadata={
            "description": "complete: photos of the finished work; dispute: photos of what "
            "is wrong (POST /uploads)"
        },
    )
    # Completion evidence and the resident's acceptance (完工验收, service_hub/completion).
    answers = ma.fields.Dict(
        keys=ma.fields.String(validate=ma.validate.Length(min=1, max=32)),
        values=ma.fields.Raw(allow_none=True),
        load_default=None,
        allow_none=True,
        validate=ma.validate.Length(max=30),
        metadata={
            "description": "complete only: the checklist's answers by item key (as PUT "
            "/orders/{id}/checklist takes them); absent: those saved before"
        },
    )
    note = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Length(max=500),
        metadata={"description": "complete only: what was done (完工说明)"},
    )
    signature_url = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Length(max=300),
        metadata={
            "description": "confirm only: the resident's handwritten signature, an image "
            "uploaded through POST /uploads"
        },
    )
    window_start = LocalDateTime(
        load_default=None,
        allow_none=True,
        past=NOW,
        ahead="ORDER_WINDOW_MAX_DAYS_AHEAD",
        metadata={
            "description": "reschedule, propose-window (required), second-visit: the new window"
        },
    )
    window_end = LocalDateTime(
        load_default=None, allow_none=True, past=NOW, ahead="ORDER_WINDOW_MAX_DAYS_AHEAD"
    )

    @ma.validates_schema
    def _window_in_order(self, data, **kwargs):
        start, end = data.get("window_start"), data.get("window_end")
        if start is not None and end is not None and end <= start:
            raise ma.ValidationError("must be after window_start", "window_end")


class OfferSummarySchema(ma.Schema):
    """What an engineer decides an offer on, without fetching the order."""

    service_name = ma.fields.String()
    community_name = ma.fields.String()
    community_address = ma.fields.String(metadata={"description": "district and street"})
    community_lat = ma.fields.Float(metadata={"description": "GCJ-02"})
    community_lng = ma.fields.Float(metadata={"description": "GCJ-02"})
    map_url = ma.fields.String(metadata={"description": "Amap marker link (GCJ-02)"})
    address_text = ma.fields.String(allow_none=True)
    window_start = LocalDateTime(allow_none=True)
    window_end = LocalDateTime(allow_none=True)
    distance_km = ma.fields.Float(
        metadata={"description": "from my base to the community (great circle)"}
    )
    description = ma.fields.String()
    photos = ma.fields.List(ma.fields.String())
    contact_name = ma.fields.String(allow_none=True)
    contact_mobile = ma.fields.String(
        allow_none=True, metadata={"description": "masked until I accept (138****8000)"}
    )


class OfferSchema(ma.Schema):
    id = ma.fields.Integer()
    order_id = ma.fields.Integer()
    status = ma.fields.String()
    dispatch_breakdown = ma.fields.Dict()
    offered_at = LocalDateTime()
    expires_at = LocalDateTime()
    summary = ma.fields.Nested(OfferSummarySchema)


class MyOrdersArgs(PageArgsSchema):
    """Filter and page of GET /me/orders."""

    status = DelimitedList(
        ma.fields.String(validate=ma.validate.OneOf([s.value for s in OrderStatus])),
        load_default=list,
        validate=ma.validate.Length(max=len(OrderStatus)),
        metadata={"description": "only orders in one of these states, comma-separated"},
    )


# --- the managers' order console (GET /orders, POST /orders/bulk; orders/console.py) ---------


# An id as the database holds it (32-bit): a bigger one is a 422 here, not a failed statement.
ID = ma.validate.Range(min=1, max=2**31 - 1)


class OrderConsoleArgs(ma.Schema):
    """Filters, sort and page of GET /orders."""

    status = DelimitedList(
        ma.fields.String(validate=ma.validate.OneOf([s.value for s in OrderStatus])),
        validate=ma.validate.Length(min=1, max=len(OrderStatus)),
        metadata={"description": "one or several states, comma-separated"},
    )
    community_id = ma.fields.Integer(load_default=None, validate=ID)
    engineer_id = ma.fields.Integer(load_default=None, validate=ID)
    source = ma.fields.String(load_default=None, validate=ma.validate.OneOf(ORDER_SOURCES))
    created_from = LocalDateTime(
        load_default=None, metadata={"description": "created at or after (with offset)"}
    )
    created_to = LocalDateTime(
        load_default=None, metadata={"description": "created before (with offset)"}
    )
    sla_state = ma.fields.String(
        load_default=None, validate=ma.validate.OneOf([s.value for s in SlaState])
    )
    urged = ma.fields.Boolean(
        load_default=None, metadata={"description": "true: urged (催单) at least once"}
    )
    unassigned = ma.fields.Boolean(
        load_default=None,
        metadata={"description": "true: still waiting for an engineer (none holds it)"},
    )
    offer_expiring_within = ma.fields.Integer(
        load_default=None,
        validate=ma.validate.Range(min=1, max=24 * 60),
        metadata={"description": "minutes: offered orders whose pending offer expires by then"},
    )
    sort = ma.fields.String(
        load_default="created_at",
        validate=ma.validate.OneOf(list(SORTS)),
        metadata={"description": "created_at (age), window_start, updated_at"},
    )
    order = ma.fields.String(
        load_default="asc",
        validate=ma.validate.OneOf(["asc", "desc"]),
        metadata={"description": "asc: oldest (earliest) first"},
    )
    format = ma.fields.String(
        load_default="json",
        validate=ma.validate.OneOf(["json", "csv"]),
        metadata={"description": f"csv: every match (at most {CSV_MAX_ROWS}) as a file"},
    )
    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1, max=COUNT_CAP))
    page_size = ma.fields.Integer(
        load_default=20, validate=ma.validate.Range(min=1, max=MAX_PAGE_SIZE)
    )

    @ma.validates_schema
    def _coherent(self, data, **kwargs):
        start, end = data.get("created_from"), data.get("created_to")
        if start is not None and end is not None and end <= start:
            raise ma.ValidationError("must be after created_from", "created_to")
        if (data.get("page", 1) - 1) * data.get("page_size", 20) >= COUNT_CAP:
            raise ma.ValidationError(
                f"pages reach the first {COUNT_CAP} matches; narrow the filters or export CSV",
                "page",
            )


class OrderConsoleRowSchema(ma.Schema):
    """One order as the console lists it."""

    id = ma.fields.Integer()
    status = ma.fields.String(metadata={"enum": [s.value for s in OrderStatus]})
    source = ma.fields.String(metadata={"enum": list(ORDER_SOURCES)})
    service_type_id = ma.fields.Integer()
    service_name = ma.fields.String(allow_none=True)
    community_id = ma.fields.Integer()
    community_name = ma.fields.String()
    engineer_id = ma.fields.Integer(allow_none=True)
    engineer_name = ma.fields.String(allow_none=True)
    created_at = LocalDateTime()
    updated_at = LocalDateTime()
    age_minutes = ma.fields.Integer(metadata={"description": "minutes since it was created"})
    window_start = LocalDateTime(allow_none=True)
    window_end = LocalDateTime(allow_none=True)
    sla_state = ma.fields.String(metadata={"enum": [s.value for s in SlaState]})
    urge_count = ma.fields.Integer(metadata={"description": "times the resident urged (催单)"})
    unassigned_reason = ma.fields.String(allow_none=True)
    contact_name = ma.fields.String(allow_none=True)
    contact_mobile = ma.fields.String(
        allow_none=True, metadata={"description": "always masked here: 138****8000"}
    )
    offer_expires_at = LocalDateTime(
        allow_none=True, metadata={"description": "when its pending offer expires, if any"}
    )


class OrderBulkSchema(ma.Schema):
    """POST /orders/bulk: one action on up to 100 orders."""

    action = ma.fields.String(required=True, validate=ma.validate.OneOf(BULK_ACTIONS))
    order_ids = ma.fields.List(
        ma.fields.Integer(validate=ID),
        required=True,
        validate=ma.validate.Length(min=1, max=BULK_MAX),
    )
    engineer_id = ma.fields.Integer(
        load_default=None,
        validate=ID,
        metadata={"description": "assign: the engineer (serving the orders' communities)"},
    )
    reason = ma.fields.String(
        load_default=None, allow_none=True, validate=ma.validate.Length(max=300)
    )

    @ma.validates_schema
    def _coherent(self, data, **kwargs):
        ids = data.get("order_ids") or []
        if len(set(ids)) != len(ids):
            raise ma.ValidationError("each order once", "order_ids")
        if data.get("action") == "assign" and data.get("engineer_id") is None:
            raise ma.ValidationError("required to assign", "engineer_id")
        if data.get("action") == "redispatch" and data.get("engineer_id") is not None:
            raise ma.ValidationError("only for assign", "engineer_id")


class BulkErrorSchema(ma.Schema):
    code = ma.fields.String(metadata={"description": "illegal_transition, order_not_found …"})
    message = ma.fields.String()
    message_zh = ma.fields.String(allow_none=True)


class BulkResultSchema(ma.Schema):
    order_id = ma.fields.Integer()
    ok = ma.fields.Boolean()
    status = ma.fields.String(
        allow_none=True, metadata={"description": "the order's state after (or when refused)"}
    )
    error = ma.fields.Nested(BulkErrorSchema, allow_none=True)


class OrderBulkResultSchema(ma.Schema):
    action = ma.fields.String()
    succeeded = ma.fields.Integer()
    failed = ma.fields.Integer()
    results = ma.fields.List(
        ma.fields.Nested(BulkResultSchema), metadata={"description": "per order, as given"}
    )
