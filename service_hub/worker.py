"""RQ workers that build the app first and run every job inside an app context."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from rq import SimpleWorker, Worker

from service_hub.jobqueue import QUEUE_NAMES, RQJobQueue


class AppContextMixin:
    """Push a fresh app context (and so a fresh database session) around each job."""

    flask_app = None

    def perform_job(self, job, queue, execution):  # noqa: D102 - RQ's hook
        with self.flask_app.app_context():
            return super().perform_job(job, queue, execution)


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
    worker = worker_class(queues, connection=job_queue.redis)
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
    worker = build_worker(app, queues, simple=simple)
    worker.work(burst=burst, with_scheduler=with_scheduler)


@click.command("cron")
@with_appcontext
def cron_command():
    """Run RQ's cron scheduler for the periodic jobs in service_hub/periodic.py (run one)."""
    from rq.cron import CronScheduler

    from service_hub.periodic import PERIODIC_JOBS

    job_queue = current_app.extensions["job_queue"]
    if not isinstance(job_queue, RQJobQueue):
        raise click.ClickException(
            "REDIS_URL is not set: the embedded default runs these in-process."
        )
    scheduler = CronScheduler(connection=job_queue.redis)
    for func, queue_name, seconds in PERIODIC_JOBS:
        scheduler.register(func, queue_name, interval=seconds)
    scheduler.start()
