"""Completion checklists (完工检查单): admins define one per service type; the engineer fills it
while in service; `complete` is refused until every required item is answered, with a Chinese
message per item, and a refusal stores nothing."""

from __future__ import annotations

import pytest

from tests import factories as f
from tests.completion_world import CHECKLIST, make_world


@pytest.fixture
def world(app, client, run_jobs):
    return make_world(app, client, run_jobs)


# ---- the definition ----


def test_an_admin_defines_a_service_type_s_checklist_and_anyone_reads_it(world, client):
    items = client.get(f"/api/v1/services/{world.service}/checklist").json["items"]
    assert [(i["key"], i["kind"], i["required"]) for i in items] == [
        ("filter_replaced", "yes_no", True),
        ("tds_after", "number", True),
        ("leak_check", "photo", True),
        ("advice", "text", False),
    ]
    assert (items[1]["unit"], items[1]["min_value"], items[1]["max_value"]) == ("ppm", 0, 50)


def test_replacing_a_checklist_keeps_only_the_new_items_in_their_order(world):
    new = [CHECKLIST[3], {"key": "pressure", "label": "水压正常", "kind": "yes_no"}]
    items = world.set_checklist(new).json["items"]
    assert [i["key"] for i in items] == ["advice", "pressure"]


def test_a_manager_may_not_change_a_checklist(world, app, client):
    manager = f.staff_auth(app, f.staff(app, "manager"), "manager")
    response = client.put(
        f"/api/v1/services/{world.service}/checklist", headers=manager, json={"items": []}
    )
    assert (response.status_code, response.json["error"]["code"]) == (403, "role_forbidden")


@pytest.mark.parametrize(
    ("items", "field"),
    [
        ([CHECKLIST[0], {**CHECKLIST[0], "label": "再一次"}], "items"),  # a key twice
        ([{**CHECKLIST[0], "unit": "ppm"}], "unit"),  # a unit on a yes/no
        ([{**CHECKLIST[1], "min_value": 60}], "max_value"),  # max below min
        ([{**CHECKLIST[0], "kind": "signature"}], "kind"),
        ([{**CHECKLIST[0], "key": "两个字"}], "key"),
    ],
    ids=["duplicate key", "unit off a number", "max below min", "unknown kind", "key not ascii"],
)
def test_a_malformed_checklist_is_refused_and_the_old_one_kept(world, items, field):
    response = world.set_checklist(items)
    assert response.status_code == 422
    assert field in str(response.json["error"]["fields"])
    kept = world.client.get(f"/api/v1/services/{world.service}/checklist").json["items"]
    assert [i["key"] for i in kept] == [i["key"] for i in CHECKLIST]


def test_the_checklist_of_an_unknown_service_type_is_a_404(world):
    response = world.set_checklist([], service=999_999)
    assert (response.status_code, response.json["error"]["code"]) == (404, "service_type_not_found")


# ---- filling it in ----


def test_the_engineer_saves_answers_while_in_service_and_reads_them_back(world, client):
    order_id = world.in_service()
    saved = client.put(
        f"/api/v1/orders/{order_id}/checklist",
        headers=world.engineer_auth,
        json={"answers": {"filter_replaced": True, "tds_after": 12.5}, "note": "已冲洗"},
    )
    assert saved.status_code == 200, saved.json
    assert saved.json["missing"] == ["leak_check"]
    form = client.get(f"/api/v1/orders/{order_id}/checklist", headers=world.engineer_auth).json
    assert {i["key"]: i["value"] for i in form["items"]} == {
        "filter_replaced": True,
        "tds_after": 12.5,
        "leak_check": None,
        "advice": None,
    }
    assert (form["note"], form["version"]) == ("已冲洗", saved.json["version"])


def test_answers_cannot_be_saved_before_the_engineer_is_at_the_door(world, client):
    order_id = world.in_service()
    world.set(order_id, status="en_route")
    response = client.put(
        f"/api/v1/orders/{order_id}/checklist",
        headers=world.engineer_auth,
        json={"answers": {"filter_replaced": True}},
    )
    assert (response.status_code, response.json["error"]["code"]) == (409, "illegal_transition")


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ({"tds_after": 80}, "应在 0–50 ppm 之间"),
        ({"tds_after": "12"}, "请填写数字"),
        ({"filter_replaced": "yes"}, "请选择是或否"),
        ({"leak_check": "https://example.com/leak.jpg"}, "照片须先通过本系统上传"),
        ({"advice": "长" * 201}, "最多 200 字"),
        ({"colour": "white"}, "检查单中没有这一项"),
    ],
    ids=["number out of range", "number as text", "not yes or no", "photo not ours", "long", "?"],
)
def test_a_wrong_answer_is_named_in_chinese_and_nothing_is_saved(world, client, answer, message):
    order_id = world.in_service()
    response = client.put(
        f"/api/v1/orders/{order_id}/checklist",
        headers=world.engineer_auth,
        json={"answers": answer},
    )
    assert response.status_code == 422
    (key,) = answer
    assert response.json["error"]["fields"] == {f"answers.{key}": [message]}
    assert world.order(order_id).checklist_answers == []


def test_another_engineer_cannot_fill_the_checklist(world, app, client):
    order_id = world.in_service()
    other = f.engineer(app, communities=(world.community,))
    response = client.put(
        f"/api/v1/orders/{order_id}/checklist",
        headers=f.engineer_auth(app, other),
        json={"answers": {}},
    )
    assert (response.status_code, response.json["error"]["code"]) == (404, "order_not_found")


# ---- completing ----


def test_complete_is_refused_while_a_required_item_is_missing(world):
    order_id = world.in_service()
    answers = world.answers()
    del answers["leak_check"]
    response = world.act(order_id, "complete", answers=answers)
    assert (response.status_code, response.json["error"]["code"]) == (422, "checklist_incomplete")
    assert response.json["error"]["fields"] == {"answers.leak_check": ["此项必填"]}
    assert "接头无渗漏照片" in response.json["error"]["message_zh"]
    order = world.order(order_id)
    assert (order.status, order.checklist_answers, order.acceptance) == ("in_service", [], None)


def test_a_no_is_an_answer_but_a_blank_text_is_not(world):
    order_id = world.in_service()
    response = world.act(
        order_id, "complete", answers=world.answers(filter_replaced=False, advice="  ")
    )
    assert response.status_code == 200, response.json
    answered = {a["key"]: a["value"] for a in world.order(order_id).checklist_answers}
    assert (answered["filter_replaced"], answered["advice"]) == (False, None)


def test_complete_takes_the_answers_saved_before(world, client):
    order_id = world.in_service()
    saved = client.put(
        f"/api/v1/orders/{order_id}/checklist",
        headers=world.engineer_auth,
        json={"answers": world.answers(), "note": "更换三支滤芯"},
    ).json
    response = world.act(
        order_id, "complete", headers={**world.engineer_auth, "If-Match": f'"{saved["version"]}"'}
    )
    assert response.status_code == 200, response.json
    assert response.json["completion_note"] == "更换三支滤芯"
    assert world.order(order_id).checklist_answers[1] == {
        "key": "tds_after",
        "label": "出水 TDS 值",
        "kind": "number",
        "unit": "ppm",
        "required": True,
        "value": 12,
    }


def test_complete_with_photos_and_note_keeps_them_in_their_own_fields(world):
    order_id = world.in_service()
    photo = world.uploaded()
    done = world.act(
        order_id, "complete", answers=world.answers(), photos=[photo], note="出水恢复正常"
    ).json
    assert (done["completion_photos"], done["completion_note"]) == ([photo], "出水恢复正常")
    assert done["acceptance"] == "pending"


def test_a_service_without_a_checklist_completes_as_before(app, client, run_jobs):
    world = make_world(app, client, run_jobs, checklist=False)
    order_id = world.in_service()
    assert world.act(order_id, "complete").status_code == 200


def test_a_checklist_changed_after_completion_leaves_the_order_s_answers(world, client):
    order_id = world.completed()
    world.set_checklist([{"key": "tds_after", "label": "改过的标签", "kind": "text"}])
    form = client.get(f"/api/v1/orders/{order_id}/checklist", headers=world.auth).json
    assert [i["label"] for i in form["items"]] == [i["label"] for i in CHECKLIST]


@pytest.mark.parametrize("name", ["answers", "note"])
def test_checklist_and_note_go_only_with_complete(world, name):
    order_id = world.in_service()
    world.set(order_id, status="en_route")
    value = {} if name == "answers" else "到了"
    response = world.act(order_id, "start", **{name: value})
    assert response.status_code == 422
    assert name in response.json["error"]["fields"]
    assert world.order(order_id).status == "en_route"
