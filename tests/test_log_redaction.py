"""No phone number reaches the logs (service_hub/plumbing/log_redaction.py)."""

from __future__ import annotations

import io
import logging

import pytest

from service_hub.plumbing.log_redaction import MobileRedactingFilter, install, redact


@pytest.fixture
def written():
    """A logger of its own writing to a string, with the filter installed on its handler."""
    logger = logging.getLogger("test_log_redaction")
    logger.propagate = False
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    logger.addHandler(handler)
    install(logger)
    yield logger, out
    logger.removeHandler(handler)


def test_a_mobile_in_a_message_is_masked(written):
    logger, out = written
    logger.warning(
        "value refused by the database: Failing row contains (7, %s, 张女士)", "13800138000"
    )
    assert "13800138000" not in out.getvalue()
    assert "138****8000" in out.getvalue()


def test_a_mobile_in_a_traceback_is_masked(written):
    logger, out = written
    try:
        raise ValueError("Key (mobile)=(13912345678) is bad")
    except ValueError:
        logger.exception("unhandled error")
    assert "13912345678" not in out.getvalue()
    assert "139****5678" in out.getvalue()


@pytest.mark.parametrize("text", ["order 12345678901234", "at 1733112345678", "id 12800138000"])
def test_longer_digit_runs_and_non_mobiles_are_left_alone(text):
    assert redact(text) == text


def test_create_app_installs_the_filter_on_the_root_handlers(tmp_path):
    from service_hub import create_app

    handler = logging.StreamHandler(io.StringIO())
    logging.getLogger().addHandler(handler)
    try:
        create_app(
            {
                "SERVICE_HUB_ENV": "testing",
                "SECRET_KEY": "log-redaction-test-secret-key-long-enough-0123",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'r.db'}",
                "REDIS_URL": None,
            }
        )
        assert any(isinstance(f, MobileRedactingFilter) for f in handler.filters)
    finally:
        logging.getLogger().removeHandler(handler)
