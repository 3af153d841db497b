"""The Idempotency-Key header of writes a client may retry (create order, claim coupon).

A repeat of a key returns the first result only when it is the same request: the first
request's fingerprint (method, path and canonical JSON body) is stored beside its key, and a
key that comes back with another fingerprint is refused (422 `idempotency_key_reused`), as
payment APIs do, rather than answering a different question with the first answer.
"""

from __future__ import annotations

import hashlib
import json

from flask import request

from service_hub.plumbing.errors import InvalidInput

MAX_LENGTH = 64


class IdempotencyKeyReused(InvalidInput):
    """An Idempotency-Key sent again with a different request."""

    code = "idempotency_key_reused"


def parameter(description: str) -> dict:
    """The header's OpenAPI parameter, with what a repeat returns."""
    return {
        "in": "header",
        "name": "Idempotency-Key",
        "required": False,
        "description": (
            f"A client-chosen key (1 to {MAX_LENGTH} characters, e.g. a UUID) that makes "
            f"retries safe: {description}. A repeat must be the same request (same method, "
            "path and JSON body, whatever the order of its keys or its spacing); the same key "
            "with a different body is refused with 422 idempotency_key_reused."
        ),
        "schema": {"type": "string", "minLength": 1, "maxLength": MAX_LENGTH},
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


def request_fingerprint() -> str:
    """sha256 (hex) of the request's method, path and canonical JSON body.

    Canonical: keys sorted, no spacing, so a retry that serialises the same body differently
    is still the same request. No body counts as `{}`.
    """
    body = request.get_json(silent=True)
    canonical = json.dumps(
        {} if body is None else body, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(f"{request.method} {request.path}\n{canonical}".encode()).hexdigest()


def require_same_request(stored: str | None, fingerprint: str | None) -> None:
    """Refuse a repeated key whose request differs from the first one.

    A first request stored before fingerprints were kept (None) cannot be compared and is
    returned as before.
    """
    if stored is not None and fingerprint is not None and stored != fingerprint:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was sent before with a different request; "
            "use a new key for a new request.",
            message_zh="该请求标识已用于内容不同的请求，请刷新后重试",
            fields={"Idempotency-Key": ["already used for a different request"]},
        )
