"""Routes of service_hub.points (being written)."""

from flask_smorest import Blueprint

blp = Blueprint("points", __name__, description="points")
