"""Times stored in UTC, shown in local time (Asia/Shanghai by default) with their offset."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import marshmallow as ma
from flask import current_app, has_app_context


def local_zone() -> ZoneInfo:
    """The configured local time zone."""
    name = current_app.config["TIMEZONE"] if has_app_context() else "Asia/Shanghai"
    return ZoneInfo(name)


def month_of(moment: datetime) -> str:
    """The local calendar month ("YYYY-MM") a moment falls in."""
    return moment.astimezone(local_zone()).strftime("%Y-%m")


class LocalDateTime(ma.fields.AwareDateTime):
    """ISO 8601 with offset: dumped in local time; input must carry an offset."""

    def __init__(self, **kwargs):
        super().__init__(format="iso", **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return super()._serialize(value.astimezone(local_zone()), attr, obj, **kwargs)
