"""Reviews, likes and follow-ups through the API, with every authorisation rule."""

import pytest

from tests import factories as f


@pytest.fixture
def served(app, client, run_jobs):
    """A resident whose order an engineer has completed, and a manager of the region."""
    community_id = f.community(app)
    resident_id = f.resident(app, communities=(community_id,))
    engineer_id = f.engineer(app, communities=(community_id,))
    auth = f.resident_auth(app, resident_id)
    order_id = f.completed_order(app, client, run_jobs, community_id, resident_id, engineer_id)
    return {
        "community": community_id,
        "resident": resident_id,
        "auth": auth,
        "engineer": engineer_id,
        "order": order_id,
        "manager": f.staff_auth(app, f.staff(app, "manager"), "manager"),
    }


def review(client, served, **body):
    return client.post(
        f"/api/v1/orders/{served['order']}/review",
        headers=served["auth"],
        json={"rating": 5, "text": "很专业", **body},
    )


def test_another_resident_cannot_review_my_order(app, client, served):
    stranger = f.resident_auth(app, f.resident(app, communities=(served["community"],)))
    response = client.post(
        f"/api/v1/orders/{served['order']}/review", headers=stranger, json={"rating": 1}
    )
    assert response.status_code == 404


def test_risky_review_text_is_refused_and_nothing_stored(app, client, served):
    assert review(client, served, text="违禁内容").status_code == 422
    assert review(client, served).status_code == 201


def test_doubtful_review_text_is_held_and_not_listed(app, client, served):
    assert review(client, served, text="这个待审一下").json["status"] == "held"
    listed = client.get(f"/api/v1/engineers/{served['engineer']}/reviews").json
    assert listed["total"] == 0


def test_the_author_edits_within_the_window(client, served):
    review_id = review(client, served).json["id"]
    response = client.patch(
        f"/api/v1/reviews/{review_id}", headers=served["auth"], json={"rating": 4}
    )
    assert (response.status_code, response.json["rating"]) == (200, 4)


def test_an_edit_after_the_window_is_refused(app, client, served, monkeypatch):
    review_id = review(client, served).json["id"]
    monkeypatch.setitem(app.config, "REVIEW_EDIT_WINDOW_SECONDS", 0)
    response = client.patch(
        f"/api/v1/reviews/{review_id}", headers=served["auth"], json={"rating": 1}
    )
    assert response.status_code == 409
    assert response.json["error"]["code"] == "edit_window_closed"


def test_someone_else_cannot_edit_my_review(app, client, served):
    review_id = review(client, served).json["id"]
    stranger = f.resident_auth(app, f.resident(app))
    response = client.patch(f"/api/v1/reviews/{review_id}", headers=stranger, json={"rating": 1})
    assert response.status_code == 403


def test_a_manager_replies_to_a_review(client, served):
    review_id = review(client, served).json["id"]
    response = client.post(
        f"/api/v1/reviews/{review_id}/reply",
        headers=served["manager"],
        json={"text": "感谢您的认可"},
    )
    assert response.json["reply_text"] == "感谢您的认可"


def test_a_resident_cannot_reply_as_the_brand(client, served):
    review_id = review(client, served).json["id"]
    response = client.post(
        f"/api/v1/reviews/{review_id}/reply", headers=served["auth"], json={"text": "我自己回复"}
    )
    assert response.status_code == 403


def test_hiding_needs_a_reason_and_keeps_the_review(client, served):
    review_id = review(client, served).json["id"]
    url = f"/api/v1/reviews/{review_id}/hide"
    assert client.post(url, headers=served["manager"], json={}).status_code == 422
    hidden = client.post(url, headers=served["manager"], json={"reason": "含个人信息"})
    assert (hidden.json["status"], hidden.json["hidden_reason"]) == ("hidden", "含个人信息")
    assert client.get(f"/api/v1/engineers/{served['engineer']}/reviews").json["total"] == 0


def test_a_manager_of_another_region_cannot_hide(app, client, served):
    review_id = review(client, served).json["id"]
    elsewhere = f.staff_auth(app, f.staff(app, "manager", region="北京市"), "manager")
    response = client.post(
        f"/api/v1/reviews/{review_id}/hide", headers=elsewhere, json={"reason": "x"}
    )
    assert response.status_code == 403


def test_a_low_rating_opens_a_follow_up(client, served):
    review(client, served, rating=1, text="迟到很久")
    items = client.get("/api/v1/follow-ups", headers=served["manager"]).json["items"]
    assert [(i["kind"], i["order_id"]) for i in items] == [("low_rating", served["order"])]


def test_a_complaint_opens_a_follow_up_that_a_manager_closes(client, served):
    client.post(
        f"/api/v1/orders/{served['order']}/complain",
        headers=served["auth"],
        json={"reason": "没清理现场"},
    )
    [item] = client.get("/api/v1/follow-ups", headers=served["manager"]).json["items"]
    closed = client.post(
        f"/api/v1/follow-ups/{item['id']}/close",
        headers=served["manager"],
        json={"note": "已回访致歉"},
    )
    assert closed.json["status"] == "closed"
    assert client.get("/api/v1/follow-ups", headers=served["manager"]).json["total"] == 0


def test_follow_ups_of_another_region_are_not_listed(app, client, served):
    review(client, served, rating=1)
    elsewhere = f.staff_auth(app, f.staff(app, "manager", region="北京市"), "manager")
    assert client.get("/api/v1/follow-ups", headers=elsewhere).json["total"] == 0


def test_a_resident_likes_an_engineer_who_served_them_once(client, served):
    url = f"/api/v1/engineers/{served['engineer']}/like"
    assert client.post(url, headers=served["auth"]).status_code == 201
    assert client.post(url, headers=served["auth"]).status_code == 200


def test_a_resident_not_served_by_the_engineer_cannot_like(app, client, served):
    stranger = f.resident_auth(app, f.resident(app, communities=(served["community"],)))
    response = client.post(f"/api/v1/engineers/{served['engineer']}/like", headers=stranger)
    assert response.status_code == 403
    assert response.json["error"]["code"] == "not_served"


def test_staff_cannot_like_engineers(client, served):
    response = client.post(
        f"/api/v1/engineers/{served['engineer']}/like", headers=served["manager"]
    )
    assert response.status_code == 403


def test_unliking_is_allowed(client, served):
    url = f"/api/v1/engineers/{served['engineer']}/like"
    client.post(url, headers=served["auth"])
    assert client.delete(url, headers=served["auth"]).status_code == 204
    assert client.post(url, headers=served["auth"]).status_code == 201
