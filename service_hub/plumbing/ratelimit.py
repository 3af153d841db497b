"""Rate limits on the writes people abuse: sign-in, butler codes, coupon claims, uploads.

Flask-Limiter counts in Redis when the app has it (shared by every web process) and in
memory on the embedded default; a refusal is a 429 in the one error shape with Retry-After.
Limits are configuration (RATE_LIMITS, defaults in service_hub/plumbing/config.py). A caller
is the subject of a verified bearer token, otherwise the client address (behind PROXY_HOPS
proxies, the address they forwarded): a made-up or expired token counts as none, so it
cannot buy a fresh bucket.
"""

from __future__ import annotations

import functools
import math
import time

from flask import Flask, current_app, request
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address
from limits.storage import Storage

from service_hub.auth.tokens import decode_token
from service_hub.plumbing.errors import AppError, Unauthorized


def _verified_subject() -> str | None:
    """Who the bearer token proves the caller is, or None without a valid token."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    try:
        claims = decode_token(token.strip())
    except Unauthorized:
        return None
    return f"{claims.get('kind')}:{claims['sub']}"


def address_of_caller() -> str:
    """The client's address (ProxyFix has already applied PROXY_HOPS)."""
    return get_remote_address() or "unknown"


def _caller() -> str:
    """The verified token's subject (so people behind one address are not punished for each
    other), otherwise the client address."""
    return _verified_subject() or "ip:" + address_of_caller()


EXTENSION_KEY = "service_hub_limiter"


def too_many_requests(retry_after: float) -> AppError:
    """The 429 of every rate limit, telling the client when to come back."""
    return AppError(
        "Too many requests; try again later.",
        status=429,
        code="too_many_requests",
        message_zh="操作过于频繁，请稍后再试",
        headers={"Retry-After": str(max(1, math.ceil(retry_after)))},
    )


def _seconds_until_reset(limiter: Limiter, exc: RateLimitExceeded) -> float:
    window = exc.limit.limit.get_expiry()
    try:
        # Redis reports whole seconds of TTL; no wait is longer than the window itself.
        return min(limiter.current_limit.reset_at - time.time(), window)
    except Exception:  # the storage went away meanwhile: the whole window is a safe answer
        return window


def limit(name: str):
    """Decorator: apply the configured limit called `name`, keyed by caller, with the
    current app's limiter (each app has its own, so tests and tools can build several)."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            limiter = current_app.extensions[EXTENSION_KEY]
            try:
                with limiter.limit(current_app.config["RATE_LIMITS"][name], scope=name):
                    return view(*args, **kwargs)
            except RateLimitExceeded as exc:
                raise too_many_requests(_seconds_until_reset(limiter, exc)) from exc

        return wrapper

    return decorator


def counter_storage() -> Storage:
    """Where the limiter counts right now (Redis, or memory on the embedded default or while
    Redis is unreachable), for rules that count events of their own."""
    return current_app.extensions[EXTENSION_KEY].limiter.storage


def init_app(app: Flask) -> Limiter:
    """A limiter for this app, counting in its Redis when it has one, else in memory.

    Its X-RateLimit/Retry-After headers stay off: they would put Retry-After on every
    answer and overwrite the one a 503 or another 429 sets; a refusal says it instead.
    """
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["REDIS_URL"] or "memory://")
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "service_hub")
    limiter = Limiter(
        key_func=_caller,
        default_limits=[],
        headers_enabled=False,
        swallow_errors=True,
        in_memory_fallback_enabled=True,
    )
    limiter.init_app(app)
    app.extensions[EXTENSION_KEY] = limiter
    return limiter
