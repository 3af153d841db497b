"""RQ workers and the cron scheduler, built on the app, riding out Redis and PostgreSQL outages.

Each job runs inside an app context. A job that fails because PostgreSQL or Redis is
unreachable goes back on its queue after a pause (retry_after_outage), and `flask worker` and
`flask cron` wait out an unreachable Redis instead of exiting (docs/operations.md, "Outages").
"""

from __future__ import annotations

import contextlib
import logging
import time

import click
from flask import current_app
from flask.cli import with_appcontext
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rq import SimpleWorker, Worker
from rq.cron import CronScheduler
from rq.exceptions import StopRequested

from service_hub.plumbing.errors import is_database_outage
from service_hub.plumbing.jobqueue import OUTAGE_MAX_PAUSE, QUEUE_NAMES, RQJobQueue, outage_pause

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


class AppContextMixin:
    """Push a fresh app context (and so a fresh database session) around each job."""

    flask_app = None
    stopping = False
    # RQ's own pause between attempts to reach Redis grows to a minute; ours stops at a few
    # seconds so the worker resumes soon after Redis returns.
    max_connection_wait_time = OUTAGE_MAX_PAUSE

    def perform_job(self, job, queue, execution):  # noqa: D102 - RQ's hook
        with self.flask_app.app_context():
            return super().perform_job(job, queue, execution)

    def handle_warm_shutdown_request(self):  # noqa: D102 - RQ's hook
        self.stopping = True
        super().handle_warm_shutdown_request()


class AppWorker(AppContextMixin, Worker):
    """Forking worker: each job runs in a child process (production default)."""


class AppSimpleWorker(AppContextMixin, SimpleWorker):
    """Non-forking worker: cheaper per job; used by tests and on platforms without fork."""


def build_worker(app, queue_names: tuple[str, ...], simple: bool = False):
    """A worker bound to app, listening on queue_names (all of them when empty)."""
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
@click.option("--simple", is_flag=True, help="Do not fork per job.")
@click.option(
    "--with-scheduler/--without-scheduler",
    default=True,
    help="Also run RQ's scheduler for delayed jobs (one per cluster holds the lock).",
)
@with_appcontext
def worker_command(queues: tuple[str, ...], burst: bool, simple: bool, with_scheduler: bool):
    """Start an RQ worker on QUEUES (default: dispatch notifications default)."""
    app = current_app._get_current_object()
    attempt = 0
    while True:
        worker, started = None, time.monotonic()
        try:
            worker = build_worker(app, queues, simple=simple)  # talks to Redis already
            worker.work(burst=burst, with_scheduler=with_scheduler)
        except REDIS_OUTAGE as exc:
            log.warning("worker: Redis is unreachable (%s)", exc)
        except StopRequested:
            return
        if burst or worker is not None and worker.stopping:
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
