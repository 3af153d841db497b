"""Liveness and readiness for operators and load balancers."""

from __future__ import annotations

import marshmallow as ma
import sqlalchemy as sa
from flask.views import MethodView
from flask_smorest import Blueprint

from service_hub.plumbing.extensions import db
from service_hub.plumbing.jobqueue import job_queue
from service_hub.plumbing.observability import metrics_response

blp = Blueprint("health", __name__, description="Liveness and readiness")


class LivenessSchema(ma.Schema):
    status = ma.fields.String(metadata={"example": "ok"})


class ReadinessSchema(ma.Schema):
    status = ma.fields.String(metadata={"enum": ["ready", "not_ready"]})
    checks = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Boolean(),
        metadata={"description": "database, queue → reachable"},
    )
    queue_kind = ma.fields.String(metadata={"enum": ["rq", "in-process"]})


@blp.route("/healthz")
class Liveness(MethodView):
    @blp.response(200, LivenessSchema)
    def get(self):
        """The process is alive."""
        return {"status": "ok"}


@blp.route("/readyz")
class Readiness(MethodView):
    @blp.response(200, ReadinessSchema)
    @blp.alt_response(503, schema=ReadinessSchema, description="a dependency is unreachable")
    def get(self):
        """The database and the job queue (Redis in production) are reachable."""
        checks = {"database": _database_ok(), "queue": job_queue().ping()}
        ready = all(checks.values())
        body = {
            "status": "ready" if ready else "not_ready",
            "checks": checks,
            "queue_kind": job_queue().kind,
        }
        if ready:
            return body, 200
        # Like every unavailable answer (service_hub/plumbing/errors.py): when to ask again.
        return body, 503, {"Retry-After": "5"}


@blp.route("/metrics")
class Metrics(MethodView):
    @blp.doc(
        responses={
            200: {
                "description": "Prometheus text format 0.0.4",
                "content": {"text/plain": {"schema": {"type": "string"}}},
            }
        },
    )
    @blp.alt_response(401, response="UNAUTHORIZED", description="not METRICS_TOKEN's bearer")
    @blp.alt_response(404, response="NOT_FOUND", description="METRICS_TOKEN is not set")
    def get(self):
        """Prometheus metrics of every process (requests, jobs, WeChat calls, SLA breaches,
        expired offers; queue depths and the outbox backlog read at scrape time), only with
        `Authorization: Bearer <METRICS_TOKEN>` (docs/operations.md, "Observability")."""
        return metrics_response()


def _database_ok() -> bool:
    try:
        db.session.execute(sa.text("SELECT 1"))
        return True
    except Exception:
        db.session.rollback()
        return False
