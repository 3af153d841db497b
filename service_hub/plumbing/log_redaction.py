"""Phone numbers never reach the logs: a filter on the log handlers masks every mainland
mobile (138****8000) in a record's message and traceback before it is written.

Our own log lines never name a resident's number, but some text we log comes from elsewhere:
a database error's DETAIL quotes the failing row ("Failing row contains (…, 13800138000, …)"),
and an unhandled error's traceback carries its message. So the filter sits on the handlers
that write (the root logger's), which every propagated record passes."""

from __future__ import annotations

import logging
import re

# 11 digits, 13x-19x, not inside a longer run of digits (ids, timestamps).
MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")


def redact(text: str) -> str:
    """The text with every mainland mobile masked: 13800138000 -> 138****8000."""
    return MOBILE.sub(r"\1****\2", text)


class MobileRedactingFilter(logging.Filter):
    """Masks mobiles in the rendered message, the traceback and the stack of each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def install(logger: logging.Logger | None = None) -> None:
    """Put the filter on every handler of `logger` (the root logger by default), once."""
    for handler in (logger or logging.getLogger()).handlers:
        if not any(isinstance(f, MobileRedactingFilter) for f in handler.filters):
            handler.addFilter(MobileRedactingFilter())
