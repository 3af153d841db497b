"""Browser tests: the app on a real loopback port (embedded default: SQLite file, in-process
queue) driven by Debian's Chromium through Playwright. Screenshots go to screenshots/."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from service_hub import create_app
from service_hub.plumbing.extensions import db

CHROMIUM = "/usr/bin/chromium"
# Debian's Chromium, headless, and quiet on the network: nothing but our loopback server.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# How long any wait (an action, an expect, a navigation) may take before the test fails: a
# deadline, never a pause, since each wait ends as soon as its condition holds. Generous,
# because on a busy 2-core machine one step of the app and the browser can take seconds.
DEADLINE_MS = 30_000
SCREENSHOTS = Path(__file__).parent / "screenshots"
LOOPBACK = {"127.0.0.1", "localhost"}
_taken: list[Path] = []


def _missing_browser() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} is missing: run `make browsers` (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed: pip install -r requirements-dev.txt"
    return None


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium; Playwright's launch() gives it a fresh temporary profile."""
    reason = _missing_browser()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"CI runs the browser tests: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=DEADLINE_MS)  # expect's own default (5 s) ignores the page's
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs) -> None:
        pass


@dataclass
class LiveServer:
    """The app serving on 127.0.0.1 in a thread."""

    app: Flask
    url: str
    data: dict
    server: BaseWSGIServer = field(repr=False)
    thread: threading.Thread = field(repr=False)

    def drain_jobs(self) -> None:
        """Wait for the in-process queue to run everything enqueued so far."""
        self.app.extensions["job_queue"].drain()


@pytest.fixture(scope="module")
def live_server(request, fake_wechat, tmp_path_factory) -> Iterator[LiveServer]:
    """The app on the embedded default; the module's `seed(app)` makes its data (and ids)."""
    from flask_migrate import upgrade

    folder = tmp_path_factory.mktemp("browser")
    app = create_app(
        {
            "SERVICE_HUB_ENV": "testing",
            "TESTING": True,
            "INPROCESS_TIMERS": False,
            "SECRET_KEY": "browser-test-secret-key-that-is-long-enough-0123",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'browser.db'}",
            "REDIS_URL": None,
            "UPLOAD_DIR": str(folder / "uploads"),
            "WECHAT_API_BASE": fake_wechat.base_url,
            "WECHAT_APPID": fake_wechat.state.appid,
            "WECHAT_SECRET": fake_wechat.state.secret,
        }
    )
    with app.app_context():
        upgrade()
    seed: Callable[[Flask], dict | None] = request.module.seed
    data = seed(app) or {}
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="browser-app", daemon=True)
    thread.start()
    yield LiveServer(app, f"http://127.0.0.1:{server.server_port}", data, server, thread)
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def open_page(browser):
    """open_page(**context_options): a page in a fresh context (fresh sessionStorage).

    Fails the test on a script error, or on any request that leaves the loopback server.
    """
    contexts, outside, errors = [], [], []

    def open_(**options):
        context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **options)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(DEADLINE_MS)
        page.on("request", lambda r: _note_outside(r.url, outside))
        page.on("pageerror", lambda e: errors.append(str(e)))
        return page

    yield open_
    for context in contexts:
        context.close()
    assert not outside, f"requests left the machine: {outside}"
    assert not errors, f"script errors: {errors}"


def _note_outside(url: str, outside: list[str]) -> None:
    parts = urlsplit(url)
    if parts.scheme in ("http", "https", "ws", "wss") and parts.hostname not in LOOPBACK:
        outside.append(url)


@pytest.fixture
def screenshot():
    """screenshot(page, name): a full-page PNG in screenshots/, its path printed."""

    def take(page, name: str) -> Path:
        SCREENSHOTS.mkdir(exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        _taken.append(path)
        print(f"screenshot: {path}")
        return path

    return take


def pytest_terminal_summary(terminalreporter) -> None:
    if _taken:
        terminalreporter.write_sep("-", "browser screenshots")
        for path in _taken:
            terminalreporter.write_line(str(path))
