"""One error shape for every API answer that is not a success::

    {"detail": "A message for a person.", "code": "machine_readable",
     "errors": {"field": ["message", ...], ...}}   # "errors" only on 400 validation errors

- Serializer, filter and pagination validation, and an ``ApplicationError`` naming a field:
  400 ``invalid`` with field errors (nested fields as dotted paths: ``focus_areas.0``).
- An ``ApplicationError`` without a field (a business rule refused the step): 409 ``conflict``.
- A database constraint that the services did not catch first (e.g. two requests racing for
  one ``external_ref``): 409 ``conflict``, with the field when it can be told. Never a 500.
- Authentication 401, permission 403, unseen or missing 404, stale ``If-Match`` 412,
  idempotency key reuse 422, throttled 429 (with ``Retry-After``): ``detail`` and ``code``.
"""

import re

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

from crm.exceptions import ApplicationError


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The request conflicts with the current state of the data.")
    default_code = "conflict"

    def __init__(self, detail=None, code=None, errors: dict | None = None):
        super().__init__(detail, code)
        self.errors = errors


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = _(
        "The object has changed since you read it (If-Match does not match its ETag). "
        "Fetch it again, reapply your change and retry."
    )
    default_code = "precondition_failed"


class IdempotencyKeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = _(
        "This Idempotency-Key was already used for a different request. "
        "Use a new key for a new request."
    )
    default_code = "idempotency_key_reused"


def application_error_to_api(exc: ApplicationError) -> exceptions.APIException:
    if exc.field:
        errors = {exc.field: [exc.message]}
        for field, messages in (exc.extra.get("errors") or {}).items():
            key = "non_field_errors" if field == "__all__" else field
            errors.setdefault(key, [str(m) for m in messages])
        error = exceptions.ValidationError(errors)
        error.summary = exc.message
        return error
    return Conflict(exc.message)


_UNIQUE_FIELD = re.compile(r"(?:\.|_)(external_ref|email|name)(?:_key|\b)")


def integrity_error_to_api(exc: IntegrityError) -> Conflict:
    match = _UNIQUE_FIELD.search(str(exc))
    message = _("This conflicts with existing data (a value that must be unique is taken).")
    errors = {match.group(1): [str(_("This value is already used."))]} if match else None
    return Conflict(message, errors=errors)


def flatten_errors(data, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error structure → ``{"field.sub": ["message"]}``."""
    flat: dict[str, list[str]] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            flat.update(flatten_errors(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(data, list) and any(isinstance(v, dict | list) for v in data):
        for index, value in enumerate(data):
            if value:
                flat.update(flatten_errors(value, f"{prefix}.{index}" if prefix else str(index)))
    else:
        messages = data if isinstance(data, list) else [data]
        flat.setdefault(prefix or "non_field_errors", []).extend(str(m) for m in messages)
    return flat


def exception_handler(exc, context):
    """``REST_FRAMEWORK["EXCEPTION_HANDLER"]``: DRF's handler (headers such as Retry-After and
    WWW-Authenticate), then the one shape."""
    if isinstance(exc, ApplicationError):
        exc = application_error_to_api(exc)
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, IntegrityError):
        exc = integrity_error_to_api(exc)

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = flatten_errors(exc.detail)
        summary = getattr(exc, "summary", None)
        if summary is None and len(errors) == 1:
            summary = next(iter(errors.values()))[0]
        response.data = {
            "detail": str(summary or _("Some of the data is not valid; see errors.")),
            "code": "invalid",
            "errors": errors,
        }
        return response
    detail = exc.detail if isinstance(exc, exceptions.APIException) else response.data
    if isinstance(detail, dict | list):
        detail = next(iter(flatten_errors(detail).values()))[0]
    code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
    response.data = {"detail": str(detail), "code": str(code)}
    if getattr(exc, "errors", None):
        response.data["errors"] = exc.errors
    return response
