"""Sign-in protection for staff passwords: failed attempts lock a login for a while.

Failures are counted in the limiter's storage (Redis when the app has it, memory on the
embedded default) in moving windows, two ways (limits in RATE_LIMITS):

- `login_failures`, per (account, client address): the guesser's own address is locked
  until its oldest failure leaves the window; a successful sign-in there clears it;
- `login_failures_account`, per account from every address: a higher ceiling against guessing
  spread over many addresses, also lifting as failures age out, and not applied at an address
  where the account signed in successfully within TRUSTED_SECONDS, so an attacker cannot keep
  the real user out.

Every lock is temporary, and attempts refused while locked are not counted, so no amount of
guessing extends a lock beyond one window. See docs/operations.md, "Sign-in protection".
"""

from __future__ import annotations

import logging
import math
import time

from flask import current_app
from limits import parse
from limits.strategies import MovingWindowRateLimiter

from service_hub.plumbing.errors import AppError
from service_hub.plumbing.ratelimit import counter_storage

log = logging.getLogger(__name__)

TRUSTED_SECONDS = 30 * 24 * 3600
_PREFIX = "service_hub:signin"


def _limits() -> tuple:
    configured = current_app.config["RATE_LIMITS"]
    return parse(configured["login_failures"]), parse(configured["login_failures_account"])


def _trusted_key(account: str, address: str) -> str:
    return f"{_PREFIX}:trusted:{account}:{address}"


def check(account: str, address: str) -> None:
    """Refuse with 429 `login_locked` while `account` is locked for a caller at `address`."""
    per_caller, per_account = _limits()
    try:
        storage = counter_storage()
        windows = MovingWindowRateLimiter(storage)
        waits = []
        if not windows.test(per_caller, _PREFIX, "caller", account, address):
            waits.append(windows.get_window_stats(per_caller, _PREFIX, "caller", account, address))
        if not windows.test(per_account, _PREFIX, "account", account) and not storage.get(
            _trusted_key(account, address)
        ):
            waits.append(windows.get_window_stats(per_account, _PREFIX, "account", account))
    except Exception:  # counting is down: sign-in still works, the endpoint limit still holds
        log.exception("sign-in failure counters unavailable")
        return
    if waits:
        raise _locked(max(stats.reset_time for stats in waits) - time.time())


def record_failure(account: str, address: str) -> None:
    """Count a wrong password (or unknown or inactive account) for `account` at `address`."""
    per_caller, per_account = _limits()
    try:
        windows = MovingWindowRateLimiter(counter_storage())
        windows.hit(per_caller, _PREFIX, "caller", account, address)
        windows.hit(per_account, _PREFIX, "account", account)
    except Exception:
        log.exception("sign-in failure counters unavailable")


def record_success(account: str, address: str) -> None:
    """Forget this caller's failures and trust `address` for this account for a while."""
    per_caller, _ = _limits()
    try:
        storage = counter_storage()
        MovingWindowRateLimiter(storage).clear(per_caller, _PREFIX, "caller", account, address)
        # Cleared first so the trust runs from this sign-in, not the first one.
        storage.clear(_trusted_key(account, address))
        storage.incr(_trusted_key(account, address), TRUSTED_SECONDS)
    except Exception:
        log.exception("sign-in failure counters unavailable")


def _locked(wait_seconds: float) -> AppError:
    seconds = max(1, math.ceil(wait_seconds))
    return AppError(
        "Too many failed sign-ins for this login; try again later.",
        status=429,
        code="login_locked",
        message_zh=f"登录失败次数过多，请{math.ceil(seconds / 60)}分钟后再试",
        details={"retry_after": seconds},
        headers={"Retry-After": str(seconds)},
    )
