"""Routes of service_hub.butler (being written)."""

from flask_smorest import Blueprint

blp = Blueprint("butler", __name__, description="butler")
