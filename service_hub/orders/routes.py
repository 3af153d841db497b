"""Orders: create, read with timeline, act on; engineers' open offers."""

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint

from service_hub.auth.access import current_principal, requires
from service_hub.orders import cards, console, service
from service_hub.orders.schemas import (
    MyOrdersArgs,
    OfferSchema,
    OrderActionSchema,
    OrderBulkResultSchema,
    OrderBulkSchema,
    OrderConsoleArgs,
    OrderConsoleRowSchema,
    OrderCreateSchema,
    OrderDetailSchema,
    OrderSchema,
)
from service_hub.orders.timeline import timeline_for
from service_hub.plumbing.errors import ErrorSchema, InvalidInput, NotFound
from service_hub.plumbing.idempotency import idempotency_key, parameter, request_fingerprint
from service_hub.plumbing.pagination import (
    PageArgsSchema,
    capped_page_schema,
    page_schema,
    paginate,
    paginate_capped,
)

blp = Blueprint("orders", __name__, description="Service orders and their lifecycle")


def _if_match() -> int | None:
    value = request.headers.get("If-Match")
    if value is None:
        return None
    try:
        return int(value.strip('W/"'))
    except ValueError as exc:
        raise InvalidInput(
            "If-Match carries the order's version number.", fields={"If-Match": ["not a version"]}
        ) from exc


def _detail(order):
    principal = current_principal()
    return {**cards.order_card(principal, order), "timeline": timeline_for(principal, order.id)}


@blp.route("/orders")
class Orders(MethodView):
    @requires(blp, "manager")
    @blp.arguments(OrderConsoleArgs, location="query")
    @blp.response(
        200,
        capped_page_schema(OrderConsoleRowSchema),
        description="JSON page; with format=csv a text/csv file of every match",
    )
    @blp.doc(responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}})
    def get(self, args):
        """The managers' order console: orders of my region (admins: all), filtered, sorted
        and paged; contact mobiles masked. format=csv exports every match."""
        principal = current_principal()
        stmt = console.console_query(principal, args)
        if args["format"] == "csv":
            return console.csv_response(stmt)
        return paginate_capped(
            stmt, args["page"], args["page_size"], console.COUNT_CAP, console.row_for(stmt)
        )

    @requires(blp, "resident", "manager")
    @blp.arguments(OrderCreateSchema)
    @blp.response(201, OrderDetailSchema)
    @blp.alt_response(
        200, schema=OrderDetailSchema, description="repeat of an Idempotency-Key", success=True
    )
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT", description="coupon_in_use")
    @blp.alt_response(
        422,
        schema=ErrorSchema,
        description="validation_error, or idempotency_key_reused (the key came before with "
        "a different request)",
    )
    @blp.doc(parameters=[parameter("a repeat returns the first order (200)")])
    def post(self, args):
        """Request a service in one of my communities; dispatch starts at once. Managers
        record phone or proactive orders for a resident (resident_id, source)."""
        principal = current_principal()
        resident_id, source = service.order_origin(
            principal, args.pop("resident_id"), args.pop("source"), args["community_id"]
        )
        order, created = service.create_order(
            resident_id,
            idempotency_key=idempotency_key(),
            request_fingerprint=request_fingerprint(),
            source=source,
            **args,
        )
        return _detail(order), 201 if created else 200


@blp.route("/orders/bulk")
class OrdersBulk(MethodView):
    @requires(blp, "manager")
    @blp.arguments(OrderBulkSchema)
    @blp.response(200, OrderBulkResultSchema)
    def post(self, args):
        """Assign (to engineer_id) or redispatch up to 100 orders at once, each through the
        order lifecycle in its own transaction: answers per order (ok, or the error code of
        that order: illegal_transition, order_not_found …); one refusal never undoes another
        order's success."""
        return console.bulk_act(current_principal(), **args)


@blp.route("/orders/<int:order_id>")
class OrderDetail(MethodView):
    @requires(blp, "resident", "engineer", "manager")
    @blp.response(200, OrderDetailSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, order_id: int):
        """An order with its timeline (owner, its engineer, managers of its region)."""
        order = service.get_order_for(current_principal(), order_id)
        return _detail(order), 200, {"ETag": f'"{order.version}"'}


@blp.route("/orders/<int:order_id>/<string:action>")
class OrderAction(MethodView):
    @requires(blp, "resident", "engineer", "manager")
    @blp.arguments(OrderActionSchema)
    @blp.response(200, OrderSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(
        409, response="CONFLICT", description="illegal transition; see current_status"
    )
    @blp.alt_response(412, response="PRECONDITION_FAILED", description="If-Match version is stale")
    @blp.alt_response(
        429,
        schema=ErrorSchema,
        description="urge_too_soon: urged less than 10 minutes ago (see Retry-After)",
    )
    @blp.doc(
        parameters=[
            {"in": "header", "name": "If-Match", "required": False, "schema": {"type": "string"}},
            {
                "in": "path",
                "name": "action",
                "required": True,
                "schema": {"type": "string", "enum": list(service.ORDER_ACTIONS)},
            },
        ]
    )
    def post(self, args, order_id: int, action: str):
        """accept, decline, en-route, start, complete, cancel, complain; managers: assign
        (with engineer_id) or redispatch an order, typically an unassigned one. Promises
        (docs/sla.md): the resident urges (催单, at most 5 times, 10 minutes apart) or
        reschedules (new window and a reason, at most twice); the engineer proposes a window
        (propose-window), which the resident accepts (accept-window) or declines
        (decline-window); second-visit (二次上门) books a return to a completed order and
        answers with the new order."""
        if action not in service.ORDER_ACTIONS:
            raise NotFound(f"No order action {action!r}.", code="unknown_action")
        order = service.perform(
            current_principal(),
            order_id,
            action,
            args["reason"],
            _if_match(),
            engineer_id=args["engineer_id"],
            photos=args["photos"],
            window_start=args["window_start"],
            window_end=args["window_end"],
            answers=args["answers"],
            note=args["note"],
            signature_url=args["signature_url"],
        )
        return cards.order_card(current_principal(), order)


@blp.route("/me/orders")
class MyOrders(MethodView):
    @requires(blp, "resident", "engineer")
    @blp.arguments(MyOrdersArgs, location="query")
    @blp.response(200, page_schema(OrderSchema))
    def get(self, args):
        """My orders (a resident's requests, or an engineer's assignments), newest first;
        `status` keeps those in one of the given states."""
        query = service.my_orders_query(current_principal(), args.pop("status"))
        page = paginate(query, **args)
        return {**page, "items": cards.order_cards(current_principal(), page["items"])}


@blp.route("/engineers/me/offers")
class MyOffers(MethodView):
    @requires(blp, "engineer")
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, page_schema(OfferSchema))
    def get(self, page_args):
        """My open offers, soonest to expire first, each with the summary I decide on
        (service, community and address, window, distance, description, photos)."""
        principal = current_principal()
        query = cards.open_offers_query(principal.engineer_id)
        return paginate(query, **page_args, row_to_item=cards.offer_card_builder(principal))
