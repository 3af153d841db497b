"""What request bodies the API takes, checked before any view reads them.

The API speaks JSON, and forms (multipart/form-data) for file uploads: a body that is neither
JSON nor a form is refused with 415 rather than read as "no body" (which answered "field
missing" for a field that was sent). A form is left to its route, which names what is missing.
JSON text that no database stores the same way — NUL characters (PostgreSQL refuses them,
SQLite keeps them) and unpaired surrogates (neither can encode them) — is refused with 422
naming the field; JSON nested deeper than the parser can follow is a 400. Without this
check the three reached the database or the parser and became 500s.
"""

from __future__ import annotations

import json
import re

from flask import Flask, request

from service_hub.plumbing.errors import AppError, InvalidInput

API_PREFIX = "/api/"
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
# After json.loads a valid surrogate pair is one character; what is left is unpaired.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _has_body() -> bool:
    chunked = request.headers.get("Transfer-Encoding", "").lower() == "chunked"
    return bool(request.content_length) or chunked


def _unstorable_field(value, path: str) -> str | None:
    """The path of the first string (or key) holding a character we cannot store."""
    if isinstance(value, str):
        return (path or "_body") if _UNSTORABLE.search(value) else None
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = ((str(i), v) for i, v in enumerate(value))
    else:
        return None
    for key, item in items:
        where = f"{path}.{key}" if path else key
        if _UNSTORABLE.search(key):
            return where
        found = _unstorable_field(item, where)
        if found:
            return found
    return None


def check_body() -> None:
    """before_request: refuse a body of the wrong type, too deep, or with unstorable text."""
    if not request.path.startswith(API_PREFIX) or not _has_body():
        return
    if not request.is_json:
        if request.mimetype in FORM_TYPES:
            return
        raise AppError(
            "Send the body as JSON (Content-Type: application/json), or a file upload as "
            "multipart/form-data.",
            status=415,
            code="unsupported_media_type",
            message_zh="请以 JSON 格式提交",
        )
    try:
        data = json.loads(request.get_data(cache=True))
    except RecursionError as exc:
        raise AppError(
            "The JSON body is nested too deeply.", status=400, code="malformed_request"
        ) from exc
    except ValueError:
        return  # not JSON at all: the arguments parser answers 400 malformed_request
    field = _unstorable_field(data, "")
    if field:
        raise InvalidInput(
            "Text may not contain NUL characters or unpaired surrogates.",
            message_zh="内容含有无法保存的字符",
            fields={field: ["Contains a character that cannot be stored."]},
        )


def init_app(app: Flask) -> None:
    """Check every API request's body before its view runs."""
    app.before_request(check_body)
