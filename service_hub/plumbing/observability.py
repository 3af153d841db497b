"""Request ids, log format, Prometheus metrics and error reporting (plumbing).

- Every request has an id: the caller's `X-Request-ID` when it is a sane token (at most 64
  letters, digits and `._:-`), else a new one. It is answered in the `X-Request-ID` header and
  in every error body, written in every log line of the request, and carried into the jobs the
  request enqueues (RQ job meta; the in-process queue keeps it with the job), whose log lines
  carry it too. A job nobody's request enqueued logs as `job:<its id>` (RQ) or `-`.
- Logs: JSON lines in production (`LOG_FORMAT=json`, the default there), readable text
  elsewhere; phone numbers are masked by log_redaction's filter before any format runs.
- Metrics: `/metrics` in Prometheus' text format, only with `Authorization: Bearer
  <METRICS_TOKEN>` (404 while METRICS_TOKEN is unset). Under gunicorn's several processes
  (and RQ workers on the same host) prometheus_client's multiprocess mode sums what every
  process counted: set PROMETHEUS_MULTIPROC_DIR to an empty directory (gunicorn.conf.py does).
- Errors: with SENTRY_DSN set, unhandled errors of requests and jobs go to Sentry (no request
  bodies, cookies or user data; mobiles masked).

docs/operations.md, "Observability", lists the metrics.
"""

from __future__ import annotations

import contextvars
import hmac
import logging
import os
import re
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from flask import Flask, Response, abort, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from pythonjsonlogger.json import JsonFormatter

from service_hub.plumbing.log_redaction import redact

log = logging.getLogger(__name__)

HEADER = "X-Request-ID"
_SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s"

# What every process counts (summed over processes in multiprocess mode).
HTTP_REQUESTS = Counter(
    "service_hub_http_requests_total",
    "HTTP requests answered, by route (the URL rule), method and status",
    ["route", "method", "status"],
)
HTTP_SECONDS = Histogram(
    "service_hub_http_request_duration_seconds",
    "Time to answer a request, by route and method",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
JOBS = Counter(
    "service_hub_jobs_total",
    "Jobs run, by queue, function and outcome (ok, failed)",
    ["queue", "function", "outcome"],
)
JOB_SECONDS = Histogram(
    "service_hub_job_duration_seconds",
    "Time a job ran, by queue and function",
    ["queue", "function"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
WECHAT_CALLS = Counter(
    "service_hub_wechat_calls_total",
    "Calls to WeChat's API, by API and result (ok, the errcode, http_<status>, unreachable)",
    ["api", "result"],
)
CREDITS = Counter(
    "service_hub_subscription_credits_total",
    "WeChat subscribe credits spent on messages, and given back (refunded) when a send failed",
    ["change"],
)
SLA_BREACHES = Counter(
    "service_hub_sla_breaches_total",
    "Promises broken (accept, arrival, completion deadlines), each recorded once",
)
OFFERS_EXPIRED = Counter(
    "service_hub_offers_expired_total", "Dispatch offers that expired without an answer"
)
PROCESSES = Gauge(
    "service_hub_process_up",
    "1 for each live process that built the app (web or worker); one series per pid when "
    "several processes share PROMETHEUS_MULTIPROC_DIR",
    multiprocess_mode="liveall",
)


# --- request ids ---------------------------------------------------------------------------


def current_request_id() -> str | None:
    """The id of the request (or of the request that enqueued the job) being handled."""
    return _REQUEST_ID.get()


@contextmanager
def request_id_bound(value: str | None) -> Iterator[None]:
    """Log lines (and jobs enqueued) inside the block carry `value`."""
    token = _REQUEST_ID.set(value)
    try:
        yield
    finally:
        _REQUEST_ID.reset(token)


def _incoming_id() -> str:
    given = request.headers.get(HEADER, "")
    return given if _SANE_ID.fullmatch(given) else uuid.uuid4().hex


def _install_record_factory() -> None:
    """Every log record gets `request_id` ("-" outside requests and jobs), whichever handler
    writes it, so a format naming it never fails."""
    factory = logging.getLogRecordFactory()
    if getattr(factory, "adds_request_id", False):
        return

    def record_with_request_id(*args, **kwargs):
        record = factory(*args, **kwargs)
        record.request_id = _REQUEST_ID.get() or "-"
        return record

    record_with_request_id.adds_request_id = True
    logging.setLogRecordFactory(record_with_request_id)


# --- logs ------------------------------------------------------------------------------------


class RedactingJsonFormatter(JsonFormatter):
    """JSON lines; the traceback is formatted here, so it is masked here too."""

    def formatException(self, ei) -> str:  # noqa: N802 - logging's name
        return redact(super().formatException(ei))


def formatter(kind: str) -> logging.Formatter:
    """The formatter for LOG_FORMAT `kind` ("json" or "text")."""
    if kind == "json":
        return RedactingJsonFormatter(
            JSON_FIELDS,
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            json_ensure_ascii=False,
        )
    return logging.Formatter(TEXT_FORMAT)


def configure_logging(kind: str, level: str) -> None:
    """Root logging to stderr in `kind` format at `level` (once per process)."""
    _install_record_factory()
    root = logging.getLogger()
    if not any(getattr(h, "service_hub", False) for h in root.handlers):
        handler = logging.StreamHandler()
        handler.service_hub = True
        root.addHandler(handler)
    for handler in root.handlers:
        if getattr(handler, "service_hub", False):
            handler.setFormatter(formatter(kind))
    root.setLevel(level.upper())


# --- jobs ------------------------------------------------------------------------------------


def job_name(func: Callable) -> str:
    """module.function, as RQ names a job's function."""
    name = getattr(func, "__qualname__", None) or getattr(func, "__name__", str(func))
    return f"{getattr(func, '__module__', '')}.{name}".lstrip(".")


def count_job(queue_name: str, name: str, ok: bool, seconds: float) -> None:
    """One job run in the metrics."""
    JOBS.labels(queue_name, name, "ok" if ok else "failed").inc()
    JOB_SECONDS.labels(queue_name, name).observe(seconds)


@contextmanager
def job_observed(queue_name: str, func: Callable, request_id: str | None) -> Iterator[None]:
    """Around one in-process job: its request id in log lines, its count and duration."""
    started = time.perf_counter()
    ok = False
    with request_id_bound(request_id):
        try:
            yield
            ok = True
        finally:
            count_job(queue_name, job_name(func), ok, time.perf_counter() - started)


# --- metrics ---------------------------------------------------------------------------------


class StateCollector:
    """Figures read when scraped: queue depths, outbox backlog and age, offers expiring.

    `read` returns {name: (help, value or {label value: value}, label name)}; it is given by
    the composition layer (service_hub/wiring.py), which knows the tables and queues."""

    def __init__(self, read: Callable[[], dict]) -> None:
        self.read = read

    def collect(self):
        try:
            figures = self.read()
        except Exception:  # a scrape must answer even while the database is down
            log.warning("metrics: state figures unavailable", exc_info=True)
            figures = {}
        for name, (help_text, value, label) in figures.items():
            if isinstance(value, dict):
                family = GaugeMetricFamily(name, help_text, labels=[label])
                for label_value, number in value.items():
                    family.add_metric([label_value], number)
            else:
                family = GaugeMetricFamily(name, help_text, value=value)
            yield family


class _Scrape:
    """What one scrape reads: every process's metrics, then the state figures."""

    def __init__(self, state: StateCollector | None) -> None:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            from prometheus_client import multiprocess

            self.sources = [multiprocess.MultiProcessCollector(None)]
        else:
            self.sources = [REGISTRY]
        if state is not None:
            self.sources.append(state)

    def collect(self):
        for source in self.sources:
            yield from source.collect()


def metrics_response() -> Response:
    """GET /metrics (service_hub/health.py): 404 while METRICS_TOKEN is unset, 401 without
    its bearer, else every process's metrics and the state figures."""
    token = current_app.config.get("METRICS_TOKEN")
    if not token:
        abort(404)
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        abort(401)
    scrape = _Scrape(current_app.extensions.get("metrics_state"))
    return Response(generate_latest(scrape), mimetype=CONTENT_TYPE_LATEST)


def init_app(app: Flask, state: Callable[[], dict] | None = None) -> None:
    """Request ids and metrics on every request (GET /metrics is service_hub/health.py's),
    and Sentry when configured."""
    _install_record_factory()
    PROCESSES.set(1)

    @app.before_request
    def _start() -> None:
        g.request_started = time.perf_counter()
        g.request_id = _incoming_id()
        g.request_id_token = _REQUEST_ID.set(g.request_id)

    @app.after_request
    def _finish(response: Response) -> Response:
        request_id = g.get("request_id")
        if request_id:
            response.headers[HEADER] = request_id
        route = request.url_rule.rule if request.url_rule is not None else "unmatched"
        if route != "/metrics":
            HTTP_REQUESTS.labels(route, request.method, str(response.status_code)).inc()
            started = g.get("request_started")
            if started is not None:
                HTTP_SECONDS.labels(route, request.method).observe(time.perf_counter() - started)
        return response

    @app.teardown_request
    def _forget(_error) -> None:
        token = g.pop("request_id_token", None)
        if token is not None:
            _REQUEST_ID.reset(token)

    app.extensions["metrics_state"] = StateCollector(state) if state is not None else None
    if app.config.get("SENTRY_DSN"):
        init_sentry(app.config["SENTRY_DSN"], app.config["SERVICE_HUB_ENV"])


# --- Sentry ----------------------------------------------------------------------------------


def _scrub(event: dict, _hint: dict) -> dict:
    """No request bodies, cookies or headers but the request id; mobiles masked."""
    req = event.get("request") or {}
    for key in ("data", "cookies", "query_string"):
        req.pop(key, None)
    headers = req.get("headers") or {}
    req["headers"] = {k: v for k, v in headers.items() if k.lower() == HEADER.lower()}
    for entry in (event.get("exception") or {}).get("values", []):
        if entry.get("value"):
            entry["value"] = redact(entry["value"])
        for frame in (entry.get("stacktrace") or {}).get("frames", []):
            frame.pop("vars", None)
    if event.get("message"):
        event["message"] = redact(event["message"])
    request_id = current_request_id()
    if request_id:
        event.setdefault("tags", {})["request_id"] = request_id
    return event


def init_sentry(dsn: str, environment: str) -> None:
    """Report unhandled errors of requests and jobs to Sentry (process-wide)."""
    import sentry_sdk
    from sentry_sdk.integrations.flask import FlaskIntegration
    from sentry_sdk.integrations.rq import RqIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        integrations=[FlaskIntegration(), RqIntegration()],
        # No user data (send_default_pii stays off), no request bodies, no local variables
        # (a frame's locals may hold a phone number or a token).
        max_request_body_size="never",
        include_local_variables=False,
        before_send=_scrub,
        traces_sample_rate=0,
    )


def report_error(error: BaseException) -> None:
    """Tell Sentry of an error our handlers turned into a 500 (Flask's signal never fires for
    an error a handler answered). A no-op without SENTRY_DSN."""
    import sentry_sdk

    if sentry_sdk.get_client().is_active():
        sentry_sdk.capture_exception(error)
