"""One JSON error shape for the API: {"error": {"code", "message", "details"}}; never an HTML page."""

from __future__ import annotations

import logging

from flask import jsonify, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

from app.core.errors import DomainError
from app.extensions import retry_after_seconds

API_PREFIX = "/api/"

# Stable codes for werkzeug's HTTP errors (routing, body size, rate limiting).
HTTP_CODES = {
    400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
    422: "validation_failed", 429: "rate_limited",
}


class ApiError(Exception):
    """An answer the API gives as its JSON error (status, stable code, translated message, details)."""

    def __init__(self, status: int, code: str, message, details=None, headers: dict | None = None):
        super().__init__(str(message))
        self.status, self.code, self.message, self.details = status, code, message, details
        self.headers = headers or {}


def is_api_request() -> bool:
    return request.path.startswith(API_PREFIX)


def error_response(status: int, code: str, message, details=None, headers: dict | None = None):
    response = jsonify({"error": {"code": code, "message": str(message), "details": details}})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    response.headers["Cache-Control"] = "no-store"
    return response


def from_domain(exc: DomainError):
    """A service's refusal: NotFound 404, NotAllowed 403, Conflict 409, Invalid 422, too large 413."""
    details = {"field": exc.field} if exc.field else None
    code = "validation_failed" if exc.status == 422 else exc.code
    return error_response(exc.status, code, exc.message, details)


def from_http(exc: HTTPException):
    messages = {
        400: _l("The request could not be understood."),
        401: _l("Send an API token: Authorization: Bearer <token>."),
        403: _l("This token may not do that."),
        404: _l("There is no such resource, or it belongs to another business."),
        405: _l("This method is not allowed here."),
        413: _l("The request body is too large."),
        415: _l("Unsupported content type."),
        429: _l("Too many requests. Slow down and try again later."),
    }
    status = exc.code or 500
    headers = {}
    if status == 405 and exc.response is None:
        allowed = getattr(exc, "valid_methods", None)
        if allowed:
            headers["Allow"] = ", ".join(sorted(allowed))
    if status == 429:
        headers["Retry-After"] = str(retry_after_seconds())
    return error_response(status, HTTP_CODES.get(status, "http_error"), messages.get(status, exc.name), None,
                          headers)


def unexpected(exc: Exception):
    from app.core.db import is_retryable

    if is_retryable(exc):
        return error_response(503, "busy", _l("The service is busy. Try again."), headers={"Retry-After": "1"})
    logging.getLogger("surgeline").exception("unhandled API error")
    return error_response(500, "internal_error", _l("Something went wrong on our side."))


def register(bp) -> None:
    """Error handlers of the API blueprint (errors raised inside its views)."""
    from app.extensions import db

    @bp.errorhandler(ApiError)
    def api_error(exc: ApiError):
        db.session.rollback()
        return error_response(exc.status, exc.code, exc.message, exc.details, exc.headers)

    @bp.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        db.session.rollback()
        return from_domain(exc)

    @bp.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        db.session.rollback()
        return from_http(exc)

    @bp.errorhandler(Exception)
    def any_error(exc: Exception):
        db.session.rollback()
        return unexpected(exc)
