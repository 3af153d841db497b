"""Template field values checked against WeChat's per-type limits before sending.

The rule for each type: where cutting keeps the meaning (free text, names) we truncate; where
a cut or a stray character would make the value wrong (codes, numbers, amounts, dates,
phones), we refuse, and the message goes to the inbox only.

| type | WeChat's limit | rule |
|---|---|---|
| thing | ≤ 20 characters | truncate to 19 + "…" |
| name | ≤ 10 characters (Chinese) / 20 letters | truncate to the limit |
| phrase | ≤ 5 Chinese characters, nothing else | refuse |
| character_string | ≤ 32 of digits, letters, symbols | refuse |
| letter | ≤ 32 letters | refuse |
| symbol | ≤ 5 symbols | refuse |
| number | ≤ 32 digits (a decimal point allowed) | refuse |
| amount | ≤ 10 digits, 2 decimals, optional ¥ or 元 | refuse |
| date / time | a date or time such as 2026年11月22日 or 15:01 | refuse |
| phone_number | ≤ 17 digits and +-() | refuse |
| car_number | ≤ 8 characters | refuse |
"""

from __future__ import annotations

import re

_HAN = r"\u4e00-\u9fff"
_RULES: dict[str, tuple[str, object]] = {
    "thing": ("truncate", 20),
    "name": ("truncate", None),
    "phrase": ("refuse", re.compile(rf"^[{_HAN}]{{1,5}}$")),
    "character_string": ("refuse", re.compile(r"^[0-9A-Za-z!-/:-@\[-`{-~]{1,32}$")),
    "letter": ("refuse", re.compile(r"^[A-Za-z]{1,32}$")),
    "symbol": ("refuse", re.compile(r"^[!-/:-@\[-`{-~]{1,5}$")),
    "number": ("refuse", re.compile(r"^\d{1,32}(\.\d+)?$")),
    "amount": ("refuse", re.compile(r"^[¥￥]?\d{1,10}(\.\d{1,2})?元?$")),
    "date": (
        "refuse",
        re.compile(
            r"^(\d{4}年)?\d{1,2}月\d{1,2}日( \d{1,2}:\d{2})?$|^\d{4}-\d{2}-\d{2}( \d{2}:\d{2})?$"
        ),
    ),
    "time": (
        "refuse",
        re.compile(
            r"^((\d{4}年)?\d{1,2}月\d{1,2}日 )?\d{1,2}:\d{2}(~\d{1,2}:\d{2})?$"
            r"|^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$"
        ),
    ),
    "phone_number": ("refuse", re.compile(r"^[\d+\-() ]{1,17}$")),
    "car_number": ("refuse", re.compile(r"^.{1,8}$")),
}


class FieldRefused(ValueError):
    """A value WeChat would reject and that cannot be cut to fit."""

    def __init__(self, key: str, value: str) -> None:
        super().__init__(f"template field {key}={value!r} does not fit its WeChat type")
        self.key = key


def field_type(key: str) -> str:
    """thing1 → thing, character_string2 → character_string."""
    return key.rstrip("0123456789")


def _fit_name(value: str) -> str:
    limit = 10 if re.search(rf"[{_HAN}]", value) else 20
    return value[:limit]


def fit(key: str, value: str) -> str:
    """The value made to fit its field's type, or FieldRefused."""
    kind = field_type(key)
    if kind not in _RULES:
        raise FieldRefused(key, value)
    rule, arg = _RULES[kind]
    value = value.strip()
    if not value:
        raise FieldRefused(key, value)
    if kind == "name":
        return _fit_name(value)
    if rule == "truncate":
        return value if len(value) <= arg else value[: arg - 1] + "…"
    if not arg.match(value):
        raise FieldRefused(key, value)
    return value


def wechat_data(fields: dict[str, str]) -> dict[str, dict[str, str]]:
    """{"thing1": "…"} → {"thing1": {"value": "…"}} with every value made to fit."""
    return {key: {"value": fit(key, str(value))} for key, value in fields.items()}
