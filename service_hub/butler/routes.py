"""Butler binding (管家关系): engineers show a code, residents scan it and bind."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from service_hub.auth.access import current_principal, requires
from service_hub.butler import service
from service_hub.butler.schemas import (
    BindArgsSchema,
    BindCodeSchema,
    BindResultSchema,
    ButlerBindingSchema,
)
from service_hub.plumbing.errors import Forbidden
from service_hub.plumbing.ratelimit import limit

blp = Blueprint(
    "butler", __name__, description="Butler binding: an engineer's code, a resident's scan"
)

BIND_RULES = """A resident scans an engineer's binding code (the mini-program receives its
`scene`) and sends the scene here. The code is consumed in the same transaction as the binding.

Rules when the resident already has a butler (latest scan wins):
- the **same** engineer: nothing changes, 200 with `outcome` `already_bound` (the code is
  consumed all the same);
- a **different** engineer: the old binding ends (`end_reason` `replaced`) and the new one is
  made, 201 with `outcome` `replaced` and `replaced_engineer_id`.
Sending a scene I used again while its engineer is still my butler (a lost answer,
retried) returns that binding (200).

Errors: 404 `bind_code_unknown`; 409 `bind_code_used` (someone already used it); 410
`bind_code_expired`; 409 `bind_conflict` (parallel binds of this resident kept colliding;
retry)."""

CODE_RULES = """A single-use code valid for `BUTLER_CODE_TTL_SECONDS` (300 s by default), with the
mini-program QR (`getwxacodeunlimit`, opening `page` with this `scene`) as base64 PNG. The code
is stored only after WeChat has drawn the QR, so a failure leaves nothing usable.

Errors: 429 `bind_codes_limit` when I already hold `BUTLER_MAX_OPEN_CODES` (10) unused,
unexpired codes (`Retry-After`: until the oldest expires); 502 `wechat_qr_failed` when WeChat
refuses the call, 503 `wechat_qr_failed` (with `Retry-After`) when it is busy, over quota or
unreachable. A token WeChat calls invalid (40001/42001) is refreshed and retried once."""


def _binding_item(binding, engineer) -> dict:
    return {"binding_id": binding.id, "engineer": engineer, "bound_at": binding.created_at}


def _resident_id() -> int:
    """The calling resident's id (an admin passes requires() but is no resident)."""
    principal = current_principal()
    if principal.kind != "resident":
        raise Forbidden("This action is for residents.", code="role_forbidden")
    return principal.id


def _engineer_id() -> int:
    """The calling engineer's id (an admin passes requires() but has no engineer profile)."""
    engineer_id = current_principal().engineer_id
    if engineer_id is None:
        raise Forbidden("This action is for engineers.", code="role_forbidden")
    return engineer_id


@blp.route("/engineers/me/bind-codes")
class MyBindCodes(MethodView):
    @requires(blp, "engineer")
    @blp.response(201, BindCodeSchema)
    @blp.alt_response(
        429, response="TOO_MANY_REQUESTS", description="`bind_codes_limit`, or rate limited"
    )
    @blp.alt_response(502, response="BAD_GATEWAY", description="`wechat_qr_failed`")
    @blp.alt_response(
        503, response="SERVICE_UNAVAILABLE", description="`wechat_qr_failed` (retry later)"
    )
    @blp.doc(description=CODE_RULES)
    @limit("bind_code")
    def post(self):
        """A fresh butler binding code with its mini-program QR, for a resident to scan."""
        return service.create_bind_code(_engineer_id()), 201


@blp.route("/butler/bind")
class Bind(MethodView):
    @requires(blp, "resident")
    @blp.arguments(BindArgsSchema)
    @blp.response(201, BindResultSchema)
    @blp.alt_response(
        200, schema=BindResultSchema, description="already bound to this engineer", success=True
    )
    @blp.alt_response(404, response="NOT_FOUND", description="`bind_code_unknown`")
    @blp.alt_response(409, response="CONFLICT", description="`bind_code_used`, or `bind_conflict`")
    @blp.alt_response(410, response="GONE", description="`bind_code_expired`")
    @blp.alt_response(429, response="TOO_MANY_REQUESTS", description="rate limited")
    @blp.doc(description=BIND_RULES)
    @limit("bind")
    def post(self, args):
        """Bind me to the engineer behind a scanned code: they become my butler."""
        result = service.bind(_resident_id(), args["scene"])
        body = {
            **_binding_item(result.binding, result.engineer),
            "outcome": result.outcome,
            "replaced_engineer_id": result.replaced_engineer_id,
        }
        return body, 201 if result.created else 200


@blp.route("/me/butler")
class MyButler(MethodView):
    @requires(blp, "resident")
    @blp.response(200, ButlerBindingSchema)
    @blp.alt_response(404, response="NOT_FOUND", description="`no_butler`")
    def get(self):
        """My butler: the engineer I am bound to."""
        return _binding_item(*service.my_butler(_resident_id()))

    @requires(blp, "resident")
    @blp.response(204)
    @blp.doc(
        description="Ends the binding (`end_reason` `unbound_by_resident`); harmless "
        "when I have none."
    )
    def delete(self):
        """Stop having a butler."""
        service.unbind(_resident_id())
