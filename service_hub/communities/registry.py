"""Routes for the community registry at national scale (being written)."""

from flask_smorest import Blueprint

blp = Blueprint("registry", __name__, description="Community registry: import and nearby lookup")
