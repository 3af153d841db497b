"""WeChat's documented rules for subscribe-message field values, in one place: our fake WeChat
refuses what breaks them and notifications/fields.py checks them before we send.

Source: subscribeMessage.send, "订阅消息参数值内容限制说明". A template names each field by
type and position (thing1, time3 …); the type decides what the value may hold:

- thing: ≤ 20 characters, Chinese, digits, letters or symbols (滤芯更换, 3号楼 A座)
- number: ≤ 32 digits, may have decimals (42, 3.14)
- letter: ≤ 32 letters; symbol: ≤ 5 symbols
- character_string: ≤ 32 digits, letters or symbols (SO-20261201-42)
- time: 24-hour time, HH:MM or HH:MM:SS, may lead with the date (年月日); a period joins two
  with "~" (15:01, 2019年10月1日 15:01)
- date: y年m月d日, y年m月, m月d日, or joined by - / . (2018-01-01, 2018/01/01, 2018-01, 01-01),
  may end with a 24-hour time; a period joins two with "~" (2019年10月1日 15:01)
- amount: one currency symbol, ≤ 10 digits, may have decimals, may end with 元 (¥99.00)
- phone_number: ≤ 17 digits and symbols (+86-0766-66888866)
- car_number: ≤ 8 letters or digits; the first and the last may be Chinese (粤A8Z888挂)
- name: ≤ 10 Chinese characters, or ≤ 20 letters or symbols; Chinese mixed with letters
  counts as Chinese, ≤ 10 (张师傅, John Smith)
- phrase: ≤ 5 Chinese characters, nothing else (已接单)

"Symbols" are the common characters other than Chinese, letters and digits (Unicode
punctuation and symbols), never control characters such as a newline. Where the text leaves
a choice, this is the reading we took:
- time: "支持+年月日" is a date *with its year*; `12月2日 12:46` is not a documented time.
- amount: at most one currency symbol (none is fine: "10.00元"); the 10 digits count the
  decimals too.
- spaces: inside thing and name only (between words), nowhere else.
- enum (values from the template's own list) is not checked: we do not use it, so a key of
  any type outside this table is refused.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Callable
from datetime import date

THING_MAX = 20
NAME_MAX_CHINESE = 10
NAME_MAX_LATIN = 20

_LETTERS = frozenset(string.ascii_letters)
_DIGITS = frozenset(string.digits)
_HAN_RANGES = (
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xF900, 0xFAFF),  # compatibility ideographs
    (0x20000, 0x3134F),  # extensions B–G
)


def is_han(char: str) -> bool:
    """Whether char is a Chinese character (an ideograph)."""
    code = ord(char)
    return any(low <= code <= high for low, high in _HAN_RANGES)


def is_symbol(char: str) -> bool:
    """Whether char is a symbol in WeChat's sense: punctuation or a symbol, not a control
    character, not a letter, digit or Chinese character."""
    return unicodedata.category(char)[0] in "PS"


def _all(value: str, *tests: Callable[[str], bool]) -> bool:
    return all(any(test(char) for test in tests) for char in value)


def _letter(char: str) -> bool:
    return char in _LETTERS


def _digit(char: str) -> bool:
    return char in _DIGITS


def _space(char: str) -> bool:
    return char == " "


def is_thing_char(char: str) -> bool:
    """Whether a thing may hold char: Chinese, a letter, a digit, a symbol or a space."""
    return is_han(char) or _letter(char) or _digit(char) or is_symbol(char) or _space(char)


def _thing(value: str) -> bool:
    return len(value) <= THING_MAX and _all(value, is_thing_char)


def is_name_char(char: str) -> bool:
    """Whether a name may hold char: Chinese, a letter, a symbol, or a space between words."""
    return is_han(char) or _letter(char) or is_symbol(char) or _space(char)


def _name(value: str) -> bool:
    if not _all(value, is_name_char):
        return False
    limit = NAME_MAX_CHINESE if any(is_han(c) for c in value) else NAME_MAX_LATIN
    return len(value) <= limit


def _phrase(value: str) -> bool:
    return len(value) <= 5 and _all(value, is_han)


def _character_string(value: str) -> bool:
    return len(value) <= 32 and _all(value, _letter, _digit, is_symbol)


def _letters(value: str) -> bool:
    return len(value) <= 32 and _all(value, _letter)


def _symbols(value: str) -> bool:
    return len(value) <= 5 and _all(value, is_symbol)


_DECIMAL = re.compile(r"[0-9]+(?:\.[0-9]+)?")


def _digit_count(value: str) -> int:
    return sum(c in _DIGITS for c in value)


def _number(value: str) -> bool:
    return bool(_DECIMAL.fullmatch(value)) and _digit_count(value) <= 32


def _amount(value: str) -> bool:
    if unicodedata.category(value[0]) == "Sc":
        value = value[1:]
    value = value.removesuffix("元")
    return bool(_DECIMAL.fullmatch(value)) and _digit_count(value) <= 10


def _phone_number(value: str) -> bool:
    return len(value) <= 17 and _all(value, _digit, is_symbol)


def _car_number(value: str) -> bool:
    if len(value) > 8:
        return False
    ends = value[0] + value[-1] if len(value) > 1 else value
    return _all(ends, is_han, _letter, _digit) and _all(value[1:-1], _letter, _digit)


# Dates as WeChat lists them; each form names the parts it carries.
_DATE_FORMS = tuple(
    re.compile(pattern)
    for pattern in (
        r"(?P<y>\d{4})年(?P<m>\d{1,2})月(?P<d>\d{1,2})日",
        r"(?P<y>\d{4})年(?P<m>\d{1,2})月",
        r"(?P<m>\d{1,2})月(?P<d>\d{1,2})日",
        r"(?P<y>\d{4})(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})",
        r"(?P<y>\d{4})[-/.](?P<m>\d{1,2})",
        r"(?P<m>\d{1,2})[-/.](?P<d>\d{1,2})",
    )
)
_TIME = re.compile(r"(?P<h>\d{2}):(?P<min>\d{2})(?::(?P<s>\d{2}))?")


def _date_parts(text: str) -> dict[str, int] | None:
    """The parts (y, m, d) of a documented date form that names a real day, or None."""
    for form in _DATE_FORMS:
        match = form.fullmatch(text)
        if match is None:
            continue
        parts = {k: int(v) for k, v in match.groupdict().items() if v and k != "sep"}
        try:
            # A date without its year may be 2月29日, so check it against a leap year.
            date(parts.get("y", 2000), parts["m"], parts.get("d", 1))
        except ValueError:
            return None
        return parts
    return None


def _is_time(text: str) -> bool:
    match = _TIME.fullmatch(text)
    if match is None:
        return False
    hour, minute, second = int(match["h"]), int(match["min"]), int(match["s"] or 0)
    return hour <= 23 and minute <= 59 and second <= 59


def _time_point(text: str) -> bool:
    if " " not in text:
        return _is_time(text)
    day, clock = text.split(" ", 1)
    parts = _date_parts(day)
    return parts is not None and parts.keys() >= {"y", "m", "d"} and _is_time(clock)


def _date_point(text: str) -> bool:
    day, space, clock = text.partition(" ")
    return _date_parts(day) is not None and (not space or _is_time(clock))


def _span(point: Callable[[str], bool]) -> Callable[[str], bool]:
    """A moment, or two joined by "~" (WeChat's form for a period)."""

    def check(value: str) -> bool:
        return all(point(part) for part in value.split("~", 1))

    return check


RULES: dict[str, Callable[[str], bool]] = {
    "thing": _thing,
    "number": _number,
    "letter": _letters,
    "symbol": _symbols,
    "character_string": _character_string,
    "time": _span(_time_point),
    "date": _span(_date_point),
    "amount": _amount,
    "phone_number": _phone_number,
    "car_number": _car_number,
    "name": _name,
    "phrase": _phrase,
}


def field_type(key: str) -> str:
    """thing1 → thing, character_string2 → character_string, date01 → date."""
    return key.rstrip("0123456789")


def problem(key: str, value: object) -> str | None:
    """What WeChat says is wrong with this field's value ("is empty", "invalid"), or None
    when the value is a documented form of the key's type."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return "invalid"
    if not value.strip():
        return "is empty"
    rule = RULES.get(field_type(key))
    return None if rule is not None and rule(value) else "invalid"
