"""Service Hub: neighbourhood-centric field service. `create_app` builds the Flask app."""

from __future__ import annotations

import logging
import os

from flask import Flask

from service_hub.plumbing import log_redaction, observability
from service_hub.plumbing.config import ConfigError, check_config, load_config

log = logging.getLogger("service_hub")


def create_app(config: dict | None = None) -> Flask:
    """Build the app from the environment, with `config` overriding any setting."""
    app = Flask(__name__, instance_relative_config=True)
    app.json.ensure_ascii = False  # Chinese messages as text, not \u escapes
    settings = load_config(instance_path=app.instance_path)
    if config:
        settings.update(config)
        if "TESTING" not in config:
            settings["TESTING"] = settings["SERVICE_HUB_ENV"] == "testing"
        if "INPROCESS_TIMERS" not in config:
            # A testing app never runs periodic work behind the test's back (tests run jobs
            # themselves); the embedded default does.
            settings["INPROCESS_TIMERS"] = settings["SERVICE_HUB_ENV"] != "testing"
    try:
        check_config(settings)
    except ConfigError as error:
        # `flask --help`, `flask db upgrade` and the like work in any environment; what
        # serves (gunicorn, `flask run`, the workers, cron) refuses (service_hub/cli.py).
        if os.environ.get("FLASK_RUN_FROM_CLI") != "true":
            raise
        settings["CONFIG_ERROR"] = str(error)

        @app.before_request
        def _refuse():  # `flask run` with the refused configuration serves nothing
            raise ConfigError(settings["CONFIG_ERROR"])

    app.config.update(settings)
    if app.config["PROXY_HOPS"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    app.config.update(_api_settings())
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        os.makedirs(app.instance_path, exist_ok=True)
        app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"connect_args": {"timeout": 30}})
    else:
        # A restarted PostgreSQL leaves dead pooled connections: test each before use, and
        # give up connecting quickly so requests fail with a clean 503 while it is down.
        app.config.setdefault(
            "SQLALCHEMY_ENGINE_OPTIONS",
            {"pool_pre_ping": True, "connect_args": {"connect_timeout": 3}},
        )
    observability.configure_logging(app.config["LOG_FORMAT"], app.config["LOG_LEVEL"])
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    log_redaction.install()  # no phone number reaches the logs (docs/privacy.md)

    from service_hub import wiring
    from service_hub.api import init_api
    from service_hub.cli import register_cli
    from service_hub.plumbing import db_setup, jobqueue, ratelimit
    from service_hub.plumbing.extensions import db, migrate

    db.init_app(app)
    from models.base import render_migration_type

    migrations = os.path.join(os.path.dirname(os.path.dirname(__file__)), "migrations")
    migrate.init_app(
        app, db, directory=migrations, render_as_batch=True, render_item=render_migration_type
    )
    db_setup.init_app(app)
    observability.init_app(app, state=wiring.metrics_state)
    jobqueue.init_app(app)
    wiring.wire(app)
    ratelimit.init_app(app)
    init_api(app)
    register_cli(app)
    _log_runtime(app)
    return app


def _api_settings() -> dict:
    import swagger_ui_bundle

    return {
        "API_TITLE": "Service Hub API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "docs",
        "OPENAPI_SWAGGER_UI_URL": "/api/v1/docs/assets/",
        "SWAGGER_UI_ASSETS": swagger_ui_bundle.swagger_ui_path,
    }


def _log_runtime(app: Flask) -> None:
    from sqlalchemy.engine import make_url

    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    queue_kind = app.extensions["job_queue"].kind
    if url.get_backend_name() == "sqlite" and queue_kind == "in-process":
        log.info(
            "Embedded default: SQLite at %s and an in-process job queue "
            "(set DATABASE_URL and REDIS_URL for PostgreSQL + Redis)",
            url.database,
        )
    else:
        log.info("Database %s, job queue %s", url.render_as_string(hide_password=True), queue_kind)
