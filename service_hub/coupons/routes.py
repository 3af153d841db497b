"""Coupons: campaigns and their preview (managers), claiming and my coupons (residents),
and participation reward rules.

`{campaign_id}` in `POST /coupons/{campaign_id}/claim` is a campaign's id: a resident
claims a coupon *from a campaign*; the coupon issued has its own id (GET /me/coupons) and
that is what an order names as `coupon_id`.
"""

from flask.views import MethodView
from flask_smorest import Blueprint

from service_hub.auth.access import current_principal, requires
from service_hub.coupons import campaigns, rewards, service
from service_hub.coupons.schemas import (
    CampaignCreateSchema,
    CampaignDetailSchema,
    CampaignListArgs,
    CampaignSchema,
    ClaimableSchema,
    ClaimBodySchema,
    CouponSchema,
    MyCouponsArgs,
    PreviewBodySchema,
    PreviewSchema,
    RewardRuleCreateSchema,
    RewardRuleSchema,
)
from service_hub.plumbing.errors import ErrorSchema, NotFound
from service_hub.plumbing.idempotency import idempotency_key, parameter, request_fingerprint
from service_hub.plumbing.pagination import PageArgsSchema, page_schema, paginate
from service_hub.plumbing.ratelimit import limit

blp = Blueprint(
    "coupons", __name__, description="Coupons that differ per community: campaigns and claims"
)

IDEMPOTENCY_PARAMETER = parameter("a repeat returns the first coupon (200)")


@blp.route("/coupon-campaigns")
class Campaigns(MethodView):
    @requires(blp, "manager")
    @blp.arguments(CampaignListArgs, location="query")
    @blp.response(200, page_schema(CampaignSchema))
    def get(self, args):
        """The campaigns I manage (my region's, or all for unscoped managers), newest first."""
        return paginate(campaigns.campaigns_query(current_principal(), args.pop("status")), **args)

    @requires(blp, "manager")
    @blp.arguments(CampaignCreateSchema)
    @blp.response(201, CampaignSchema)
    def post(self, args):
        """Create a campaign as a draft: discount, services, stock, per-resident limit,
        validity and targeting. Preview it, then activate it."""
        return campaigns.create_campaign(current_principal(), args)


@blp.route("/coupon-campaigns/preview")
class RulesPreview(MethodView):
    @requires(blp, "manager")
    @blp.arguments(PreviewBodySchema)
    @blp.response(200, PreviewSchema)
    def post(self, args):
        """How many communities and residents these targeting rules reach now (nothing is
        stored)."""
        return campaigns.preview_rules(current_principal(), args["targeting"])


@blp.route("/coupon-campaigns/<int:campaign_id>")
class CampaignDetail(MethodView):
    @requires(blp, "manager")
    @blp.response(200, CampaignDetailSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, campaign_id: int):
        """A campaign, with its issued coupons counted by state."""
        return campaigns.get_campaign_for(current_principal(), campaign_id)


@blp.route("/coupon-campaigns/<int:campaign_id>/preview")
class CampaignPreview(MethodView):
    @requires(blp, "manager")
    @blp.response(200, PreviewSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, campaign_id: int):
        """How many communities and residents this campaign reaches now."""
        return campaigns.preview_campaign(current_principal(), campaign_id)


@blp.route("/coupon-campaigns/<int:campaign_id>/<string:action>")
class CampaignAction(MethodView):
    @requires(blp, "manager")
    @blp.response(200, CampaignSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT", description="illegal transition")
    @blp.doc(
        parameters=[
            {
                "in": "path",
                "name": "action",
                "required": True,
                "schema": {"type": "string", "enum": list(campaigns.TRANSITIONS)},
            }
        ]
    )
    def post(self, campaign_id: int, action: str):
        """activate (a draft, or resume a paused one), pause, or end a campaign."""
        if action not in campaigns.TRANSITIONS:
            raise NotFound(f"No campaign action {action!r}.", code="unknown_action")
        return campaigns.change_status(current_principal(), campaign_id, action)


@blp.route("/communities/<int:community_id>/coupons")
class CommunityCoupons(MethodView):
    @requires(blp, "resident", "manager")
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, page_schema(ClaimableSchema))
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, page_args, community_id: int):
        """What I may claim now as a resident of this community (bound residents); managers
        of its region see what its residents are offered."""
        items = service.community_coupons(current_principal(), community_id)
        page, size = page_args["page"], page_args["page_size"]
        return {
            "items": items[(page - 1) * size : page * size],
            "page": page,
            "page_size": size,
            "total": len(items),
        }


@blp.route("/coupons/<int:campaign_id>/claim")
class Claim(MethodView):
    @requires(blp, "resident")
    @blp.arguments(ClaimBodySchema(), required=False)
    @blp.response(201, CouponSchema)
    @blp.alt_response(
        200, schema=CouponSchema, description="repeat of an Idempotency-Key", success=True
    )
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT", description="out of stock, limit, not open")
    @blp.alt_response(
        422,
        schema=ErrorSchema,
        description="validation_error, or idempotency_key_reused (the key came before with "
        "a different request)",
    )
    @blp.alt_response(429, response="TOO_MANY_REQUESTS", description="rate limited")
    @blp.doc(parameters=[IDEMPOTENCY_PARAMETER])
    @limit("claim")
    def post(self, args, campaign_id: int):
        """Claim a coupon from campaign {campaign_id}: atomic against its stock and my limit."""
        coupon, created = service.claim(
            current_principal().id,
            campaign_id,
            idempotency_key(),
            args.get("community_id"),
            request_fingerprint=request_fingerprint(),
        )
        return coupon, 201 if created else 200


@blp.route("/me/coupons")
class MyCoupons(MethodView):
    @requires(blp, "resident")
    @blp.arguments(MyCouponsArgs, location="query")
    @blp.response(200, page_schema(CouponSchema))
    def get(self, args):
        """My coupons, newest first; state is decided by the clock when read."""
        query = service.my_coupons_query(current_principal().id, args.pop("state"))
        return paginate(query, **args)


@blp.route("/coupon-reward-rules")
class RewardRules(MethodView):
    @requires(blp, "manager")
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, page_schema(RewardRuleSchema))
    def get(self, page_args):
        """Participation reward rules of the campaigns I manage."""
        return paginate(rewards.rules_query(current_principal()), **page_args)

    @requires(blp, "manager")
    @blp.arguments(RewardRuleCreateSchema)
    @blp.response(201, RewardRuleSchema)
    @blp.alt_response(200, schema=RewardRuleSchema, description="already existed", success=True)
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, args):
        """Make an event (review with photos, activity attended, first community bound) grant
        a coupon of a reward campaign."""
        rule, created = rewards.create_rule(current_principal(), args["event"], args["campaign_id"])
        return rule, 201 if created else 200


@blp.route("/coupon-reward-rules/<int:rule_id>")
class RewardRule(MethodView):
    @requires(blp, "manager")
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, rule_id: int):
        """Stop a rule granting (it is kept, inactive)."""
        rewards.deactivate_rule(current_principal(), rule_id)
