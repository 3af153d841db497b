"""Request ids, log lines, /metrics and error reporting (service_hub/plumbing/observability.py)."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from service_hub import create_app
from service_hub.plumbing import observability

ROOT = Path(__file__).resolve().parent.parent
METRICS_TOKEN = "metrics-token-for-tests-0123456789"
job_log = logging.getLogger("tests.observability.job")


def log_job(text: str) -> None:
    """A job that writes one log line (RQ imports it by name)."""
    job_log.warning("job says %s", text)


def _records_with(caplog, text: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if text in r.getMessage()]


# --- request ids ---------------------------------------------------------------------------


def test_the_request_id_sent_is_answered_in_the_header(client):
    response = client.get("/healthz", headers={"X-Request-ID": "req-1234.abc"})
    assert response.headers["X-Request-ID"] == "req-1234.abc"


def test_a_request_without_an_id_is_given_one(client):
    first = client.get("/healthz").headers["X-Request-ID"]
    second = client.get("/healthz").headers["X-Request-ID"]
    assert len(first) == 32 and first != second


def test_an_unsafe_request_id_is_replaced(client):
    sent = "x" * 65
    assert client.get("/healthz", headers={"X-Request-ID": sent}).headers["X-Request-ID"] != sent
    bad = client.get("/healthz", headers={"X-Request-ID": "a b\tc"})
    assert bad.headers["X-Request-ID"] != "a b\tc"


def test_an_error_body_carries_the_request_id(client):
    response = client.get("/api/v1/me/orders", headers={"X-Request-ID": "err-body-1"})
    assert response.status_code == 401
    assert response.json["error"]["request_id"] == "err-body-1"


def test_a_log_line_of_the_request_carries_its_id(app, client, caplog):
    with app.test_request_context("/healthz", headers={"X-Request-ID": "log-line-7"}):
        app.preprocess_request()
        logging.getLogger("service_hub.test").warning("inside the request")
    [record] = _records_with(caplog, "inside the request")
    line = observability.formatter("text").format(record)
    assert "[log-line-7]" in line


def test_a_json_log_line_has_the_request_id_and_masks_mobiles(app, caplog):
    with app.test_request_context("/healthz", headers={"X-Request-ID": "json-line-8"}):
        app.preprocess_request()
        logging.getLogger("service_hub.test").warning("call 13800138000 back")
    [record] = _records_with(caplog, "call")
    line = json.loads(observability.formatter("json").format(record))
    assert line["request_id"] == "json-line-8"
    assert line["level"] == "WARNING" and line["logger"] == "service_hub.test"
    assert "13800138000" not in line["message"] and "138****8000" in line["message"]


def test_a_job_enqueued_by_a_request_logs_with_its_id(app, run_jobs, caplog):
    with app.test_request_context("/healthz", headers={"X-Request-ID": "job-parent-9"}):
        app.preprocess_request()
        app.extensions["job_queue"].enqueue("default", log_job, "hello")
    run_jobs()
    [record] = _records_with(caplog, "job says hello")
    assert record.request_id == "job-parent-9"


def test_a_log_line_outside_any_request_says_so(caplog):
    logging.getLogger("service_hub.test").warning("no request here")
    [record] = _records_with(caplog, "no request here")
    assert record.request_id == "-"


# --- /metrics ------------------------------------------------------------------------------


def test_metrics_are_hidden_without_a_token_configured(client):
    assert client.get("/metrics").status_code == 404


@pytest.fixture
def metrics_app(app):
    app.config["METRICS_TOKEN"] = METRICS_TOKEN
    yield app
    app.config["METRICS_TOKEN"] = None


def test_metrics_refuse_a_wrong_token(metrics_app):
    response = metrics_app.test_client().get("/metrics", headers={"Authorization": "Bearer no"})
    assert response.status_code == 401


def test_metrics_count_requests_by_route_and_status(metrics_app):
    client = metrics_app.test_client()
    before = _sample(client, "service_hub_http_requests_total", route="/readyz")
    client.get("/readyz")
    client.get("/readyz")
    assert _sample(client, "service_hub_http_requests_total", route="/readyz") == before + 2


def test_metrics_show_the_outbox_backlog_and_queue_depths(metrics_app):
    text = _scrape(metrics_app.test_client())
    assert "service_hub_outbox_unrelayed 0.0" in text
    assert "service_hub_queue_jobs_waiting{queue=" in text


def _scrape(client) -> str:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _sample(client, name: str, **labels: str) -> float:
    """The sum of `name`'s samples whose labels include `labels`."""
    from prometheus_client.parser import text_string_to_metric_families

    total = 0.0
    for family in text_string_to_metric_families(_scrape(client)):
        for sample in family.samples:
            if sample.name == name and labels.items() <= sample.labels.items():
                total += sample.value
    return total


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_metrics_under_gunicorn_add_up_what_both_workers_counted(tmp_path):
    port = _free_port()
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    env = {
        **os.environ,
        "SERVICE_HUB_ENV": "production",
        "SECRET_KEY": "s" * 40,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
        "REDIS_URL": "",
        "METRICS_TOKEN": METRICS_TOKEN,
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "WEB_CONCURRENCY": "2",
        "BIND": f"127.0.0.1:{port}",
        "LOG_LEVEL": "warning",
    }
    env.pop("FLASK_RUN_FROM_CLI", None)
    gunicorn = Path(sys.executable).parent / "gunicorn"
    server = subprocess.Popen(
        [str(gunicorn), "-c", "gunicorn.conf.py", "--access-logfile", "/dev/null", "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, server)
        sent = _until_both_workers_served(base, metrics_dir)
        scrapes = [_gunicorn_scrape(base) for _ in range(4)]
    finally:
        server.terminate()
        server.wait(timeout=60)
    for text in scrapes:  # whichever worker answered the scrape, it shows everyone's count
        counted = [
            line for line in text.splitlines() if line.startswith("service_hub_http_requests_total")
        ]
        assert any('route="/readyz"' in line and line.endswith(f" {sent}.0") for line in counted)
        assert text.count("service_hub_process_up{pid=") == 2


def _wait_until_up(base: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None, "gunicorn exited"
        try:
            if requests.get(f"{base}/healthz", timeout=10).status_code == 200:
                return
        except requests.RequestException:
            time.sleep(0.2)
    raise AssertionError("gunicorn did not answer within 60 s")


def _until_both_workers_served(base: str, metrics_dir: Path) -> int:
    """Send /readyz (only this test's burst asks it) in concurrent batches until two
    processes have counted requests; how many were answered."""
    sent = 0
    with ThreadPoolExecutor(8) as pool:
        for _ in range(50):
            get = lambda _: requests.get(f"{base}/readyz", timeout=60)  # noqa: E731
            results = list(pool.map(get, range(16)))
            assert all(r.status_code == 200 for r in results)
            sent += len(results)
            if len(list(metrics_dir.glob("counter_*.db"))) >= 2:
                return sent
    raise AssertionError("one worker served every request")


def _gunicorn_scrape(base: str) -> str:
    response = requests.get(
        f"{base}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=10
    )
    assert response.status_code == 200
    return response.text


# --- Sentry --------------------------------------------------------------------------------


class _Envelopes(BaseHTTPRequestHandler):
    received: list[bytes] = []

    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.headers.get("Content-Encoding") == "gzip":
            import gzip

            body = gzip.decompress(body)
        self.received.append(body)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def sentry_server():
    import sentry_sdk

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Envelopes)
    _Envelopes.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://public-key@127.0.0.1:{server.server_port}/1"
    sentry_sdk.get_client().close()
    sentry_sdk.init()  # no DSN: reporting is off again for the rest of the session
    server.shutdown()
    server.server_close()


def test_an_unhandled_error_is_reported_to_sentry_with_its_request_id(sentry_server, tmp_path):
    import sentry_sdk

    app = create_app(
        {
            "SERVICE_HUB_ENV": "testing",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'sentry.db'}",
            "REDIS_URL": None,
            "SENTRY_DSN": sentry_server,
            "UPLOAD_DIR": str(tmp_path / "uploads"),
        }
    )

    @app.get("/boom")
    def boom():
        mobile = "138" + "00138000"  # in a local variable and the message, not in the source
        raise RuntimeError(f"resident {mobile} broke it")

    response = app.test_client().get("/boom", headers={"X-Request-ID": "sentry-rid-5"})
    assert response.status_code == 500
    sentry_sdk.flush(timeout=10)
    body = b"".join(_Envelopes.received).decode()
    assert "sentry-rid-5" in body and "RuntimeError" in body
    assert "13800138000" not in body


# --- the first five minutes ----------------------------------------------------------------


def _flask(*args: str, env: dict) -> subprocess.CompletedProcess:
    flask = Path(sys.executable).parent / "flask"
    return subprocess.run(
        [str(flask), "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _bare_env(tmp_path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SERVICE_HUB", "SECRET"))}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'cli.db'}", REDIS_URL="")
    return env


def test_flask_help_lists_our_commands_without_any_setting(tmp_path):
    result = _flask("--help", env=_bare_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "worker" in result.stdout and "seed-demo" in result.stdout


def test_a_worker_without_a_secret_key_in_production_refuses_to_start(tmp_path):
    env = {**_bare_env(tmp_path), "REDIS_URL": "redis://127.0.0.1:1/0"}
    result = _flask("worker", "--burst", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr
    assert "Traceback" not in result.stderr


# --- the sample dashboard ------------------------------------------------------------------


def test_the_sample_grafana_dashboard_reads_only_metrics_we_export(metrics_app):
    import re

    dashboard = json.loads((ROOT / "docs" / "grafana-dashboard.json").read_text())
    expressions = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    named = {
        re.sub(r"_(bucket|sum|count)$", "", m)
        for e in expressions
        for m in re.findall(r"service_hub_[a-z_]+", e)
    }
    exported = set(
        re.findall(r"^# TYPE (service_hub_[a-z_]+) ", _scrape(metrics_app.test_client()), re.M)
    )
    assert named and named <= exported, sorted(named - exported)


def test_the_demo_stops_before_anything_else_when_its_port_is_taken(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**_bare_env(tmp_path), "SERVICE_HUB_ENV": "development"}
        result = _flask("demo", "--port", str(port), env=env)
    assert result.returncode != 0
    assert f"port {port} on 127.0.0.1 is taken" in result.stderr
    assert "is up" not in result.stdout
    assert not (tmp_path / "cli.db").exists()  # nothing was migrated or seeded


def test_metrics_count_the_subscribe_credits_a_message_spends(metrics_app, run_jobs, monkeypatch):
    from tests import factories as f

    monkeypatch.setitem(metrics_app.config, "QUIET_HOURS", "00:00-00:00")
    client = metrics_app.test_client()
    before = _sample(client, "service_hub_subscription_credits_total", change="spent")
    community_id = f.community(metrics_app)
    f.subscription_credits(
        metrics_app, [f.resident(metrics_app, communities=(community_id,))], "visit_announced"
    )
    f.announce_visit(metrics_app, community_id, "visit:metrics")
    run_jobs()
    after = _sample(client, "service_hub_subscription_credits_total", change="spent")
    assert after == before + 1
