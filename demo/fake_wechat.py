"""A fake WeChat server API on loopback that answers like the documented one, errors included."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import itertools
import json
import logging
import secrets
import string
import struct
import sys
import threading
import time
import zlib
from collections import deque
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import MethodNotAllowed, NotFound

from demo.loopback_http import LoopbackHTTPServer
from service_hub.wechat import subscribe_fields

log = logging.getLogger(__name__)

ENDPOINTS = (
    "jscode2session",
    "stable_token",
    "subscribe_send",
    "getwxacodeunlimit",
    "msg_sec_check",
)
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
TOKEN_TTL_SECONDS = 7200
OPENID_LENGTH = 28
SCENE_MAX_LENGTH = 32
SCENE_ALLOWED = frozenset(string.ascii_letters + string.digits + "!#$&'()*+,/:;=?@-._~")
MSG_SEC_SCENES = frozenset({1, 2, 3, 4})

# Codes with these prefixes fail on purpose so demos and tests can show each documented error.
MAGIC_CODES = {
    "err40029-": (40029, "invalid code"),
    "err45011-": (45011, "api minute-quota reach limit mustslower retry next minute"),
    "err40226-": (40226, "high risk user"),
    "err-1-": (-1, "system error"),
}


class FakeWeChatState:
    """What the fake WeChat remembers between calls; every mutation holds the lock."""

    def __init__(
        self,
        appid: str = "wx-demo-appid",
        secret: str = "demo-secret",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.appid = appid
        self.secret = secret
        self.clock = clock
        self.lock = threading.RLock()
        self._arrived = threading.Condition()
        self.reset()

    def reset(self) -> None:
        """Forget codes, tokens, messages, quotas and queued failures; keep the credentials."""
        with self.lock:
            self.used_codes: set[str] = set()
            self.sent_messages: list[dict[str, Any]] = []
            self.issued_tokens: dict[str, float] = {}
            self.current_token: str | None = None
            self.no_quota: set[str] = set()
            self._failures: dict[str, deque[tuple[str, int, str]]] = {e: deque() for e in ENDPOINTS}
            self._msgids = itertools.count(2_000_000_000_000_000_000)
            # Tests hold sends at the gate to act while a worker is mid-call (e.g. kill it).
            self.send_gate = threading.Event()
            self.send_gate.set()
            self.send_arrivals = 0

    def fail_next(self, endpoint: str, errcode: int, errmsg: str = "injected") -> None:
        """Make the next call of endpoint answer with this errcode, before any other check."""
        self._queue_failure(endpoint, ("errcode", errcode, errmsg))

    def fail_next_http(self, endpoint: str, status: int = 502) -> None:
        """Make the next call of endpoint answer like a broken gateway: an HTML page, no JSON."""
        self._queue_failure(endpoint, ("http", status, ""))

    def _queue_failure(self, endpoint: str, failure: tuple[str, int, str]) -> None:
        if endpoint not in ENDPOINTS:
            raise ValueError(f"unknown endpoint {endpoint!r}; expected one of {ENDPOINTS}")
        with self.lock:
            self._failures[endpoint].append(failure)

    def take_failure(self, endpoint: str) -> tuple[str, int, str] | None:
        """Pop the failure queued for endpoint, if any."""
        with self.lock:
            queue = self._failures[endpoint]
            return queue.popleft() if queue else None

    def expire_token(self, token: str) -> None:
        """Make an issued token expired (for 42001 answers) without waiting two hours."""
        with self.lock:
            self.issued_tokens[token] = self.clock() - 1

    def openid_for(self, user_key: str) -> str:
        """The openid WeChat gives this user in this app: stable, 28 characters, starts with o."""
        return _hashed_id(f"{self.appid}|{user_key}")

    def issue_token(self, force_refresh: bool) -> tuple[str, int]:
        """Return the current token and its remaining seconds, minting one when needed."""
        with self.lock:
            now = self.clock()
            current = self.current_token
            expiry = self.issued_tokens.get(current) if current else None
            if not force_refresh and expiry is not None and expiry > now:
                return current, int(expiry - now)
            if force_refresh and current:
                # Documented: a forced refresh invalidates the previous stable token at once.
                self.issued_tokens.pop(current, None)
            token = secrets.token_urlsafe(96)
            self.issued_tokens[token] = now + TOKEN_TTL_SECONDS
            self.current_token = token
            return token, TOKEN_TTL_SECONDS

    def token_problem(self, token: str | None) -> tuple[int, str] | None:
        """The errcode a call with this access_token gets, or None when the token is good."""
        with self.lock:
            expiry = self.issued_tokens.get(token) if token else None
            if expiry is None:
                return 40001, "invalid credential, access_token is invalid or not latest"
            if expiry <= self.clock():
                return 42001, "access_token expired"
            return None

    def arrive_at_gate(self, timeout: float = 60) -> None:
        """Count a send request, then wait while the gate is closed."""
        with self._arrived:
            self.send_arrivals += 1
            self._arrived.notify_all()
        self.send_gate.wait(timeout)

    def wait_for_arrivals(self, count: int, timeout: float = 30) -> bool:
        """Block until `count` send requests have reached the gate (no sleeping)."""
        with self._arrived:
            return self._arrived.wait_for(lambda: self.send_arrivals >= count, timeout)

    def record_message(self, body: dict[str, Any]) -> int:
        """Remember an accepted subscribe message and return its msgid."""
        with self.lock:
            self.sent_messages.append(dict(body))
            return next(self._msgids)


def _hashed_id(seed: str) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(seed.encode()).digest()).decode()
    return "o" + digest[: OPENID_LENGTH - 1]


def looks_like_openid(value: Any) -> bool:
    """Whether value has the shape of an openid (o + 27 characters)."""
    return isinstance(value, str) and len(value) == OPENID_LENGTH and value.startswith("o")


def scene_png(scene: str, modules: int = 21, scale: int = 8) -> bytes:
    """A black/white PNG whose pattern is derived from the scene, built without image libraries."""
    bits = hashlib.shake_256(scene.encode()).digest((modules * modules + 7) // 8)
    size = modules * scale
    raw = bytearray()
    for y in range(size):
        raw.append(0)  # PNG filter type "none" for this row
        for x in range(size):
            index = (y // scale) * modules + x // scale
            dark = bits[index // 8] >> (index % 8) & 1
            raw.append(0 if dark else 255)

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    header = struct.pack(">IIBBBBB", size, size, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(raw), 9))
        + chunk(b"IEND", b"")
    )


def _error(errcode: int, errmsg: str, status: int = 200) -> tuple[Response, int]:
    # WeChat reports API errors with HTTP 200 and the errcode in the body.
    return jsonify({"errcode": errcode, "errmsg": errmsg}), status


def _gateway_page(status: int) -> str:
    return f"<html><body><h1>{status} Bad Gateway</h1></body></html>"


def _injected(state: FakeWeChatState, endpoint: str) -> Any:
    failure = state.take_failure(endpoint)
    if failure is None:
        return None
    kind, code, errmsg = failure
    if kind == "http":
        return Response(_gateway_page(code), status=code, mimetype="text/html")
    return _error(code, errmsg)


def _checked_body(
    state: FakeWeChatState, endpoint: str, needs_token: bool = True
) -> tuple[dict[str, Any], Any]:
    """Run the checks the POST endpoints share: (body, None), or ({}, the early answer)."""
    if (failure := _injected(state, endpoint)) is not None:
        return {}, failure
    if needs_token and (problem := state.token_problem(request.args.get("access_token"))):
        return {}, _error(*problem)
    # WeChat parses the body whatever Content-Type the caller sent.
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        return {}, _error(47001, "data format error")
    return body, None


def _plain_error(errcode: int, errmsg: str) -> tuple[int, str, bytes]:
    body = json.dumps({"errcode": errcode, "errmsg": errmsg}, ensure_ascii=False)
    return 200, "application/json", body.encode()


def subscribe_send_answer(
    state: FakeWeChatState, access_token: str | None, raw: bytes
) -> tuple[int, str, bytes]:
    """subscribeMessage.send, whole and without a web framework: (HTTP status, content type,
    body). The Flask route and the server's fast path both answer with it, so a broadcast
    benchmark measures the caller, not Flask, under exactly the same checks."""
    if (failure := state.take_failure("subscribe_send")) is not None:
        kind, code, errmsg = failure
        if kind == "http":
            return code, "text/html", _gateway_page(code).encode()
        return _plain_error(code, errmsg)
    if problem := state.token_problem(access_token):
        return _plain_error(*problem)
    try:  # WeChat parses the body whatever Content-Type the caller sent.
        body = json.loads(raw)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return _plain_error(47001, "data format error")
    if not body.get("template_id"):
        return _plain_error(40037, "invalid template_id")
    touser = body.get("touser")
    if not looks_like_openid(touser):
        return _plain_error(40003, "invalid openid")
    data = body.get("data")
    if not isinstance(data, dict) or not data:
        return _plain_error(47003, "argument invalid! data invalid")
    for key, item in data.items():
        # Each value must be a documented form of its field's type (thing1, time3 …).
        fault = "invalid"
        if isinstance(item, dict) and "value" in item:
            fault = subscribe_fields.problem(key, item["value"])
        if fault is not None:
            return _plain_error(47003, f"argument invalid! data.{key}.value {fault}")
    state.arrive_at_gate()
    if touser in state.no_quota:
        return _plain_error(43101, "user refuse to accept the msg")
    msgid = state.record_message(body)
    return (
        200,
        "application/json",
        json.dumps({"errcode": 0, "errmsg": "ok", "msgid": msgid}).encode(),
    )


def create_fake_wechat_app(state: FakeWeChatState | None = None) -> Flask:
    """A Flask app answering the WeChat endpoints the service uses, backed by state."""
    state = state if state is not None else FakeWeChatState()
    app = Flask("fake_wechat")
    app.extensions["fake_wechat_state"] = state

    @app.get("/sns/jscode2session")
    def jscode2session() -> Any:
        if (failure := _injected(state, "jscode2session")) is not None:
            return failure
        args = request.args
        if args.get("appid") != state.appid:
            return _error(40013, "invalid appid")
        if args.get("secret") != state.secret:
            return _error(40125, "invalid appsecret")
        if args.get("grant_type") != "authorization_code":
            return _error(40002, "invalid grant_type")
        code = args.get("js_code", "")
        for prefix, (errcode, errmsg) in MAGIC_CODES.items():
            if code.startswith(prefix):
                return _error(errcode, errmsg)
        with state.lock:
            if not code or code in state.used_codes:
                return _error(40029, "invalid code")
            state.used_codes.add(code)
        user_key = code.split(":", 1)[0]
        body = {
            "openid": state.openid_for(user_key),
            "session_key": base64.b64encode(secrets.token_bytes(16)).decode(),
            # unionid ignores the appid: one person has one unionid across an account's apps.
            "unionid": _hashed_id(f"unionid|{user_key}"),
        }
        # The real endpoint sends JSON labelled text/plain and no errcode on success.
        return Response(json.dumps(body), mimetype="text/plain")

    @app.post("/cgi-bin/stable_token")
    def stable_token() -> Any:
        body, early = _checked_body(state, "stable_token", needs_token=False)
        if early is not None:
            return early
        if body.get("grant_type") != "client_credential":
            return _error(40002, "invalid grant_type")
        if body.get("appid") != state.appid:
            return _error(40013, "invalid appid")
        if body.get("secret") != state.secret:
            return _error(40125, "invalid appsecret")
        token, expires_in = state.issue_token(force_refresh=body.get("force_refresh") is True)
        return jsonify({"access_token": token, "expires_in": expires_in})

    @app.post("/cgi-bin/message/subscribe/send")
    def subscribe_send() -> Any:
        status, mimetype, payload = subscribe_send_answer(
            state, request.args.get("access_token"), request.get_data()
        )
        return Response(payload, status=status, mimetype=mimetype)

    @app.post("/wxa/getwxacodeunlimit")
    def getwxacodeunlimit() -> Any:
        body, early = _checked_body(state, "getwxacodeunlimit")
        if early is not None:
            return early
        scene = body.get("scene")
        if (
            not isinstance(scene, str)
            or not 0 < len(scene) <= SCENE_MAX_LENGTH
            or not set(scene) <= SCENE_ALLOWED
        ):
            return _error(40169, "invalid length for scene, or the data is not json")
        page = body.get("page")
        # Documented: no leading "/" and no query string; parameters belong in scene.
        if page is not None and (not isinstance(page, str) or page.startswith("/") or "?" in page):
            return _error(41030, "invalid page hint")
        return Response(scene_png(scene), mimetype="image/png")

    @app.post("/wxa/msg_sec_check")
    def msg_sec_check() -> Any:
        body, early = _checked_body(state, "msg_sec_check")
        if early is not None:
            return early
        content = body.get("content")
        if (
            body.get("version") != 2
            or body.get("scene") not in MSG_SEC_SCENES
            or not isinstance(content, str)
            or not content
        ):
            return _error(40097, "invalid args")
        if not looks_like_openid(body.get("openid")):
            return _error(40003, "invalid openid")
        return jsonify(_sec_check_answer(content))

    @app.errorhandler(NotFound)
    def unknown_route(_exc: NotFound) -> Any:
        return _error(40066, "invalid url", status=404)

    @app.errorhandler(MethodNotAllowed)
    def wrong_method(error: MethodNotAllowed) -> Any:
        if "GET" in (error.valid_methods or ()):
            return _error(43001, "require GET method", status=405)
        return _error(43002, "require POST method", status=405)

    return app


def _sec_check_answer(content: str) -> dict[str, Any]:
    """The msg_sec_check v2 answer for content, keyed on two marker words."""
    keyword = None
    suggest, label = "pass", 100
    if "违禁" in content:
        keyword, suggest, label = "违禁", "risky", 20001
    elif "待审" in content:
        keyword, suggest, label = "待审", "review", 10001
    verdict = {"errcode": 0, "suggest": suggest, "label": label}
    detail = [{"strategy": "content_model", **verdict, "prob": 90}]
    if keyword:
        detail.append({"strategy": "keyword", **verdict, "level": 20, "keyword": keyword})
    trace_id = "-".join(secrets.token_hex(4) for _ in range(3))
    result = {"suggest": suggest, "label": label}
    return {"errcode": 0, "errmsg": "ok", "result": result, "detail": detail, "trace_id": trace_id}


class FakeWeChatServer:
    """Runs the fake WeChat app on a loopback port in a daemon thread (a lean HTTP/1.1 server,
    one thread per kept-alive connection: fast enough that benchmarks measure the caller)."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, state: FakeWeChatState | None = None
    ) -> None:
        # The fake accepts well-known demo credentials, so it must never face a network.
        if host not in LOOPBACK_HOSTS:
            raise ValueError(f"the fake WeChat server only listens on loopback, not {host!r}")
        self.host = host
        self.port = port
        self.state = state if state is not None else FakeWeChatState()
        self.app = create_fake_wechat_app(self.state)
        self._server: LoopbackHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> FakeWeChatServer:
        """Bind the port and serve in the background; returns self for chaining."""
        if self._server is not None:
            return self
        state = self.state

        def fast_send(query: str, body: bytes) -> tuple[int, str, bytes]:
            token = parse_qs(query).get("access_token", [None])[0]
            return subscribe_send_answer(state, token, body)

        # The busiest endpoint skips Flask (same function, same checks).
        fast = {("POST", "/cgi-bin/message/subscribe/send"): fast_send}
        self._server = LoopbackHTTPServer(self.host, self.port, self.app, fast)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="fake-wechat", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port."""
        server, thread, self._server, self._thread = self._server, self._thread, None, None
        if server is not None:
            server.shutdown()
            server.server_close()
            server.close_connections()
        if thread is not None:
            thread.join(timeout=5)

    @property
    def base_url(self) -> str:
        """Where clients reach the fake, e.g. http://127.0.0.1:PORT."""
        if self._server is None:
            raise RuntimeError("the fake WeChat server is not started")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self._server.server_port}"

    def __enter__(self) -> FakeWeChatServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def main() -> None:
    """Serve in the foreground for a demo: python -m demo.fake_wechat [PORT]."""
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8901
    with FakeWeChatServer(port=port) as server:
        print(f"fake WeChat on {server.base_url} for appid {server.state.appid} (Ctrl-C stops)")
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
