"""The one error shape of the API, for DRF's own errors and for domain errors alike.

    {"error": {"code": "validation_error", "message": "...", "details": {...}}}

``code`` is stable and meant for programs; ``message`` is for people; ``details`` carries
field errors (validation) or facts about the refusal (e.g. the quantity still available).
"""

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from drf_spectacular.utils import inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import set_rollback

from omni.core.errors import DomainError

ERROR_SCHEMA = inline_serializer(
    name="Error",
    fields={
        "error": inline_serializer(
            name="ErrorBody",
            fields={
                "code": serializers.CharField(),
                "message": serializers.CharField(),
                "details": serializers.DictField(),
            },
        )
    },
)


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        set_rollback()
        return Response(error_body(exc.code, exc.message, exc.details), status=exc.http_status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None  # a bug: let Django report it as a 500
    set_rollback()
    headers = {}
    # Set by DRF on NotAuthenticated / AuthenticationFailed, and on Throttled.
    auth_header = getattr(exc, "auth_header", None)
    if auth_header:
        headers["WWW-Authenticate"] = str(auth_header)
    wait = getattr(exc, "wait", None)
    if wait:
        headers["Retry-After"] = str(int(wait))
    if isinstance(exc, exceptions.ValidationError):
        body = error_body(
            "validation_error", "The request has invalid fields.", _as_dict(exc.detail)
        )
    else:
        code = getattr(exc.detail, "code", None) or exc.default_code
        body = error_body(code, str(exc.detail))
    return Response(body, status=exc.status_code, headers=headers)


def _as_dict(detail: Any) -> dict[str, Any]:
    """Validation details keyed by field; errors not tied to a field go under ``non_field``."""
    if isinstance(detail, dict):
        return detail
    return {"non_field": detail}
