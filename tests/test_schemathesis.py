"""Schemathesis against our own OpenAPI document, in process: every operation, fed generated
requests as a resident and as a manager, never answers 5xx and always answers as the document
says (a documented status code, the documented content type, a body matching its schema)."""

from __future__ import annotations

import os

import hypothesis
import pytest
import schemathesis
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from service_hub import create_app
from service_hub.plumbing.ratelimit import EXTENSION_KEY
from tests import factories as f
from tests.conftest import reset_backend

# About 40 s per backend: slow, which CI still runs.
pytestmark = pytest.mark.slow

# Bounded and seeded, so CI runs the same cases every time and stays within a minute or two.
# A deeper run by hand (docs/operations.md, "Fuzzing the API"): SCHEMATHESIS_SEED=<new seed>
# SCHEMATHESIS_MAX_EXAMPLES=50 pytest tests/test_schemathesis.py
CONFIG = {
    "seed": int(os.environ.get("SCHEMATHESIS_SEED", "20260901")),
    "generation": {
        "max-examples": int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "10")),
        "deterministic": True,
        "database": "none",
    },
    "phases": {"stateful": {"enabled": False}},
}
CHECKS = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def _document() -> dict:
    """The OpenAPI document, from an app that only serves it (operations are collected before
    any backend's app exists; the document is the same on every backend)."""
    docs_only = create_app(
        {
            "SERVICE_HUB_ENV": "testing",
            "TESTING": True,
            "SECRET_KEY": "docs-only-secret-key-long-enough-0123456789",
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "REDIS_URL": None,
            "INPROCESS_TIMERS": False,
        }
    )
    return docs_only.test_client().get("/api/v1/openapi.json").json


schema = schemathesis.openapi.from_dict(_document(), config=schemathesis.Config.from_dict(CONFIG))


@pytest.fixture(autouse=True)
def _clean(request):
    """Replaces the conftest's per-test truncation, which cost most of this module's time on
    PostgreSQL: `callers` empties everything once, at its end. Generated requests may leave
    rows behind for later operations; that only gives them more to chew on. Rate-limit
    counters are still reset after each operation."""
    yield
    if "app" in request.fixturenames:
        request.getfixturevalue("app").extensions[EXTENSION_KEY].reset()


@pytest.fixture(scope="module")
def callers(app, fake_wechat):
    """Signed-in callers with something to see, once per backend: a resident bound to a
    community with an engineer and a service, and a manager of every region."""
    community_id = f.community(app)
    f.engineer(app, communities=(community_id,))
    f.service_type(app)
    yield {
        "resident": f.resident_auth(app, f.resident(app, communities=(community_id,))),
        "manager": f.staff_auth(app, f.staff(app, "manager"), "manager"),
    }
    fake_wechat.state.reset()
    reset_backend(app)


@pytest.fixture(params=["resident", "manager"])
def caller(request, callers) -> dict:
    """The Authorization header of one caller."""
    return callers[request.param]


@schema.parametrize()
@hypothesis.settings(suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture])
def test_every_operation_answers_as_documented(case, app, caller):
    case.call_and_validate(app=app, headers=caller, checks=CHECKS)
