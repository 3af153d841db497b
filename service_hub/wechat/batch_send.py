"""Many subscribe messages at once: bounded concurrency over kept-alive connections, one thread.

A broadcast sends thousands of messages; one blocking call at a time (or requests in threads,
~0.7 ms of CPU per call) leaves WeChat idle or the worker's CPU spent in the HTTP library.
Here one thread keeps up to `concurrency` requests in flight over http.client connections it
keeps open, and hears each answer as it arrives.

Nothing is written to WeChat before the caller has claimed it: `claim(keys)` runs (and
commits) just before the requests of a batch are written, so a process killed between the
claim and the write leaves at most that batch claimed-but-unsent, and never a message sent
without its claim. Answers are read the way WeChatClient reads them, errors included.
"""

from __future__ import annotations

import contextlib
import json
import selectors
import socket
import time
from collections import deque
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from http.client import HTTPConnection, HTTPException, HTTPSConnection
from typing import Any
from urllib.parse import urlencode, urlsplit

from service_hub.wechat.access_token import TOKEN_ERRCODES, AccessTokenProvider
from service_hub.wechat.client import WeChatError, WeChatUnavailable

SEND_PATH = "/cgi-bin/message/subscribe/send"
ENDPOINT = "subscribe_send"
CLAIMS_IN_FLIGHT = 1  # claims committing at once (when `claim` returns Futures); 2 was no faster


@dataclass
class Outgoing:
    """One subscribe message: `key` identifies it to the caller (e.g. a delivery id)."""

    key: Hashable
    touser: str
    template_id: str
    data: dict[str, Any]
    page: str | None = None
    token_retried: bool = False

    def body(self, miniprogram_state: str) -> bytes:
        """The JSON body WeChatClient.send_subscribe_message would send."""
        payload: dict[str, Any] = {
            "touser": self.touser,
            "template_id": self.template_id,
            "data": self.data,
            "miniprogram_state": miniprogram_state,
            "lang": "zh_CN",
        }
        if self.page is not None:
            payload["page"] = self.page
        return json.dumps(payload, ensure_ascii=False).encode()


def answer_error(status: int, body: bytes) -> WeChatError | None:
    """What WeChatClient makes of this answer: None for success, else the error."""
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        if status >= 500:
            return WeChatUnavailable(f"HTTP {status} without JSON", ENDPOINT)
        return WeChatError(None, f"unexpected non-JSON answer (HTTP {status})", ENDPOINT)
    if status >= 500 and "errcode" not in parsed:
        return WeChatUnavailable(f"HTTP {status}", ENDPOINT)
    try:
        errcode = int(parsed.get("errcode"))
    except (TypeError, ValueError):
        errcode = None
    if errcode == 0:
        return None
    if not errcode:
        return WeChatError(None, "answer has neither the expected result nor an errcode", ENDPOINT)
    return WeChatError(errcode, str(parsed.get("errmsg", "")), ENDPOINT)


class BatchSender:
    """Sends subscribe messages with at most `concurrency` in flight, from the calling thread."""

    def __init__(
        self,
        base_url: str,
        provider: AccessTokenProvider,
        concurrency: int = 16,
        timeout: float = 5.0,
        miniprogram_state: str = "formal",
    ) -> None:
        parts = urlsplit(base_url.rstrip("/"))
        self._connection_class = HTTPSConnection if parts.scheme == "https" else HTTPConnection
        self._host, self._port = parts.hostname, parts.port
        self._prefix = parts.path
        self.provider = provider
        self.concurrency = max(1, concurrency)
        self.timeout = timeout
        self.miniprogram_state = miniprogram_state
        self._idle: list[HTTPConnection] = []

    def close(self) -> None:
        """Close the kept-alive connections."""
        for connection in self._idle:
            connection.close()
        self._idle.clear()

    def _connection(self) -> HTTPConnection:
        if self._idle:
            return self._idle.pop()
        return self._connection_class(self._host, self._port, timeout=self.timeout)

    def send(
        self,
        messages: Sequence[Outgoing],
        claim: Callable[[list[Hashable]], set[Hashable] | Future],
        answered: Callable[[Outgoing, WeChatError | None], bool],
    ) -> list[Outgoing]:
        """Send each message the caller claims; `answered(message, error)` hears every outcome
        and returns False to stop claiming more. Returns the messages never claimed.

        `claim(keys)` returns the claimed keys, or a Future of them: then the claim (a commit)
        runs while the requests already in flight are answered, and the claimed requests are
        written the moment it completes; up to `CLAIMS_IN_FLIGHT` claims at a time."""
        todo = deque(messages)
        selector = selectors.DefaultSelector()
        wake_read, wake_write = socket.socketpair()
        wake_read.setblocking(False)
        selector.register(wake_read, selectors.EVENT_READ, None)
        in_flight: dict[HTTPConnection, tuple[Outgoing, float]] = {}
        pending: list[tuple[Future, list[Outgoing]]] = []
        claiming = True
        # Claims are batched: wait for half the slots to free up (or the last few), so one
        # half is answered while the other half is claimed and written.
        batch = max(1, self.concurrency // 2)

        def write_claimed(chosen: list[Outgoing], claimed: set) -> None:
            token = self.provider.get()
            for message in chosen:
                if message.key in claimed:
                    self._write(message, token, selector, in_flight, answered)

        try:
            while in_flight or pending or (todo and claiming):
                free = self.concurrency - len(in_flight) - sum(len(c) for _, c in pending)
                room = len(pending) < CLAIMS_IN_FLIGHT
                if room and claiming and todo and free >= min(batch, len(todo)):
                    chosen = [todo.popleft() for _ in range(min(free, len(todo)))]
                    claimed = claim([m.key for m in chosen])
                    if isinstance(claimed, Future):
                        pending.append((claimed, chosen))
                        claimed.add_done_callback(lambda _f: wake_write.send(b"."))
                    else:
                        write_claimed(chosen, claimed)
                    continue
                wait = self._next_wait(in_flight) if in_flight else None
                for key, _ in selector.select(wait):
                    if key.data is None:  # a claim completed: write its requests now
                        with contextlib.suppress(BlockingIOError):
                            wake_read.recv(64)
                        for done in [p for p in pending if p[0].done()]:
                            pending.remove(done)
                            write_claimed(done[1], done[0].result())
                        continue
                    connection = key.data
                    message, _started = in_flight.pop(connection)
                    selector.unregister(connection.sock)
                    error = self._read(connection)
                    refused = error is not None and error.errcode in TOKEN_ERRCODES
                    if refused and not message.token_retried:
                        # Refused token: WeChat sent nothing; send again with a fresh one.
                        message.token_retried = True
                        self.provider.invalidate(self._token_of(connection))
                        self._write(message, self.provider.get(), selector, in_flight, answered)
                        continue
                    if not answered(message, error):
                        claiming = False
                self._expire(in_flight, selector, answered)
        finally:
            for future, _ in pending:
                with contextlib.suppress(Exception):
                    future.result()  # never leave a claim running behind us
            for connection in in_flight:
                connection.close()
            selector.close()
            wake_read.close()
            wake_write.close()
        return list(todo)

    def _write(self, message, token, selector, in_flight, answered) -> None:
        connection = self._connection()
        connection._wechat_token = token  # which token this request used, for invalidate()
        try:
            connection.request(
                "POST",
                f"{self._prefix}{SEND_PATH}?{urlencode({'access_token': token})}",
                message.body(self.miniprogram_state),
                {"Content-Type": "application/json"},
            )
        except (OSError, HTTPException) as exc:
            connection.close()
            answered(message, WeChatUnavailable(f"request failed ({type(exc).__name__})", ENDPOINT))
            return
        selector.register(connection.sock, selectors.EVENT_READ, connection)
        in_flight[connection] = (message, time.monotonic())

    @staticmethod
    def _token_of(connection: HTTPConnection) -> str | None:
        return getattr(connection, "_wechat_token", None)

    def _read(self, connection: HTTPConnection) -> WeChatError | None:
        try:
            response = connection.getresponse()
            body = response.read()
        except TimeoutError:
            connection.close()
            return WeChatUnavailable(f"no answer within {self.timeout:g}s", ENDPOINT)
        except (OSError, HTTPException) as exc:
            connection.close()
            return WeChatUnavailable(f"request failed ({type(exc).__name__})", ENDPOINT)
        if response.will_close:
            connection.close()
        self._idle.append(connection)
        return answer_error(response.status, body)

    def _next_wait(self, in_flight) -> float:
        if not in_flight:
            return 0
        oldest = min(started for _, started in in_flight.values())
        return max(0.0, oldest + self.timeout - time.monotonic())

    def _expire(self, in_flight, selector, answered) -> None:
        now = time.monotonic()
        for connection, (message, started) in list(in_flight.items()):
            if started + self.timeout <= now:
                del in_flight[connection]
                selector.unregister(connection.sock)
                connection.close()
                answered(
                    message, WeChatUnavailable(f"no answer within {self.timeout:g}s", ENDPOINT)
                )
