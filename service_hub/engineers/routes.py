"""Routes of service_hub.engineers (being written)."""

from flask_smorest import Blueprint

blp = Blueprint("engineers", __name__, description="engineers")
