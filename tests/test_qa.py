"""Community Q&A: who may ask and answer, moderation by WeChat and by managers, listings."""

from __future__ import annotations

import hashlib
import itertools

import pytest
import sqlalchemy as sa

from models import Question, Upload
from service_hub.plumbing.extensions import db
from service_hub.qa.service import recent_questions
from service_hub.wechat.access_token import access_token_provider
from tests import factories as f

QUESTION = "净水器滤芯多久换一次？"
ANSWER = "一般六个月换一次，水质差的小区三个月。"
_image_numbers = itertools.count(1)


@pytest.fixture(autouse=True)
def _fresh_token(app):
    # The fake WeChat forgets its tokens between tests; so must the in-process cache.
    access_token_provider(app).invalidate()


def _ask(client, app, community_id: int, resident_id: int, text: str = QUESTION, **extra):
    return client.post(
        f"/api/v1/communities/{community_id}/questions",
        json={"text": text, **extra},
        headers=f.resident_auth(app, resident_id),
    )


def _answer(client, question_id: int, headers: dict, text: str = ANSWER):
    return client.post(
        f"/api/v1/questions/{question_id}/answers", json={"text": text}, headers=headers
    )


def _list(client, community_id: int, headers: dict | None = None, **query):
    return client.get(
        f"/api/v1/communities/{community_id}/questions", query_string=query, headers=headers or {}
    )


def _decide(client, app, kind: str, item_id: int, decision: str, reason: str | None = None):
    manager = f.staff_auth(app, f.staff(app, "manager"), "manager")
    return client.post(
        f"/api/v1/{kind}s/{item_id}/{decision}", json={"reason": reason}, headers=manager
    )


def _asked(client, app, text: str = QUESTION) -> tuple[int, int]:
    """A community and a visible (or held, by text) question asked in it."""
    community_id = f.community(app)
    resident_id = f.resident(app, communities=(community_id,))
    asked = _ask(client, app, community_id, resident_id, text)
    assert asked.status_code == 201, ("ask", asked.json)
    return community_id, asked.json["id"]


def _uploaded(app, count: int = 1) -> list[str]:
    """URLs of images uploaded through POST /api/v1/uploads (rows made directly)."""
    urls = []
    with app.app_context():
        for _ in range(count):
            sha = hashlib.sha256(str(next(_image_numbers)).encode()).hexdigest()
            db.session.add(
                Upload(
                    sha256=sha,
                    content_type="image/jpeg",
                    extension="jpg",
                    size_bytes=100,
                    width=10,
                    height=10,
                    uploader_kind="resident",
                    uploader_id=1,
                )
            )
            urls.append(f"{app.config['UPLOAD_URL_PREFIX']}{sha}.jpg")
        db.session.commit()
    return urls


def _question_count(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Question))


def test_a_bound_resident_asks_and_everyone_sees_the_question(client, app):
    community_id = f.community(app)
    resident_id = f.resident(app, communities=(community_id,))
    photos = _uploaded(app, 2)
    response = _ask(client, app, community_id, resident_id, photos=photos)
    assert response.status_code == 201
    assert response.json["status"] == "visible" and response.json["mine"] is True
    listed = _list(client, community_id).json
    assert [q["text"] for q in listed["items"]] == [QUESTION]
    assert listed["items"][0]["photos"] == photos


def test_a_resident_not_bound_to_the_community_cannot_ask(client, app):
    community_id = f.community(app)
    response = _ask(client, app, community_id, f.resident(app))
    assert response.status_code == 403
    assert response.json["error"]["code"] == "not_bound"


def test_risky_text_is_refused_and_nothing_is_stored(client, app):
    community_id = f.community(app)
    resident_id = f.resident(app, communities=(community_id,))
    response = _ask(client, app, community_id, resident_id, "出售违禁物品")
    assert response.status_code == 422
    assert response.json["error"]["code"] == "content_risky"
    assert response.json["error"]["message_zh"] == "内容含有违规信息，请修改后再提交"
    assert _question_count(app) == 0


def test_doubtful_text_is_held_and_shown_only_to_its_author(client, app):
    community_id = f.community(app)
    author = f.resident(app, communities=(community_id,))
    neighbour = f.resident(app, communities=(community_id,))
    response = _ask(client, app, community_id, author, "这个待审一下")
    assert (response.status_code, response.json["status"]) == (201, "held")
    assert _list(client, community_id).json["total"] == 0
    assert _list(client, community_id, f.resident_auth(app, neighbour)).json["total"] == 0
    own = _list(client, community_id, f.resident_auth(app, author)).json["items"]
    assert [(q["status"], q["mine"]) for q in own] == [("held", True)]


def test_wechat_unreachable_holds_the_question_rather_than_publish_it(client, app, fake_wechat):
    community_id = f.community(app)
    resident_id = f.resident(app, communities=(community_id,))
    fake_wechat.state.fail_next_http("msg_sec_check", 502)
    response = _ask(client, app, community_id, resident_id)
    assert (response.status_code, response.json["status"]) == (201, "held")


def test_a_manager_approves_a_held_question_and_everyone_sees_it(client, app):
    community_id, question_id = _asked(client, app, "这个待审一下")
    response = _decide(client, app, "question", question_id, "approve")
    assert response.status_code == 200
    assert (response.json["status"], response.json["changed"]) == ("visible", True)
    assert _list(client, community_id).json["total"] == 1


def test_a_manager_rejects_a_question_and_it_disappears(client, app):
    community_id, question_id = _asked(client, app)
    response = _decide(client, app, "question", question_id, "reject", "广告")
    assert (response.status_code, response.json["status"]) == (200, "rejected")
    assert _list(client, community_id).json["total"] == 0


def test_a_rejection_records_who_decided_and_why(client, app):
    from models import Question
    from service_hub.plumbing.extensions import db

    _, question_id = _asked(client, app)
    _decide(client, app, "question", question_id, "reject", "广告")
    with app.app_context():
        question = db.session.get(Question, question_id)
        assert question.moderation_reason == "广告"
        assert question.moderated_by is not None and question.moderated_at is not None


def test_rejecting_needs_a_reason(client, app):
    _, question_id = _asked(client, app)
    response = _decide(client, app, "question", question_id, "reject")
    assert response.status_code == 422
    assert "reason" in response.json["error"]["fields"]


def test_rejected_content_cannot_be_approved(client, app):
    _, question_id = _asked(client, app, "这个待审一下")
    _decide(client, app, "question", question_id, "reject", "广告")
    response = _decide(client, app, "question", question_id, "approve")
    assert response.status_code == 409


def test_an_engineer_serving_the_community_answers_and_the_count_goes_up(client, app):
    community_id, question_id = _asked(client, app)
    engineer_id = f.engineer(app, communities=(community_id,))
    response = _answer(client, question_id, f.engineer_auth(app, engineer_id))
    assert (response.status_code, response.json["status"]) == (201, "visible")
    assert response.json["answerer"]["engineer_id"] == engineer_id
    question = _list(client, community_id).json["items"][0]
    assert question["answer_count"] == 1
    assert [a["text"] for a in question["answers"]] == [ANSWER]


def test_an_engineer_not_serving_the_community_cannot_answer(client, app):
    _, question_id = _asked(client, app)
    elsewhere = f.engineer(app, communities=(f.community(app),))
    response = _answer(client, question_id, f.engineer_auth(app, elsewhere))
    assert response.status_code == 403
    assert response.json["error"]["code"] == "not_serving_community"


def test_a_resident_cannot_answer(client, app):
    community_id, question_id = _asked(client, app)
    resident_id = f.resident(app, communities=(community_id,))
    response = _answer(client, question_id, f.resident_auth(app, resident_id))
    assert response.status_code == 403


def test_a_manager_of_the_region_answers_as_customer_service(client, app):
    _, question_id = _asked(client, app)
    manager = f.staff_auth(app, f.staff(app, "manager", region="上海市"), "manager")
    response = _answer(client, question_id, manager)
    assert response.status_code == 201
    assert response.json["answerer"]["role"] == "customer_service"


def test_a_regional_manager_cannot_answer_outside_their_region(client, app):
    _, question_id = _asked(client, app)
    manager = f.staff_auth(app, f.staff(app, "manager", region="北京市"), "manager")
    response = _answer(client, question_id, manager)
    assert response.status_code == 403
    assert response.json["error"]["code"] == "outside_region"


def test_a_held_question_cannot_be_answered(client, app):
    community_id, question_id = _asked(client, app, "这个待审一下")
    engineer_id = f.engineer(app, communities=(community_id,))
    response = _answer(client, question_id, f.engineer_auth(app, engineer_id))
    assert response.status_code == 409


def _staff_checked(app, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "WECHAT_MODERATION_OPENID", "o" + "s" * 27)


def test_staff_answers_pass_unchecked_without_a_moderation_openid(client, app):
    community_id, question_id = _asked(client, app)
    engineer = f.engineer_auth(app, f.engineer(app, communities=(community_id,)))
    response = _answer(client, question_id, engineer, "待审的回答")
    assert response.json["status"] == "visible"


def test_risky_staff_text_is_refused_under_the_moderation_openid(client, app, monkeypatch):
    _staff_checked(app, monkeypatch)
    community_id, question_id = _asked(client, app)
    engineer = f.engineer_auth(app, f.engineer(app, communities=(community_id,)))
    response = _answer(client, question_id, engineer, "违禁的回答")
    assert response.status_code == 422
    assert response.json["error"]["code"] == "content_risky"


def test_a_held_answer_is_not_counted(client, app, monkeypatch):
    _staff_checked(app, monkeypatch)
    community_id, question_id = _asked(client, app)
    engineer = f.engineer_auth(app, f.engineer(app, communities=(community_id,)))
    response = _answer(client, question_id, engineer, "待审的回答")
    assert (response.status_code, response.json["status"]) == (201, "held")
    assert _list(client, community_id).json["items"][0]["answer_count"] == 0


def test_approving_a_held_answer_counts_it(client, app, monkeypatch):
    _staff_checked(app, monkeypatch)
    community_id, question_id = _asked(client, app)
    engineer = f.engineer_auth(app, f.engineer(app, communities=(community_id,)))
    answer_id = _answer(client, question_id, engineer, "待审的回答").json["id"]
    assert _decide(client, app, "answer", answer_id, "approve").status_code == 200
    assert _list(client, community_id).json["items"][0]["answer_count"] == 1


def test_a_repeated_approval_changes_nothing(client, app, monkeypatch):
    _staff_checked(app, monkeypatch)
    community_id, question_id = _asked(client, app)
    engineer = f.engineer_auth(app, f.engineer(app, communities=(community_id,)))
    answer_id = _answer(client, question_id, engineer, "待审的回答").json["id"]
    _decide(client, app, "answer", answer_id, "approve")
    assert _decide(client, app, "answer", answer_id, "approve").json["changed"] is False
    assert _list(client, community_id).json["items"][0]["answer_count"] == 1


def test_rejecting_a_published_answer_takes_it_off_the_count(client, app):
    community_id, question_id = _asked(client, app)
    engineer = f.engineer_auth(app, f.engineer(app, communities=(community_id,)))
    answer_id = _answer(client, question_id, engineer).json["id"]
    assert _decide(client, app, "answer", answer_id, "reject", "不专业").status_code == 200
    question = _list(client, community_id).json["items"][0]
    assert (question["answer_count"], question["answers"]) == (0, [])


def test_the_held_queue_shows_held_content_of_my_region_only(client, app):
    _asked(client, app, "上海的待审问题")
    _asked(client, app, "一个公开的问题")
    beijing = f.community(app, province="北京市", city="北京市", district="朝阳区")
    _ask(client, app, beijing, f.resident(app, communities=(beijing,)), "北京的待审问题")
    manager = f.staff_auth(app, f.staff(app, "manager", region="上海市"), "manager")
    held = client.get("/api/v1/moderation/held", headers=manager).json
    assert [(i["kind"], i["text"]) for i in held["items"]] == [("question", "上海的待审问题")]


def test_more_than_nine_photos_are_refused(client, app):
    community_id = f.community(app)
    resident_id = f.resident(app, communities=(community_id,))
    photos = _uploaded(app, 10)
    response = _ask(client, app, community_id, resident_id, photos=photos)
    assert response.status_code == 422
    assert "photos" in response.json["error"]["fields"]
    assert _question_count(app) == 0


@pytest.mark.parametrize("url", ["https://x.example/a.jpg", "/media/" + "0" * 64 + ".jpg"])
def test_photos_must_be_our_uploads(client, app, url):
    community_id = f.community(app)
    resident_id = f.resident(app, communities=(community_id,))
    response = _ask(client, app, community_id, resident_id, photos=[url])
    assert response.status_code == 422
    assert response.json["error"]["code"] == "photo_not_uploaded"


def test_the_listing_is_paginated_newest_first(client, app):
    community_id = f.community(app)
    resident_id = f.resident(app, communities=(community_id,))
    for n in range(3):
        _ask(client, app, community_id, resident_id, f"问题{n}")
    page = _list(client, community_id, page=1, page_size=2).json
    assert page["total"] == 3
    assert [q["text"] for q in page["items"]] == ["问题2", "问题1"]
    assert [q["text"] for q in _list(client, community_id, page=2, page_size=2).json["items"]] == [
        "问题0"
    ]


def test_the_listing_takes_the_same_number_of_queries_however_many_answers(client, app):
    community_id = f.community(app)
    resident_id = f.resident(app, communities=(community_id,))
    engineer = f.engineer_auth(app, f.engineer(app, communities=(community_id,)))

    def add_questions(n: int) -> None:
        for _ in range(n):
            asked = _ask(client, app, community_id, resident_id)
            assert asked.status_code == 201, ("ask", asked.json)
            for _ in range(2):
                answered = _answer(client, asked.json["id"], engineer)
                assert answered.status_code == 201, ("answer", answered.json)

    add_questions(2)
    few = _statements_for(app, lambda: _list(client, community_id))
    add_questions(4)
    many = _statements_for(app, lambda: _list(client, community_id))
    assert few == many == 4  # community, count, questions, their answers


def test_all_answers_are_on_the_answers_page(client, app):
    community_id, question_id = _asked(client, app)
    engineer = f.engineer_auth(app, f.engineer(app, communities=(community_id,)))
    for n in range(7):
        _answer(client, question_id, engineer, f"回答{n}")
    embedded = _list(client, community_id).json["items"][0]["answers"]
    page = client.get(f"/api/v1/questions/{question_id}/answers?page_size=10").json
    assert len(embedded) == 5 and page["total"] == 7
    assert page["items"][-1]["text"] == "回答6"


def test_recent_questions_are_the_visible_ones_newest_first(client, app):
    community_id = f.community(app)
    resident_id = f.resident(app, communities=(community_id,))
    for text in ("第一个", "这个待审一下", "第二个"):
        _ask(client, app, community_id, resident_id, text)
    with app.app_context():
        assert [q.text for q in recent_questions(community_id)] == ["第二个", "第一个"]


def _statements_for(app, action) -> int:
    """SELECTs run by action (SQLite's BEGIN IMMEDIATE is not a query)."""
    statements = []

    def count(_conn, _cursor, statement: str, *_args) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        assert action().status_code == 200
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    return len(statements)


def test_a_held_answer_is_in_the_queue_with_its_question(client, app, monkeypatch):
    _staff_checked(app, monkeypatch)
    community_id, question_id = _asked(client, app)
    engineer = f.engineer_auth(app, f.engineer(app, communities=(community_id,)))
    photos = _uploaded(app)
    client.post(
        f"/api/v1/questions/{question_id}/answers",
        json={"text": "待审的回答", "photos": photos},
        headers=engineer,
    )
    manager = f.staff_auth(app, f.staff(app, "manager"), "manager")
    [item] = client.get("/api/v1/moderation/held", headers=manager).json["items"]
    assert (item["kind"], item["question_id"], item["photos"]) == ("answer", question_id, photos)
