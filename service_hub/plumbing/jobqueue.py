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

from service_hub.plumbing.observability import current_request_id, job_observed

log = logging.getLogger(__name__)

QUEUE_NAMES = ("dispatch", "notifications", "default")

# What a queue can say of a job it was given (see job_states).
WAITING, FAILED, GONE = "waiting", "failed", "gone"

# Pauses while Redis or PostgreSQL is unreachable: they double from the first and stop
# growing at the cap, so a process retries often during an outage and resumes within
# seconds of its end.
OUTAGE_FIRST_PAUSE = 0.5
OUTAGE_MAX_PAUSE = 5.0


def outage_pause(attempt: int) -> float:
    """Seconds to wait before try number attempt + 1 (attempt counts from 0)."""
    return min(OUTAGE_MAX_PAUSE, OUTAGE_FIRST_PAUSE * 2 ** min(attempt, 16))


def _check_queue(name: str) -> None:
    if name not in QUEUE_NAMES:
        raise ValueError(f"unknown queue {name!r}; queues are {QUEUE_NAMES}")


def _meta() -> dict:
    """What a job carries of the request that enqueued it (its id, for the job's logs)."""
    request_id = current_request_id()
    return {"request_id": request_id} if request_id else {}


class RQJobQueue:
    """Jobs go to Redis; `flask worker` processes them (see service_hub/worker.py)."""

    kind = "rq"

    def __init__(self, redis_url: str) -> None:
        from redis import Redis
        from rq import Queue

        self.redis = Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=5)
        self.queues = {name: Queue(name, connection=self.redis) for name in QUEUE_NAMES}

    def enqueue(self, queue_name: str, func: Callable, *args, job_id: str | None = None) -> None:
        """Run func(*args) on a worker as soon as one is free.

        With a job_id, whatever Redis still holds under that id (a failed or abandoned run)
        is replaced, so a re-driven job starts afresh.
        """
        from rq.job import Job

        _check_queue(queue_name)
        if job_id is not None:
            [earlier] = Job.fetch_many([job_id], connection=self.redis)
            if earlier is not None:
                earlier.delete()
        self.queues[queue_name].enqueue(func, *args, job_id=job_id, meta=_meta())

    def job_states(self, job_ids: list[str]) -> dict[str, str]:
        """For each job id: WAITING (queued, scheduled, deferred, or running within its
        timeout), FAILED, or GONE (finished, lost with Redis's data, or abandoned: RQ stops
        any job at its timeout, so one "started" longer ago than that has no worker left)."""
        from rq import Queue
        from rq.job import Job, JobStatus

        states = {}
        now = time.time()
        jobs = Job.fetch_many(job_ids, connection=self.redis)
        for job_id, job in zip(job_ids, jobs, strict=True):
            status = job.get_status(refresh=False) if job is not None else None
            if status in (JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED):
                states[job_id] = WAITING
            elif status == JobStatus.STARTED and job.started_at is not None:
                limit = (job.timeout or Queue.DEFAULT_TIMEOUT) + 60
                running_for = now - job.started_at.timestamp()
                states[job_id] = WAITING if running_for < limit else GONE
            elif status == JobStatus.FAILED:
                states[job_id] = FAILED
            else:
                states[job_id] = GONE
        return states

    def enqueue_in(self, queue_name: str, delay: timedelta, func: Callable, *args) -> None:
        """Run func(*args) after delay (needs a worker started with the scheduler)."""
        _check_queue(queue_name)
        self.queues[queue_name].enqueue_in(delay, func, *args, meta=_meta())

    def enqueue_many(self, queue_name: str, func: Callable, arg_tuples: Iterable[tuple]) -> int:
        """Enqueue one job per argument tuple in a single Redis pipeline."""
        from rq import Queue

        _check_queue(queue_name)
        meta = _meta()
        jobs = [Queue.prepare_data(func, args=args, meta=meta) for args in arg_tuples]
        if jobs:
            self.queues[queue_name].enqueue_many(jobs)
        return len(jobs)

    def depths(self) -> dict[str, int]:
        """Jobs waiting in each queue."""
        return {name: q.count for name, q in self.queues.items()}

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
        # Job ids given to enqueue(): those not run yet, and those whose run raised.
        self._waiting: set[str] = set()
        self._failed: set[str] = set()
        self._counter = itertools.count()
        self._lock = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="in-process-jobs", daemon=True)
        self._thread.start()
        # Tests turn timers off and call run_scheduled_now(): time moves only when they say so.
        if timers:
            threading.Thread(target=self._promote_due, name="in-process-timer", daemon=True).start()

    def enqueue(self, queue_name: str, func: Callable, *args, job_id: str | None = None) -> None:
        """Run func(*args) on the worker thread."""
        _check_queue(queue_name)
        if job_id is not None:
            self._waiting.add(job_id)
            self._failed.discard(job_id)
        self._ready.put((func, args, job_id, queue_name, current_request_id()))

    def job_states(self, job_ids: list[str]) -> dict[str, str]:
        """For each job id: WAITING, FAILED, or GONE (run, or lost with a restart)."""

        def state(job_id: str) -> str:
            if job_id in self._waiting:
                return WAITING
            return FAILED if job_id in self._failed else GONE

        return {job_id: state(job_id) for job_id in job_ids}

    def enqueue_in(self, queue_name: str, delay: timedelta, func: Callable, *args) -> None:
        """Run func(*args) once delay has passed."""
        _check_queue(queue_name)
        with self._lock:
            due = time.monotonic() + delay.total_seconds()
            heapq.heappush(
                self._scheduled,
                (due, next(self._counter), func, args, queue_name, current_request_id()),
            )
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

    def depths(self) -> dict[str, int]:
        """Jobs waiting for the one worker thread (every queue name shares it)."""
        return {"in-process": self._ready.qsize()}

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
        for _, _, func, args, queue_name, request_id in sorted(jobs, key=lambda j: j[:2]):
            self._ready.put((func, args, None, queue_name, request_id))
        return len(jobs)

    def _promote_due(self) -> None:
        while True:
            with self._lock:
                now = time.monotonic()
                while self._scheduled and self._scheduled[0][0] <= now:
                    _, _, func, args, queue_name, request_id = heapq.heappop(self._scheduled)
                    self._ready.put((func, args, None, queue_name, request_id))
                wait = self._scheduled[0][0] - now if self._scheduled else None
                self._lock.wait(timeout=wait)

    def _run(self) -> None:
        while True:
            func, args, job_id, queue_name, request_id = self._ready.get()
            try:
                with self.app.app_context(), job_observed(queue_name, func, request_id):
                    func(*args)
            except Exception:
                log.exception("in-process job %s%r failed", getattr(func, "__name__", func), args)
                if job_id is not None:
                    self._failed.add(job_id)
            finally:
                self._waiting.discard(job_id)
                self._ready.task_done()


def init_app(app: Flask) -> None:
    """Attach the job queue that the configuration asks for."""
    if app.config["REDIS_URL"]:
        app.extensions["job_queue"] = RQJobQueue(app.config["REDIS_URL"])
    else:
        app.extensions["job_queue"] = InProcessJobQueue(app, timers=app.config["INPROCESS_TIMERS"])


def job_queue() -> RQJobQueue | InProcessJobQueue:
    """The current app's job queue."""
    return current_app.extensions["job_queue"]
