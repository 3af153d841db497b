"""Rate limits on the writes people abuse: sign-in, butler codes, coupon claims, uploads.

Flask-Limiter counts in Redis when the app has it (shared by every web process) and in
memory on the embedded default; a refusal is a 429 in the one error shape with Retry-After.
Limits are configuration (RATE_LIMITS, JSON: name → "N per minute").
"""

from __future__ import annotations

import functools

from flask import Flask, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

DEFAULT_LIMITS = {
    "login": "20 per minute",
    "bind": "20 per minute",
    "bind_code": "30 per minute",
    "claim": "60 per minute",
    "upload": "30 per minute",
}


def _caller() -> str:
    """The bearer token's subject when there is one (so a shared IP is not punished),
    otherwise the client address."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer ") and len(header) > 20:
        return "token:" + header[-32:]
    return "ip:" + (get_remote_address() or "unknown")


EXTENSION_KEY = "service_hub_limiter"


def limit(name: str):
    """Decorator: apply the configured limit called `name`, keyed by caller, with the
    current app's limiter (each app has its own, so tests and tools can build several)."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            limiter = current_app.extensions[EXTENSION_KEY]
            with limiter.limit(current_app.config["RATE_LIMITS"][name], scope=name):
                return view(*args, **kwargs)

        return wrapper

    return decorator


def init_app(app: Flask) -> Limiter:
    """A limiter for this app, counting in its Redis when it has one, else in memory."""
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["REDIS_URL"] or "memory://")
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "service_hub")
    limiter = Limiter(
        key_func=_caller,
        default_limits=[],
        headers_enabled=True,
        retry_after="delta-seconds",
        swallow_errors=True,
        in_memory_fallback_enabled=True,
    )
    limiter.init_app(app)
    app.extensions[EXTENSION_KEY] = limiter
    return limiter
