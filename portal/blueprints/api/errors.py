"""Every API error has one shape: {"error": {"code", "message", "fields"}}."""

from __future__ import annotations

from flask import Response
from flask_babel import gettext
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

from ...ops.logs import request_id
from ...ops.metrics import record_refusal
from .schemas import ErrorResponse

DEFAULT_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "request_too_large",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    # The one 503 the API gives: the database cannot be reached (portal/ops/errors.py).
    503: "database_unavailable",
}


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        fields: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.code = code or DEFAULT_CODES[status]
        self.message = message
        self.fields = fields or {}


def error_response(
    status: int, message: str, code: str | None = None, fields: dict[str, str] | None = None
) -> Response:
    code = code or DEFAULT_CODES[status]
    error = {"code": code, "message": message, "fields": fields or {}, "request_id": request_id()}
    body = ErrorResponse.model_validate({"error": error})
    record_refusal(code)
    response = Response(body.model_dump_json(), status=status, mimetype="application/json")
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


def http_error_response(error: HTTPException, status: int, message: str) -> Response:
    """Werkzeug's 404/405/... under /api/, as JSON, keeping headers such as Allow."""
    response = error_response(status, message)
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def forbidden(message: str) -> ApiError:
    return ApiError(403, message)


def validation_error(error: ValidationError, location: str) -> ApiError:
    fields: dict[str, str] = {}
    for problem in error.errors(include_url=False):
        key = ".".join(str(part) for part in problem["loc"]) or location
        fields.setdefault(key, problem["msg"].removeprefix("Value error, "))
    return ApiError(
        422, gettext("The %(location)s is not valid.", location=location), fields=fields
    )
