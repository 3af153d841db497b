"""An apispec plugin that gives each operation its operationId and examples as the document is
built: the operation's own (operations.py), else its schema's (examples_*.py), a page of the
item's example for a paged list."""

from __future__ import annotations

import copy
from typing import Any

from apispec import BasePlugin

from service_hub.openapi import (
    examples_completion,
    examples_manager,
    examples_orders,
    examples_people,
    examples_places,
)
from service_hub.openapi.operations import OPERATIONS, Operation


def _merge(*modules) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for module in modules:
        twice = set(merged) & set(module.EXAMPLES)
        assert not twice, f"examples given twice: {sorted(twice)}"
        merged.update(module.EXAMPLES)
    return merged


# Component schema name → an example of it.
SCHEMA_EXAMPLES = _merge(
    examples_places, examples_people, examples_orders, examples_manager, examples_completion
)
PAGE_SUFFIXES = {"CappedPage": {"total_exact": True}, "Page": {}}


def schema_example(schema: dict | None) -> Any:
    """The example of a referenced component schema, or a one-item page of its item's; None
    for an inline schema or a component without one."""
    if not schema or "$ref" not in schema:
        return None
    name = schema["$ref"].rsplit("/", 1)[-1]
    if name in SCHEMA_EXAMPLES:
        return SCHEMA_EXAMPLES[name]
    for suffix, extra in PAGE_SUFFIXES.items():
        item = name.removesuffix(suffix)
        if item != name and item in SCHEMA_EXAMPLES:
            items = [SCHEMA_EXAMPLES[item]]
            return {"items": items, "page": 1, "page_size": 20, "total": 1, **extra}
    return None


def _add_example(media_type: str, media: dict, operation: Operation, given: Any) -> None:
    if "example" in media or "examples" in media:
        return
    example = operation.media.get(media_type)
    if example is None:
        example = given if given is not None else schema_example(media.get("schema"))
    if example is not None:
        media["example"] = copy.deepcopy(example)


class OperationsPlugin(BasePlugin):
    """operationId and examples for every operation listed in operations.OPERATIONS."""

    def operation_helper(self, path=None, operations=None, **kwargs) -> None:
        """Called by apispec for each path, after the marshmallow plugin resolved schemas."""
        for method, operation in (operations or {}).items():
            listed = OPERATIONS.get(f"{method.upper()} {path}")
            if listed is None:
                continue  # tests/test_openapi_examples.py names it
            operation.setdefault("operationId", listed.operation_id)
            body = operation.get("requestBody") or {}
            for media_type, media in body.get("content", {}).items():
                _add_example(media_type, media, listed, listed.request)
            for status, response in operation.get("responses", {}).items():
                if str(status).startswith("2") and isinstance(response, dict):
                    for media_type, media in response.get("content", {}).items():
                        _add_example(media_type, media, listed, listed.response)
