"""Routes of service_hub.coupons (being written)."""

from flask_smorest import Blueprint

blp = Blueprint("coupons", __name__, description="coupons")
