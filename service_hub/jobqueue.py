"""The job queue: RQ on Redis in production, an in-process worker thread on the embedded default.

Both run the same job functions with primitive arguments inside an app context.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable
from datetime import timedelta

from flask import Flask, current_app

log = logging.getLogger(__name__)

QUEUE_NAMES = ("dispatch", "notifications", "default")


def _check_queue(name: str) -> None:
    if name not in QUEUE_NAMES:
        raise ValueError(f"unknown queue {name!r}; queues are {QUEUE_NAMES}")


class RQJobQueue:
    """Jobs go to Redis; `flask worker` processes them (see service_hub/worker.py)."""

    kind = "rq"

    def __init__(self, redis_url: str) -> None:
        from redis import Redis
        from rq import Queue

        self.redis = Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=5)
        self.queues = {name: Queue(name, connection=self.redis) for name in QUEUE_NAMES}

    def enqueue(self, queue_name: str, func: Callable, *args) -> None:
        """Run func(*args) on a worker as soon as one is free."""
        _check_queue(queue_name)
        self.queues[queue_name].enqueue(func, *args)

    def enqueue_in(self, queue_name: str, delay: timedelta, func: Callable, *args) -> None:
        """Run func(*args) after delay (needs a worker started with the scheduler)."""
        _check_queue(queue_name)
        self.queues[queue_name].enqueue_in(delay, func, *args)

    def enqueue_many(self, queue_name: str, func: Callable, arg_tuples: Iterable[tuple]) -> int:
        """Enqueue one job per argument tuple in a single Redis pipeline."""
        from rq import Queue

        _check_queue(queue_name)
        jobs = [Queue.prepare_data(func, args=args) for args in arg_tuples]
        if jobs:
            self.queues[queue_name].enqueue_many(jobs)
        return len(jobs)

    def ping(self) -> bool:
        """True when Redis answers."""
        try:
            return bool(self.redis.ping())
        except Exception:  # any connection problem means "not ready"
            return False


class InProcessJobQueue:
    """A single worker thread in this process: the embedded default, nothing to install."""

    kind = "in-process"

    def __init__(self, app: Flask, timers: bool = True) -> None:
        self.app = app
        self._ready: queue.Queue = queue.Queue()
        self._scheduled: list = []
        self._counter = itertools.count()
        self._lock = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="in-process-jobs", daemon=True)
        self._thread.start()
        # Tests turn timers off and call run_scheduled_now(): time moves only when they say so.
        if timers:
            threading.Thread(target=self._promote_due, name="in-process-timer", daemon=True).start()

    def enqueue(self, queue_name: str, func: Callable, *args) -> None:
        """Run func(*args) on the worker thread."""
        _check_queue(queue_name)
        self._ready.put((func, args))

    def enqueue_in(self, queue_name: str, delay: timedelta, func: Callable, *args) -> None:
        """Run func(*args) once delay has passed."""
        _check_queue(queue_name)
        with self._lock:
            due = time.monotonic() + delay.total_seconds()
            heapq.heappush(self._scheduled, (due, next(self._counter), func, args))
            self._lock.notify()

    def enqueue_many(self, queue_name: str, func: Callable, arg_tuples: Iterable[tuple]) -> int:
        """Enqueue one job per argument tuple."""
        count = 0
        for args in arg_tuples:
            self.enqueue(queue_name, func, *args)
            count += 1
        return count

    def every(self, queue_name: str, seconds: int, func: Callable) -> None:
        """Run func() every `seconds`, starting one interval from now."""

        def run_and_rearm() -> None:
            try:
                func()
            finally:
                self.enqueue_in(queue_name, timedelta(seconds=seconds), run_and_rearm)

        run_and_rearm.__name__ = getattr(func, "__name__", "periodic")
        self.enqueue_in(queue_name, timedelta(seconds=seconds), run_and_rearm)

    def ping(self) -> bool:
        """The in-process worker is alive while its thread is."""
        return self._thread.is_alive()

    def drain(self) -> None:
        """Block until every job enqueued so far (and those they enqueue) has run."""
        self._ready.join()

    def run_scheduled_now(self) -> int:
        """Make every scheduled job due immediately (tests use this instead of sleeping)."""
        with self._lock:
            jobs, self._scheduled = self._scheduled, []
        for _, _, func, args in sorted(jobs):
            self._ready.put((func, args))
        return len(jobs)

    def _promote_due(self) -> None:
        while True:
            with self._lock:
                now = time.monotonic()
                while self._scheduled and self._scheduled[0][0] <= now:
                    _, _, func, args = heapq.heappop(self._scheduled)
                    self._ready.put((func, args))
                wait = self._scheduled[0][0] - now if self._scheduled else None
                self._lock.wait(timeout=wait)

    def _run(self) -> None:
        while True:
            func, args = self._ready.get()
            try:
                with self.app.app_context():
                    func(*args)
            except Exception:
                log.exception("in-process job %s%r failed", getattr(func, "__name__", func), args)
            finally:
                self._ready.task_done()


def init_app(app: Flask) -> None:
    """Attach the job queue that the configuration asks for."""
    if app.config["REDIS_URL"]:
        app.extensions["job_queue"] = RQJobQueue(app.config["REDIS_URL"])
    else:
        queue = InProcessJobQueue(app, timers=app.config["INPROCESS_TIMERS"])
        app.extensions["job_queue"] = queue
        if app.config["INPROCESS_TIMERS"]:
            from service_hub.periodic import PERIODIC_JOBS

            for func, queue_name, seconds in PERIODIC_JOBS:
                queue.every(queue_name, seconds, func)


def job_queue() -> RQJobQueue | InProcessJobQueue:
    """The current app's job queue."""
    return current_app.extensions["job_queue"]
