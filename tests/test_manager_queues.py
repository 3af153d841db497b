"""The managers' queues as their pages read them: follow-ups with the complaint, the review and
the order behind them; held questions, answers and reviews; broadcasts with their community."""

from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from models import FollowUp
from service_hub.plumbing import outbox
from service_hub.plumbing.extensions import db
from tests import factories as f

FOLLOW_UPS = "/api/v1/follow-ups"
HELD = "/api/v1/moderation/held"


@pytest.fixture
def manager(app) -> dict:
    return f.staff_auth(app, f.staff(app, "manager", region="上海市"), "manager")


def served(app, client, run_jobs, community_id: int | None = None) -> dict:
    """A completed order in a community of 上海市, its resident and engineer."""
    community_id = community_id or f.community(app)
    resident_id = f.resident(app, communities=(community_id,))
    engineer_id = f.engineer(app, communities=(community_id,))
    order_id = f.completed_order(app, client, run_jobs, community_id, resident_id, engineer_id)
    return {
        "community": community_id,
        "engineer": engineer_id,
        "order": order_id,
        "auth": f.resident_auth(app, resident_id),
    }


def complain(client, order: dict, reason: str = "没有清理现场，地上都是水") -> None:
    path = f"/api/v1/orders/{order['order']}/complain"
    response = client.post(path, headers=order["auth"], json={"reason": reason})
    assert response.status_code == 200, response.json


def rate(client, order: dict, rating: int, text: str = "") -> dict:
    path = f"/api/v1/orders/{order['order']}/review"
    response = client.post(path, headers=order["auth"], json={"rating": rating, "text": text})
    assert response.status_code == 201, response.json
    return response.json


def follow_ups(client, manager, **query) -> dict:
    response = client.get(FOLLOW_UPS, headers=manager, query_string=query)
    assert response.status_code == 200, response.json
    return response.json


# Follow-ups: what the page shows.


def test_a_complaint_follow_up_carries_its_text_and_the_order_behind_it(
    app, client, run_jobs, manager
):
    order = served(app, client, run_jobs)
    complain(client, order)
    [item] = follow_ups(client, manager)["items"]
    assert (item["kind"], item["complaint"], item["review"]) == (
        "complaint",
        "没有清理现场，地上都是水",
        None,
    )
    facts = item["order"]
    assert (facts["id"], facts["status"], facts["engineer_id"]) == (
        order["order"],
        "completed",
        order["engineer"],
    )
    assert facts["service_name"] and facts["engineer_name"] and facts["completed_at"]
    assert item["community_name"]


def test_a_low_rating_follow_up_carries_the_review(app, client, run_jobs, manager):
    order = served(app, client, run_jobs)
    review = rate(client, order, 1, "迟到两个小时，也没打电话")
    [item] = follow_ups(client, manager)["items"]
    assert item["kind"] == "low_rating"
    assert item["review"] == {
        "id": review["id"],
        "rating": 1,
        "text": "迟到两个小时，也没打电话",
        "photos": [],
        "status": "visible",
        "created_at": review["created_at"],
    }


def test_follow_ups_filter_by_community_and_kind(app, client, run_jobs, manager):
    here, there = served(app, client, run_jobs), served(app, client, run_jobs)
    complain(client, here)
    rate(client, there, 2)
    complain(client, there)
    mine = follow_ups(client, manager, community_id=there["community"])["items"]
    assert {(i["community_id"], i["kind"]) for i in mine} == {
        (there["community"], "complaint"),
        (there["community"], "low_rating"),
    }
    complaints = follow_ups(client, manager, kind="complaint")["items"]
    assert sorted(i["order_id"] for i in complaints) == sorted([here["order"], there["order"]])


def test_another_regions_community_lists_no_follow_ups(app, client, run_jobs, manager):
    beijing = f.community(app, province="北京市", city="北京市", district="朝阳区")
    complain(client, served(app, client, run_jobs, beijing))
    assert follow_ups(client, manager, community_id=beijing)["total"] == 0


def test_closed_follow_ups_are_listed_newest_first_on_request(app, client, run_jobs, manager):
    first, second = served(app, client, run_jobs), served(app, client, run_jobs)
    complain(client, first)
    complain(client, second)
    for item in follow_ups(client, manager)["items"]:
        path = f"{FOLLOW_UPS}/{item['id']}/close"
        assert client.post(path, headers=manager, json={"note": "已回访"}).status_code == 200
    assert follow_ups(client, manager)["total"] == 0
    closed = follow_ups(client, manager, status="closed", order="newest")["items"]
    assert [i["order_id"] for i in closed] == [second["order"], first["order"]]
    assert [i["note"] for i in closed] == ["已回访", "已回访"]


@pytest.mark.parametrize(
    "query",
    [
        {"community_id": 0},
        {"community_id": "abc"},
        {"community_id": 2**31},
        {"kind": "praise"},
        {"status": "pending"},
        {"order": "random"},
        {"page": 0},
        {"page_size": 101},
    ],
)
def test_the_follow_up_list_refuses_bad_arguments(client, manager, query):
    response = client.get(FOLLOW_UPS, headers=manager, query_string=query)
    assert response.status_code == 422
    assert set(query) <= set(response.json["error"]["fields"])


# Follow-ups: closing.


def test_closing_answers_with_the_whole_follow_up(app, client, run_jobs, manager):
    order = served(app, client, run_jobs)
    complain(client, order)
    [item] = follow_ups(client, manager)["items"]
    response = client.post(
        f"{FOLLOW_UPS}/{item['id']}/close", headers=manager, json={"note": "已上门返工"}
    )
    assert response.status_code == 200
    closed = response.json
    assert (closed["status"], closed["note"], closed["complaint"]) == (
        "closed",
        "已上门返工",
        item["complaint"],
    )
    assert closed["order"] == item["order"] and closed["closed_at"]


@pytest.mark.parametrize(
    "body", [{}, {"note": ""}, {"note": "   "}, {"note": "长" * 501}, {"note": 5}]
)
def test_closing_without_a_proper_note_is_refused_and_changes_nothing(
    app, client, run_jobs, manager, body
):
    complain(client, served(app, client, run_jobs))
    [item] = follow_ups(client, manager)["items"]
    response = client.post(f"{FOLLOW_UPS}/{item['id']}/close", headers=manager, json=body)
    assert response.status_code == 422
    assert "note" in response.json["error"]["fields"]
    assert follow_ups(client, manager)["items"] == [item]


def test_closing_twice_is_a_conflict(app, client, run_jobs, manager):
    complain(client, served(app, client, run_jobs))
    [item] = follow_ups(client, manager)["items"]
    path = f"{FOLLOW_UPS}/{item['id']}/close"
    assert client.post(path, headers=manager, json={"note": "已回访"}).status_code == 200
    again = client.post(path, headers=manager, json={"note": "又回访"})
    assert (again.status_code, again.json["error"]["code"]) == (409, "follow_up_closed")
    assert again.json["error"]["message_zh"] == "该跟进已关闭"
    assert follow_ups(client, manager, status="closed")["items"][0]["note"] == "已回访"


def test_closing_an_unknown_follow_up_is_404(client, manager):
    response = client.post(f"{FOLLOW_UPS}/999999/close", headers=manager, json={"note": "x"})
    assert (response.status_code, response.json["error"]["code"]) == (404, "follow_up_not_found")


def test_managers_closing_at_once_close_it_once(app, client, run_jobs, manager):
    complain(client, served(app, client, run_jobs))
    [item] = follow_ups(client, manager)["items"]
    notes = [f"回访记录 {n}" for n in range(6)]

    def close(note: str) -> int:
        with app.test_client() as own:
            path = f"{FOLLOW_UPS}/{item['id']}/close"
            return own.post(path, headers=manager, json={"note": note}).status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = sorted(pool.map(close, notes))
    assert statuses == [200] + [409] * 5
    with app.app_context():
        [note] = db.session.scalars(sa.select(FollowUp.note)).all()
    assert note in notes


# The moderation queue: held reviews beside held questions and answers.


def test_a_held_review_waits_in_the_moderation_queue(app, client, run_jobs, manager):
    order = served(app, client, run_jobs)
    review = rate(client, order, 4, "这个待审一下")
    assert review["status"] == "held"
    [item] = client.get(HELD, headers=manager).json["items"]
    assert (item["kind"], item["id"], item["order_id"], item["rating"], item["text"]) == (
        "review",
        review["id"],
        order["order"],
        4,
        "这个待审一下",
    )
    assert (item["community_id"], bool(item["community_name"])) == (order["community"], True)


def test_an_approved_review_leaves_the_queue(app, client, run_jobs, manager):
    review = rate(client, served(app, client, run_jobs), 5, "这个待审一下")
    path = f"/api/v1/reviews/{review['id']}/approve"
    assert client.post(path, headers=manager, json={}).status_code == 200
    assert client.get(HELD, headers=manager).json["total"] == 0


def test_the_queue_filters_by_kind_and_community(app, client, run_jobs, manager):
    order = served(app, client, run_jobs)
    rate(client, order, 4, "这个待审一下")
    asked = client.post(
        f"/api/v1/communities/{order['community']}/questions",
        headers=order["auth"],
        json={"text": "这个待审一下：滤芯去哪买"},
    )
    assert asked.json["status"] == "held"
    other = served(app, client, run_jobs)
    rate(client, other, 3, "这个待审一下")

    def kinds(**query) -> list[tuple[str, int]]:
        items = client.get(HELD, headers=manager, query_string=query).json["items"]
        return sorted((i["kind"], i["community_id"]) for i in items)

    assert kinds(kind="question") == [("question", order["community"])]
    assert kinds(community_id=order["community"]) == [
        ("question", order["community"]),
        ("review", order["community"]),
    ]
    assert kinds(kind="review", community_id=other["community"]) == [("review", other["community"])]


def test_a_held_review_of_another_region_is_not_listed(app, client, run_jobs):
    beijing = f.community(app, province="北京市", city="北京市", district="朝阳区")
    rate(client, served(app, client, run_jobs, beijing), 4, "这个待审一下")
    shanghai = f.staff_auth(app, f.staff(app, "manager", region="上海市"), "manager")
    assert client.get(HELD, headers=shanghai).json["total"] == 0


@pytest.mark.parametrize(
    "query", [{"kind": "photo"}, {"community_id": 0}, {"community_id": "x"}, {"page": 0}]
)
def test_the_moderation_queue_refuses_bad_arguments(client, manager, query):
    response = client.get(HELD, headers=manager, query_string=query)
    assert response.status_code == 422
    assert set(query) <= set(response.json["error"]["fields"])


# Broadcasts.


def test_a_broadcast_is_listed_with_its_community_name(app, client, run_jobs, manager):
    community_id = f.community(app, name="阳光花园")
    f.resident(app, communities=(community_id,))
    with app.app_context():
        outbox.record(
            "visit_announced",
            "visit:1",
            {
                "kind": "visit_announced",
                "community_id": community_id,
                "visit_id": 1,
                "engineer_name": "张师傅",
                "community_name": "阳光花园",
                "local_start": "2026年12月1日 10:00",
            },
        )
        outbox.commit_and_relay()
    run_jobs()
    [item] = client.get("/api/v1/broadcasts", headers=manager).json["items"]
    assert (item["community_id"], item["community_name"], item["recipients"]) == (
        community_id,
        "阳光花园",
        1,
    )
