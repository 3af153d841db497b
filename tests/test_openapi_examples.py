"""What the mini-program team's client generator reads: every operation has a unique
operationId and a real example of its request body and success response, and every example
is valid against its own schema (so examples cannot drift from the API)."""

from __future__ import annotations

import jsonschema_rs
import pytest

from service_hub.openapi.operations import OPERATIONS
from service_hub.openapi.plugin import schema_example

OPENAPI = "/api/v1/openapi.json"
HTTP_METHODS = ("get", "put", "post", "delete", "patch")
# OpenAPI 3.0 keywords that are not JSON Schema (or that JSON Schema would misread).
NOT_JSON_SCHEMA = {"nullable", "example", "readOnly", "writeOnly", "discriminator", "deprecated"}


@pytest.fixture(scope="module")
def document(app) -> dict:
    return app.test_client().get(OPENAPI).json


def _operations(document: dict):
    for path, item in document["paths"].items():
        for method in HTTP_METHODS:
            if method in item:
                yield path, method, item[method]


def _request_media(operation: dict):
    yield from (operation.get("requestBody") or {}).get("content", {}).items()


def _success_media(operation: dict):
    for status, response in operation["responses"].items():
        if status.startswith("2"):
            yield from response.get("content", {}).items()


def _json_schema(node, *, request: bool):
    """OpenAPI 3.0's schema dialect as JSON Schema: nullable becomes a null type; in a request,
    read-only properties are not allowed (the schemas already refuse unknown properties)."""
    if isinstance(node, list):
        return [_json_schema(item, request=request) for item in node]
    if not isinstance(node, dict):
        return node
    out = {
        key: _json_schema(value, request=request) if key != "properties" else value
        for key, value in node.items()
        if key not in NOT_JSON_SCHEMA and not key.startswith("x-")
    }
    if "properties" in node:
        out["properties"] = {
            name: _json_schema(prop, request=request)
            for name, prop in node["properties"].items()
            if not (request and prop.get("readOnly"))
        }
    if node.get("nullable"):
        if "type" in out:
            out["type"] = [out["type"], "null"]
            if "enum" in out:
                out["enum"] = [*out["enum"], None]
        else:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


def _validator(document: dict, schema: dict, *, request: bool):
    root = {
        "components": _json_schema(document["components"], request=request),
        **_json_schema(schema, request=request),
    }
    return jsonschema_rs.Draft7Validator(root, validate_formats=True)


def test_every_operation_has_an_operation_id(document):
    lacking = [(m.upper(), p) for p, m, o in _operations(document) if not o.get("operationId")]
    assert lacking == [], "add them to service_hub/openapi/operations.py"


def test_operation_ids_are_unique(document):
    ids = [operation["operationId"] for _, _, operation in _operations(document)]
    assert sorted({i for i in ids if ids.count(i) > 1}) == []


def test_operation_ids_are_snake_case_verbs_a_generator_keeps(document):
    odd = [o["operationId"] for _, _, o in _operations(document)]
    assert [i for i in odd if not i.replace("_", "").isalpha() or not i.islower()] == []


def test_no_operation_is_listed_that_the_api_does_not_have(document):
    documented = {f"{m.upper()} {p}" for p, m, _ in _operations(document)}
    assert sorted(set(OPERATIONS) - documented) == []


def test_every_request_body_has_an_example(document):
    lacking = [
        (m.upper(), p, media_type)
        for p, m, o in _operations(document)
        for media_type, media in _request_media(o)
        if "example" not in media
    ]
    assert lacking == [], "give the schema an example (service_hub/openapi/examples_*.py)"


def test_every_success_response_has_an_example(document):
    lacking = [
        (m.upper(), p, media_type)
        for p, m, o in _operations(document)
        for media_type, media in _success_media(o)
        if "example" not in media
    ]
    assert lacking == [], "give the schema an example (service_hub/openapi/examples_*.py)"


def test_every_request_example_is_valid_against_its_schema(document):
    invalid = {}
    for path, method, operation in _operations(document):
        for media_type, media in _request_media(operation):
            if "example" in media and media_type == "application/json":
                validator = _validator(document, media["schema"], request=True)
                errors = [str(e) for e in validator.iter_errors(media["example"])]
                if errors:
                    invalid[f"{method.upper()} {path}"] = errors
    assert invalid == {}


def test_every_response_example_is_valid_against_its_schema(document):
    invalid = {}
    for path, method, operation in _operations(document):
        for media_type, media in _success_media(operation):
            if "example" in media and media_type == "application/json":
                validator = _validator(document, media["schema"], request=False)
                errors = [str(e) for e in validator.iter_errors(media["example"])]
                if errors:
                    invalid[f"{method.upper()} {path}"] = errors
    assert invalid == {}


def test_a_request_example_may_not_send_a_read_only_field(document):
    schema = {"$ref": "#/components/schemas/ServiceType"}
    validator = _validator(document, schema, request=True)
    assert not validator.is_valid(schema_example(schema))  # it carries the id


def test_a_paged_list_s_example_is_a_page_of_its_item_s_example():
    page = schema_example({"$ref": "#/components/schemas/OrderPage"})
    order = schema_example({"$ref": "#/components/schemas/Order"})
    assert page == {"items": [order], "page": 1, "page_size": 20, "total": 1}
