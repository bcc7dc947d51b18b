"""Landing page, language switch, notifications and health checks."""

from flask import Blueprint, current_app, flash, jsonify, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import text

from app.core.db import db
from app.core.web import home_endpoint, now, run, safe_next
from app.notifications import services as notifications
from app.notifications.forms import EmailPreferencesForm

bp = Blueprint("main", __name__)


@bp.route("/")
def index():
    if current_user.is_authenticated:
        return redirect(url_for(home_endpoint(current_user)))
    return render_template("main/index.html")


@bp.route("/language", methods=["POST"])
def set_language():
    lang = request.form.get("lang", "")
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
        if current_user.is_authenticated:
            current_user.locale = lang
            db.session.commit()
    return redirect(safe_next("main.index"))


@bp.route("/notifications", methods=["GET", "POST"])
@login_required
def notifications_page():
    """The notification centre: newest first, unread highlighted, `?unread=1` filter, `?before=<id>` pages."""
    if request.method == "POST":  # mark all as read
        notifications.mark_all_read(db.session, current_user.id, now())
        db.session.commit()
        return redirect(url_for("main.notifications_page"))
    email_enabled, muted = notifications.get_preferences(db.session, current_user.id)
    form = EmailPreferencesForm(formdata=None, email_enabled=email_enabled,
                                categories=[c for c in notifications.CATEGORIES if c not in muted])
    return _notifications_page(form)


def _notifications_page(form, status: int = 200):
    unread_only = request.args.get("unread") == "1"
    before = request.args.get("before", type=int)
    if before is not None and not 0 < before < 2**31:  # ids are 32-bit: anything else means "from the top"
        before = None
    items, next_before = notifications.list_page(db.session, current_user.id, before_id=before,
                                                 unread_only=unread_only)
    return render_template("main/notifications.html", items=items, render=notifications.render,
                           link=notifications.link_endpoint, unread_only=unread_only, next_before=next_before,
                           paged=bool(before), form=form), status


@bp.route("/notifications/<int:notification_id>/read", methods=["POST"])
@login_required
def notification_read(notification_id):
    """Mark one notification read (another member's is a 404); `open=1` then goes to what it is about."""
    item = notifications.mark_read(db.session, user_id=current_user.id, notification_id=notification_id, now=now())
    db.session.commit()
    endpoint = notifications.link_endpoint(item.kind)
    if request.form.get("open") == "1" and endpoint:
        return redirect(url_for(endpoint))
    return redirect(url_for("main.notifications_page", unread=request.form.get("unread") or None))


@bp.route("/notifications/preferences", methods=["POST"])
@login_required
def notification_preferences():
    form = EmailPreferencesForm()
    if not form.validate_on_submit():
        flash(_("Your email choices could not be saved."), "error")
        return _notifications_page(form, 400)
    muted = [c for c in notifications.CATEGORIES if c not in (form.categories.data or [])]
    _done, error = run(lambda: notifications.save_preferences(
        db.session, user_id=current_user.id, email_enabled=form.email_enabled.data, muted=muted, now=now()))
    if error is None:
        flash(_("Email choices saved."), "success")
    return redirect(url_for("main.notifications_page"))


@bp.route("/healthz")
def healthz():
    """Liveness: the process answers."""
    return jsonify(status="ok")


@bp.route("/readyz")
def readyz():
    """Readiness: the database answers, and Redis when configured."""
    checks = {}
    try:
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
        checks["database"] = "ok"
    except Exception:
        db.session.rollback()
        checks["database"] = "down"
    if current_app.config.get("REDIS_URL"):
        try:
            from app.core.redisq import redis_connection

            redis_connection().ping()
            checks["redis"] = "ok"
        except Exception:
            checks["redis"] = "down"
    ok = all(v == "ok" for v in checks.values())
    return jsonify(status="ok" if ok else "unavailable", checks=checks), 200 if ok else 503
