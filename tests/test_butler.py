"""Butler binding: engineers' single-use codes with a WeChat QR, residents binding by scan."""

from __future__ import annotations

import base64
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import sqlalchemy as sa

from demo.fake_wechat import SCENE_ALLOWED, SCENE_MAX_LENGTH
from models import ButlerBinding, ButlerCode
from models.base import utcnow
from models.butler import active_butler_of
from service_hub.plumbing.extensions import db
from service_hub.wechat.access_token import access_token_provider
from tests import factories as f

CODES = "/api/v1/engineers/me/bind-codes"
BIND = "/api/v1/butler/bind"
MY_BUTLER = "/api/v1/me/butler"


@pytest.fixture(autouse=True)
def _fresh_token(app):
    # The fake WeChat forgets its tokens between tests; so must the token cache.
    access_token_provider(app).invalidate()


def _new_code(client, app, engineer_id: int):
    return client.post(CODES, headers=f.engineer_auth(app, engineer_id))


def _scene(client, app, engineer_id: int) -> str:
    response = _new_code(client, app, engineer_id)
    assert response.status_code == 201, response.json
    return response.json["scene"]


def _bind(client, app, resident_id: int, scene: str):
    return client.post(BIND, json={"scene": scene}, headers=f.resident_auth(app, resident_id))


def _bindings(app, resident_id: int) -> list[tuple[int, str, str | None]]:
    """(engineer_id, status, end_reason) of the resident's bindings, oldest first."""
    with app.app_context():
        rows = db.session.execute(
            sa.select(ButlerBinding.engineer_id, ButlerBinding.status, ButlerBinding.end_reason)
            .where(ButlerBinding.resident_id == resident_id)
            .order_by(ButlerBinding.id)
        )
        return [tuple(row) for row in rows]


def _code_count(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(ButlerCode))


def test_a_code_fits_wechats_scene_rules_and_comes_with_a_png_qr(client, app):
    response = _new_code(client, app, f.engineer(app))
    assert response.status_code == 201
    scene = response.json["scene"]
    assert 0 < len(scene) <= SCENE_MAX_LENGTH
    assert set(scene) <= SCENE_ALLOWED
    assert base64.b64decode(response.json["qr_png_base64"]).startswith(b"\x89PNG")
    assert response.json["page"] == app.config["BUTLER_QR_PAGE"]
    assert response.json["expires_at"].endswith("+08:00")


def test_every_code_is_a_new_nonce(client, app):
    engineer_id = f.engineer(app)
    assert _scene(client, app, engineer_id) != _scene(client, app, engineer_id)


def test_a_resident_binds_with_a_fresh_code_and_sees_the_engineer(client, app):
    engineer_id, resident_id = f.engineer(app), f.resident(app)
    response = _bind(client, app, resident_id, _scene(client, app, engineer_id))
    assert response.status_code == 201
    assert response.json["outcome"] == "bound"
    mine = client.get(MY_BUTLER, headers=f.resident_auth(app, resident_id))
    assert mine.status_code == 200
    assert mine.json["engineer"]["id"] == engineer_id
    assert mine.json["engineer"]["name"].startswith("测试师傅")


def test_binding_takes_two_calls_a_code_then_a_scan(client, app):
    engineer_id, resident_id = f.engineer(app), f.resident(app)
    scene = client.post(CODES, headers=f.engineer_auth(app, engineer_id)).json["scene"]
    response = client.post(BIND, json={"scene": scene}, headers=f.resident_auth(app, resident_id))
    assert response.status_code == 201
    assert response.json["engineer"]["id"] == engineer_id


def test_a_used_code_is_refused(client, app):
    scene = _scene(client, app, f.engineer(app))
    _bind(client, app, f.resident(app), scene)
    response = _bind(client, app, f.resident(app), scene)
    assert response.status_code == 409
    assert response.json["error"]["code"] == "bind_code_used"
    assert response.json["error"]["message_zh"]


def test_an_expired_code_is_refused(client, app):
    resident_id = f.resident(app)
    scene = _scene(client, app, f.engineer(app))
    with app.app_context():
        db.session.execute(
            sa.update(ButlerCode)
            .where(ButlerCode.scene == scene)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
    response = _bind(client, app, resident_id, scene)
    assert response.status_code == 410
    assert response.json["error"]["code"] == "bind_code_expired"
    assert response.json["error"]["message_zh"] == "二维码已失效，请让师傅刷新"
    assert _bindings(app, resident_id) == []


def test_an_unknown_scene_is_refused(client, app):
    response = _bind(client, app, f.resident(app), "b=never-issued")
    assert response.status_code == 404
    assert response.json["error"]["code"] == "bind_code_unknown"


def test_binding_the_same_engineer_again_changes_nothing_but_uses_the_code(client, app):
    engineer_id, resident_id = f.engineer(app), f.resident(app)
    first = _bind(client, app, resident_id, _scene(client, app, engineer_id))
    second_scene = _scene(client, app, engineer_id)
    again = _bind(client, app, resident_id, second_scene)
    assert again.status_code == 200
    assert again.json["outcome"] == "already_bound"
    assert again.json["binding_id"] == first.json["binding_id"]
    assert _bindings(app, resident_id) == [(engineer_id, "active", None)]
    assert _bind(client, app, f.resident(app), second_scene).status_code == 409


def test_a_different_engineer_replaces_the_old_butler(client, app):
    old, new, resident_id = f.engineer(app), f.engineer(app), f.resident(app)
    _bind(client, app, resident_id, _scene(client, app, old))
    response = _bind(client, app, resident_id, _scene(client, app, new))
    assert response.status_code == 201
    assert (response.json["outcome"], response.json["replaced_engineer_id"]) == ("replaced", old)
    assert _bindings(app, resident_id) == [(old, "ended", "replaced"), (new, "active", None)]


def test_the_same_scan_sent_again_returns_the_binding_it_made(client, app):
    resident_id = f.resident(app)
    scene = _scene(client, app, f.engineer(app))
    first = _bind(client, app, resident_id, scene)
    retry = _bind(client, app, resident_id, scene)
    assert retry.status_code == 200
    assert retry.json["binding_id"] == first.json["binding_id"]


def test_my_own_code_of_a_butler_since_replaced_is_used(client, app):
    old, new, resident_id = f.engineer(app), f.engineer(app), f.resident(app)
    old_scene = _scene(client, app, old)
    _bind(client, app, resident_id, old_scene)
    _bind(client, app, resident_id, _scene(client, app, new))
    response = _bind(client, app, resident_id, old_scene)
    assert response.status_code == 409
    assert response.json["error"]["code"] == "bind_code_used"


def test_an_engineer_cannot_bind(client, app):
    scene = _scene(client, app, f.engineer(app))
    other = f.engineer(app)
    response = client.post(BIND, json={"scene": scene}, headers=f.engineer_auth(app, other))
    assert response.status_code == 403


def test_binding_needs_a_token(client, app):
    scene = _scene(client, app, f.engineer(app))
    response = client.post(BIND, json={"scene": scene})
    assert response.status_code == 401
    assert response.json["error"]["code"] == "auth_required"


def test_only_engineers_get_codes(client, app):
    response = client.post(CODES, headers=f.resident_auth(app, f.resident(app)))
    assert response.status_code == 403
    assert _code_count(app) == 0


def test_an_admin_without_an_engineer_profile_gets_no_code(client, app):
    admin = f.staff_auth(app, f.staff(app, "admin"), "admin")
    assert client.post(CODES, headers=admin).status_code == 403


def test_wechat_busy_is_a_503_and_leaves_no_code(client, app, fake_wechat):
    fake_wechat.state.fail_next("getwxacodeunlimit", 45009, "reach max api daily quota limit")
    response = _new_code(client, app, f.engineer(app))
    assert response.status_code == 503
    assert response.json["error"]["code"] == "wechat_qr_failed"
    assert response.headers["Retry-After"]
    assert _code_count(app) == 0


def test_a_refused_access_token_is_refreshed_and_the_qr_made(client, app, fake_wechat):
    fake_wechat.state.fail_next("getwxacodeunlimit", 40001, "invalid credential")
    response = _new_code(client, app, f.engineer(app))
    assert response.status_code == 201
    assert _code_count(app) == 1


def test_a_token_refused_twice_is_a_502_and_leaves_no_code(client, app, fake_wechat):
    for _ in range(2):
        fake_wechat.state.fail_next("getwxacodeunlimit", 40001, "invalid credential")
    response = _new_code(client, app, f.engineer(app))
    assert response.status_code == 502
    assert response.json["error"]["code"] == "wechat_qr_failed"
    assert response.json["error"]["details"]["errcode"] == 40001
    assert _code_count(app) == 0


def test_wechat_unreachable_is_a_503(client, app, fake_wechat):
    fake_wechat.state.fail_next_http("getwxacodeunlimit", 502)
    response = _new_code(client, app, f.engineer(app))
    assert (response.status_code, response.json["error"]["code"]) == (503, "wechat_qr_failed")


def test_an_engineer_holds_a_limited_number_of_open_codes(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "BUTLER_MAX_OPEN_CODES", 2)
    engineer_id = f.engineer(app)
    _scene(client, app, engineer_id)
    _scene(client, app, engineer_id)
    response = _new_code(client, app, engineer_id)
    assert response.status_code == 429
    assert response.json["error"]["code"] == "bind_codes_limit"
    assert int(response.headers["Retry-After"]) > 0


def test_a_used_code_no_longer_counts_against_the_limit(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "BUTLER_MAX_OPEN_CODES", 1)
    engineer_id = f.engineer(app)
    _bind(client, app, f.resident(app), _scene(client, app, engineer_id))
    assert _new_code(client, app, engineer_id).status_code == 201


def test_two_residents_scanning_one_code_at_once_bind_exactly_one(client, app):
    scene = _scene(client, app, f.engineer(app))
    residents = [f.resident(app) for _ in range(2)]
    start = threading.Barrier(len(residents))

    def attempt(resident_id: int) -> int:
        own_client = app.test_client()
        start.wait()
        return _bind(own_client, app, resident_id, scene).status_code

    with ThreadPoolExecutor(max_workers=len(residents)) as pool:
        statuses = sorted(pool.map(attempt, residents))
    assert statuses == [201, 409]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ButlerBinding)) == 1


def test_parallel_scans_by_one_resident_leave_one_active_butler(client, app):
    resident_id = f.resident(app)
    scenes = [_scene(client, app, f.engineer(app)) for _ in range(4)]
    start = threading.Barrier(len(scenes))

    def attempt(scene: str) -> int:
        own_client = app.test_client()
        start.wait()
        return _bind(own_client, app, resident_id, scene).status_code

    with ThreadPoolExecutor(max_workers=len(scenes)) as pool:
        statuses = list(pool.map(attempt, scenes))
    assert statuses == [201] * len(scenes)
    states = [status for _, status, _ in _bindings(app, resident_id)]
    assert (states.count("active"), states.count("ended")) == (1, len(scenes) - 1)


def test_a_resident_without_a_butler_hears_no_butler(client, app):
    response = client.get(MY_BUTLER, headers=f.resident_auth(app, f.resident(app)))
    assert response.status_code == 404
    assert response.json["error"]["code"] == "no_butler"


def test_unbinding_ends_the_binding(client, app):
    engineer_id, resident_id = f.engineer(app), f.resident(app)
    _bind(client, app, resident_id, _scene(client, app, engineer_id))
    response = client.delete(MY_BUTLER, headers=f.resident_auth(app, resident_id))
    assert response.status_code == 204
    assert _bindings(app, resident_id) == [(engineer_id, "ended", "unbound_by_resident")]


def test_unbinding_without_a_butler_is_harmless(client, app):
    response = client.delete(MY_BUTLER, headers=f.resident_auth(app, f.resident(app)))
    assert response.status_code == 204


def test_active_butler_of_names_the_current_butler_only(client, app):
    old, new, resident_id = f.engineer(app), f.engineer(app), f.resident(app)
    _bind(client, app, resident_id, _scene(client, app, old))
    _bind(client, app, resident_id, _scene(client, app, new))
    loner = f.resident(app)
    with app.app_context():
        assert active_butler_of(resident_id) == new
        assert active_butler_of(loner) is None


def test_the_bind_route_documents_its_errors(client):
    document = client.get("/api/v1/openapi.json").json
    operation = document["paths"][BIND]["post"]
    assert {"200", "201", "401", "403", "404", "409", "410"} <= set(operation["responses"])
    assert "latest scan wins" in operation["description"]
