"""A reference for bench/community_home.py: the app itself (create_app: its hooks, pool and
session) with one extra plain route that reads one community by primary key."""

from models import Community
from service_hub import create_app
from service_hub.plumbing.extensions import db

app = create_app()


@app.get("/bench/community/<int:community_id>")
def one_community(community_id: int):
    """One primary-key SELECT through the stack, two fields of the row as JSON."""
    community = db.session.get(Community, community_id)
    return {"id": community.id, "name": community.name}
