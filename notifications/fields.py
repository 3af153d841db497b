"""Template field values made to fit WeChat's per-type rules before sending.

The rules themselves are WeChat's documented ones, kept in service_hub/wechat/subscribe_fields.py
and shared with our fake WeChat, so what we send and what the fake accepts cannot drift apart.
Here we decide what to do with a value that breaks them: where cutting keeps the meaning (free
text, names) we cut; where a cut or a stray character would make the value wrong (codes,
numbers, amounts, dates, times, phones), we refuse, and the message goes to the inbox only.

- thing and name: whitespace runs (newlines too) become one space and characters the type
  cannot hold are dropped (the digit of "张师傅2" in a name, an "é" anywhere); a thing longer
  than 20 characters becomes 19 + "…", a name is cut to 10 characters when Chinese is in it,
  else to 20.
- every other type: a value WeChat does not document is refused.

Times and dates in payloads come from service_hub.plumbing.timefmt.local_datetime_text, the form
WeChat documents for both (2019年10月1日 15:01).
"""

from __future__ import annotations

from service_hub.wechat.subscribe_fields import (
    NAME_MAX_CHINESE,
    NAME_MAX_LATIN,
    THING_MAX,
    field_type,
    is_han,
    is_name_char,
    is_thing_char,
    problem,
)

__all__ = ["FieldRefused", "field_type", "fit", "wechat_data"]


class FieldRefused(ValueError):
    """A value WeChat would reject and that cannot be cut to fit."""

    def __init__(self, key: str, value: str) -> None:
        super().__init__(f"template field {key}={value!r} does not fit its WeChat type")
        self.key = key


def _cut(value: str, kind: str) -> str:
    """Free text made to fit: whitespace runs (newlines too) become one space, characters the
    type cannot hold are dropped, then the text is cut to the type's length."""
    holds = is_thing_char if kind == "thing" else is_name_char
    value = " ".join("".join(c if holds(c) or c.isspace() else "" for c in value).split())
    if kind == "thing":
        return value if len(value) <= THING_MAX else value[: THING_MAX - 1].rstrip() + "…"
    limit = NAME_MAX_CHINESE if any(is_han(c) for c in value) else NAME_MAX_LATIN
    return value[:limit].rstrip()


def fit(key: str, value: str) -> str:
    """The value made to fit its field's type, or FieldRefused."""
    kind = field_type(key)
    value = value.strip()
    if kind in ("thing", "name"):  # free text: cutting keeps the meaning
        value = _cut(value, kind)
    if problem(key, value) is not None:
        raise FieldRefused(key, value)
    return value


def wechat_data(fields: dict[str, str]) -> dict[str, dict[str, str]]:
    """{"thing1": "…"} → {"thing1": {"value": "…"}} with every value made to fit."""
    return {key: {"value": fit(key, str(value))} for key, value in fields.items()}
