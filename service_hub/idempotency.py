"""The Idempotency-Key header of writes a client may retry (create order, claim coupon)."""

from __future__ import annotations

from flask import request

from service_hub.errors import InvalidInput

MAX_LENGTH = 64


def parameter(description: str) -> dict:
    """The header's OpenAPI parameter, with what a repeat returns."""
    return {
        "in": "header",
        "name": "Idempotency-Key",
        "required": False,
        "description": description,
        "schema": {"type": "string", "maxLength": MAX_LENGTH},
    }


def idempotency_key() -> str | None:
    """The request's Idempotency-Key, or None; 422 when it is empty or too long."""
    key = request.headers.get("Idempotency-Key")
    if key is not None and not 1 <= len(key) <= MAX_LENGTH:
        raise InvalidInput(
            f"Idempotency-Key has 1 to {MAX_LENGTH} characters.",
            fields={"Idempotency-Key": [f"length 1..{MAX_LENGTH}"]},
        )
    return key
