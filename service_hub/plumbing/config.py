"""Configuration from the environment: the one place settings are read."""

from __future__ import annotations

import json
import os
from pathlib import Path

DEV_SECRET_KEY = "dev-only-not-secret-never-use-in-production"
ENVIRONMENTS = ("development", "testing", "production")

DEFAULT_DISPATCH_WEIGHTS = {
    "standing": 0.45,
    "distance": 0.25,
    "load": 0.15,
    "preferred": 0.10,
    "butler": 0.05,
}


class ConfigError(RuntimeError):
    """The service cannot start with this configuration."""


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL whatever scheme the operator wrote."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _number(env, name: str, default: str, kind=int):
    value = env.get(name, default)
    try:
        return kind(value)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a {kind.__name__}, not {value!r}") from exc


# Rate limits on the writes people abuse (service_hub/plumbing/ratelimit.py), overridable by
# RATE_LIMITS (JSON: name → "N per minute").
DEFAULT_LIMITS = {
    "login": "20 per minute",
    "bind": "20 per minute",
    "bind_code": "30 per minute",
    "claim": "60 per minute",
    "upload": "30 per minute",
    # Failed staff sign-ins (docs/operations.md, "Sign-in protection"): per login name and
    # client address, and per login name from everywhere.
    "login_failures": "5 per 15 minutes",
    "login_failures_account": "30 per 10 minutes",
}


def _json_object(env, name: str) -> dict:
    if not env.get(name):
        return {}
    try:
        value = json.loads(env[name])
    except ValueError as exc:
        raise ConfigError(f'{name} must be a JSON object such as {{"quality": 0.5}}') from exc
    if not isinstance(value, dict):
        raise ConfigError(f"{name} must be a JSON object")
    return value


def load_config(environ: dict[str, str] | None = None, instance_path: str = "instance") -> dict:
    """Build the Flask config mapping from environment variables.

    With neither DATABASE_URL nor REDIS_URL set the service runs on the embedded
    default: a SQLite file under the instance folder and an in-process job queue.
    """
    env = os.environ if environ is None else environ
    service_env = env.get("SERVICE_HUB_ENV", "production")
    if service_env not in ENVIRONMENTS:
        raise ConfigError(f"SERVICE_HUB_ENV must be one of {ENVIRONMENTS}, not {service_env!r}")
    sqlite_path = Path(instance_path) / "service_hub.db"
    database_url = normalise_database_url(env.get("DATABASE_URL") or f"sqlite:///{sqlite_path}")
    standing_weights = _json_object(env, "STANDING_WEIGHTS")
    weights = dict(DEFAULT_DISPATCH_WEIGHTS)
    dispatch_overrides = _json_object(env, "DISPATCH_WEIGHTS")
    unknown = sorted(set(dispatch_overrides) - set(DEFAULT_DISPATCH_WEIGHTS))
    if unknown:  # a misspelt or renamed key would otherwise be ignored without a word
        raise ConfigError(
            f"DISPATCH_WEIGHTS has unknown keys {unknown}; "
            f"known: {sorted(DEFAULT_DISPATCH_WEIGHTS)}"
        )
    weights.update(dispatch_overrides)
    return {
        "SERVICE_HUB_ENV": service_env,
        "TESTING": service_env == "testing",
        "SECRET_KEY": env.get("SECRET_KEY", DEV_SECRET_KEY),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": env.get("REDIS_URL") or None,
        "INPROCESS_TIMERS": service_env != "testing",
        "WECHAT_APPID": env.get("WECHAT_APPID", "wx-demo-appid"),
        "WECHAT_SECRET": env.get("WECHAT_SECRET", "demo-secret"),
        "WECHAT_API_BASE": env.get("WECHAT_API_BASE", "https://api.weixin.qq.com").rstrip("/"),
        # An openid of the operator's own account, used to content-check staff text.
        "WECHAT_MODERATION_OPENID": env.get("WECHAT_MODERATION_OPENID") or None,
        "WECHAT_TIMEOUT_SECONDS": _number(env, "WECHAT_TIMEOUT_SECONDS", "5", float),
        "TIMEZONE": env.get("TIMEZONE", "Asia/Shanghai"),
        "TOKEN_TTL_SECONDS": _number(env, "TOKEN_TTL_SECONDS", str(7 * 24 * 3600)),
        "OFFER_TIMEOUT_SECONDS": _number(env, "OFFER_TIMEOUT_SECONDS", "600"),
        "MAX_OPEN_ORDERS": _number(env, "MAX_OPEN_ORDERS", "5"),
        "VISIT_FOLLOW_ON_SLOTS": _number(env, "VISIT_FOLLOW_ON_SLOTS", "2"),
        "VISIT_SLOT_MINUTES": _number(env, "VISIT_SLOT_MINUTES", "60"),
        # Business ranges of datetime inputs (service_hub/plumbing/timefmt.py LocalDateTime):
        # how far ahead a resident may ask for a service window, and a manager or engineer may
        # plan activities, visits and coupon campaigns.
        "ORDER_WINDOW_MAX_DAYS_AHEAD": _number(env, "ORDER_WINDOW_MAX_DAYS_AHEAD", "60"),
        "SCHEDULE_MAX_DAYS_AHEAD": _number(env, "SCHEDULE_MAX_DAYS_AHEAD", "400"),
        "MAX_COMMUNITIES_PER_RESIDENT": _number(env, "MAX_COMMUNITIES_PER_RESIDENT", "5"),
        "NOTIFICATION_CHUNK_SIZE": _number(env, "NOTIFICATION_CHUNK_SIZE", "500"),
        "DISPATCH_WEIGHTS": weights,
        # Reverse proxies in front of the app (X-Forwarded-For hops to trust): rate limits
        # key on the real client address.
        "PROXY_HOPS": _number(env, "PROXY_HOPS", "0"),
        "RATE_LIMITS": {**DEFAULT_LIMITS, **_json_object(env, "RATE_LIMITS")},
        # kind → WeChat template id (notifications/templates.py); kinds left unset get demo
        # ids at start-up (service_hub/wiring.py).
        "WECHAT_TEMPLATES": _json_object(env, "WECHAT_TEMPLATES"),
        "MARKETING_CAP_PER_DAY": _number(env, "MARKETING_CAP_PER_DAY", "1"),
        "MARKETING_CAP_PER_WEEK": _number(env, "MARKETING_CAP_PER_WEEK", "4"),
        "QUIET_HOURS": env.get("QUIET_HOURS", "22:00-08:00"),
        "WECHAT_SEND_RETRIES": _number(env, "WECHAT_SEND_RETRIES", "3"),
        # Subscribe messages one worker keeps in flight (notifications/wechat_channel.py).
        "WECHAT_SEND_CONCURRENCY": _number(env, "WECHAT_SEND_CONCURRENCY", "64"),
        "MINIPROGRAM_STATE": env.get("MINIPROGRAM_STATE", "formal"),
        # Overrides of dispatch.standing_formula.DEFAULT_STANDING_WEIGHTS (docs/ranking.md).
        "STANDING_WEIGHTS": standing_weights,
        "REVIEW_EDIT_WINDOW_SECONDS": _number(env, "REVIEW_EDIT_WINDOW_SECONDS", "7200"),
        "MAX_CONTENT_LENGTH": _number(env, "MAX_CONTENT_LENGTH", str(20 * 1024 * 1024)),
        "UPLOAD_DIR": env.get("UPLOAD_DIR") or str(Path(instance_path) / "uploads"),
        "UPLOAD_URL_PREFIX": env.get("UPLOAD_URL_PREFIX", "/media/"),
        "MAX_UPLOAD_BYTES": _number(env, "MAX_UPLOAD_BYTES", str(5 * 1024 * 1024)),
        "MAX_UPLOAD_PIXELS": _number(env, "MAX_UPLOAD_PIXELS", str(40_000_000)),
        "NEARBY_MAX_RADIUS_KM": _number(env, "NEARBY_MAX_RADIUS_KM", "50", float),
        "IMPORT_MAX_ROWS_PER_REQUEST": _number(env, "IMPORT_MAX_ROWS_PER_REQUEST", "100000"),
        # Butler binding: how long a code lives, how many unused ones an engineer may hold,
        # and the mini-program page its QR opens (no leading "/", no query string).
        "BUTLER_CODE_TTL_SECONDS": _number(env, "BUTLER_CODE_TTL_SECONDS", "300"),
        "BUTLER_MAX_OPEN_CODES": _number(env, "BUTLER_MAX_OPEN_CODES", "10"),
        "BUTLER_QR_PAGE": env.get("BUTLER_QR_PAGE", "pages/butler/bind"),
        # Points credited per completed order: to the serving engineer, and to the butler.
        "POINTS_ORDER_COMPLETED": _number(env, "POINTS_ORDER_COMPLETED", "10"),
        "POINTS_BUTLER_ORDER": _number(env, "POINTS_BUTLER_ORDER", "5"),
        # Completed work the resident neither confirms nor disputes is accepted by itself
        # after this many hours (service_hub/completion/service.py: confirm_overdue).
        "ACCEPTANCE_AUTO_HOURS": _number(env, "ACCEPTANCE_AUTO_HOURS", "72"),
        # Coupons: residents hear of an unused coupon this many hours before it expires.
        "COUPON_EXPIRY_NOTICE_HOURS": _number(env, "COUPON_EXPIRY_NOTICE_HOURS", "24"),
        # Observability (service_hub/plumbing/observability.py, docs/operations.md): log lines
        # as JSON in production, text elsewhere; /metrics only with this bearer token; errors
        # to Sentry when a DSN is given.
        "LOG_FORMAT": env.get("LOG_FORMAT") or ("json" if service_env == "production" else "text"),
        "LOG_LEVEL": env.get("LOG_LEVEL", "info"),
        "METRICS_TOKEN": env.get("METRICS_TOKEN") or None,
        "SENTRY_DSN": env.get("SENTRY_DSN") or None,
    }


def check_config(config: dict) -> None:
    """Refuse to run outside development and testing without a real secret, and refuse
    settings that cannot work."""
    if config.get("LOG_FORMAT", "text") not in ("json", "text"):
        raise ConfigError(f"LOG_FORMAT must be json or text, not {config['LOG_FORMAT']!r}")
    level = str(config.get("LOG_LEVEL", "info")).upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise ConfigError(f"LOG_LEVEL must be debug, info, warning or error, not {level.lower()!r}")
    token = config.get("METRICS_TOKEN")
    if token is not None and len(token) < 16:
        raise ConfigError("METRICS_TOKEN must be at least 16 characters (or unset: no /metrics)")
    if config["SERVICE_HUB_ENV"] == "production":
        secret = config.get("SECRET_KEY") or ""
        if secret == DEV_SECRET_KEY or len(secret) < 32:
            raise ConfigError(
                "SECRET_KEY must be set to a random value of at least 32 characters in "
                "production (for example: python -c 'import secrets; print(secrets.token_hex(32))')"
            )


def refuse_to_serve(config: dict) -> None:
    """Commands that serve (workers, cron, the demo) stop here when the configuration was
    refused: `flask --help` and `flask db upgrade` work without a SECRET_KEY, serving not."""
    if config.get("CONFIG_ERROR"):
        import click

        raise click.ClickException(config["CONFIG_ERROR"])
