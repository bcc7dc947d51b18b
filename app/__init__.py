"""The application factory: a list of small configure_* steps."""

from __future__ import annotations

import logging

from flask import Flask, has_request_context, render_template, request, session
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import event
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from config import INSTANCE_DIR, Config, ProductionConfig, config_from_env


def create_app(config_class: type[Config] | None = None, **overrides) -> Flask:
    config_class = config_class or config_from_env()
    if config_class is ProductionConfig or issubclass(config_class, ProductionConfig):
        config_class.validate()
    app = Flask(__name__, instance_path=str(INSTANCE_DIR))
    app.config.from_object(config_class)
    app.config.update(overrides)
    configure_urls(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    configure_database(app)
    configure_extensions(app)
    configure_i18n(app)
    configure_academy(app)
    configure_blueprints(app)
    configure_templates(app)
    configure_errors(app)
    configure_jobs(app)
    configure_cli(app)
    configure_security(app)
    return app


class IdConverter(IntegerConverter):
    """`<int:...>` in URLs: a non-negative integer that fits the database's 32-bit id columns.

    Werkzeug's default accepts any size; `/campaigns/99999999999999999999` would then reach the
    database and fail there (a 500) instead of being a plain 404.
    """

    def __init__(self, map, fixed_digits=0, min=None, max=2**31 - 1, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def configure_urls(app: Flask) -> None:
    app.url_map.converters["int"] = IdConverter


def configure_database(app: Flask) -> None:
    from app.core.db import driver_url

    uri = driver_url(app.config["SQLALCHEMY_DATABASE_URI"])
    app.config["SQLALCHEMY_DATABASE_URI"] = uri
    if uri.startswith("sqlite"):
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            **app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}),
            "connect_args": {"timeout": 30, "check_same_thread": False},
        }


def configure_extensions(app: Flask) -> None:
    from app.extensions import csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(app.root_path + "/../migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    from sqlalchemy import bindparam, select

    from app.members.models import User

    # Built once: SQLAlchemy then reuses its cache key (session.get builds and keys a new SELECT on every
    # request, ~0.3 ms of CPU; docs/performance.md, claim_storm).
    member_by_id = select(User).where(User.id == bindparam("uid"))

    @login_manager.user_loader
    def load_user(user_id: str):
        """Sessions carry id:version; a bumped version (logout, suspension) ends them."""
        try:
            uid, version = (int(part) for part in user_id.split(":"))
        except (ValueError, AttributeError):
            return None
        user = db.session.scalars(member_by_id, {"uid": uid}).first()
        if user is None or user.session_version != version or not user.is_active:
            return None
        return user


def configure_i18n(app: Flask) -> None:
    from app.extensions import babel

    def select_locale():
        if not has_request_context():
            return app.config["BABEL_DEFAULT_LOCALE"]
        chosen = session.get("lang")
        if chosen in app.config["LANGUAGES"]:
            return chosen
        if current_user and getattr(current_user, "is_authenticated", False) and current_user.locale:
            return current_user.locale
        return preferred_language(request.accept_languages, app.config["LANGUAGES"]) \
            or app.config["BABEL_DEFAULT_LOCALE"]

    babel.init_app(app, locale_selector=select_locale, default_translation_directories="translations")


def preferred_language(accepted, supported) -> str | None:
    """The supported language the browser likes best, matching on the primary tag.

    Werkzeug's best_match() prefers an exact match at any quality over a regional variant, so
    "en-GB,zh;q=0.1" would give Chinese; a British reader wants English.
    """
    for value, quality in accepted:  # highest quality first
        primary = value.replace("_", "-").split("-")[0].lower()
        if quality > 0 and primary in supported:
            return primary
    return None


def configure_blueprints(app: Flask) -> None:
    from app.admin.views import bp as admin_bp
    from app.auth.views import bp as auth_bp
    from app.campaigns.views import bp as campaigns_bp
    from app.claims.views import bp as claims_bp
    from app.contacts.views import bp as contacts_bp
    from app.kb.views import bp as kb_bp
    from app.ledger.views import bp as ledger_bp
    from app.main.views import bp as main_bp
    from app.quality.views import bp as quality_bp
    from app.training.views import admin_bp as training_admin_bp
    from app.training.views import bp as training_bp
    from app.work.views import bp as work_bp

    for bp in (main_bp, auth_bp, campaigns_bp, claims_bp, admin_bp, work_bp, ledger_bp, training_bp,
               training_admin_bp, contacts_bp, quality_bp, kb_bp):
        app.register_blueprint(bp)
    from app.webhooks.views import bp as webhooks_bp

    app.register_blueprint(webhooks_bp)
    from app.insight.views import bp as insight_bp

    app.register_blueprint(insight_bp)
    configure_api(app)


def configure_api(app: Flask) -> None:
    """The token-authenticated JSON API (/api/v1) and its token settings page; no CSRF (no cookies)."""
    from app.api.settings import bp as api_settings_bp
    from app.api.views import bp as api_bp
    from app.extensions import csrf

    csrf.exempt(api_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(api_settings_bp)


def configure_academy(app: Flask) -> None:
    """Load and validate the Academy catalogue once per process (app.extensions["academy"])."""
    from app import training

    training.init_app(app)


def configure_templates(app: Flask) -> None:
    from app.core import templating

    templating.init_app(app)


def configure_errors(app: Flask) -> None:
    from app.core.errors import DomainError
    from app.extensions import db, retry_after_seconds

    @app.teardown_appcontext
    def close_session(exc):
        """End the session before Flask-SQLAlchemy removes it (teardowns run last-registered first): if the
        database dropped the connection meanwhile (a restart), the ROLLBACK fails, and an exception here would
        turn an answered request into a 500. The pool replaces the connection (docs/deploy.md, operations)."""
        try:
            db.session.close()
        except Exception as error:
            logging.getLogger("surgeline").warning("closing the session failed: %s", str(error).splitlines()[0])
            try:
                db.session.invalidate()
            except Exception:  # the connection is already gone; the pool drops it on its next checkout
                logging.getLogger("surgeline").debug("invalidating the session failed", exc_info=True)

    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        db.session.rollback()
        return render_template("error.html", code=400,
                               message=_l("The form expired or was sent twice. Go back, reload and try again.")), 400

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        db.session.rollback()
        return render_template("error.html", code=exc.status, message=exc.message), exc.status

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        db.session.rollback()
        from app.api import errors as api_errors

        if api_errors.is_api_request():  # unrouted /api/ URLs (404, 405) answer JSON too
            return api_errors.from_http(exc)
        messages = {
            400: _l("The request could not be understood."),
            403: _l("You do not have access to this page."),
            404: _l("This page does not exist, or you cannot see it."),
            405: _l("This action is not allowed here."),
            413: _l("The upload is too large."),
            429: _l("Too many attempts. Wait a minute and try again."),
        }
        message = messages.get(exc.code, exc.name)
        headers = {"Retry-After": str(retry_after_seconds())} if exc.code == 429 else {}
        return render_template("error.html", code=exc.code, message=message), exc.code, headers

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        from app.core.db import is_retryable, is_unavailable

        unavailable = is_unavailable(exc)
        if unavailable:  # the database is restarting or out of reach: one line in the log, not a traceback
            logging.getLogger("surgeline").warning("database unavailable: %s", str(exc).splitlines()[0][:300])
        else:
            logging.getLogger("surgeline").exception("unhandled error")
        try:
            db.session.rollback()
        except Exception:  # the connection is gone; the pool replaces it (pool_pre_ping)
            db.session.remove()
        if unavailable or is_retryable(exc):
            if unavailable:
                # The page must not need the database: show it as to a guest (no member load, no unread count).
                from flask import g

                from app.extensions import login_manager

                g._login_user = login_manager.anonymous_user()
            response = render_template("error.html", code=503, message=_l("The site is busy. Try again."))
            return response, 503, {"Retry-After": "5"}
        return render_template("error.html", code=500, message=_l("Something went wrong on our side.")), 500


def configure_jobs(app: Flask) -> None:
    """Relay outbox rows recorded by a request once its transaction has committed."""
    from app.core import jobs
    from app.extensions import db

    import_job_modules()

    if not event.contains(db.session, "after_commit", jobs.mark_relay_needed):
        event.listen(db.session, "after_commit", jobs.mark_relay_needed)

    @app.teardown_request
    def _relay(exc):
        if exc is None:
            jobs.relay_if_needed()


JOB_MODULES = ("app.campaigns.jobs", "app.claims.jobs", "app.contacts.jobs", "app.notifications.services",
               "app.work.jobs", "app.ledger.jobs", "app.training.jobs", "app.quality.services",
               "app.ratings.services", "app.api.jobs", "app.webhooks.jobs")


def import_job_modules() -> None:
    """Register every job with the registry (the worker and the in-process relay need them all)."""
    import importlib

    for name in JOB_MODULES:
        importlib.import_module(name)


def configure_cli(app: Flask) -> None:
    from app.cli import register

    register(app)


def configure_security(app: Flask) -> None:
    """Response headers on every answer (docs/security.md lists each one and why)."""
    csp = app.config["CONTENT_SECURITY_POLICY"]
    hsts = app.config["HSTS_HEADER"]

    @app.after_request
    def headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Content-Security-Policy", csp)
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
        if app.config.get("PRODUCTION"):
            response.headers.setdefault("Strict-Transport-Security", hsts)
        return response
