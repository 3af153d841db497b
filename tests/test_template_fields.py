"""WeChat template field limits: truncate where a cut keeps the meaning, refuse otherwise."""

import pytest

from notifications.fields import FieldRefused, fit, wechat_data


def test_a_long_thing_is_truncated_to_twenty_characters():
    value = fit("thing1", "阳光海上名邸三期十二号楼二单元业主报修热水器漏水")
    assert len(value) == 20 and value.endswith("…")


def test_a_short_thing_is_kept_as_it_is():
    assert fit("thing2", "滤芯更换") == "滤芯更换"


def test_a_chinese_name_is_cut_to_ten_characters():
    assert fit("name3", "欧阳诸葛司马上官慕容长名字") == "欧阳诸葛司马上官慕容"


def test_a_phrase_longer_than_five_characters_is_refused():
    with pytest.raises(FieldRefused):
        fit("phrase3", "已经完成服务")


def test_a_phrase_with_latin_letters_is_refused():
    with pytest.raises(FieldRefused):
        fit("phrase3", "OK")


def test_a_character_string_over_32_is_refused():
    with pytest.raises(FieldRefused):
        fit("character_string1", "A" * 33)


def test_a_character_string_with_chinese_is_refused():
    with pytest.raises(FieldRefused):
        fit("character_string1", "工单123")


def test_an_amount_of_more_than_ten_digits_is_refused():
    with pytest.raises(FieldRefused):
        fit("amount2", "123456789.01")


def test_an_amount_with_a_yuan_sign_is_kept():
    assert fit("amount2", "¥99.00") == "¥99.00"


def test_a_date_in_chinese_format_is_kept():
    assert fit("date2", "2026年12月01日") == "2026年12月01日"


def test_a_time_that_is_not_a_time_is_refused():
    with pytest.raises(FieldRefused):
        fit("time3", "明天上午")


def test_an_unknown_field_type_is_refused():
    with pytest.raises(FieldRefused):
        fit("emoji1", "🙂")


def test_an_engineer_name_keeps_what_a_name_may_hold():
    assert fit("name2", "张师傅2") == "张师傅"


def test_a_thing_on_several_lines_becomes_one_line():
    assert fit("thing1", "净水讲座\n小区会所") == "净水讲座 小区会所"


def test_an_empty_value_is_refused():
    with pytest.raises(FieldRefused):
        fit("thing1", "  ")


def test_wechat_data_wraps_each_value():
    assert wechat_data({"thing1": "滤芯", "number2": 3}) == {
        "thing1": {"value": "滤芯"},
        "number2": {"value": "3"},
    }
