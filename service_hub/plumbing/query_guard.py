"""Query parameters a route does not document are refused with 422, on every API route.

webargs drops unknown query parameters silently, and a route that reads none never looks: so
`/me/orders?status=completed` answered every order, and `page_size=3` on a route that pages
differently was ignored. The OpenAPI document already lists each operation's query
parameters, so one check before every view compares the request with it; a route added later
is covered without doing anything. A parameter an old client may still send is refused with
a message naming the one to use instead.
"""

from __future__ import annotations

import functools
import re

from flask import Flask, request

from service_hub.plumbing.errors import InvalidInput

HTTP_METHODS = ("get", "put", "post", "delete", "patch")
# Old or foreign spellings of our pagination, and what to send instead.
USE_INSTEAD = {"limit": "page_size", "per_page": "page_size", "offset": "page"}
EXTENSION_KEY = "service_hub_query_parameters"


@functools.cache
def openapi_path(rule: str) -> str:
    """Flask's /orders/<int:order_id>/<action> as OpenAPI's /orders/{order_id}/{action}."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def documented_query_parameters(document: dict) -> dict[tuple[str, str], frozenset[str]]:
    """(OpenAPI path, method) → the names of the query parameters the operation documents."""
    allowed = {}
    for path, item in document.get("paths", {}).items():
        shared = item.get("parameters", [])
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            parameters = shared + operation.get("parameters", [])
            allowed[(path, method)] = frozenset(
                p["name"] for p in parameters if p.get("in") == "query"
            )
    return allowed


def _problem(name: str) -> str:
    if name in USE_INSTEAD:
        return f"Unknown parameter; use {USE_INSTEAD[name]}."
    return "Unknown parameter."


def _message_zh(unknown: list[str]) -> str:
    hints = [f"{n}（请改用 {USE_INSTEAD[n]}）" if n in USE_INSTEAD else n for n in unknown]
    return "不支持的查询参数：" + "、".join(hints)


def check_query(allowed: dict[tuple[str, str], frozenset[str]]) -> None:
    """before_request: refuse query parameters the matched operation does not document.

    Routes outside the document (the docs page, the web views) and unmatched URLs (a 404
    follows) are left alone.
    """
    if request.url_rule is None or not request.args:
        return
    method = "get" if request.method == "HEAD" else request.method.lower()
    known = allowed.get((openapi_path(request.url_rule.rule), method))
    if known is None:
        return
    unknown = sorted(set(request.args) - known)
    if unknown:
        raise InvalidInput(
            "The request has query parameters this operation does not take.",
            message_zh=_message_zh(unknown),
            fields={name: [_problem(name)] for name in unknown},
        )


def init_app(app: Flask, document: dict) -> None:
    """Check every request against the operations of `document` (the OpenAPI dict)."""
    allowed = documented_query_parameters(document)
    app.extensions[EXTENSION_KEY] = allowed
    app.before_request(lambda: check_query(allowed))
