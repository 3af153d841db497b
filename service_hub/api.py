"""The API object: OpenAPI document, docs page, error shape, and every blueprint."""

from __future__ import annotations

from flask import Flask, send_from_directory
from flask_smorest import Api
from werkzeug.routing import IntegerConverter

from service_hub.openapi.plugin import OperationsPlugin
from service_hub.plumbing import body_guard, query_guard
from service_hub.plumbing.errors import ErrorSchema, register_error_handlers

# The largest id our tables hold: their primary keys are INTEGER, 32-bit on PostgreSQL.
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """`<int:…>` in our routes: an id beyond what the database holds matches no route (a JSON
    404, and `maximum` in the document) instead of reaching the database and failing there."""

    def __init__(self, map, *args, **kwargs) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


class ServiceHubApi(Api):
    """flask-smorest's Api, documenting our one error shape."""

    ERROR_SCHEMA = ErrorSchema


def init_api(app: Flask) -> ServiceHubApi:
    """Create the Api, register blueprints, install error handlers."""
    from service_hub import health
    from service_hub.activities.routes import blp as activities_blp
    from service_hub.addresses.routes import blp as addresses_blp
    from service_hub.auth.routes import blp as auth_blp
    from service_hub.butler.routes import blp as butler_blp
    from service_hub.communities.registry import blp as registry_blp
    from service_hub.communities.routes import blp as communities_blp
    from service_hub.completion.routes import blp as completion_blp
    from service_hub.coupons.routes import blp as coupons_blp
    from service_hub.engineers.routes import blp as engineers_blp
    from service_hub.inbox.routes import blp as inbox_blp
    from service_hub.kpis.routes import blp as kpis_blp
    from service_hub.orders.routes import blp as orders_blp
    from service_hub.points.routes import blp as points_blp
    from service_hub.qa.routes import blp as qa_blp
    from service_hub.reviews.routes import blp as reviews_blp
    from service_hub.sla.routes import blp as sla_blp
    from service_hub.uploads.routes import blp as uploads_blp
    from service_hub.visits.routes import blp as visits_blp

    app.url_map.converters["int"] = IdConverter  # before any route is added
    body_guard.init_app(app)
    api = ServiceHubApi(
        app,
        spec_kwargs={
            "info": {"description": _DESCRIPTION},
            "extra_plugins": [OperationsPlugin()],  # operationIds and examples
        },
    )
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    )
    api.register_blueprint(health.blp)
    for blp in (
        auth_blp,
        registry_blp,
        communities_blp,
        addresses_blp,
        engineers_blp,
        orders_blp,
        completion_blp,
        reviews_blp,
        qa_blp,
        activities_blp,
        visits_blp,
        uploads_blp,
        inbox_blp,
        kpis_blp,
        butler_blp,
        points_blp,
        coupons_blp,
        sla_blp,
    ):
        api.register_blueprint(blp, url_prefix="/api/v1")
    # After every blueprint: the document is complete, and each operation's query parameters
    # are the ones it takes (anything else is a 422).
    query_guard.init_app(app, api.spec.to_dict())
    from service_hub.web.routes import bp as web_bp

    app.register_blueprint(web_bp)
    register_error_handlers(app)

    @app.get("/api/v1/docs/assets/<path:filename>")
    def swagger_assets(filename: str):
        """Swagger UI's own files, served by us so the docs page needs no network."""
        return send_from_directory(app.config["SWAGGER_UI_ASSETS"], filename)

    return api


_DESCRIPTION = """Service Hub: neighbourhood-centric field service.

Every error has one shape: `{"error": {"code", "message", "message_zh", "fields"?}}`;
`message_zh` is always there, in Chinese, for people.
Bodies are JSON (`multipart/form-data` for file uploads; a body that is neither JSON nor a
form is a 415); text may not hold NUL characters or unpaired surrogates (422).
Lists are paginated with `page` and `page_size` (at most 100) and answer
`{"items", "page", "page_size", "total"}`; a list filter that takes several values takes them
comma-separated. A query parameter the operation does not list is a 422. Times are ISO 8601
with offset.
"""
