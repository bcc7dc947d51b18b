"""Small helpers for thin views: role guards, running a unit of work, safe redirects."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from flask import abort, current_app, flash, request, url_for
from flask_login import current_user, login_required

from app.core import clock
from app.core.db import db
from app.core.errors import DomainError, Invalid


def role_required(*roles: str):
    """Logged in and of one of these roles, else 403 (anonymous users go to the login page)."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def now():
    return clock.now()


def apply_error(form, exc: DomainError) -> None:
    """Put a service's error on the matching form field, or flash it."""
    field = getattr(form, exc.field, None) if (form is not None and exc.field) else None
    if field is not None:
        field.errors = list(field.errors) + [str(exc.message)]
    else:
        flash(str(exc.message), "error")


def run(unit, *, form=None):
    """Run a unit of work and commit; on a domain error roll back and report it. Returns (result, error)."""
    try:
        result = unit()
        db.session.commit()
        return result, None
    except DomainError as exc:
        db.session.rollback()
        apply_error(form, exc)
        return None, exc


def safe_next(default_endpoint: str) -> str:
    """Only same-site relative paths are followed after login."""
    target = request.args.get("next") or request.form.get("next") or ""
    parts = urlsplit(target)
    if target.startswith("/") and not target.startswith("//") and not parts.netloc and not parts.scheme \
            and "\\" not in target:
        return target
    return url_for(default_endpoint)


def home_endpoint(user) -> str:
    return {"agent": "claims.board", "client": "campaigns.index", "admin": "admin.index"}.get(
        getattr(user, "role", None), "main.index")


def form_status(error: DomainError | None) -> int:
    """Status for re-rendering a form: 200 on GET, else the service error's status (400 for invalid input)."""
    if error is not None:
        return 400 if isinstance(error, Invalid) else error.status
    return 400 if request.method == "POST" else 200


def cutoff():
    from datetime import timedelta

    return timedelta(hours=current_app.config["RELEASE_CUTOFF_HOURS"])
