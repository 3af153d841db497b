"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py wsgi:app`."""

import multiprocessing
import os

# BIND, else PORT (what Heroku-style runners assign), else 8000.
bind = os.environ.get("BIND") or f"0.0.0.0:{os.environ.get('PORT', '8000')}"
# Sync workers: the app does blocking I/O (PostgreSQL, Redis, WeChat) and holds no long
# connections; 2 × cores + 1 is gunicorn's own rule of thumb.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
timeout = 30
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then, with jitter so they do not all restart together: at 5,000
# ± 500 five workers serving ~2,000 req/s restarted within seconds of each other, each
# reloading the app (1.5 s of CPU), and stalled the service (docs/performance.md).
max_requests = 20000
max_requests_jitter = 10000
accesslog = "-"
# Access lines as JSON too where the app logs JSON (LOG_FORMAT, json by default in
# production), with the request id the app answered: the path without its query string
# (a query may carry what logs must not).
_production = os.environ.get("SERVICE_HUB_ENV", "production") == "production"
if (os.environ.get("LOG_FORMAT") or ("json" if _production else "text")) == "json":
    access_log_format = (
        '{"time": "%(t)s", "logger": "gunicorn.access", "request_id": "%({x-request-id}o)s", '
        '"method": "%(m)s", "path": "%(U)s", "status": %(s)s, "bytes": "%(B)s", '
        '"duration_ms": %(M)s, "remote": "%(h)s"}'
    )
loglevel = os.environ.get("LOG_LEVEL", "info")
# gunicorn's control socket (for `gunicornc`) defaults to one path per user per host, and a
# starting arbiter unlinks whatever is there: a second deployment on the host would take over
# (and on exit delete) the first one's socket. Keep it inside this deployment instead.
control_socket = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gunicorn.ctl")

# Prometheus multiprocess mode (service_hub/plumbing/observability.py): each process writes its
# metrics to files in this directory and /metrics sums them, so a scrape sees every worker.
# The RQ workers and cron may share it (same variable in their environment). Must be set
# before prometheus_client is imported: gunicorn reads this file before any worker imports
# the app.
metrics_dir = os.environ.setdefault(
    "PROMETHEUS_MULTIPROC_DIR",
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "instance", "metrics"),
)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def on_starting(server):
    """Forget the metrics of processes that are gone (an earlier run's workers)."""
    os.makedirs(metrics_dir, exist_ok=True)
    for name in os.listdir(metrics_dir):
        pid = name.rsplit("_", 1)[-1].removesuffix(".db")
        if name.endswith(".db") and (not pid.isdigit() or not _alive(int(pid))):
            os.remove(os.path.join(metrics_dir, name))


def child_exit(server, worker):
    """A worker that exits stops counting as live (its counters still add up)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
