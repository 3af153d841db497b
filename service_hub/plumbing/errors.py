"""The one error shape of the API, domain errors, and the handlers that render them."""

from __future__ import annotations

import http
import logging

import marshmallow as ma
from flask import Flask, jsonify
from sqlalchemy.exc import DataError, DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from service_hub.plumbing.observability import current_request_id, report_error

log = logging.getLogger(__name__)


class AppError(Exception):
    """A domain error the API turns into a 4xx/5xx response with a machine code."""

    status = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        message_zh: str | None = None,
        fields: dict | None = None,
        details: dict | None = None,
        headers: dict | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.code
        self.status = status or self.status
        self.message_zh = message_zh
        self.fields = fields
        self.details = details
        self.headers = headers or {}


class InvalidInput(AppError):
    status, code = 422, "validation_error"


class Unauthorized(AppError):
    status, code = 401, "unauthorized"


class Forbidden(AppError):
    status, code = 403, "forbidden"


class NotFound(AppError):
    status, code = 404, "not_found"


class Conflict(AppError):
    status, code = 409, "conflict"


class UpstreamUnavailable(AppError):
    status, code = 503, "upstream_unavailable"


class ErrorBodySchema(ma.Schema):
    """What went wrong, for machines (code) and people (message, message_zh)."""

    code = ma.fields.String(required=True, metadata={"description": "machine code"})
    message = ma.fields.String(required=True)
    message_zh = ma.fields.String(
        required=True,
        metadata={"description": "中文提示, shown to people: present on every error"},
    )
    fields = ma.fields.Dict(metadata={"description": "field name → list of problems"})
    request_id = ma.fields.String(
        metadata={
            "description": "the request's id (the X-Request-ID sent, or one made): quote it "
            "when reporting a problem; every log line of the request carries it"
        }
    )
    details = ma.fields.Dict()


class ErrorSchema(ma.Schema):
    """Every error response: {"error": {...}}."""

    error = ma.fields.Nested(ErrorBodySchema, required=True)


# What a person is shown when the error that was raised brought no Chinese message of its
# own: every error carries message_zh, so a client never has to show our English.
MESSAGE_ZH_BY_STATUS = {
    400: "请求内容无法解析",
    401: "请先登录",
    403: "无权执行此操作",
    404: "请求的内容不存在",
    405: "不支持该请求方式",
    409: "操作冲突，请刷新后重试",
    410: "内容已失效",
    412: "数据已被他人修改，请刷新后重试",
    413: "提交的内容过大",
    415: "请以 JSON 格式提交",
    422: "请求参数有误",
    429: "请求过于频繁，请稍后再试",
    500: "系统繁忙，请稍后再试",
    502: "依赖的服务暂时异常，请稍后再试",
    503: "服务暂时不可用，请稍后再试",
}
DEFAULT_MESSAGE_ZH = "请求失败，请稍后再试"


def message_zh_for(status: int) -> str:
    """The Chinese message of an error that brought none of its own."""
    return MESSAGE_ZH_BY_STATUS.get(status, DEFAULT_MESSAGE_ZH)


def error_response(status: int, code: str, message: str, **extra):
    """Render the one error shape; message_zh defaults to the status's Chinese message."""
    body = {"code": code, "message": message}
    body.update({k: v for k, v in extra.items() if v is not None})
    body.setdefault("message_zh", message_zh_for(status))
    request_id = current_request_id()
    if request_id:
        body["request_id"] = request_id
    return jsonify({"error": body}), status


def _flatten_webargs_messages(messages: dict) -> dict:
    """webargs nests problems by location (json, query, …); clients want field → problems."""
    fields: dict = {}
    for location_errors in messages.values():
        if isinstance(location_errors, dict):
            fields.update(location_errors)
        else:
            fields.setdefault("_body", []).extend(location_errors)
    return fields


def handle_app_error(error: AppError):
    """Render a domain error."""
    response, status = error_response(
        error.status,
        error.code,
        error.message,
        message_zh=error.message_zh,
        fields=error.fields,
        details=error.details,
    )
    response.headers.extend(error.headers)
    return response, status


def handle_http_exception(error: HTTPException):
    """Render werkzeug/webargs HTTP errors (404 routes, 405, 413, 422 validation …)."""
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    messages = data.get("messages")
    if status == 422 and messages:
        return error_response(
            422,
            "validation_error",
            "The request has invalid fields.",
            message_zh="请求参数有误",
            fields=_flatten_webargs_messages(messages),
        )
    if status == 400 and messages:
        return error_response(
            400,
            "malformed_request",
            "The request body could not be read.",
            message_zh="请求内容无法解析，请检查 JSON 格式",
            fields=_flatten_webargs_messages(messages),
        )
    code = (
        http.HTTPStatus(status).name.lower()
        if status in http.HTTPStatus._value2member_map_
        else "http_error"
    )
    if status == 429:
        # Flask-Limiter's own refusal describes the limit ("20 per 1 minute"): say it plainly.
        message = "Too many requests; try again later."
    else:
        message = data.get("message") or error.description or http.HTTPStatus(status).phrase
    response, status = error_response(status, code, message)
    if status == 405 and error.get_headers():
        response.headers.extend(h for h in error.get_headers() if h[0] == "Allow")
    return response, status


def _is_connection_error(error: OperationalError) -> bool:
    text = str(error.orig).lower()
    return any(
        s in text
        for s in ("connection", "could not connect", "terminat", "server closed", "timeout expired")
    )


def is_database_outage(error: BaseException) -> bool:
    """The database cannot be reached (down, restarting, connection cut), as opposed to a
    statement it refused: answered 503, and a job is tried again (service_hub/worker.py)."""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    if not isinstance(error, (OperationalError, InterfaceError)):
        return False
    sqlstate = getattr(error.orig, "sqlstate", None)
    if sqlstate:
        # 08: connection exception; 57P01-03: shutting down, crashed, starting up.
        return sqlstate.startswith("08") or sqlstate in ("57P01", "57P02", "57P03")
    return _is_connection_error(error)  # the client could not connect, or lost the server


def is_transient_conflict(error: OperationalError) -> bool:
    """Deadlock or serialisation failure (PostgreSQL SQLSTATE 40P01, 40001), or SQLite busy."""
    if getattr(error.orig, "sqlstate", None) in ("40001", "40P01"):
        return True
    return "database is locked" in str(error.orig).lower()


def handle_unexpected(error: Exception):
    """Never show a stack trace: log it and answer with a plain 500."""
    if isinstance(error, HTTPException):
        return handle_http_exception(error)
    if is_database_outage(error):
        log.error("database unavailable: %s", error.orig)
        response, status = error_response(
            503,
            "database_unavailable",
            "The database is unavailable; try again shortly.",
            message_zh="系统维护中，请稍后再试",
        )
        response.headers["Retry-After"] = "5"
        return response, status
    if isinstance(error, (DataError, OverflowError)):
        # A value the database cannot hold (an id past its integer range, say): the input's
        # fault, and the statement failed, so nothing was stored.
        log.warning("value refused by the database: %s", getattr(error, "orig", error))
        return error_response(
            422,
            "value_out_of_range",
            "A value is out of the range the service can store.",
            message_zh="参数超出允许范围",
        )
    if isinstance(error, OperationalError) and is_transient_conflict(error):
        # A deadlock or serialisation failure that no rule retried: the transaction was
        # rolled back, so nothing was stored; the client may simply try again.
        log.warning("transaction lost a race: %s", error.orig)
        return error_response(
            409,
            "concurrent_update",
            "Too many simultaneous changes of the same record; try again.",
            message_zh="操作过于频繁，请稍后重试",
        )
    if isinstance(error, StaleDataError):
        # Someone changed the row between our read and our write; nothing was stored.
        return error_response(
            409,
            "concurrent_update",
            "The record changed meanwhile; retry.",
            message_zh="数据已被更新，请重试",
        )
    log.exception("unhandled error")
    report_error(error)
    return error_response(
        500,
        "internal_error",
        "Something went wrong on our side.",
        message_zh="系统繁忙，请稍后再试",
    )


def register_error_handlers(app: Flask) -> None:
    """Install the handlers; call after the Api so ours win."""
    app.register_error_handler(AppError, handle_app_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
