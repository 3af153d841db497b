"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py wsgi:app`."""

import multiprocessing
import os

bind = os.environ.get("BIND", "0.0.0.0:8000")
# Sync workers: the app does blocking I/O (PostgreSQL, Redis, WeChat) and holds no long
# connections; 2 × cores + 1 is gunicorn's own rule of thumb.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
timeout = 30
graceful_timeout = 30
keepalive = 5
max_requests = 5000  # recycle workers now and then, with jitter so they do not all restart
max_requests_jitter = 500
accesslog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")
# gunicorn's control socket (for `gunicornc`) defaults to one path per user per host, and a
# starting arbiter unlinks whatever is there: a second deployment on the host would take over
# (and on exit delete) the first one's socket. Keep it inside this deployment instead.
control_socket = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gunicorn.ctl")
