"""The API's one error format, for every error of every endpoint:

    {"error": {"code": "stable_machine_code", "message": "For a person.", "fields": {"field": ["message", …]}}}

`code` is stable and machine-readable; `fields` is always present (empty when the error is not about fields).
Bad input is always a 4xx: DRF's exceptions, Django's Http404/PermissionDenied/ValidationError/
SuspiciousOperation/RequestDataTooBig and the services' `BadInputError` subclasses (with `.code`, `.fields`
and, for errors that are not 400, `.status_code`) are all mapped here. Anything else is a bug: it is logged and
answered with a 500 in the same format, never with an HTML page.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response

from shop_video.core.errors import BadInputError

logger = logging.getLogger("shop_video.api")


class ApiError(exceptions.APIException):
    """An error of ours with a stable code, a status and optional per-field messages."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "bad_request"
    default_detail = gettext_lazy("The request is not valid.")

    def __init__(
        self,
        message: str | None = None,
        code: str | None = None,
        *,
        fields: dict[str, list[str]] | None = None,
        status_code: int | None = None,
        extra: dict[str, Any] | None = None,
    ):
        super().__init__(message or self.default_detail, code or self.default_code)
        self.code = code or self.default_code
        self.message = str(message or self.default_detail)
        self.fields = fields or {}
        self.extra = extra or {}
        if status_code is not None:
            self.status_code = status_code


class Conflict(ApiError):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"
    default_detail = gettext_lazy("The request conflicts with the current state of the resource.")


class Unprocessable(ApiError):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "unprocessable"


# Codes for DRF's own exceptions: the class decides, not the (translated) message.
_DRF_CODES: list[tuple[type[exceptions.APIException], str]] = [
    (exceptions.NotAuthenticated, "not_authenticated"),
    (exceptions.AuthenticationFailed, "authentication_failed"),
    (exceptions.PermissionDenied, "permission_denied"),
    (exceptions.NotFound, "not_found"),
    (exceptions.MethodNotAllowed, "method_not_allowed"),
    (exceptions.NotAcceptable, "not_acceptable"),
    (exceptions.UnsupportedMediaType, "unsupported_media_type"),
    (exceptions.Throttled, "throttled"),
    (exceptions.ParseError, "parse_error"),
]


def error_body(code: str, message: str, fields: dict | None = None, **extra) -> dict:
    return {"error": {"code": code, "message": str(message), "fields": fields or {}, **extra}}


def _messages(value) -> list[str]:
    if isinstance(value, list | tuple):
        out: list[str] = []
        for item in value:
            if isinstance(item, dict | list | tuple):
                out.extend(_messages(item))
            else:
                out.append(str(item))
        return out
    if isinstance(value, dict):
        return [m for v in value.values() for m in _messages(v)]
    return [str(value)]


def flatten_fields(detail, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as {"field": [...], "photos.0": [...], "nested.field": [...]}."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, dict):
                out.update(flatten_fields(value, name))
            elif isinstance(value, list | tuple) and any(isinstance(v, dict) for v in value):
                for i, item in enumerate(value):
                    if item:
                        out.update(
                            flatten_fields(item, f"{name}.{i}") if isinstance(item, dict) else {name: [str(item)]}
                        )
            else:
                out[name] = _messages(value)
    elif isinstance(detail, list | tuple):
        out[prefix or "non_field_errors"] = _messages(detail)
    else:
        out[prefix or "non_field_errors"] = [str(detail)]
    return out


def _validation_message(fields: dict[str, list[str]]) -> str:
    if len(fields) == 1:
        ((name, msgs),) = fields.items()
        if msgs:
            return msgs[0] if name == "non_field_errors" else f"{name}: {msgs[0]}"
    return _("The request is not valid; see the fields.")


def to_error(exc: BaseException) -> tuple[int, dict, dict[str, str]] | None:
    """(status, body, headers) for an exception we know, or None."""
    headers: dict[str, str] = {}
    if isinstance(exc, ApiError):
        return exc.status_code, error_body(exc.code, exc.message, exc.fields, **exc.extra), headers
    if isinstance(exc, BadInputError):
        status_code = int(getattr(exc, "status_code", None) or getattr(exc, "http_status", None) or 400)
        fields = {k: [str(m) for m in v] for k, v in (getattr(exc, "fields", None) or {}).items()}
        extra: dict[str, Any] = {}
        errors = getattr(exc, "errors", None)  # services.UploadRejected: one entry per bad file
        if errors:
            extra["files"] = [{"filename": n, "code": c, "message": str(m)} for n, c, m in errors]
            fields.setdefault("photos", [f"{n}: {m}" for n, _c, m in errors])
        for name in ("required", "available"):  # billing.services.InsufficientCredits
            value = getattr(exc, name, None)
            if isinstance(value, int) and not isinstance(value, bool):
                extra[name] = value
        return status_code, error_body(exc.code, exc.message, fields, **extra), headers
    if isinstance(exc, exceptions.ValidationError):
        fields = flatten_fields(exc.detail)
        return 400, error_body("validation_error", _validation_message(fields), fields), headers
    if isinstance(exc, exceptions.APIException):
        code = next((c for cls, c in _DRF_CODES if isinstance(exc, cls)), None)
        if code is None:
            codes = exc.get_codes()
            code = codes if isinstance(codes, str) else getattr(exc, "default_code", "error")
        if isinstance(exc, exceptions.AuthenticationFailed | exceptions.NotAuthenticated) and isinstance(
            exc.get_codes(), str
        ):
            code = exc.get_codes()  # our own: invalid_api_key, api_key_revoked, …
            if code in ("authentication_failed", "not_authenticated"):
                code = next(c for cls, c in _DRF_CODES if isinstance(exc, cls))
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
            headers["Retry-After"] = str(max(1, int(exc.wait + 0.999)))
        detail = exc.detail
        message = detail if isinstance(detail, str) else _("The request could not be handled.")
        fields = flatten_fields(detail) if isinstance(detail, dict | list) else {}
        return exc.status_code, error_body(code, message, fields), headers
    if isinstance(exc, Http404):
        return 404, error_body("not_found", _("Not found.")), headers
    if isinstance(exc, DjangoPermissionDenied):
        return 403, error_body("permission_denied", _("You do not have permission to do this.")), headers
    if isinstance(exc, RequestDataTooBig):
        return 413, error_body("request_too_large", _("The request body is too large.")), headers
    if isinstance(exc, SuspiciousOperation):
        return 400, error_body("bad_request", _("The request could not be handled.")), headers
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            fields = {k: [str(m) for e in v for m in e.messages] for k, v in exc.error_dict.items()}
        else:
            fields = {}
        return 400, error_body("validation_error", "; ".join(exc.messages), fields), headers
    return None


def exception_handler(exc: BaseException, context: dict) -> Response:
    """REST_FRAMEWORK["EXCEPTION_HANDLER"]: every error in the one format; unknown ones are a logged 500."""
    from rest_framework.views import set_rollback  # here: rest_framework.views imports the default parsers

    known = to_error(exc)
    if known is None:
        view = context.get("view")
        logger.error("unhandled error in %s", type(view).__name__ if view else "the API", exc_info=exc)
        set_rollback()
        return Response(
            error_body("internal_error", _("Something went wrong on our side; it has been logged.")),
            status=500,
        )
    status_code, body, headers = known
    if isinstance(exc, exceptions.APIException):
        auth_header = getattr(exc, "auth_header", None)
        if auth_header:
            headers["WWW-Authenticate"] = auth_header
    set_rollback()
    return Response(body, status=status_code, headers=headers)


@csrf_exempt
def not_found_view(request, *args, **kwargs) -> JsonResponse:
    """/api/… paths that match no endpoint (also a trailing slash: the API's paths have none)."""
    return JsonResponse(error_body("not_found", _("There is no API endpoint at this path.")), status=404)
