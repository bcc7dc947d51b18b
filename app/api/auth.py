"""Bearer-token authentication, scopes and the per-token rate-limit key."""

from __future__ import annotations

from functools import wraps

from flask import g, request
from flask_babel import lazy_gettext as _l
from flask_limiter.util import get_remote_address

from app.api.errors import ApiError
from app.api.models import TokenScope
from app.api.services import Caller, Unauthenticated, authenticate, touch_token
from app.core import clock
from app.core.db import db

_UNSET = object()


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _sep, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def current_caller() -> Caller | None:
    """The request's caller (looked up once per request), or None; the error is kept for `require`."""
    cached = g.get("api_caller", _UNSET)
    if cached is not _UNSET:
        return cached
    secret = _bearer()
    caller = None
    if secret is None:
        g.api_auth_error = ApiError(401, "unauthenticated", _l("Send an API token: Authorization: Bearer <token>."),
                                    headers={"WWW-Authenticate": 'Bearer realm="surgeline"'})
    else:
        try:
            caller = authenticate(db.session, secret, now=clock.now())
        except Unauthenticated as exc:
            g.api_auth_error = ApiError(401, exc.code, exc.message,
                                        headers={"WWW-Authenticate": 'Bearer realm="surgeline", error="invalid_token"'})
    g.api_caller = caller
    return caller


def rate_limit_key() -> str:
    """Limits count per token; requests without a valid token count per address."""
    caller = current_caller()
    return f"api-token:{caller.token_id}" if caller else f"api-ip:{get_remote_address()}"


def require(scope: str):
    """A valid token, with the write scope for changes; records when the token was last used."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            caller = current_caller()
            if caller is None:
                raise g.api_auth_error
            if scope == TokenScope.WRITE and caller.scope != TokenScope.WRITE:
                raise ApiError(403, "insufficient_scope", _l("This token is read-only; use a write token."))
            if touch_token(db.session, caller.token_id, now=clock.now()):
                db.session.commit()
            else:
                db.session.rollback()
            return view(caller, *args, **kwargs)

        return wrapped

    return decorator
