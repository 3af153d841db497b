"""HTTP client for the WeChat mini-program server API, turning its answers into values or errors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests

from service_hub.plumbing.observability import WECHAT_CALLS

DEFAULT_TIMEOUT_SECONDS = 5.0


def _result(response: requests.Response) -> str:
    """A call's result for the metrics: ok, WeChat's errcode, or http_<status>."""
    if response.status_code >= 400:
        return f"http_{response.status_code}"
    if not response.headers.get("Content-Type", "").startswith(("application/json", "text/")):
        return "ok"  # an image (the mini-program code) is its own success
    try:
        errcode = response.json().get("errcode", 0)
    except (ValueError, AttributeError):
        return "unreadable"
    return "ok" if errcode in (0, None) else str(errcode)


class WeChatError(Exception):
    """An error answer from WeChat, carrying its errcode and errmsg."""

    # Busy / system errors: the same call may succeed later, so callers retry with backoff.
    TRANSIENT = {-1, 43108}
    # The call can never succeed as made (bad openid, template, refused user, bad data).
    PERMANENT = {40003, 40037, 43101, 47003}

    def __init__(self, errcode: int | None, errmsg: str, endpoint: str | None = None) -> None:
        # All arguments go to Exception so the error survives pickling (e.g. across job queues).
        super().__init__(errcode, errmsg, endpoint)
        self.errcode = errcode
        self.errmsg = errmsg
        self.endpoint = endpoint

    @property
    def transient(self) -> bool:
        """Whether retrying the same call later may succeed."""
        return self.errcode in self.TRANSIENT

    def __str__(self) -> str:
        where = f" from {self.endpoint}" if self.endpoint else ""
        return f"WeChat error {self.errcode}{where}: {self.errmsg}"


class WeChatUnavailable(WeChatError):
    """WeChat could not be reached or answered with garbage (network error, timeout, 5xx)."""

    def __init__(self, errmsg: str, endpoint: str | None = None) -> None:
        super().__init__(None, errmsg, endpoint)
        # Keep args in __init__'s order so pickling rebuilds the same error.
        self.args = (errmsg, endpoint)

    @property
    def transient(self) -> bool:
        """Always true: an outage says nothing about whether the call itself is valid."""
        return True

    def __str__(self) -> str:
        where = f" ({self.endpoint})" if self.endpoint else ""
        return f"WeChat unavailable{where}: {self.errmsg}"


class WeChatClient:
    """Calls the WeChat server API for one mini-program (appid + secret)."""

    def __init__(
        self,
        base_url: str,
        appid: str,
        secret: str,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.appid = appid
        self._secret = secret
        self.timeout = timeout
        self.session = session if session is not None else requests.Session()

    def __repr__(self) -> str:
        # The secret stays out of reprs, which end up in logs and tracebacks.
        return f"WeChatClient(base_url={self.base_url!r}, appid={self.appid!r})"

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> WeChatClient:
        """Build a client from the app config (WECHAT_API_BASE, WECHAT_APPID, WECHAT_SECRET, …)."""
        return cls(
            base_url=config["WECHAT_API_BASE"],
            appid=config["WECHAT_APPID"],
            secret=config["WECHAT_SECRET"],
            timeout=float(config.get("WECHAT_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS)),
        )

    def code2session(self, code: str) -> dict[str, Any]:
        """Exchange a wx.login code for {"openid", "session_key", "unionid" (or None)}."""
        params = {
            "appid": self.appid,
            "secret": self._secret,
            "js_code": code,
            "grant_type": "authorization_code",
        }
        response = self._send("GET", "/sns/jscode2session", "jscode2session", params=params)
        body = self._json_body(response, "jscode2session")
        # Real WeChat sometimes omits errcode on success, so the openid is what proves success.
        if body.get("openid"):
            return {
                "openid": body["openid"],
                "session_key": body.get("session_key"),
                "unionid": body.get("unionid"),
            }
        raise self._error_from(body, "jscode2session")

    def stable_token(self, force_refresh: bool = False) -> tuple[str, int]:
        """Get the stable access_token and its remaining lifetime in seconds."""
        payload = {
            "grant_type": "client_credential",
            "appid": self.appid,
            "secret": self._secret,
            "force_refresh": force_refresh,
        }
        response = self._send("POST", "/cgi-bin/stable_token", "stable_token", json=payload)
        body = self._json_body(response, "stable_token")
        if body.get("access_token"):
            return body["access_token"], int(body.get("expires_in", 0))
        raise self._error_from(body, "stable_token")

    def send_subscribe_message(
        self,
        access_token: str,
        touser: str,
        template_id: str,
        data: dict[str, Any],
        page: str | None = None,
        miniprogram_state: str = "formal",
        lang: str = "zh_CN",
    ) -> None:
        """Send a subscribe message; data looks like {"thing1": {"value": "..."}}."""
        payload: dict[str, Any] = {
            "touser": touser,
            "template_id": template_id,
            "data": data,
            "miniprogram_state": miniprogram_state,
            "lang": lang,
        }
        if page is not None:
            payload["page"] = page
        response = self._send(
            "POST",
            "/cgi-bin/message/subscribe/send",
            "subscribe_send",
            params={"access_token": access_token},
            json=payload,
        )
        self._check_ok(self._json_body(response, "subscribe_send"), "subscribe_send")

    def get_unlimited_qrcode(
        self,
        access_token: str,
        scene: str,
        page: str | None = None,
        width: int = 430,
        check_path: bool = False,
        env_version: str = "release",
    ) -> bytes:
        """Get a mini-program code image for a scene string; returns the image bytes."""
        payload: dict[str, Any] = {
            "scene": scene,
            "width": width,
            "check_path": check_path,
            "env_version": env_version,
        }
        if page is not None:
            payload["page"] = page
        response = self._send(
            "POST",
            "/wxa/getwxacodeunlimit",
            "getwxacodeunlimit",
            params={"access_token": access_token},
            json=payload,
        )
        # The same URL answers with either an image or a JSON error; the content type tells which.
        content_type = response.headers.get("Content-Type", "")
        if response.status_code == 200 and content_type.startswith("image/"):
            return response.content
        body = self._json_body(response, "getwxacodeunlimit")
        raise self._error_from(body, "getwxacodeunlimit")

    def msg_sec_check(
        self, access_token: str, openid: str, content: str, scene: int = 2
    ) -> dict[str, Any]:
        """Check user text for risky content: {"suggest", "label", "trace_id"}."""
        payload = {"version": 2, "openid": openid, "scene": scene, "content": content}
        response = self._send(
            "POST",
            "/wxa/msg_sec_check",
            "msg_sec_check",
            params={"access_token": access_token},
            json=payload,
        )
        body = self._json_body(response, "msg_sec_check")
        self._check_ok(body, "msg_sec_check")
        result = body.get("result")
        if not isinstance(result, dict) or "suggest" not in result:
            raise WeChatError(None, "answer has no result.suggest", "msg_sec_check")
        return {
            "suggest": result["suggest"],
            "label": result.get("label"),
            "trace_id": body.get("trace_id"),
        }

    def _send(self, method: str, path: str, endpoint: str, **kwargs: Any) -> requests.Response:
        """Make one HTTP call, mapping transport failures to WeChatUnavailable."""
        failure = None
        try:
            response = self.session.request(
                method, self.base_url + path, timeout=self.timeout, **kwargs
            )
            WECHAT_CALLS.labels(endpoint, _result(response)).inc()
            return response
        except requests.Timeout:
            failure = f"no answer within {self.timeout:g}s"
        except requests.RequestException as exc:
            # Only the class name: requests puts the full URL (secret, js_code, access_token)
            # into its messages.
            failure = f"request failed ({type(exc).__name__})"
        # Raised outside the except block so the original exception, URL and all, is not
        # attached as __context__ and cannot leak through a logged traceback.
        WECHAT_CALLS.labels(endpoint, "unreachable").inc()
        raise WeChatUnavailable(failure, endpoint)

    @staticmethod
    def _json_body(response: requests.Response, endpoint: str) -> dict[str, Any]:
        """Decode a JSON object whatever the Content-Type (WeChat often says text/plain)."""
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict):
            if response.status_code >= 500 and "errcode" not in body:
                raise WeChatUnavailable(f"HTTP {response.status_code}", endpoint)
            return body
        if response.status_code >= 500:
            raise WeChatUnavailable(f"HTTP {response.status_code} without JSON", endpoint)
        # A non-JSON 2xx/4xx usually means a wrong WECHAT_API_BASE; retrying will not help.
        raise WeChatError(
            None, f"unexpected non-JSON answer (HTTP {response.status_code})", endpoint
        )

    @staticmethod
    def _error_from(body: Mapping[str, Any], endpoint: str) -> WeChatError:
        """Build the error for a JSON answer that is not a success."""
        try:
            errcode = int(body["errcode"])
        except (KeyError, TypeError, ValueError):
            errcode = None
        # errcode 0 without the expected result is as useless as no errcode at all.
        if not errcode:
            return WeChatError(
                None, "answer has neither the expected result nor an errcode", endpoint
            )
        return WeChatError(errcode, str(body.get("errmsg", "")), endpoint)

    @classmethod
    def _check_ok(cls, body: Mapping[str, Any], endpoint: str) -> None:
        """Raise unless the answer says errcode 0."""
        try:
            ok = int(body.get("errcode")) == 0
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise cls._error_from(body, endpoint)
