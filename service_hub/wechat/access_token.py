"""The WeChat access_token: fetched with stable_token, cached, refreshed by one caller at a time.

WeChat's stable_token in its normal mode (force_refresh=False) hands every caller the same
token until it expires, so a duplicate fetch is harmless; the lock and the cache exist to keep
us far from the call quota (10,000 a minute) and off the network on the hot path.

- With Redis (the app's job queue is RQ) the token is shared by every web and worker process
  under `wechat:access_token:<appid>`, refreshed under a redis-py Lock with a second look at
  the cache once the lock is held. If the lock cannot be had in time, or Redis fails, we fetch
  without it: a stable token fetched twice is still the same token.
- On the embedded default the token lives in process memory under a threading.Lock.

Tokens are cached for `expires_in - TOKEN_SAFETY_MARGIN_SECONDS` so a cached token never
expires in the middle of a call. `call_with_token` invalidates and retries once when WeChat
says the token is invalid (40001) or expired (42001).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from flask import Flask, current_app

from service_hub.wechat.client import WeChatClient, WeChatError

log = logging.getLogger(__name__)

T = TypeVar("T")

TOKEN_SAFETY_MARGIN_SECONDS = 300
# WeChat says the token is not (or no longer) valid: fetch again and retry once.
TOKEN_ERRCODES = frozenset({40001, 42001})
EXTENSION_KEY = "wechat_access_token"

# Deletes the cached token only if it is still the one that failed, so a token another
# process has just refreshed is not thrown away.
_DELETE_IF_EQUAL = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""

_provider_lock = threading.Lock()


def cache_seconds(expires_in: int, margin: int = TOKEN_SAFETY_MARGIN_SECONDS) -> int:
    """How long to keep a token that lives expires_in more seconds (0: do not keep it)."""
    # A token near its end (stable_token may hand one out) is kept for half its remaining life.
    return max(expires_in - margin, expires_in // 2, 0)


class AccessTokenProvider:
    """Hands out a valid access_token for one mini-program, fetching it as rarely as it can."""

    def __init__(
        self,
        client: WeChatClient,
        redis=None,
        margin: int = TOKEN_SAFETY_MARGIN_SECONDS,
        lock_timeout: float = 15.0,
        lock_wait: float = 10.0,
    ) -> None:
        self.client = client
        self.redis = redis
        self.margin = margin
        # The Redis lock frees itself after lock_timeout if its holder dies mid-refresh.
        self.lock_timeout = lock_timeout
        self.lock_wait = lock_wait
        self.key = f"wechat:access_token:{client.appid}"
        self._memory_lock = threading.Lock()
        self._memory: tuple[str, float] | None = None  # (token, monotonic deadline)
        self._delete_if_equal = redis.register_script(_DELETE_IF_EQUAL) if redis else None

    def get(self) -> str:
        """A valid access_token, from the cache when it holds one."""
        if self.redis is None:
            return self._get_in_memory()
        return self._get_from_redis()

    def invalidate(self, token: str | None = None) -> None:
        """Forget the cached token (only if it is still `token`, when given)."""
        if self.redis is None:
            with self._memory_lock:
                if self._memory and (token is None or self._memory[0] == token):
                    self._memory = None
            return
        from redis.exceptions import RedisError

        try:
            if token is None:
                self.redis.delete(self.key)
            else:
                self._delete_if_equal(keys=[self.key], args=[token])
        except RedisError as exc:
            log.warning("could not invalidate the cached access_token: %s", exc)

    def call_with_token(self, fn: Callable[[str], T]) -> T:
        """Run fn(token); when WeChat says the token is invalid or expired, refresh, retry once."""
        token = self.get()
        try:
            return fn(token)
        except WeChatError as error:
            if error.errcode not in TOKEN_ERRCODES:
                raise
            log.info("access_token refused (errcode %s); fetching it again", error.errcode)
            self.invalidate(token)
        return fn(self.get())

    def _fetch(self) -> tuple[str, int]:
        # Never force_refresh: that would invalidate the token every other process is using.
        token, expires_in = self.client.stable_token(force_refresh=False)
        return token, cache_seconds(expires_in, self.margin)

    def _get_in_memory(self) -> str:
        cached = self._memory
        if cached and cached[1] > time.monotonic():
            return cached[0]
        with self._memory_lock:
            cached = self._memory
            if cached and cached[1] > time.monotonic():
                return cached[0]
            token, ttl = self._fetch()
            self._memory = (token, time.monotonic() + ttl) if ttl > 0 else None
            return token

    def _get_from_redis(self) -> str:
        from redis.exceptions import LockError, RedisError

        try:
            cached = self.redis.get(self.key)
            if cached:
                return cached.decode()
            lock = self.redis.lock(
                self.key + ":lock", timeout=self.lock_timeout, blocking_timeout=self.lock_wait
            )
            acquired = lock.acquire()
        except RedisError as exc:
            log.warning("Redis unavailable for the access_token cache (%s); fetching directly", exc)
            return self._fetch()[0]
        try:
            if acquired:
                # Whoever held the lock before us has probably just stored a fresh token.
                cached = self.redis.get(self.key)
                if cached:
                    return cached.decode()
            else:
                log.warning("waited %ss for the access_token lock; fetching anyway", self.lock_wait)
            token, ttl = self._fetch()
            if ttl > 0:
                self.redis.set(self.key, token, ex=ttl)
            return token
        except RedisError as exc:
            log.warning("Redis failed while refreshing the access_token: %s", exc)
            return self._fetch()[0]
        finally:
            if acquired:
                # LockError: the lock timed out first; the next refresher simply takes it.
                with contextlib.suppress(LockError, RedisError):
                    lock.release()


def access_token_provider(app: Flask | None = None) -> AccessTokenProvider:
    """The app's provider, built on first use (shared through Redis when the app has it)."""
    app = app or current_app._get_current_object()
    provider = app.extensions.get(EXTENSION_KEY)
    if provider is not None:
        return provider
    with _provider_lock:
        provider = app.extensions.get(EXTENSION_KEY)
        if provider is None:
            redis = getattr(app.extensions.get("job_queue"), "redis", None)
            client = WeChatClient.from_config(app.config)
            timeout = client.timeout
            provider = AccessTokenProvider(
                client, redis=redis, lock_timeout=timeout * 3, lock_wait=timeout * 2
            )
            app.extensions[EXTENSION_KEY] = provider
        return provider


def call_with_token(fn: Callable[[str], T]) -> T:
    """Run fn(access_token) for the current app, retrying once on a stale token."""
    return access_token_provider().call_with_token(fn)
