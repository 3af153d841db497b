"""The WeChat access_token provider: cached, shared, refreshed once, retried once."""

from __future__ import annotations

import threading
import time

import pytest
from redis import Redis

from service_hub.wechat.access_token import (
    AccessTokenProvider,
    access_token_provider,
    cache_seconds,
)
from service_hub.wechat.client import WeChatClient, WeChatError


@pytest.fixture
def provider(app):
    """The app's provider with an empty cache (the fake forgets its tokens between tests)."""
    provider = access_token_provider(app)
    provider.invalidate()
    return provider


@pytest.fixture
def fetches(provider, monkeypatch) -> list[bool]:
    """The force_refresh argument of every stable_token call the provider makes."""
    return _count_fetches(provider, monkeypatch)


def _count_fetches(provider, monkeypatch, delay: float = 0.0) -> list[bool]:
    calls: list[bool] = []
    real = provider.client.stable_token

    def counting(force_refresh: bool = False):
        calls.append(force_refresh)
        time.sleep(delay)  # a slow WeChat widens the window in which callers race
        return real(force_refresh=force_refresh)

    monkeypatch.setattr(provider.client, "stable_token", counting)
    return calls


def _sec_check(provider, openid: str):
    return lambda token: provider.client.msg_sec_check(token, openid, "你好")


def test_a_token_is_kept_with_a_five_minute_margin():
    assert cache_seconds(7200) == 6900
    assert cache_seconds(200) == 100
    assert cache_seconds(0) == 0


def test_a_second_call_uses_the_cached_token(provider, fetches):
    assert provider.get() == provider.get()
    assert fetches == [False]


def test_invalidate_makes_the_next_call_fetch_again(provider, fetches):
    provider.get()
    provider.invalidate()
    provider.get()
    assert fetches == [False, False]


def test_invalidating_an_older_token_keeps_the_cached_one(provider, fetches):
    provider.get()
    provider.invalidate("some-token-that-failed-earlier")
    provider.get()
    assert fetches == [False]


def test_a_40001_answer_refreshes_the_token_and_retries_once(provider, fetches, fake_wechat):
    provider.get()
    fake_wechat.state.fail_next("msg_sec_check", 40001)
    openid = fake_wechat.state.openid_for("alice")
    result = provider.call_with_token(_sec_check(provider, openid))
    assert result["suggest"] == "pass"
    # Refreshed in stable_token's normal mode: other processes' token stays valid.
    assert fetches == [False, False]


def test_an_expired_token_is_replaced(provider, fake_wechat):
    stale = provider.get()
    fake_wechat.state.expire_token(stale)
    seen: list[str] = []

    def call(token: str) -> dict:
        seen.append(token)
        return _sec_check(provider, fake_wechat.state.openid_for("alice"))(token)

    assert provider.call_with_token(call)["suggest"] == "pass"
    assert seen[0] == stale and seen[1] != stale


def test_a_token_error_on_the_retry_is_raised(provider, fetches, fake_wechat):
    fake_wechat.state.fail_next("msg_sec_check", 40001)
    fake_wechat.state.fail_next("msg_sec_check", 40001)
    with pytest.raises(WeChatError) as caught:
        provider.call_with_token(_sec_check(provider, fake_wechat.state.openid_for("alice")))
    assert caught.value.errcode == 40001
    assert len(fetches) == 2


def test_other_errors_are_not_retried(provider, fetches, fake_wechat):
    fake_wechat.state.fail_next("msg_sec_check", -1)
    with pytest.raises(WeChatError) as caught:
        provider.call_with_token(_sec_check(provider, fake_wechat.state.openid_for("alice")))
    assert caught.value.errcode == -1
    assert fetches == [False]


def test_concurrent_first_calls_fetch_the_token_once(provider, monkeypatch):
    fetches = _count_fetches(provider, monkeypatch, delay=0.2)
    start = threading.Barrier(8)
    tokens: list[str] = []

    def worker() -> None:
        start.wait()
        tokens.append(provider.get())

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len(tokens) == 8 and len(set(tokens)) == 1
    assert fetches == [False]


@pytest.mark.parametrize("app", ["postgres-redis"], indirect=True)
def test_with_redis_the_token_is_shared_under_the_appid_key(app, provider, fetches):
    token = provider.get()
    assert provider.redis.get(f"wechat:access_token:{provider.client.appid}").decode() == token
    assert 6800 < provider.redis.ttl(provider.key) <= 6900
    # Another process (a second provider on the same Redis) reuses it without fetching.
    other = AccessTokenProvider(provider.client, redis=provider.redis)
    assert other.get() == token
    assert fetches == [False]


def test_an_unreachable_redis_still_gives_a_token(fake_wechat):
    client = WeChatClient(fake_wechat.base_url, fake_wechat.state.appid, fake_wechat.state.secret)
    down = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    provider = AccessTokenProvider(client, redis=down)
    assert provider.get() in fake_wechat.state.issued_tokens
