"""The mini-program team generates its API client from our OpenAPI document: a generator
(openapi-python-client, requirements-dev.txt) builds one from it without a warning, and the
client imports, its functions named by our operationIds."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest

from service_hub import create_app

PACKAGE = "service_hub_api_client"


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """(exit code, output, client directory) of one generation from the document."""
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
    work = tmp_path_factory.mktemp("client")
    document = work / "openapi.json"
    document.write_text(json.dumps(docs_only.test_client().get("/api/v1/openapi.json").json))
    config = work / "config.yaml"
    config.write_text("post_hooks: []\n")  # no formatter run: we judge the generation alone
    result = subprocess.run(
        [sys.executable, "-m", "openapi_python_client", "generate"]
        + ["--path", str(document), "--output-path", str(work / "out"), "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    return result.returncode, result.stdout + result.stderr, work / "out"


def test_the_generator_succeeds(generated):
    code, output, _ = generated
    assert code == 0, output


def test_the_generator_warns_about_nothing(generated):
    _, output, _ = generated
    assert "warning" not in output.lower(), output


def test_the_generated_client_imports_with_a_function_per_operation_id(generated, monkeypatch):
    _, _, out = generated
    monkeypatch.syspath_prepend(str(out))
    try:
        client = importlib.import_module(PACKAGE)
        my_orders = importlib.import_module(f"{PACKAGE}.api.orders.list_my_orders")
        nearby = importlib.import_module(f"{PACKAGE}.api.registry.list_nearby_communities")
        assert callable(client.AuthenticatedClient)
        assert callable(my_orders.sync) and callable(nearby.sync_detailed)
    finally:
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]
