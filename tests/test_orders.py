"""Order creation and the state machine through the API."""

import pytest

from tests import factories as f


@pytest.fixture
def world(app):
    community_id = f.community(app)
    resident_id = f.resident(app, communities=(community_id,))
    return {
        "community": community_id,
        "resident": resident_id,
        "auth": f.resident_auth(app, resident_id),
        "service": f.service_type(app),
        "engineer": f.engineer(app, communities=(community_id,)),
    }


def post_order(client, world, headers=None, **extra):
    body = {"community_id": world["community"], "service_type_id": world["service"], **extra}
    return client.post("/api/v1/orders", json=body, headers={**world["auth"], **(headers or {})})


def accepted_order(app, client, run_jobs, world) -> int:
    created = post_order(client, world)
    assert created.status_code == 201, ("create order", created.json)
    order_id = created.json["id"]
    run_jobs()
    accepted = client.post(
        f"/api/v1/orders/{order_id}/accept",
        headers=f.engineer_auth(app, world["engineer"]),
        json={},
    )
    assert accepted.status_code == 200, ("accept", accepted.json)
    return order_id


def test_a_new_order_starts_created_with_a_timeline_entry(client, world):
    response = post_order(client, world, description="漏水")
    assert response.status_code == 201
    assert response.json["status"] == "created"
    assert [e["action"] for e in response.json["timeline"]] == ["create"]


def test_a_resident_cannot_order_in_a_community_they_are_not_bound_to(app, client, world):
    response = post_order(client, world, community_id=f.community(app))
    assert response.status_code == 403
    assert response.json["error"]["code"] == "not_bound"


def test_a_repeated_idempotency_key_returns_the_first_order(client, world):
    first = post_order(client, world, headers={"Idempotency-Key": "abc-123"})
    again = post_order(client, world, headers={"Idempotency-Key": "abc-123"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json["id"] == first.json["id"]


def test_an_idempotency_key_reused_with_another_body_is_refused(client, world):
    key = {"Idempotency-Key": "abc-123"}
    first = post_order(client, world, headers=key, description="漏水")
    other = post_order(client, world, headers=key, description="换滤芯")
    assert (first.status_code, other.status_code) == (201, 422)
    assert other.json["error"]["code"] == "idempotency_key_reused"
    assert other.json["error"]["message_zh"]
    mine = client.get("/api/v1/me/orders", headers=world["auth"]).json
    assert [o["id"] for o in mine["items"]] == [first.json["id"]]


def test_a_repeat_with_the_body_in_another_key_order_is_the_same_request(client, world):
    key = {**world["auth"], "Idempotency-Key": "abc-123"}
    first = client.post(
        "/api/v1/orders",
        headers=key,
        json={"community_id": world["community"], "service_type_id": world["service"]},
    )
    again = client.post(
        "/api/v1/orders",
        headers={**key, "Content-Type": "application/json"},
        data=f'{{ "service_type_id": {world["service"]}, "community_id": {world["community"]} }}',
    )
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json["id"] == first.json["id"]


def test_an_unknown_service_type_is_a_validation_error(client, world):
    response = post_order(client, world, service_type_id=999999)
    assert response.status_code == 422
    assert "service_type_id" in response.json["error"]["fields"]


def test_a_window_without_an_offset_is_refused(client, world):
    response = post_order(client, world, window_start="2026-12-01T10:00:00")
    assert response.status_code == 422
    assert "window_start" in response.json["error"]["fields"]


def test_an_illegal_transition_is_a_409_with_the_current_state(app, client, run_jobs, world):
    order_id = accepted_order(app, client, run_jobs, world)
    response = client.post(
        f"/api/v1/orders/{order_id}/complete",
        headers=f.engineer_auth(app, world["engineer"]),
        json={},
    )
    assert response.status_code == 409
    assert response.json["error"]["details"]["current_status"] == "accepted"


def test_a_resident_cannot_move_their_order_forward(app, client, run_jobs, world):
    order_id = accepted_order(app, client, run_jobs, world)
    response = client.post(f"/api/v1/orders/{order_id}/en-route", headers=world["auth"], json={})
    assert response.status_code == 403


def test_another_resident_cannot_see_the_order(app, client, world):
    order_id = post_order(client, world).json["id"]
    stranger = f.resident_auth(app, f.resident(app, communities=(world["community"],)))
    assert client.get(f"/api/v1/orders/{order_id}", headers=stranger).status_code == 404


def test_a_manager_outside_the_region_cannot_see_the_order(app, client, world):
    order_id = post_order(client, world).json["id"]
    outsider = f.staff_auth(app, f.staff(app, "manager", region="北京市"), "manager")
    assert client.get(f"/api/v1/orders/{order_id}", headers=outsider).status_code == 404


def test_a_stale_if_match_version_is_refused(app, client, run_jobs, world):
    order_id = accepted_order(app, client, run_jobs, world)
    response = client.post(
        f"/api/v1/orders/{order_id}/en-route",
        json={},
        headers={**f.engineer_auth(app, world["engineer"]), "If-Match": '"1"'},
    )
    assert response.status_code == 412
    assert response.json["error"]["code"] == "version_mismatch"


def test_the_current_if_match_version_is_accepted(app, client, run_jobs, world):
    order_id = accepted_order(app, client, run_jobs, world)
    etag = client.get(f"/api/v1/orders/{order_id}", headers=world["auth"]).headers["ETag"]
    response = client.post(
        f"/api/v1/orders/{order_id}/en-route",
        json={},
        headers={**f.engineer_auth(app, world["engineer"]), "If-Match": etag},
    )
    assert response.status_code == 200
    assert response.json["status"] == "en_route"


def test_a_resident_cancels_before_the_service_starts(app, client, run_jobs, world):
    order_id = accepted_order(app, client, run_jobs, world)
    response = client.post(
        f"/api/v1/orders/{order_id}/cancel", headers=world["auth"], json={"reason": "改天再约"}
    )
    assert response.status_code == 200
    assert response.json["status"] == "cancelled"


def test_a_manager_must_give_a_reason_to_cancel(app, client, world):
    order_id = post_order(client, world).json["id"]
    manager = f.staff_auth(app, f.staff(app, "manager"), "manager")
    response = client.post(f"/api/v1/orders/{order_id}/cancel", headers=manager, json={})
    assert response.status_code == 422


def test_an_unknown_action_is_404(client, world):
    order_id = post_order(client, world).json["id"]
    response = client.post(f"/api/v1/orders/{order_id}/teleport", headers=world["auth"], json={})
    assert response.status_code == 404
    assert response.json["error"]["code"] == "unknown_action"


def completed_order(app, client, run_jobs, world) -> int:
    order_id = accepted_order(app, client, run_jobs, world)
    for action in ("en-route", "start", "complete"):
        response = client.post(
            f"/api/v1/orders/{order_id}/{action}",
            headers=f.engineer_auth(app, world["engineer"]),
            json={},
        )
        assert response.status_code == 200, (action, response.json)
    return order_id


def test_a_completed_order_is_reviewed_once(app, client, run_jobs, world):
    order_id = completed_order(app, client, run_jobs, world)
    url = f"/api/v1/orders/{order_id}/review"
    assert client.post(url, headers=world["auth"], json={"rating": 4}).status_code == 201
    again = client.post(url, headers=world["auth"], json={"rating": 5})
    assert again.status_code == 409
    assert again.json["error"]["code"] == "already_reviewed"


def test_an_order_not_completed_cannot_be_reviewed(client, world):
    order_id = post_order(client, world).json["id"]
    response = client.post(
        f"/api/v1/orders/{order_id}/review", headers=world["auth"], json={"rating": 5}
    )
    assert response.status_code == 409


def test_a_rating_outside_one_to_five_is_refused(app, client, run_jobs, world):
    order_id = completed_order(app, client, run_jobs, world)
    response = client.post(
        f"/api/v1/orders/{order_id}/review", headers=world["auth"], json={"rating": 6}
    )
    assert response.status_code == 422


def test_a_complaint_needs_a_reason(app, client, run_jobs, world):
    order_id = completed_order(app, client, run_jobs, world)
    response = client.post(f"/api/v1/orders/{order_id}/complain", headers=world["auth"], json={})
    assert response.status_code == 422


def test_my_orders_lists_only_mine_newest_first(app, client, world):
    first = post_order(client, world).json["id"]
    second = post_order(client, world).json["id"]
    other = f.resident_auth(app, f.resident(app, communities=(world["community"],)))
    client.post(
        "/api/v1/orders",
        headers=other,
        json={"community_id": world["community"], "service_type_id": world["service"]},
    )
    page = client.get("/api/v1/me/orders", headers=world["auth"]).json
    assert [o["id"] for o in page["items"]] == [second, first]
    assert page["total"] == 2


def test_a_second_complaint_on_the_same_order_is_refused(app, client, run_jobs, world):
    order_id = completed_order(app, client, run_jobs, world)
    url = f"/api/v1/orders/{order_id}/complain"
    assert client.post(url, headers=world["auth"], json={"reason": "迟到"}).status_code == 200
    again = client.post(url, headers=world["auth"], json={"reason": "还是迟到"})
    assert again.status_code == 409
    assert again.json["error"]["code"] == "already_complained"


def test_cancelling_an_accepted_order_removes_its_visit(app, client, run_jobs, world):
    order_id = accepted_order(app, client, run_jobs, world)
    home = f"/api/v1/communities/{world['community']}"
    assert len(client.get(home).json["upcoming_visits"]) == 1
    client.post(f"/api/v1/orders/{order_id}/cancel", headers=world["auth"], json={})
    run_jobs()  # the cached home learns of it through the outbox (docs/performance.md)
    assert client.get(home).json["upcoming_visits"] == []


def test_a_manager_records_a_phone_order_for_a_resident(app, client, world):
    manager = f.staff_auth(app, f.staff(app, "manager"), "manager")
    response = client.post(
        "/api/v1/orders",
        headers=manager,
        json={
            "community_id": world["community"],
            "service_type_id": world["service"],
            "resident_id": world["resident"],
        },
    )
    assert response.status_code == 201
    assert (response.json["source"], response.json["resident_id"]) == ("phone", world["resident"])


def test_a_resident_cannot_order_for_someone_else(app, client, world):
    response = post_order(client, world, resident_id=world["resident"] + 1)
    assert response.status_code == 422


def test_a_photo_that_was_not_uploaded_here_is_refused(client, world):
    response = post_order(client, world, photos=["https://evil.example/x.jpg"])
    assert response.status_code == 422
    assert response.json["error"]["code"] == "photo_not_uploaded"


def test_an_uploaded_photo_is_kept_on_the_order(app, client, world, tmp_path, monkeypatch):
    import io

    from PIL import Image

    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path))
    image = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(image, "PNG")
    upload = client.post(
        "/api/v1/uploads",
        headers=world["auth"],
        data={"file": (io.BytesIO(image.getvalue()), "leak.png")},
    )
    response = post_order(client, world, photos=[upload.json["url"]])
    assert response.status_code == 201
    assert response.json["photos"] == [upload.json["url"]]
