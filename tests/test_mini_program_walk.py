"""The mini-program's screens in the order a resident walks them: nearby communities → the
community's home → an order with an address → my orders → tracking the order → accepting the
work with a signature (验收) → the review. Each screen is drawn from the one request it makes,
and that request's answer carries everything the screen shows: names, photos, prices, the
state in Chinese, and the flags that decide its buttons."""

from __future__ import annotations

import io
from contextlib import contextmanager
from datetime import timedelta

import pytest
from PIL import Image

from models import Visit
from models.base import utcnow
from service_hub.plumbing.extensions import db
from tests import factories as f

API = "/api/v1"
HERE = (31.1925, 121.4372)
ENGINEER_PHOTO = "/media/engineer-3.jpg"


@pytest.fixture(autouse=True)
def upload_dir(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path / "uploads"))


class Phone:
    """The mini-program: every request it makes goes through `call`, so a screen can be held
    to one request."""

    def __init__(self, client):
        self.client = client
        self.headers: dict = {}
        self.requests: list[str] = []

    def call(self, method: str, path: str, **kwargs):
        self.requests.append(f"{method} {path}")
        return self.client.open(API + path, method=method, headers=self.headers, **kwargs)

    @contextmanager
    def screen(self, name: str):
        """A screen: it must make exactly one request."""
        before = len(self.requests)
        yield
        made = self.requests[before:]
        assert len(made) == 1, f"{name} made {len(made)} requests: {made}"


def shows(body, *paths: str) -> None:
    """Every path ("engineer.name", "items[].distance_m") is in the answer, not null; a list
    on the way is not empty and every element of it has the rest of the path."""
    for path in paths:
        _resolve(body, path.split("."), path)


def _resolve(node, parts: list[str], path: str) -> None:
    if not parts:
        assert node is not None, f"{path} is null"
        return
    head, rest = parts[0], parts[1:]
    if head.endswith("[]"):
        items = node.get(head[:-2]) if isinstance(node, dict) else None
        assert items, f"{path}: {head[:-2]} is empty or missing"
        for item in items:
            _resolve(item, rest, path)
        return
    assert isinstance(node, dict) and head in node, f"{path}: no {head}"
    _resolve(node[head], rest, path)


def picture(colour: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), colour).save(buffer, "PNG")
    return buffer.getvalue()


def upload(client, headers: dict, name: str, colour: str) -> str:
    response = client.post(
        f"{API}/uploads",
        data={"file": (io.BytesIO(picture(colour)), name)},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.json
    return response.json["url"]


@pytest.fixture
def city(app, client, run_jobs):
    """翠湖天地 with its engineer (a photo, ten years, reviews from a neighbour), a service
    with its list price, and a visit coming."""
    community = f.community(app, name="翠湖天地", lat=HERE[0], lng=HERE[1])
    f.community(app, name="远处小区", lat=HERE[0] + 0.5, lng=HERE[1])
    service = f.service_type(app, name="净水器滤芯更换", base_price_cents=8800)
    engineer = f.engineer(
        app,
        communities=(community,),
        name="王建国",
        photo_url=ENGINEER_PHOTO,
        years_of_service=10,
        max_open_orders=10,
    )
    neighbour = f.resident(app, communities=(community,))
    earlier = f.completed_order(app, client, run_jobs, community, neighbour, engineer, service)
    neighbour_auth = f.resident_auth(app, neighbour)
    for path, body in (
        (f"/orders/{earlier}/confirm", {}),
        (f"/orders/{earlier}/review", {"rating": 5}),
    ):
        response = client.post(API + path, headers=neighbour_auth, json=body)
        assert response.status_code in (200, 201), (path, response.json)
    start = utcnow() + timedelta(days=2)
    with app.app_context():
        db.session.add(
            Visit(
                engineer_id=engineer,
                community_id=community,
                starts_at=start,
                ends_at=start + timedelta(hours=3),
                note="周六上门保养",
            )
        )
        db.session.commit()
    run_jobs()
    return {"community": community, "service": service, "engineer": engineer}


def test_a_resident_walks_the_mini_program_one_request_per_screen(app, client, run_jobs, city):
    phone = Phone(client)
    login = phone.call("POST", "/auth/wechat-login", json={"code": "walker:1"})
    assert login.status_code == 200, login.json
    phone.headers = {"Authorization": f"Bearer {login.json['token']}"}

    # 附近小区: names, addresses and distances, nearest first.
    with phone.screen("nearby"):
        nearby = phone.call(
            "GET", "/communities/nearby", query_string={"lat": HERE[0], "lng": HERE[1]}
        ).json
    shows(nearby, "items[].name", "items[].address", "items[].distance_m")
    assert nearby["items"][0]["id"] == city["community"]

    # 小区主页: engineers with name, photo, years, rating and reviews (no standing); services
    # with their list price; the coming visit with its engineer; whether I am bound.
    with phone.screen("community home"):
        home = phone.call("GET", f"/communities/{city['community']}").json
    shows(
        home,
        "community.name",
        "engineers[].engineer.name",
        "engineers[].engineer.photo_url",
        "engineers[].engineer.years_of_service",
        "engineers[].average_rating",
        "engineers[].review_count",
        "services[].name",
        "services[].base_price_cents",
        "upcoming_visits[].engineer.name",
        "upcoming_visits[].engineer.photo_url",
    )
    assert home["is_bound"] is False
    assert home["engineers"][0]["standing"] is None

    # She binds the community and adds her door (each form is its one write).
    assert phone.call("PUT", f"/me/communities/{city['community']}").status_code == 200
    address = phone.call(
        "POST",
        "/me/addresses",
        json={
            "community_id": city["community"],
            "building": "3",
            "unit": "2",
            "room": "1201",
            "contact_name": "李女士",
            "mobile": "13800138000",
        },
    )
    assert address.status_code == 201, address.json

    # 下单: the confirmation shows what she asked for, where, its price, and that she may
    # cancel it.
    with phone.screen("order placed"):
        placed = phone.call(
            "POST",
            "/orders",
            json={
                "community_id": city["community"],
                "service_type_id": city["service"],
                "address_id": address.json["id"],
                "description": "厨房净水器出水变慢",
            },
        )
    assert placed.status_code == 201, placed.json
    order = placed.json
    shows(order, "service_name", "list_price_cents", "community_name", "address_text")
    shows(order, "contact_name", "status_label", "timeline[].label")
    assert (order["can_cancel"], order["dispatch_breakdown"]) == (True, None)
    order_id = order["id"]

    # The engineer takes it and does the work, with photos of it.
    run_jobs()
    engineer = f.engineer_auth(app, city["engineer"])
    photo = upload(client, engineer, "done.png", "teal")
    for action, body in (
        ("accept", {}),
        ("en-route", {}),
        ("start", {}),
        ("complete", {"photos": [photo]}),
    ):
        step = client.post(f"{API}/orders/{order_id}/{action}", headers=engineer, json=body)
        assert step.status_code == 200, (action, step.json)
    run_jobs()

    # 我的订单: each row names its service, engineer (with photo), state and price.
    with phone.screen("my orders"):
        mine = phone.call("GET", "/me/orders").json
    shows(
        mine,
        "items[].service_name",
        "items[].engineer.name",
        "items[].engineer.photo_url",
        "items[].status_label",
        "items[].list_price_cents",
        "items[].community_name",
    )

    # 订单详情: who came, what they did (photos), every step in Chinese, and the buttons
    # 确认验收 and 有异议.
    with phone.screen("order detail"):
        tracked = phone.call("GET", f"/orders/{order_id}").json
    shows(tracked, "engineer.name", "engineer.photo_url", "completion_photos", "timeline[].label")
    assert tracked["status_label"] == "待验收"
    assert (tracked["can_confirm"], tracked["can_dispute"]) == (True, True)
    assert all(event["reason"] is None for event in tracked["timeline"])
    assert "offer" not in [event["action"] for event in tracked["timeline"]]

    # 验收: she signs on the phone (an upload), and the answer is the accepted order, ready
    # for her review.
    signature = upload(client, phone.headers, "signature.png", "white")
    with phone.screen("acceptance"):
        accepted = phone.call(
            "POST", f"/orders/{order_id}/confirm", json={"signature_url": signature}
        )
    assert accepted.status_code == 200, accepted.json
    assert (accepted.json["acceptance"], accepted.json["signature_url"]) == ("confirmed", signature)
    assert (accepted.json["status_label"], accepted.json["can_review"]) == ("已完成", True)
    assert accepted.json["can_confirm"] is False

    # 评价: one write, and the order no longer offers a review.
    with phone.screen("review"):
        review = phone.call(
            "POST", f"/orders/{order_id}/review", json={"rating": 5, "text": "师傅很专业"}
        )
    assert review.status_code == 201, review.json
    assert phone.call("GET", f"/orders/{order_id}").json["can_review"] is False
