"""Our fake WeChat accepts only the subscribe-message field values WeChat documents for each
field type, answering 47003 as WeChat does; our own check before sending agrees with it."""

from datetime import UTC, datetime

import pytest

from demo.fake_wechat import FakeWeChatState, create_fake_wechat_app
from notifications.fields import FieldRefused, fit
from service_hub.plumbing.timefmt import local_datetime_text

DOCUMENTED = [
    ("thing1", "滤芯更换"),
    ("thing1", "3号楼 A座（东门）"),
    ("number1", "339208499"),
    ("number1", "3.14"),
    ("letter1", "ABC"),
    ("symbol1", "#-+"),
    ("character_string1", "SO-20261201-42"),
    ("time1", "15:01"),
    ("time1", "15:01:30"),
    ("time1", "2019年10月1日 15:01"),
    ("time1", "2019-10-01 15:01"),
    ("time1", "15:01~16:30"),
    ("date1", "2019年10月1日"),
    ("date1", "2019年10月1日 15:01"),
    ("date1", "2018-01-01"),
    ("date1", "2018/01/01"),
    ("date1", "2018.01.01"),
    ("date1", "2018-01"),
    ("date1", "01-01"),
    ("date1", "2019年10月1日~2019年10月7日"),
    ("amount1", "¥99.00"),
    ("amount1", "10.00元"),
    ("phone_number1", "+86-0766-66888866"),
    ("car_number1", "粤A8Z888挂"),
    ("name1", "张师傅"),
    ("name1", "John Smith"),
    ("phrase1", "配送中"),
]

# One form of each type that WeChat does not document, the kind of mistake we could make.
UNDOCUMENTED = {
    "thing1": "第一行\n第二行",  # a control character
    "number1": "-12",  # a sign
    "letter1": "AB1",  # a digit
    "symbol1": "#a",  # a letter
    "character_string1": "工单123",  # Chinese
    "time1": "12月02日 12:46",  # a date without its year
    "date1": "2019-10-01T15:01:00+08:00",  # ISO 8601
    "amount1": "¥12,345.00",  # a thousands separator
    "phone_number1": "138 0000 0000",  # spaces
    "car_number1": "粤A-8Z888",  # a symbol
    "name1": "工程师007",  # digits
    "phrase1": "OK",  # letters
}

# One value of each type that has a documented length, just past it.
TOO_LONG = {
    "thing1": "阳" * 21,
    "number1": "1" * 33,
    "letter1": "A" * 33,
    "symbol1": "#" * 6,
    "character_string1": "A" * 33,
    "amount1": "12345678901",
    "phone_number1": "1" * 18,
    "car_number1": "粤A8Z8888挂",
    "name1": "欧阳诸葛司马上官慕容长",
    "phrase1": "已经完成服务",
}


@pytest.fixture(scope="module")
def fake():
    """The fake WeChat app (no server needed) and a valid access token for it."""
    state = FakeWeChatState()
    token, _ = state.issue_token(force_refresh=False)
    return create_fake_wechat_app(state).test_client(), token, state


def send(fake, key: str, value: object) -> dict:
    client, token, state = fake
    body = {
        "touser": state.openid_for("alice"),
        "template_id": "tmpl-test",
        "data": {key: {"value": value}},
    }
    return client.post(f"/cgi-bin/message/subscribe/send?access_token={token}", json=body).json


@pytest.mark.parametrize(("key", "value"), DOCUMENTED, ids=[f"{k}={v}" for k, v in DOCUMENTED])
def test_the_fake_accepts_a_documented_form(fake, key, value):
    assert send(fake, key, value)["errcode"] == 0


@pytest.mark.parametrize(("key", "value"), UNDOCUMENTED.items(), ids=list(UNDOCUMENTED))
def test_the_fake_refuses_an_undocumented_form(fake, key, value):
    answer = send(fake, key, value)
    assert (answer["errcode"], answer["errmsg"]) == (
        47003,
        f"argument invalid! data.{key}.value invalid",
    )


@pytest.mark.parametrize(("key", "value"), TOO_LONG.items(), ids=list(TOO_LONG))
def test_the_fake_refuses_a_value_past_its_documented_length(fake, key, value):
    assert send(fake, key, value)["errcode"] == 47003


def test_the_fake_says_which_field_is_empty(fake):
    answer = send(fake, "thing1", "")
    assert answer == {"errcode": 47003, "errmsg": "argument invalid! data.thing1.value is empty"}


def test_the_fake_refuses_a_field_type_wechat_does_not_have(fake):
    assert send(fake, "site01", "TIT创意园")["errcode"] == 47003


@pytest.mark.parametrize(("key", "value"), DOCUMENTED, ids=[f"{k}={v}" for k, v in DOCUMENTED])
def test_our_check_keeps_a_documented_form_as_it_is(key, value):
    assert fit(key, value) == value


@pytest.mark.parametrize(
    ("key", "value"),
    [*UNDOCUMENTED.items(), *TOO_LONG.items()],
    ids=[f"undocumented-{k}" for k in UNDOCUMENTED] + [f"too-long-{k}" for k in TOO_LONG],
)
def test_our_check_refuses_or_fixes_what_the_fake_refuses(fake, key, value):
    try:
        fitted = fit(key, value)
    except FieldRefused:
        return
    assert fitted != value
    assert send(fake, key, fitted)["errcode"] == 0


def test_local_times_read_with_the_year_in_the_form_wechat_documents(fake):
    text = local_datetime_text(datetime(2026, 12, 2, 4, 46, tzinfo=UTC))
    assert text == "2026年12月2日 12:46"  # Asia/Shanghai
    assert send(fake, "time1", text)["errcode"] == 0
    assert send(fake, "date1", text)["errcode"] == 0
