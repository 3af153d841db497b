"""The authorisation matrix: every route of the OpenAPI document, as each of eight callers,
gets the outcome tests/authz/policy.py's TABLE says.

The world is built once per backend and module, not once per case: about 700 cases would
otherwise rebuild it (and truncate every table) 700 times, minutes instead of seconds. So this
module replaces the conftest's per-test cleanup (`_clean` below) with one cleanup when the
world is torn down; policy.py says why its requests cannot change who may do what for a later
case.
"""

from __future__ import annotations

import io

import pytest

from service_hub.plumbing.ratelimit import EXTENSION_KEY
from tests.authz import world as world_builder
from tests.authz.policy import HIDDEN, NO, OK, ROLES, TABLE, Call, Ref
from tests.conftest import reset_backend

HTTP_METHODS = {"get", "put", "post", "patch", "delete"}
CASES = [(call, role) for call in TABLE for role in ROLES]


def _call_id(call: Call) -> str:
    return f"{call.method} {call.path}"


@pytest.fixture(autouse=True)
def _clean(request):
    """Replaces the conftest's per-test cleanup: `world` empties everything once, at its end.

    Rate-limit counters are still reset after each case, as everywhere else.
    """
    yield
    if "app" in request.fixturenames:
        request.getfixturevalue("app").extensions[EXTENSION_KEY].reset()


@pytest.fixture(scope="module")
def world(app, fake_wechat, tmp_path_factory):
    """The world's ids and callers, built once per backend; everything is emptied after."""
    upload_dir = app.config["UPLOAD_DIR"]
    app.config["UPLOAD_DIR"] = str(tmp_path_factory.mktemp("matrix-uploads"))
    try:
        yield world_builder.build(app, app.test_client())
    finally:
        app.config["UPLOAD_DIR"] = upload_dir
        fake_wechat.state.reset()
        reset_backend(app)


def _send(client, call: Call, ids: dict, role: str, headers: dict):
    path = call.path
    for name, value in call.params.items():
        path = path.replace(
            "{" + name + "}", str(ids[value.name] if isinstance(value, Ref) else value)
        )
    kwargs: dict = {"headers": headers, "query_string": call.query}
    if call.upload is not None:
        filename, data = call.upload
        kwargs["data"] = {"file": (io.BytesIO(data), filename)}
        kwargs["content_type"] = "multipart/form-data"
    elif call.json is not None:
        kwargs["json"] = call.json(ids, role) if callable(call.json) else call.json
    return client.open(path, method=call.method, **kwargs)


def _error_code(response) -> str | None:
    body = response.get_json(silent=True) or {}
    return (body.get("error") or {}).get("code")


def _assert_outcome(response, expected: str, role: str) -> None:
    status, code = response.status_code, _error_code(response)
    seen = f"{status} {code or ''}".strip()
    if expected == OK:
        assert status < 500 and status not in (401, 403), f"refused or failed: {seen}"
        # A bad probe (validation error, or a URL no route matches) would prove nothing.
        assert code not in ("validation_error", "not_found", "method_not_allowed"), seen
    elif expected == HIDDEN:
        assert status == 404 and code, f"expected a JSON 404, got {seen}"
    else:
        assert status == (401 if role == "anonymous" else 403), f"expected refusal, got {seen}"
        assert code, f"a refusal answers in the one error shape, got {seen}"


@pytest.mark.parametrize(("call", "role"), CASES, ids=[f"{_call_id(c)} as {r}" for c, r in CASES])
def test_each_caller_gets_the_outcome_the_table_says(client, world, call, role):
    ids, auth = world
    response = _send(client, call, ids, role, auth[role])
    _assert_outcome(response, call.expect[role], role)


def test_the_table_covers_every_route_in_the_document(client):
    document = client.get("/api/v1/openapi.json").json
    documented = {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }
    tabled = [(call.method, call.path) for call in TABLE]
    assert len(tabled) == len(set(tabled)), "a route is in the table twice"
    missing = sorted(documented - set(tabled))
    assert not missing, f"routes with no row in TABLE (say who may call them): {missing}"
    assert not sorted(set(tabled) - documented), "rows for routes the document does not have"


@pytest.mark.parametrize("call", TABLE, ids=_call_id)
def test_every_row_says_something_for_every_caller(call):
    assert set(call.expect) == set(ROLES)
    assert set(call.expect.values()) <= {OK, NO, HIDDEN}
