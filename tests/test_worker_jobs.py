"""`flask worker` runs its jobs in its own process, one after another (no fork per job), and
keeps what the fork gave: a stuck job stops at its time-out and the next one runs, a failed job
leaves the worker running and a clean session for the next job, and each job has its own app
context. Real Redis and PostgreSQL; the jobs below are importable by RQ."""

import contextlib
import time

import pytest
import sqlalchemy as sa
from flask import g

from models import ServiceType
from service_hub.plumbing.extensions import db
from service_hub.worker import build_worker

server_backend = pytest.mark.parametrize("app", ["postgres-redis"], indirect=True)


def stuck_in_the_database():
    db.session.execute(sa.text("SELECT pg_sleep(60)"))


def stuck_catching_everything():
    """A job whose `except Exception` used to swallow RQ's time-out."""
    for _ in range(2):
        with contextlib.suppress(Exception):
            time.sleep(3)
    return "finished"


def statements_still_sleeping() -> int:
    return db.session.scalar(
        sa.text(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE query = 'SELECT pg_sleep(60)' AND state = 'active'"
        )
    )


def fails_leaving_state_behind():
    g.left_behind = "from the failed job"
    db.session.info["left_behind"] = True
    db.session.add(
        ServiceType(
            code="leak", name="泄漏", skill="purifier", duration_minutes=60, base_price_cents=1
        )
    )
    db.session.flush()
    db.session.execute(sa.text("SELECT 1 / 0"))  # the transaction is now aborted


def what_the_next_job_sees() -> dict:
    return {
        "g": "left_behind" in g,
        "session_info": "left_behind" in db.session.info,
        "pending": len(db.session.new),
        "rows": db.session.scalar(sa.select(sa.func.count()).select_from(ServiceType)),
    }


def noop() -> None:
    return None


def run(app, *jobs, timeout: int | None = None):
    """Queue each function (the first with `timeout`), run a burst worker, return the jobs."""
    queue = app.extensions["job_queue"].queues["default"]
    queued = [queue.enqueue(jobs[0], job_timeout=timeout)]
    queued += [queue.enqueue(job) for job in jobs[1:]]
    build_worker(app, ("default",)).work(burst=True, logging_level="CRITICAL")
    for job in queued:
        job.refresh()
    return queued


@server_backend
def test_a_job_stuck_in_the_database_is_stopped_with_its_statement_and_the_next_job_runs(app):
    stuck, after = run(app, stuck_in_the_database, statements_still_sleeping, timeout=1)
    assert (stuck.get_status(), after.get_status(), after.return_value()) == (
        "failed",
        "finished",
        0,
    )


@server_backend
def test_a_timed_out_job_cannot_swallow_its_time_out(app):
    (stuck,) = run(app, stuck_catching_everything, timeout=1)
    assert (stuck.get_status(), stuck.latest_result().exc_string.splitlines()[-1]) == (
        "failed",
        "service_hub.worker.JobTimedOut: job exceeded its time-out of 1 s",
    )


@server_backend
def test_a_failed_job_leaves_the_next_one_a_fresh_app_context_and_a_clean_session(app):
    failed, after = run(app, fails_leaving_state_behind, what_the_next_job_sees)
    assert (failed.get_status(), after.return_value()) == (
        "failed",
        {"g": False, "session_info": False, "pending": 0, "rows": 0},
    )


@server_backend
def test_flask_worker_exits_after_max_jobs_for_a_fresh_process(app):
    queue = app.extensions["job_queue"].queues["default"]
    for _ in range(3):
        queue.enqueue(noop)
    result = app.test_cli_runner().invoke(
        args=["worker", "--max-jobs", "2", "--without-scheduler", "default"]
    )
    assert (result.exit_code, queue.count) == (0, 1), result.output
