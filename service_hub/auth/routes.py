"""POST /auth/wechat-login and /auth/staff-login."""

from flask.views import MethodView
from flask_smorest import Blueprint

from service_hub.auth import service
from service_hub.auth.access import current_principal, requires
from service_hub.auth.schemas import (
    ResidentProfileSchema,
    StaffLoginSchema,
    TokenSchema,
    WeChatLoginSchema,
)
from service_hub.plumbing.ratelimit import address_of_caller, limit

blp = Blueprint("auth", __name__, description="Sign in: residents via WeChat, staff by password")


@blp.route("/auth/wechat-login")
class WeChatLogin(MethodView):
    @blp.arguments(WeChatLoginSchema)
    @blp.response(200, TokenSchema)
    @blp.alt_response(401, response="UNAUTHORIZED", description="code invalid or used (40029)")
    @blp.alt_response(403, response="FORBIDDEN", description="user blocked by WeChat (40226)")
    @blp.alt_response(
        429, response="TOO_MANY_REQUESTS", description="rate limited: ours, or WeChat's (45011)"
    )
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE", description="WeChat busy (-1)")
    @limit("login")
    def post(self, args):
        """Exchange a wx.login code for our token (the session_key stays on the server)."""
        return service.login_resident(args["code"])


@blp.route("/auth/staff-login")
class StaffLogin(MethodView):
    @blp.arguments(StaffLoginSchema)
    @blp.response(200, TokenSchema)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(
        429,
        response="TOO_MANY_REQUESTS",
        description="rate limited, or `login_locked` after repeated failures (see Retry-After)",
    )
    @limit("login")
    def post(self, args):
        """Engineers, managers and admins sign in with username (or phone) and password."""
        return service.login_staff(args["login"], args["password"], address_of_caller())


@blp.route("/me")
class MyProfile(MethodView):
    @requires(blp, "resident")
    @blp.response(200, ResidentProfileSchema)
    def get(self):
        """My profile (nickname and avatar are optional: WeChat no longer provides them)."""
        return service.get_resident(current_principal().id)

    @requires(blp, "resident")
    @blp.arguments(ResidentProfileSchema)
    @blp.response(200, ResidentProfileSchema)
    def patch(self, changes):
        """Set my nickname or avatar (null clears it)."""
        return service.update_resident(current_principal().id, changes)
