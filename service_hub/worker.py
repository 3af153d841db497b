"""RQ workers and the cron scheduler, built on the app, riding out Redis and PostgreSQL outages.

Each job runs inside an app context. A job that fails because PostgreSQL or Redis is
unreachable goes back on its queue after a pause (retry_after_outage), and `flask worker` and
`flask cron` wait out an unreachable Redis instead of exiting (docs/operations.md, "Outages").

`flask worker` runs jobs in its own process, one after another (AppSimpleWorker): a fork per
job cost about four fifths of a dispatch worker's capacity (docs/performance.md). What the fork
gave is kept here: a fresh app context and database session per job, a time-out that stops a
stuck job (JobDeathPenalty), a failed job that leaves the worker running, and `--max-jobs` for a
fresh process now and then. `--fork` still runs RQ's forking worker.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import time

import click
from flask import current_app
from flask.cli import with_appcontext
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rq import SimpleWorker, Worker
from rq.cron import CronScheduler
from rq.exceptions import StopRequested
from rq.timeouts import UnixSignalDeathPenalty

from service_hub.plumbing.config import refuse_to_serve
from service_hub.plumbing.errors import is_database_outage
from service_hub.plumbing.jobqueue import OUTAGE_MAX_PAUSE, QUEUE_NAMES, RQJobQueue, outage_pause
from service_hub.plumbing.observability import count_job, request_id_bound

log = logging.getLogger(__name__)

REDIS_OUTAGE = (RedisConnectionError, RedisTimeoutError)
# A job is put back this many times while an outage lasts (pauses capped at OUTAGE_MAX_PAUSE:
# about five minutes), then fails as any other; the outbox re-drives its row later.
OUTAGE_RETRIES = 60
# A worker that ran this long before stopping was not failing at start-up: no pause.
HEALTHY_RUN_SECONDS = 60


def is_outage(error: BaseException) -> bool:
    """PostgreSQL or Redis could not be reached: not the job's fault."""
    return isinstance(error, REDIS_OUTAGE) or is_database_outage(error)


def retry_after_outage(job, exc_type, exc_value, traceback):
    """RQ exception handler: a job that met an outage is queued again after a growing pause.

    The pause is spent in the worker, which could not run anything else without the database.
    RQ calls this before it decides the job's fate, so a job given a retry here is re-queued
    instead of being moved to the failed registry.
    """
    if not is_outage(exc_value):
        return None
    attempt = job.meta.get("outage_retries", 0)
    if attempt >= OUTAGE_RETRIES:
        log.error("job %s met an outage %d times; leaving it failed", job.id, attempt)
        return None
    pause = outage_pause(attempt)
    log.warning("job %s met an outage (%s); queueing it again in %.1f s", job.id, exc_value, pause)
    time.sleep(pause)
    job.meta["outage_retries"] = attempt + 1
    job.retries_left = max(job.retries_left or 0, 1)
    return None


class JobTimedOut(KeyboardInterrupt):
    """A job ran past its time-out (raised in the job by SIGALRM).

    Deliberately not an Exception: a job's `except Exception` cannot swallow it, and psycopg
    treats it as an interruption, cancelling the statement on the server before it re-raises
    (RQ's JobTimeoutException left the statement running, and holding its locks, after the job
    had failed). SQLAlchemy then discards that connection rather than pool it.
    """


class JobDeathPenalty(UnixSignalDeathPenalty):
    """RQ's SIGALRM time-out for jobs run in the worker's process, raising JobTimedOut, and
    again every second while a job keeps catching it (until it leaves the job)."""

    def __init__(self, timeout, exception=None, **kwargs):
        super().__init__(timeout, JobTimedOut, **kwargs)

    def handle_death_penalty(self, signum, frame):  # noqa: D102 - RQ's hook
        signal.alarm(1)  # cancelled by RQ once the exception has left the job
        raise JobTimedOut(f"job exceeded its time-out of {self._timeout} s")


class AppContextMixin:
    """Push a fresh app context (and so a fresh database session) around each job."""

    flask_app = None
    stopping = False
    jobs_done = 0
    # RQ's own pause between attempts to reach Redis grows to a minute; ours stops at a few
    # seconds so the worker resumes soon after Redis returns.
    max_connection_wait_time = OUTAGE_MAX_PAUSE

    def perform_job(self, job, queue, execution):  # noqa: D102 - RQ's hook
        # Leaving the context removes the job's session (rolled back, its connection returned
        # to the pool), whether the job finished, raised or timed out; RQ records the outcome
        # inside it, after the job.
        request_id = job.meta.get("request_id") or f"job:{job.id}"
        started, ok = time.perf_counter(), False
        with self.flask_app.app_context(), request_id_bound(request_id):
            try:
                ok = super().perform_job(job, queue, execution)
                return ok
            finally:
                count_job(queue.name, job.func_name, ok, time.perf_counter() - started)

    def execute_job(self, job, queue):  # noqa: D102 - RQ's hook (in this process, forking or not)
        try:
            return super().execute_job(job, queue)
        finally:
            self.jobs_done += 1

    def handle_warm_shutdown_request(self):  # noqa: D102 - RQ's hook
        self.stopping = True
        super().handle_warm_shutdown_request()


class AppWorker(AppContextMixin, Worker):
    """Forking worker: each job runs in a child process (`flask worker --fork`)."""


class AppSimpleWorker(AppContextMixin, SimpleWorker):
    """Jobs run one after another in the worker's process (`flask worker`, and the tests)."""

    death_penalty_class = JobDeathPenalty


def build_worker(app, queue_names: tuple[str, ...], simple: bool = True):
    """A worker bound to app, listening on queue_names (all of them when empty); simple=False
    forks a child per job."""
    job_queue = app.extensions["job_queue"]
    if not isinstance(job_queue, RQJobQueue):
        raise click.ClickException(
            "REDIS_URL is not set: the embedded default runs jobs in-process."
        )
    queues = [job_queue.queues[name] for name in (queue_names or QUEUE_NAMES)]
    worker_class = AppSimpleWorker if simple else AppWorker
    worker = worker_class(
        queues,
        connection=job_queue.redis,
        exception_handlers=[retry_after_outage],
        # Maintenance also restarts RQ's scheduler when an outage killed it: each minute,
        # not RQ's ten.
        maintenance_interval=60,
    )
    worker.flask_app = app
    return worker


@click.command("worker")
@click.argument("queues", nargs=-1, type=click.Choice(QUEUE_NAMES))
@click.option("--burst", is_flag=True, help="Quit when the queues are empty.")
@click.option("--fork", is_flag=True, help="Run each job in a forked child (RQ's default; slower).")
@click.option("--simple", is_flag=True, hidden=True, help="Accepted for old scripts: the default.")
@click.option(
    "--max-jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Exit after this many jobs, for the supervisor to start a fresh process.",
)
@click.option(
    "--with-scheduler/--without-scheduler",
    default=True,
    help="Also run RQ's scheduler for delayed jobs (one per cluster holds the lock).",
)
@with_appcontext
def worker_command(
    queues: tuple[str, ...],
    burst: bool,
    fork: bool,
    simple: bool,
    max_jobs: int | None,
    with_scheduler: bool,
):
    """Start an RQ worker on QUEUES (default: dispatch notifications default)."""
    refuse_to_serve(current_app.config)
    app = current_app._get_current_object()
    attempt, done = 0, 0
    while True:
        worker, started = None, time.monotonic()
        try:
            worker = build_worker(app, queues, simple=not fork)  # talks to Redis already
            worker.work(
                burst=burst,
                with_scheduler=with_scheduler,
                max_jobs=None if max_jobs is None else max_jobs - done,
            )
        except REDIS_OUTAGE as exc:
            log.warning("worker: Redis is unreachable (%s)", exc)
        except StopRequested:
            return
        done += worker.jobs_done if worker is not None else 0
        if burst or worker is not None and worker.stopping:
            return
        if max_jobs is not None and done >= max_jobs:
            log.info("worker: %d jobs done; exiting for a fresh process", done)
            return
        # RQ's worker ends its loop on errors it does not expect (Redis lost mid-job, say):
        # start a fresh one after a pause that grows while the failures repeat.
        attempt = 0 if time.monotonic() - started > HEALTHY_RUN_SECONDS else attempt
        pause = outage_pause(attempt)
        attempt += 1
        log.warning("worker stopped unexpectedly; starting again in %.1f s", pause)
        try:
            time.sleep(pause)
        except StopRequested:  # SIGTERM while pausing: RQ's handler is still installed
            return


class OutageTolerantCronScheduler(CronScheduler):
    """RQ's cron scheduler, except that an unreachable Redis pauses it instead of ending it:
    a periodic job that could not be enqueued stays due and is enqueued once Redis is back."""

    def start(self):  # noqa: D102 - RQ's loop, with the outage handling around each round
        self.log.info("CronScheduler %s: starting...", self.name)
        self._install_signal_handlers()
        born, attempt = False, 0
        try:
            while True:
                try:
                    if not born:
                        self.register_birth()
                        born = True
                    if self.enqueue_jobs():
                        self.save()
                    self.heartbeat()
                    attempt, pause = 0, self.calculate_sleep_interval()
                except REDIS_OUTAGE as exc:
                    pause = outage_pause(attempt)
                    attempt += 1
                    log.warning(
                        "cron: Redis is unreachable (%s); trying again in %.1f s", exc, pause
                    )
                time.sleep(pause)
        except (KeyboardInterrupt, StopRequested):
            self.log.info("CronScheduler %s: stop requested", self.name)
        finally:
            with contextlib.suppress(*REDIS_OUTAGE):  # else its registration expires by itself
                self.register_death()
            self.log.info("CronScheduler %s: shutdown complete", self.name)


@click.command("cron")
@with_appcontext
def cron_command():
    """Run RQ's cron scheduler for the periodic jobs in service_hub/wiring.py (run one)."""
    from service_hub.wiring import PERIODIC_JOBS

    refuse_to_serve(current_app.config)

    job_queue = current_app.extensions["job_queue"]
    if not isinstance(job_queue, RQJobQueue):
        raise click.ClickException(
            "REDIS_URL is not set: the embedded default runs these in-process."
        )
    scheduler = OutageTolerantCronScheduler(connection=job_queue.redis)
    for func, queue_name, seconds in PERIODIC_JOBS:
        # A run not started within its interval is dropped (the next one is on its way), so
        # workers that were down do not come back to a pile of identical periodic jobs.
        scheduler.register(func, queue_name, interval=seconds, ttl=seconds)
    scheduler.start()
