"""What the KPI list offers (sort keys, filters, row fields), read from our OpenAPI document.

The dashboard follows the API's own contract, so a KPI, sort key or filter added to
GET /api/v1/kpis/communities shows up on the page without the page's code changing: each row
field comes with its Chinese label (`x-label`), one-line definition (`description`), kind
(`x-kind`) and whether higher is better (`x-higher-is-better`), as service_hub/kpis/schemas.py
writes them from measures.KPIS.
"""

from __future__ import annotations

from flask import current_app

KPI_TABLE_PATH = "/api/v1/kpis/communities"
# Query parameters the page drives itself; every other one is a filter.
DRIVEN = {"sort", "order", "page", "page_size", "format"}


def kpi_table_contract() -> dict:
    """Sort keys, filters, row field descriptions and CSV support of the KPI list (cached)."""
    cache = current_app.extensions.setdefault("web_contract", {})
    if "kpi" not in cache:
        cache["kpi"] = _read_kpi_contract(_spec())
    return cache["kpi"]


def _spec() -> dict:
    api = current_app.extensions["flask-smorest"]["apis"][""]["ext_obj"]
    return api.spec.to_dict()


def _resolve(spec: dict, node: dict) -> dict:
    while "$ref" in node:
        kind, name = node["$ref"].split("/")[-2:]
        node = spec["components"][kind][name]
    return node


def _read_kpi_contract(spec: dict) -> dict:
    operation = spec["paths"].get(KPI_TABLE_PATH, {}).get("get")
    if operation is None:
        return {
            "sort_keys": [],
            "filters": [],
            "fields": {},
            "field_order": [],
            "warnings": {},
            "csv": None,
        }
    params = [_resolve(spec, p) for p in operation.get("parameters", [])]
    query = {p["name"]: p.get("schema", {}) for p in params if p.get("in") == "query"}
    filters = [
        {
            "name": name,
            "enum": [v for v in schema.get("enum", []) if v is not None] or None,
            "pattern": schema.get("pattern"),
            "description": schema.get("description"),
        }
        for name, schema in query.items()
        if name not in DRIVEN
    ]
    ok = _resolve(spec, operation["responses"].get("200", {}))
    content = ok.get("content", {})
    page = _resolve(spec, content.get("application/json", {}).get("schema", {}))
    row = _resolve(spec, page.get("properties", {}).get("items", {}).get("items", {}))
    fields = {
        name: _field(name, {**_resolve(spec, prop), **prop})
        for name, prop in row.get("properties", {}).items()
    }
    warnings = row.get("properties", {}).get("health_warnings", {}).get("x-codes", {})
    csv = None
    if "csv" in (query.get("format", {}).get("enum") or []):
        csv = "format"
    elif "text/csv" in content:
        csv = "accept"
    return {
        "sort_keys": list(query.get("sort", {}).get("enum", [])),
        "filters": filters,
        "fields": fields,
        # The schema's field order (the page config's JSON sorts object keys).
        "field_order": list(fields),
        "warnings": warnings,
        "csv": csv,
    }


def _field(name: str, prop: dict) -> dict:
    """A row field for people: label, definition, kind, direction (None: neither)."""
    return {
        "label": prop.get("x-label") or name,
        "definition": prop.get("description"),
        "kind": prop.get("x-kind") or "number",
        "higher_is_better": prop.get("x-higher-is-better"),
    }
