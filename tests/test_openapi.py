"""The OpenAPI document covers every route, and the docs page works without a network."""

import re

import pytest

OPENAPI = "/api/v1/openapi.json"
DOCS = "/api/v1/docs"
DOCS_ASSETS = "/api/v1/docs/assets/"
UNDOCUMENTED = {OPENAPI, DOCS}
HTTP_METHODS = {"get", "put", "post", "delete", "patch"}


@pytest.fixture
def document(client) -> dict:
    response = client.get(OPENAPI)
    assert response.status_code == 200
    return response.json


def _openapi_path(rule: str) -> str:
    """Flask's /orders/<int:order_id>/<action> as OpenAPI's /orders/{order_id}/{action}."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def _routes(app) -> set[tuple[str, str]]:
    """(OpenAPI path, lower-case method) of every API route that the document must describe."""
    routes = set()
    for rule in app.url_map.iter_rules():
        path = rule.rule
        api_route = path.startswith("/api/v1") and path not in UNDOCUMENTED
        operator_route = path in ("/healthz", "/readyz", "/metrics")
        if not (api_route or operator_route) or path.startswith(DOCS_ASSETS):
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routes.add((_openapi_path(path), method.lower()))
    return routes


def _operations(document: dict):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield path, method, operation


def test_the_document_is_openapi_3_0_json(client):
    response = client.get(OPENAPI)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert re.fullmatch(r"3\.0\.\d+", response.json["openapi"])
    assert response.json["info"]["title"]


def test_flask_rules_are_converted_to_openapi_paths():
    assert _openapi_path("/orders/<int:order_id>/<string:action>") == "/orders/{order_id}/{action}"
    assert _openapi_path("/me/communities/<community_id>") == "/me/communities/{community_id}"


def test_the_route_list_covers_the_known_routes(app):
    routes = _routes(app)
    assert ("/healthz", "get") in routes
    assert ("/api/v1/auth/wechat-login", "post") in routes
    assert ("/api/v1/orders/{order_id}/{action}", "post") in routes
    assert not any(path.startswith(DOCS_ASSETS) or path == OPENAPI for path, _ in routes)


def test_every_api_route_and_method_is_in_the_document(app, document):
    documented = {(path, method) for path, method, _ in _operations(document)}
    missing = _routes(app) - documented
    assert not missing, f"routes missing from the OpenAPI document: {sorted(missing)}"


def test_the_document_describes_no_route_that_does_not_exist(app, document):
    documented = {(path, method) for path, method, _ in _operations(document)}
    extra = documented - _routes(app)
    assert not extra, f"documented routes that do not exist: {sorted(extra)}"


def test_the_bearer_security_scheme_is_declared(document):
    scheme = document["components"]["securitySchemes"]["bearerAuth"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")


def test_guarded_routes_declare_security(document):
    operation = document["paths"]["/api/v1/kpis/communities"]["get"]
    assert operation["security"] == [{"bearerAuth": []}]


def test_every_secured_operation_documents_a_401(document):
    secured = [(p, m, o) for p, m, o in _operations(document) if o.get("security")]
    assert secured
    lacking = [(p, m) for p, m, o in secured if "401" not in o.get("responses", {})]
    assert not lacking, f"secured operations without a 401 response: {lacking}"


def test_every_secured_operation_documents_a_403(document):
    # A token is optional where `{}` is one of the ways in (auth.access.optional_auth): such
    # a route answers anyone, so it refuses nobody.
    secured = [(p, m, o) for p, m, o in _operations(document) if {} not in o.get("security", [{}])]
    lacking = [(p, m) for p, m, o in secured if "403" not in o.get("responses", {})]
    assert not lacking, f"secured operations without a 403 response: {lacking}"


def test_the_error_schema_is_a_component(document):
    schemas = document["components"]["schemas"]
    assert "Error" in schemas
    error = schemas["Error"]
    assert "error" in error["properties"]
    assert "error" in error.get("required", [])


def test_the_error_body_schema_has_code_and_message(document):
    schemas = document["components"]["schemas"]
    reference = schemas["Error"]["properties"]["error"]
    body = _resolve(document, reference)
    assert {"code", "message", "message_zh", "fields"} <= set(body["properties"])
    assert {"code", "message"} <= set(body["required"])


# /readyz answers 503 with its readiness report ({"status", "checks", ...}), not an error.
NOT_ERROR_SHAPED = {("/readyz", "get", "503")}


def test_error_responses_refer_to_the_error_schema(document):
    checked = 0
    for path, method, operation in _operations(document):
        for status, response in operation.get("responses", {}).items():
            is_error = status.startswith(("4", "5")) or status == "default"
            if not is_error or (path, method, status) in NOT_ERROR_SHAPED:
                continue
            content = _resolve(document, response).get("content", {})
            schema = content.get("application/json", {}).get("schema")
            assert schema == {"$ref": "#/components/schemas/Error"}, (path, method, status)
            checked += 1
    assert checked


def test_the_docs_page_loads_swagger_ui_from_our_own_assets(client):
    response = client.get(DOCS)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert DOCS_ASSETS in page
    assert OPENAPI in page
    assert not re.search(r"""(src|href)=["']https?://""", page)


@pytest.mark.parametrize("asset", ["swagger-ui-bundle.js", "swagger-ui.css"])
def test_the_swagger_ui_assets_are_served_locally(client, asset):
    response = client.get(DOCS_ASSETS + asset)
    assert response.status_code == 200
    assert len(response.data) > 1000


def test_a_missing_docs_asset_is_a_json_404(client):
    response = client.get(DOCS_ASSETS + "no-such-file.js")
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"


def _resolve(document: dict, item: dict) -> dict:
    """Follow a local $ref, if any."""
    while "$ref" in item:
        node = document
        for part in item["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        item = node
    return item


# Who serves which path, as data: a path's first segment names its resource, and so the
# blueprint (OpenAPI tag) that serves it. Communities, engineers, orders and `me` are
# containers: other blueprints nest their own resources beneath them (after the id or `me`).
RESOURCE_OWNERS = {
    "activities": "activities",
    "answers": "qa",
    "auth": "auth",
    "broadcasts": "inbox",
    "butler": "butler",
    "communities": "communities",
    "coupon-campaigns": "coupons",
    "coupon-reward-rules": "coupons",
    "coupons": "coupons",
    "engineers": "engineers",
    "follow-ups": "reviews",
    "healthz": "health",
    "kpis": "kpis",
    "me": "auth",
    "metrics": "health",
    "moderation": "qa",
    "orders": "orders",
    "questions": "qa",
    "readyz": "health",
    "reviews": "reviews",
    "services": "communities",
    "staff": "sla",
    "uploads": "uploads",
    "visits": "visits",
}
NESTED_OWNERS = {
    "communities": {
        "activities": "activities",
        "coupons": "coupons",
        "engineers": "engineers",
        "import": "registry",
        "nearby": "registry",
        "questions": "qa",
        "visits": "visits",
    },
    "engineers": {
        "bind-codes": "butler",
        "like": "reviews",
        "offers": "orders",
        "points": "points",
        "reviews": "reviews",
        "visits": "visits",
    },
    "orders": {"checklist": "completion", "report": "completion", "review": "reviews"},
    "services": {"checklist": "completion"},
    "me": {
        "addresses": "addresses",
        "butler": "butler",
        "communities": "communities",
        "coupons": "coupons",
        "inbox": "inbox",
        "notification-opt-outs": "inbox",
        "orders": "orders",
        "points": "points",
        "subscriptions": "inbox",
    },
}


def _promised_blueprint(path: str) -> str:
    """The blueprint a path's name promises: its first segment's, or a container's nested one."""
    words = [
        word
        for word in path.removeprefix("/api/v1").strip("/").split("/")
        if not word.startswith("{")
    ]
    container, rest = words[0], [word for word in words[1:] if word != "me"]
    assert container in RESOURCE_OWNERS, f"{path}: add its first segment to RESOURCE_OWNERS"
    if rest and rest[0] in NESTED_OWNERS.get(container, {}):
        return NESTED_OWNERS[container][rest[0]]
    return RESOURCE_OWNERS[container]


def test_every_route_is_in_the_blueprint_its_path_promises(document):
    misplaced = {
        (method.upper(), path, ",".join(operation.get("tags", [])))
        for path, method, operation in _operations(document)
        if operation.get("tags") != [_promised_blueprint(path)]
    }
    assert misplaced == set()
