"""WeChatClient against the fake WeChat server over real loopback HTTP."""

from __future__ import annotations

import pickle
import socket
import struct

import pytest
import requests

from demo.fake_wechat import FakeWeChatServer, FakeWeChatState
from service_hub.wechat import WeChatClient, WeChatError, WeChatUnavailable


@pytest.fixture(scope="module")
def server():
    """One fake WeChat for the module; starting a server per test would be slow."""
    with FakeWeChatServer() as fake:
        yield fake


@pytest.fixture
def state(server: FakeWeChatServer) -> FakeWeChatState:
    """The fake's state, emptied so tests cannot see each other's codes and tokens."""
    server.state.reset()
    return server.state


@pytest.fixture
def client(server: FakeWeChatServer, state: FakeWeChatState):
    """A client holding the credentials the fake accepts."""
    session = loopback_session()
    yield WeChatClient(server.base_url, state.appid, state.secret, session=session)
    session.close()


@pytest.fixture
def token(client: WeChatClient) -> str:
    """A valid access_token."""
    return client.stable_token()[0]


@pytest.fixture
def openid(state: FakeWeChatState) -> str:
    """The openid of a user the fake knows."""
    return state.openid_for("alice")


def loopback_session() -> requests.Session:
    """A session that ignores proxy settings, which must not intercept loopback calls."""
    session = requests.Session()
    session.trust_env = False
    return session


def closed_port_url() -> str:
    """A loopback URL nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_code2session_returns_a_28_character_openid_and_a_session_key(client: WeChatClient):
    session = client.code2session("alice:1")

    assert len(session["openid"]) == 28
    assert session["openid"].startswith("o")
    assert session["session_key"]
    assert session["unionid"]


def test_codes_of_the_same_user_key_give_the_same_openid(client: WeChatClient):
    first = client.code2session("alice:1")["openid"]
    second = client.code2session("alice:2")["openid"]
    other = client.code2session("bob:1")["openid"]

    assert first == second
    assert other != first


def test_a_code_works_only_once(client: WeChatClient):
    client.code2session("alice:once")

    with pytest.raises(WeChatError) as caught:
        client.code2session("alice:once")

    assert caught.value.errcode == 40029


@pytest.mark.parametrize(
    ("code", "errcode"),
    [("err40029-x", 40029), ("err45011-x", 45011), ("err40226-x", 40226), ("err-1-x", -1)],
)
def test_magic_code_prefix_answers_with_its_errcode(client: WeChatClient, code: str, errcode: int):
    with pytest.raises(WeChatError) as caught:
        client.code2session(code)

    assert caught.value.errcode == errcode


def test_wrong_secret_is_rejected_with_40125_and_not_echoed(server: FakeWeChatServer):
    wrong = WeChatClient(
        server.base_url, server.state.appid, "not-the-secret", session=loopback_session()
    )

    with pytest.raises(WeChatError) as caught:
        wrong.code2session("alice:1")

    assert caught.value.errcode == 40125
    assert "not-the-secret" not in str(caught.value)


def test_stable_token_lasts_two_hours(client: WeChatClient, state: FakeWeChatState):
    token, expires_in = client.stable_token()

    assert expires_in == 7200
    assert token in state.issued_tokens


def test_stable_token_without_force_refresh_returns_the_same_token(client: WeChatClient):
    assert client.stable_token()[0] == client.stable_token()[0]


def test_force_refresh_issues_a_different_token_and_retires_the_old_one(
    client: WeChatClient, openid: str
):
    old, _ = client.stable_token()
    new, _ = client.stable_token(force_refresh=True)

    assert new != old
    with pytest.raises(WeChatError) as caught:
        client.msg_sec_check(old, openid, "hello")
    assert caught.value.errcode == 40001


def test_send_with_an_unknown_token_fails_with_40001(client: WeChatClient, openid: str):
    with pytest.raises(WeChatError) as caught:
        client.send_subscribe_message("made-up", openid, "tpl-1", {"thing1": {"value": "hi"}})

    assert caught.value.errcode == 40001


def test_send_with_an_expired_token_fails_with_42001(
    client: WeChatClient, state: FakeWeChatState, token: str, openid: str
):
    state.expire_token(token)

    with pytest.raises(WeChatError) as caught:
        client.send_subscribe_message(token, openid, "tpl-1", {"thing1": {"value": "hi"}})

    assert caught.value.errcode == 42001


def test_sent_message_is_recorded_with_its_recipient(
    client: WeChatClient, state: FakeWeChatState, token: str, openid: str
):
    data = {"thing1": {"value": "Repair booked"}}

    client.send_subscribe_message(token, openid, "tpl-1", data, page="pages/order/detail")

    assert len(state.sent_messages) == 1
    sent = state.sent_messages[0]
    assert (sent["touser"], sent["template_id"], sent["data"]) == (openid, "tpl-1", data)
    assert sent["page"] == "pages/order/detail"


def test_send_with_a_value_less_data_item_fails_with_47003(
    client: WeChatClient, token: str, openid: str
):
    with pytest.raises(WeChatError) as caught:
        client.send_subscribe_message(token, openid, "tpl-1", {"thing1": "bare string"})

    assert caught.value.errcode == 47003
    assert not caught.value.transient


def test_send_to_a_user_without_quota_fails_permanently_with_43101(
    client: WeChatClient, state: FakeWeChatState, token: str, openid: str
):
    state.no_quota.add(openid)

    with pytest.raises(WeChatError) as caught:
        client.send_subscribe_message(token, openid, "tpl-1", {"thing1": {"value": "hi"}})

    assert caught.value.errcode == 43101
    assert caught.value.transient is False
    assert state.sent_messages == []


def test_injected_system_error_is_transient(
    client: WeChatClient, state: FakeWeChatState, token: str, openid: str
):
    state.fail_next("subscribe_send", -1, "system error")

    with pytest.raises(WeChatError) as caught:
        client.send_subscribe_message(token, openid, "tpl-1", {"thing1": {"value": "hi"}})

    assert caught.value.errcode == -1
    assert caught.value.transient is True


def test_injected_error_is_used_once(
    client: WeChatClient, state: FakeWeChatState, token: str, openid: str
):
    state.fail_next("subscribe_send", -1)
    with pytest.raises(WeChatError):
        client.send_subscribe_message(token, openid, "tpl-1", {"thing1": {"value": "hi"}})

    client.send_subscribe_message(token, openid, "tpl-1", {"thing1": {"value": "hi"}})

    assert len(state.sent_messages) == 1


def test_qrcode_is_a_png_image(client: WeChatClient, token: str):
    image = client.get_unlimited_qrcode(token, "order=42", page="pages/order/detail")

    assert image.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", image[16:24])
    assert width == height > 0
    assert image.endswith(b"IEND\xaeB`\x82")


def test_too_long_scene_fails_with_40169(client: WeChatClient, token: str):
    with pytest.raises(WeChatError) as caught:
        client.get_unlimited_qrcode(token, "x" * 33)

    assert caught.value.errcode == 40169


@pytest.mark.parametrize(
    ("content", "suggest", "label"),
    [("这是违禁内容", "risky", 20001), ("内容待审", "review", 10001), ("你好", "pass", 100)],
)
def test_msg_sec_check_gives_the_suggestion_for_the_content(
    client: WeChatClient, token: str, openid: str, content: str, suggest: str, label: int
):
    verdict = client.msg_sec_check(token, openid, content)

    assert (verdict["suggest"], verdict["label"]) == (suggest, label)
    assert verdict["trace_id"]


def test_closed_port_raises_wechat_unavailable_without_the_secret():
    offline = WeChatClient(
        closed_port_url(), "wx-demo-appid", "top-secret-value", session=loopback_session()
    )

    with pytest.raises(WeChatUnavailable) as caught:
        offline.code2session("alice:1")

    assert caught.value.errcode is None
    assert caught.value.transient is True
    assert "top-secret-value" not in str(caught.value)
    assert caught.value.__context__ is None


def test_gateway_error_page_raises_wechat_unavailable(client: WeChatClient, state: FakeWeChatState):
    state.fail_next_http("stable_token", 502)

    with pytest.raises(WeChatUnavailable):
        client.stable_token()


def test_unknown_route_answers_40066(server: FakeWeChatServer):
    response = loopback_session().get(server.base_url + "/cgi-bin/nope", timeout=5)

    assert response.status_code == 404
    assert response.json() == {"errcode": 40066, "errmsg": "invalid url"}


def test_from_config_reads_the_wechat_settings():
    config = {
        "WECHAT_API_BASE": "http://127.0.0.1:9/",
        "WECHAT_APPID": "wx-app",
        "WECHAT_SECRET": "shh-secret",
        "WECHAT_TIMEOUT_SECONDS": 1.5,
    }

    client = WeChatClient.from_config(config)

    assert (client.base_url, client.appid, client.timeout) == ("http://127.0.0.1:9", "wx-app", 1.5)
    assert "shh-secret" not in repr(client)


def test_errors_survive_pickling_for_job_queues():
    error = pickle.loads(pickle.dumps(WeChatError(43101, "user refuse", "subscribe_send")))
    outage = pickle.loads(pickle.dumps(WeChatUnavailable("timeout", "stable_token")))

    assert (error.errcode, error.errmsg, error.endpoint) == (43101, "user refuse", "subscribe_send")
    assert (outage.errcode, outage.errmsg, outage.transient) == (None, "timeout", True)
