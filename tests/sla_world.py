"""A small world for the SLA and promise tests: a community with a resident and engineers,
orders driven through the API, and the SLA check run with a chosen clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa

from models import ServiceOrder
from models.base import utcnow
from service_hub.plumbing.extensions import db
from service_hub.sla.checks import check_promises
from tests import factories as f

SHIFTED = (
    "created_at",
    "accepted_at",
    "started_at",
    "window_start",
    "window_end",
    "accept_due_at",
    "arrive_due_at",
    "complete_due_at",
)


@dataclass
class World:
    app: object
    client: object
    run_jobs: object
    community: int
    resident: int
    service: int
    engineers: list[int]
    manager: dict = field(default_factory=dict)

    @property
    def auth(self) -> dict:
        return f.resident_auth(self.app, self.resident)

    def engineer_auth(self, n: int = 0) -> dict:
        return f.engineer_auth(self.app, self.engineers[n])

    def step(self, name: str, order_id: int, headers: dict, body: dict | None = None):
        """POST /orders/{id}/{name} and return the response (not checked)."""
        return self.client.post(
            f"/api/v1/orders/{order_id}/{name}", headers=headers, json=body or {}
        )

    def do(self, name: str, order_id: int, headers: dict, body: dict | None = None) -> dict:
        """A setup step that must succeed."""
        response = self.step(name, order_id, headers, body)
        assert response.status_code == 200, (name, response.json)
        return response.json

    def order(self, **extra) -> int:
        """A new order of the resident, its first offer made (to engineer 0 by preference)."""
        body = {
            "community_id": self.community,
            "service_type_id": self.service,
            "preferred_engineer_id": self.engineers[0],
            **extra,
        }
        created = self.client.post("/api/v1/orders", headers=self.auth, json=body)
        assert created.status_code == 201, ("create the order", created.json)
        self.run_jobs()
        return created.json["id"]

    def accepted(self, **extra) -> int:
        order_id = self.order(**extra)
        self.do("accept", order_id, self.engineer_auth())
        return order_id

    def completed(self) -> int:
        order_id = self.accepted()
        for action in ("en-route", "start", "complete"):
            self.do(action, order_id, self.engineer_auth())
        return order_id

    def get(self, order_id: int, headers: dict | None = None) -> dict:
        response = self.client.get(f"/api/v1/orders/{order_id}", headers=headers or self.auth)
        assert response.status_code == 200, ("read the order", response.json)
        return response.json

    def set(self, order_id: int, **columns) -> None:
        """Change an order's columns directly (a deadline moved into the past, say)."""
        with self.app.app_context():
            db.session.execute(
                sa.update(ServiceOrder).where(ServiceOrder.id == order_id).values(**columns)
            )
            db.session.commit()

    def shift(self, order_id: int, minutes: float, *names: str) -> None:
        """Move the order's times (or those named) `minutes` into the past, as if it had
        happened earlier: the controlled clock of these tests (the SLA check and the
        lifecycle both read now)."""
        with self.app.app_context():
            order = db.session.get(ServiceOrder, order_id)
            for name in names or SHIFTED:
                if getattr(order, name) is not None:
                    setattr(order, name, getattr(order, name) - timedelta(minutes=minutes))
            db.session.commit()

    def column(self, order_id: int, name: str):
        with self.app.app_context():
            return getattr(db.session.get(ServiceOrder, order_id), name)

    def check(self, now: datetime | None = None) -> dict:
        """Run the periodic SLA check at `now`, then the jobs it queued."""
        with self.app.app_context():
            result = check_promises(now or utcnow())
        self.run_jobs()
        return result


def window(days: float = 1, hours: float = 2) -> dict:
    """A window starting `days` from now, `hours` long, as the API takes it."""
    start = utcnow() + timedelta(days=days)
    return {
        "window_start": start.isoformat(),
        "window_end": (start + timedelta(hours=hours)).isoformat(),
    }


def make_world(app, client, run_jobs, engineers: int = 1, **community) -> World:
    community_id = f.community(app, **community)
    return World(
        app=app,
        client=client,
        run_jobs=run_jobs,
        community=community_id,
        resident=f.resident(app, communities=(community_id,)),
        service=f.service_type(app),
        engineers=[f.engineer(app, communities=(community_id,)) for _ in range(engineers)],
    )
