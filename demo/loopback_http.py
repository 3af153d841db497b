"""A lean HTTP/1.1 server for a WSGI app on loopback: one thread per kept-alive connection.

werkzeug's development server spends most of a request in its own parsing and logging (our
fake WeChat answered ~670 requests/s through it), so benchmarks measured the server, not
the service. This one parses only what a JSON API needs (request line, headers, a
Content-Length body), hands the WSGI app a plain environ and keeps connections alive, so the
fake costs about what its endpoint's own checks cost. It serves tests and benchmarks only.
"""

from __future__ import annotations

import contextlib
import io
import logging
import socket
import socketserver
import sys
import threading
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote

log = logging.getLogger(__name__)

MAX_LINE = 65_536
MAX_HEADERS = 100


class _BadRequest(Exception):
    pass


def _read_head(rfile) -> tuple[str, str, str, dict[str, str]] | None:
    """(method, target, version, lower-cased headers), or None at a clean end of stream."""
    line = rfile.readline(MAX_LINE + 1)
    while line in (b"\r\n", b"\n"):  # tolerated between kept-alive requests
        line = rfile.readline(MAX_LINE + 1)
    if not line:
        return None
    parts = line.decode("latin-1").split()
    if len(parts) != 3 or len(line) > MAX_LINE:
        raise _BadRequest
    headers: dict[str, str] = {}
    for _ in range(MAX_HEADERS + 1):
        raw = rfile.readline(MAX_LINE + 1)
        if raw in (b"\r\n", b"\n", b""):
            return parts[0], parts[1], parts[2], headers
        name, colon, value = raw.decode("latin-1").partition(":")
        if not colon:
            raise _BadRequest
        headers[name.strip().lower()] = value.strip()
    raise _BadRequest


class _Handler(socketserver.StreamRequestHandler):
    """Serves one connection: requests one after another until the client closes it."""

    server: LoopbackHTTPServer

    def handle(self) -> None:
        self.server.track(self.connection, True)
        try:
            while self._serve_one():
                pass
        except (ConnectionError, TimeoutError, OSError):
            pass
        finally:
            self.server.track(self.connection, False)

    def _serve_one(self) -> bool:
        try:
            head = _read_head(self.rfile)
        except _BadRequest:
            self._write("400 Bad Request", [("Content-Type", "text/plain")], [b"bad request"])
            return False
        if head is None:
            return False
        method, target, version, headers = head
        if "chunked" in headers.get("transfer-encoding", "").lower():
            self._write("411 Length Required", [("Content-Type", "text/plain")], [b""])
            return False
        length = int(headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        path, _, query = target.partition("?")
        keep = version == "HTTP/1.1" and headers.get("connection", "").lower() != "close"
        fast = self.server.fast_routes.get((method, path))
        if fast is not None:
            status, content_type, payload = fast(query, body)
            response_headers = [
                ("Content-Type", content_type),
                ("Content-Length", str(len(payload))),
                ("Connection", "keep-alive" if keep else "close"),
            ]
            self._write(f"{status} {HTTPStatus(status).phrase}", response_headers, [payload])
            return keep
        environ = self._environ(method, path, query, version, headers, body)
        answer: dict[str, Any] = {}

        def start_response(status: str, response_headers: list, exc_info=None) -> None:
            answer["status"], answer["headers"] = status, response_headers

        chunks = self.server.app(environ, start_response)
        try:
            payload = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        response_headers = [
            (k, v)
            for k, v in answer["headers"]
            if k.lower() not in ("content-length", "connection")
        ]
        response_headers.append(("Content-Length", str(len(payload))))
        response_headers.append(("Connection", "keep-alive" if keep else "close"))
        self._write(answer["status"], response_headers, [payload])
        log.debug("%s %s %s", method, path, answer["status"][:3])  # never the query string
        return keep

    def _environ(
        self, method: str, path: str, query: str, version: str, headers: dict, body: bytes
    ) -> dict[str, Any]:
        host, port = self.server.server_address[:2]
        environ = {
            "REQUEST_METHOD": method,
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote(path, "latin-1"),
            "QUERY_STRING": query,
            "SERVER_NAME": str(host),
            "SERVER_PORT": str(port),
            "SERVER_PROTOCOL": version,
            "REMOTE_ADDR": self.client_address[0],
            "CONTENT_TYPE": headers.get("content-type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        for name, value in headers.items():
            if name not in ("content-type", "content-length"):
                environ["HTTP_" + name.upper().replace("-", "_")] = value
        return environ

    def _write(self, status: str, headers: list, chunks: Iterable[bytes]) -> None:
        reason = status
        if status[:3].isdigit() and len(status) == 3:
            reason = f"{status} {HTTPStatus(int(status)).phrase}"
        head = f"HTTP/1.1 {reason}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
        self.wfile.write(head.encode("latin-1") + b"".join(chunks))


class LoopbackHTTPServer(socketserver.ThreadingTCPServer):
    """Serves `app` on (host, port); stop() also closes the kept-alive connections."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(
        self, host: str, port: int, app: Callable, fast_routes: dict | None = None
    ) -> None:
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.app = app
        # (method, path) → fn(query string, body) → (status, content type, body): no WSGI.
        self.fast_routes = fast_routes or {}
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__((host, port), _Handler)

    @property
    def server_port(self) -> int:
        """The bound port (useful with port 0)."""
        return self.server_address[1]

    def track(self, connection: socket.socket, is_open: bool) -> None:
        """Remember an open connection so stop() can close it."""
        if is_open:
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._open_lock:
            (self._open.add if is_open else self._open.discard)(connection)

    def close_connections(self) -> None:
        """Shut every kept-alive connection, so its thread ends."""
        with self._open_lock:
            connections = list(self._open)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
