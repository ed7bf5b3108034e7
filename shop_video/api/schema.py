"""OpenAPI 3 for /api/v1 (drf-spectacular): the bearer scheme, the error responses every operation can give
(added by a postprocessing hook, each with the Error body and an example), and the shared examples."""

from __future__ import annotations

import re

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiExample, OpenApiParameter

API_PREFIX = "/api/v1/"
_PUBLIC = {"/api/v1/schema", "/api/v1/docs"}


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "shop_video.api.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "sv_live_…",
            "description": "An API key of your organization: `Authorization: Bearer sv_live_…`. Create keys on the "
            "dashboard's API keys page or with `python manage.py create_api_key --org SLUG`.",
        }


IDEMPOTENCY_KEY = OpenApiParameter(
    name="Idempotency-Key",
    location=OpenApiParameter.HEADER,
    required=False,
    type={"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"^[ -~]*[!-~][ -~]*$"},
    description=(
        "Makes the POST safe to retry: the same key with the same body replays the first response (status and "
        "body, with `Idempotent-Replayed: true`); the same key with another body is a 422 `idempotency_key_reused`. "
        "Only successful responses are kept, for 24 hours."
    ),
    examples=[OpenApiExample("A UUID", value="7f1c2a8e-3b9d-4e57-9a61-0c5d2f8b4e13")],
)


def _error_example(code: str, message: str, fields: dict | None = None, **extra) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}, **extra}}


ERROR_RESPONSES: dict[str, tuple[str, dict]] = {
    "400": (
        "Bad input: `validation_error` (see `fields`), `parse_error` (malformed JSON), or a service code such as "
        "`invalid_matrix`, `upload_rejected`, `not_an_image`, `photo_urls_unsupported`, `invalid_cursor`, "
        "`invalid_idempotency_key`.",
        _error_example("validation_error", "title: This field is required.", {"title": ["This field is required."]}),
    ),
    "401": (
        "No key, a malformed `Authorization` header, an unknown key (`invalid_api_key`) or a revoked one "
        "(`api_key_revoked`).",
        _error_example("not_authenticated", "Authentication credentials were not provided."),
    ),
    "402": (
        "The organization does not have the credits this needs (`insufficient_credits`).",
        _error_example("insufficient_credits", "Not enough credits: this needs 20 credits and 5 are available.", {}),
    ),
    "404": (
        "No such object in your organization (objects of other organizations are never visible).",
        _error_example("not_found", "Not found."),
    ),
    "406": ("The `Accept` header asks for something other than JSON.", _error_example("not_acceptable", "…")),
    "409": (
        "The object's state does not allow this (e.g. `not_retryable`, `product_has_active_jobs`, `duplicate_sku`), "
        "or a request with the same Idempotency-Key is still in progress (`idempotency_key_in_use`).",
        _error_example("not_retryable", "Only a failed or canceled job can be retried."),
    ),
    "413": ("The body is too large (`request_too_large`).", _error_example("request_too_large", "…")),
    "415": (
        "The body's Content-Type is not one this endpoint reads.",
        _error_example("unsupported_media_type", 'Unsupported media type "text/plain" in request.'),
    ),
    "422": (
        "The Idempotency-Key was already used with a different request (`idempotency_key_reused`).",
        _error_example(
            "idempotency_key_reused",
            "This Idempotency-Key was already used with a different request.",
            {"Idempotency-Key": ["Use a new key for a new request."]},
        ),
    ),
    "429": (
        "Too many requests for this key (`throttled`); retry after `Retry-After` seconds.",
        _error_example("throttled", "Request was throttled. Expected available in 12 seconds."),
    ),
}

_RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait before retrying."}}
_REPLAYED = {
    "Idempotent-Replayed": {
        "schema": {"type": "string", "enum": ["true"]},
        "description": "Present when this is the stored response of an earlier request with the same key.",
    }
}


def preprocess_only_api(endpoints, **kwargs):
    """Only /api/v1/ endpoints, without the schema and docs views themselves."""
    return [
        (path, regex, method, callback)
        for path, regex, method, callback in endpoints
        if path.startswith(API_PREFIX) and path.rstrip("/") not in _PUBLIC
    ]


def _response(status: str) -> dict:
    description, example = ERROR_RESPONSES[status]
    out = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}, "example": example}},
    }
    if status == "429":
        out["headers"] = dict(_RETRY_AFTER)
    return out


ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "fields"],
            "properties": {
                "code": {"type": "string", "description": "Stable, machine-readable."},
                "message": {"type": "string", "description": "For a person; may be translated."},
                "fields": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                    "description": "Messages per field of the request; empty when the error is not about a field.",
                },
            },
        }
    },
}


def postprocess_errors(result, generator, request, public):
    """Every operation documents the errors it can answer with, all in the one Error format."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("Error", ERROR_SCHEMA)
    paths = result.get("paths", {})
    for path, operations in paths.items():
        has_path_params = bool(re.search(r"{[^}]+}", path))
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            responses = operation.setdefault("responses", {})
            wanted = ["400", "401", "406", "429"]
            if has_path_params:
                wanted.append("404")
            if "requestBody" in operation:
                wanted += ["413", "415"]
            parameters = operation.get("parameters", [])
            if any(p.get("name") == "Idempotency-Key" for p in parameters):
                wanted += ["409", "422"]
                for status, response in responses.items():
                    if status.startswith("2"):
                        response.setdefault("headers", {}).update(_REPLAYED)
            for status in wanted:
                responses.setdefault(status, _response(status))
            operation.setdefault("security", [{"ApiKey": []}])
    return result
