"""Routes of service_hub.activities (being written)."""

from flask_smorest import Blueprint

blp = Blueprint("activities", __name__, description="activities")
