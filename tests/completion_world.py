"""A small world for completion evidence and the resident's acceptance (完工验收): a community
with a resident and an engineer, a service type with a checklist, orders driven through the API
to in service or completed, and images uploaded here."""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass

import sqlalchemy as sa

from models import ServiceOrder, Upload
from service_hub.plumbing.extensions import db
from tests import factories as f

_images = itertools.count(1)

# A purifier filter change: a yes/no, a number with its range, a photo (all required) and an
# optional text.
CHECKLIST = [
    {"key": "filter_replaced", "label": "已更换全部滤芯", "kind": "yes_no", "required": True},
    {
        "key": "tds_after",
        "label": "出水 TDS 值",
        "kind": "number",
        "unit": "ppm",
        "min_value": 0,
        "max_value": 50,
        "required": True,
    },
    {"key": "leak_check", "label": "接头无渗漏照片", "kind": "photo", "required": True},
    {"key": "advice", "label": "给业主的建议", "kind": "text"},
]


@dataclass
class World:
    app: object
    client: object
    run_jobs: object
    community: int
    resident: int
    engineer: int
    service: int
    admin: dict

    @property
    def auth(self) -> dict:
        """The resident's Authorization header."""
        return f.resident_auth(self.app, self.resident)

    @property
    def engineer_auth(self) -> dict:
        return f.engineer_auth(self.app, self.engineer)

    def uploaded(self) -> str:
        """The URL of an image uploaded here (its row made directly)."""
        sha = hashlib.sha256(f"completion-{next(_images)}".encode()).hexdigest()
        with self.app.app_context():
            db.session.add(
                Upload(
                    sha256=sha,
                    content_type="image/png",
                    extension="png",
                    size_bytes=100,
                    width=10,
                    height=10,
                    uploader_kind="staff",
                    uploader_id=1,
                )
            )
            db.session.commit()
        return f"/media/{sha}.png"

    def set_checklist(self, items: list[dict], service: int | None = None):
        return self.client.put(
            f"/api/v1/services/{service or self.service}/checklist",
            headers=self.admin,
            json={"items": items},
        )

    def answers(self, **changes) -> dict:
        """A full, valid set of answers to CHECKLIST."""
        return {
            "filter_replaced": True,
            "tds_after": 12,
            "leak_check": self.uploaded(),
            "advice": "半年后检查前置滤芯",
            **changes,
        }

    def act(self, order_id: int, action: str, headers: dict | None = None, **body):
        return self.client.post(
            f"/api/v1/orders/{order_id}/{action}",
            headers=headers or self.engineer_auth,
            json=body,
        )

    def in_service(self, **order) -> int:
        """An order of the resident's, offered to and taken by the engineer, in service."""
        response = self.client.post(
            "/api/v1/orders",
            headers=self.auth,
            json={"community_id": self.community, "service_type_id": self.service, **order},
        )
        assert response.status_code == 201, response.json
        order_id = response.json["id"]
        self.run_jobs()
        for action in ("accept", "en-route", "start"):
            step = self.act(order_id, action)
            assert step.status_code == 200, (action, step.json)
        return order_id

    def completed(self, **order) -> int:
        """An order the engineer completed (with the checklist's answers when it has one)."""
        order_id = self.in_service(**order)
        body = {"answers": self.answers()} if self.has_checklist() else {}
        step = self.act(order_id, "complete", **body)
        assert step.status_code == 200, step.json
        self.run_jobs()
        return order_id

    def has_checklist(self) -> bool:
        items = self.client.get(f"/api/v1/services/{self.service}/checklist").json["items"]
        return bool(items)

    def order(self, order_id: int) -> ServiceOrder:
        with self.app.app_context():
            order = db.session.get(ServiceOrder, order_id)
            db.session.expunge(order)
            return order

    def set(self, order_id: int, **columns) -> None:
        with self.app.app_context():
            db.session.execute(
                sa.update(ServiceOrder).where(ServiceOrder.id == order_id).values(**columns)
            )
            db.session.commit()


def make_world(app, client, run_jobs, checklist: bool = True) -> World:
    community = f.community(app, name="翠湖天地", household_count=500)
    world = World(
        app=app,
        client=client,
        run_jobs=run_jobs,
        community=community,
        resident=f.resident(app, communities=(community,)),
        engineer=f.engineer(app, communities=(community,), name="王建国"),
        service=f.service_type(app, name="净水器滤芯更换"),
        admin=f.staff_auth(app, f.staff(app, "admin"), "admin"),
    )
    if checklist:
        response = world.set_checklist(CHECKLIST)
        assert response.status_code == 200, response.json
    return world
