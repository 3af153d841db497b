"""Times stored in UTC, shown in local time (Asia/Shanghai by default) with their offset."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import marshmallow as ma
from flask import current_app, has_app_context


def local_zone() -> ZoneInfo:
    """The configured local time zone."""
    name = current_app.config["TIMEZONE"] if has_app_context() else "Asia/Shanghai"
    return ZoneInfo(name)


def local_datetime_text(moment: datetime) -> str:
    """A moment as residents read it, in local time and with the year: "2019年10月1日 15:01".

    This is the form WeChat's subscribe messages document for `time` fields and accept for
    `date` fields, so every message payload that carries a time uses it (the inbox text too).
    """
    local = moment.astimezone(local_zone())
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def month_of(moment: datetime) -> str:
    """The local calendar month ("YYYY-MM") a moment falls in."""
    return moment.astimezone(local_zone()).strftime("%Y-%m")


# The earliest and latest moments any datetime input may name, whatever its business range:
# far enough from datetime's limits that local time and its offset always render.
EARLIEST_INPUT = datetime(2000, 1, 1, tzinfo=UTC)
LATEST_INPUT_YEARS = 10
# Common lower bounds: "not in the past" (a minute's grace for clocks and transit), and
# "from the start of today or so" (a window that began this morning is still today's).
NOW = timedelta(minutes=1)
TODAY = timedelta(days=1)


class LocalDateTime(ma.fields.AwareDateTime):
    """ISO 8601 with offset: dumped in local time; input must carry an offset.

    Every input has a business range, checked here and only here: by default any moment from
    2000 to ten years ahead; `past` (a timedelta) admits at most that long before now, and
    `ahead` (a config key holding days) at most that many days after now. Loaded values are
    in UTC. Whatever is stored renders: a value outside what local time can show is dumped
    in UTC instead of failing the page.
    """

    def __init__(self, *, past: timedelta | None = None, ahead: str | None = None, **kwargs):
        super().__init__(format="iso", **kwargs)
        self.past = past
        self.ahead = ahead
        if past is not None or ahead is not None:
            self.metadata.setdefault("x-business-range", self._range_text())

    def _range_text(self) -> str:
        earliest = f"{self.past} before now" if self.past is not None else "2000-01-01"
        latest = (
            f"{self.ahead} days after now" if self.ahead else f"{LATEST_INPUT_YEARS} years ahead"
        )
        return f"from {earliest} to {latest}"

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        try:
            value = value.astimezone(local_zone())
        except OverflowError:
            value = value.astimezone(UTC)
        return super()._serialize(value, attr, obj, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            moment = super()._deserialize(value, attr, data, **kwargs).astimezone(UTC)
        except OverflowError:
            raise self.make_error("invalid", input=value, obj_type=self.OBJ_TYPE) from None
        now = datetime.now(UTC)
        earliest = EARLIEST_INPUT if self.past is None else now - self.past
        if self.ahead:
            latest = now + timedelta(days=current_app.config[self.ahead])
        else:
            latest = now.replace(year=now.year + LATEST_INPUT_YEARS)
        if not earliest <= moment <= latest:
            raise ma.ValidationError(
                f"Must lie between {earliest.isoformat(timespec='minutes')} and "
                f"{latest.isoformat(timespec='minutes')}."
            )
        return moment
