"""Domain errors. Services raise them; views turn them into form errors, the API into JSON."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the domain said no. `message` is already translated (lazy) for people."""

    status = 400
    code = "bad_request"

    def __init__(self, message, *, code: str | None = None, field: str | None = None, **detail):
        super().__init__(str(message))
        self.message = message
        self.field = field
        self.detail = detail
        if code:
            self.code = code


class NotFound(DomainError):
    status = 404
    code = "not_found"


class NotAllowed(DomainError):
    status = 403
    code = "forbidden"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class Invalid(DomainError):
    status = 422
    code = "invalid"
