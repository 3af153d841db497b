"""Routes of service_hub.qa (being written)."""

from flask_smorest import Blueprint

blp = Blueprint("qa", __name__, description="qa")
